"""What a PGA data replacement changed, per agency: the basis for re-dispatching only the
changed lines (CATAIR PGA Data Correction semantics).

Between version N-1 and N of an entry, a PGA line (agency, CBP line, PGA line) is
*changed* when it is new or its content differs (``coordination.line_fingerprint``), and
*removed* when it existed before and is now gone or newly disclaimed — the agency is sent the
old line with correction indicator ``D`` (delete), the code vendors use for it. Lines that
did not change are not sent again; their earlier answers still count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.coordination import LineKey, PGALineLike, line_fingerprint, line_key

DELETE = "D"


@dataclass
class AgencyChanges:
    changed: set[LineKey] = field(default_factory=set)
    removed: list[PGALineLike] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changed or self.removed)


def changes_in_version(rows: Iterable[PGALineLike], version: int) -> dict[str, AgencyChanges]:
    """Per agency code, the lines version ``version`` changed relative to ``version - 1``."""
    rows = list(rows)
    old = {line_key(r): r for r in rows if r.entry_version == version - 1}
    new = {line_key(r): r for r in rows if r.entry_version == version}
    found: dict[str, AgencyChanges] = {}
    for key, row in new.items():
        before = old.get(key)
        if _disclaimed(row):
            if before is not None and not _disclaimed(before):
                found.setdefault(key.agency_code, AgencyChanges()).removed.append(before)
            continue
        if before is None or line_fingerprint(before) != line_fingerprint(row):
            found.setdefault(key.agency_code, AgencyChanges()).changed.add(key)
    for key, row in old.items():
        if key not in new and not _disclaimed(row):
            found.setdefault(key.agency_code, AgencyChanges()).removed.append(row)
    return {agency: changes for agency, changes in found.items() if changes}


def _disclaimed(row: PGALineLike) -> bool:
    return bool((row.disclaimer or "").strip())
