"""Coordinated status: the one answer to "may my goods proceed, and if not, who holds them?".

A pure function (no database, no I/O beyond the cached code tables) from an entry's current PGA
lines and every agency disposition recorded for it to the entry's coordinated status
(DESIGN.md, "Coordinated status"):

- ``REJECTED`` if any line in scope is 04;
- else ``HOLD`` if any line is 02/06/08/10/11/13 (the reasons name who and why);
- else ``PENDING`` while any line lacks a final answer, or is 01 (or carries a code whose
  meaning is unknown, e.g. the 2023 codes 12/15);
- else ``MAY_PROCEED`` when every line in scope is 07 or disclaimed (an entry with no line in
  scope may proceed too: CBP sends its "ONE USG" message even without PGA lines).

Rules the function guarantees (tests/gateway/test_coordination.py checks them with hypothesis):

- **Action time, not arrival order.** A line's status is that of its disposition with the
  latest action time. Dispositions with the same action time are ordered by severity, most
  severe winning: ``04 > 13 > 11 > 08 > 06 > 02 > 10 > (unknown) > 01 > 07``; remaining ties
  (same time and code) by reason code, entry version, remark, actor. The order in which
  dispositions are passed in therefore never changes the result.
- **Disclaimed lines need no answer.** A disclaimed line (PG01 disclaimer) is out of scope: its
  own latest disposition is shown but never blocks and is never awaited.
- **An amended line resets what it must.** Each ``LineInput`` carries ``changed_in_version``,
  the entry version in which the line's content last changed (``current_lines`` derives it from
  all stored versions); each ``DispositionInput`` carries the ``entry_version`` it was recorded
  against. A disposition recorded against a version older than the line's last change answered
  data that no longer exists and does not count (the line is "reset"). Lines an amendment left
  unchanged keep their answers.
- Dispositions naming no line in scope (removed lines, another agency's lines) are ignored.

Matching is by (agency, CBP line, PGA line); the program code is not part of the key, a
changed program is a content change and resets the line through ``changed_in_version``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from gateway.pgams.codes import code_tables

REJECTED: Final = "REJECTED"
HOLD: Final = "HOLD"
PENDING: Final = "PENDING"
MAY_PROCEED: Final = "MAY_PROCEED"
#: A line's own status when it is disclaimed (never an entry's status).
DISCLAIMED: Final = "DISCLAIMED"

#: How bad an outcome is; the entry's status is the worst over the lines in scope.
OUTCOME_RANK: Final[Mapping[str, int]] = {MAY_PROCEED: 0, PENDING: 1, HOLD: 2, REJECTED: 3}

REJECT_CODES: Final = frozenset({"04"})
HOLD_CODES: Final = frozenset({"02", "06", "08", "10", "11", "13"})
PROCEED_CODES: Final = frozenset({"07"})
REVIEW_CODES: Final = frozenset({"01"})

#: Tie-break at equal action time, least severe first (the last one wins). Codes not listed
#: (unknown meaning) sit between 10 and 01.
SEVERITY_ORDER: Final = ("07", "01", None, "10", "02", "06", "08", "11", "13", "04")
_UNKNOWN_RANK: Final = SEVERITY_ORDER.index(None)


def outcome_of_code(status_code: str) -> str:
    """What one PGA status code means for release: REJECTED, HOLD, PENDING or MAY_PROCEED."""
    if status_code in REJECT_CODES:
        return REJECTED
    if status_code in HOLD_CODES:
        return HOLD
    if status_code in PROCEED_CODES:
        return MAY_PROCEED
    return PENDING  # 01, or a code whose meaning is not known: not a final answer


def severity(status_code: str) -> int:
    """Position of a status code in ``SEVERITY_ORDER`` (higher is more severe)."""
    try:
        return SEVERITY_ORDER.index(status_code)
    except ValueError:
        return _UNKNOWN_RANK


# -- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class LineKey:
    agency_code: str
    cbp_line_number: int
    pga_line_number: int


@dataclass(frozen=True, slots=True)
class LineInput:
    """One PGA line of the entry's current version."""

    agency_code: str
    program_code: str
    cbp_line_number: int
    pga_line_number: int
    disclaimed: bool = False
    #: The entry version in which this line's content last changed.
    changed_in_version: int = 1

    @property
    def key(self) -> LineKey:
        return LineKey(self.agency_code, self.cbp_line_number, self.pga_line_number)


@dataclass(frozen=True, slots=True)
class DispositionInput:
    """One agency disposition for one PGA line, as recorded."""

    agency_code: str
    cbp_line_number: int
    pga_line_number: int
    status_code: str
    action_time: dt.datetime
    reason_code: str | None = None
    #: The entry version the disposition was recorded against.
    entry_version: int = 1
    program_code: str | None = None
    actor: str | None = None
    remark: str | None = None

    @property
    def key(self) -> LineKey:
        return LineKey(self.agency_code, self.cbp_line_number, self.pga_line_number)

    def order_key(self) -> tuple[Any, ...]:
        """Total order over dispositions of one line; the greatest is the line's status."""
        if self.action_time.tzinfo is None:
            raise ValueError("dispositions need a timezone-aware action time")
        return (
            self.action_time.astimezone(dt.UTC),
            severity(self.status_code),
            self.status_code,
            self.reason_code or "",
            self.entry_version,
            self.remark or "",
            self.actor or "",
            self.program_code or "",
        )


@dataclass(frozen=True, slots=True)
class CodeTexts:
    """Status and reason code texts (defaults: ``gateway/data/pga_codes.json``)."""

    status: Mapping[str, str]
    reason: Mapping[str, str]

    @classmethod
    def default(cls) -> CodeTexts:
        tables = code_tables()["pga_status"]
        return cls(
            status={code: row["text"] for code, row in tables["entry_level"].items()},
            reason={code: row["text"] for code, row in tables["reason_codes"].items()},
        )


# -- outputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineStatus:
    """One PGA line's own status: its latest counted disposition by action time."""

    agency_code: str
    program_code: str
    cbp_line_number: int
    pga_line_number: int
    disclaimed: bool
    status: str  # REJECTED | HOLD | PENDING | MAY_PROCEED | DISCLAIMED
    status_code: str | None
    status_text: str
    reason_code: str | None
    reason_text: str
    action_time: dt.datetime | None
    changed_in_version: int
    answers: int  # dispositions counted for this line
    reset_answers: int  # dispositions that answered an older version of the line's content
    actor: str | None = None
    remark: str | None = None

    @property
    def in_scope(self) -> bool:
        return not self.disclaimed

    def as_dict(self) -> dict[str, Any]:
        return {
            "agency_code": self.agency_code,
            "program_code": self.program_code,
            "cbp_line_number": self.cbp_line_number,
            "pga_line_number": self.pga_line_number,
            "disclaimed": self.disclaimed,
            "status": self.status,
            "status_code": self.status_code,
            "status_text": self.status_text,
            "reason_code": self.reason_code,
            "reason_text": self.reason_text,
            "action_time": _iso(self.action_time),
            "changed_in_version": self.changed_in_version,
            "answers": self.answers,
            "reset_answers": self.reset_answers,
            "remark": self.remark,
        }


@dataclass(frozen=True, slots=True)
class AgencyStatus:
    """One agency's roll-up over its lines in scope (``DISCLAIMED`` if it has none)."""

    agency_code: str
    programs: tuple[str, ...]
    status: str
    lines: int
    counts: tuple[tuple[str, int], ...]  # (line status, number of lines), sorted

    def as_dict(self) -> dict[str, Any]:
        return {
            "agency_code": self.agency_code,
            "programs": list(self.programs),
            "status": self.status,
            "lines": self.lines,
            "counts": dict(self.counts),
        }


@dataclass(frozen=True, slots=True)
class Reason:
    """One line that decides the coordinated status, and why."""

    agency_code: str
    program_code: str
    cbp_line_number: int
    pga_line_number: int
    status_code: str | None
    status_text: str
    reason_code: str | None
    reason_text: str
    action_time: dt.datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "agency_code": self.agency_code,
            "program_code": self.program_code,
            "cbp_line_number": self.cbp_line_number,
            "pga_line_number": self.pga_line_number,
            "status_code": self.status_code,
            "status_text": self.status_text,
            "reason_code": self.reason_code,
            "reason_text": self.reason_text,
            "action_time": _iso(self.action_time),
        }


@dataclass(frozen=True, slots=True)
class Coordination:
    status: str  # REJECTED | HOLD | PENDING | MAY_PROCEED
    explanation: str
    lines: tuple[LineStatus, ...]
    agencies: tuple[AgencyStatus, ...]
    reasons: tuple[Reason, ...]
    #: Latest action time of any counted disposition (None when no line has an answer).
    latest_action_time: dt.datetime | None
    #: Dispositions that named no line in scope.
    unmatched: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "explanation": self.explanation,
            "latest_action_time": _iso(self.latest_action_time),
            "agencies": [a.as_dict() for a in self.agencies],
            "lines": [line.as_dict() for line in self.lines],
            "reasons": [r.as_dict() for r in self.reasons],
        }


# -- the function ----------------------------------------------------------------------------


def coordinate(
    lines: Iterable[LineInput],
    dispositions: Iterable[DispositionInput],
    *,
    texts: CodeTexts | None = None,
) -> Coordination:
    """The entry's coordinated status from its current lines and all recorded dispositions."""
    texts = texts or _default_texts()
    by_key: dict[LineKey, LineInput] = {}
    for line in lines:
        if line.key in by_key:
            raise ValueError(f"PGA line {line.key} appears twice")
        by_key[line.key] = line
    latest: dict[LineKey, DispositionInput] = {}
    counted: dict[LineKey, int] = {}
    reset: dict[LineKey, int] = {}
    unmatched = 0
    for disposition in dispositions:
        order = disposition.order_key()  # validates the action time for every input
        found = by_key.get(disposition.key)
        if found is None:
            unmatched += 1
            continue
        if disposition.entry_version < found.changed_in_version:
            reset[found.key] = reset.get(found.key, 0) + 1
            continue
        counted[found.key] = counted.get(found.key, 0) + 1
        best = latest.get(found.key)
        if best is None or order > best.order_key():
            latest[found.key] = disposition

    statuses = tuple(
        _line_status(by_key[key], latest.get(key), counted.get(key, 0), reset.get(key, 0), texts)
        for key in sorted(by_key)
    )
    in_scope = [s for s in statuses if s.in_scope]
    status = max((s.status for s in in_scope), key=OUTCOME_RANK.__getitem__, default=MAY_PROCEED)
    deciding = [s for s in in_scope if s.status == status]
    reasons = tuple(_reason(s) for s in deciding)
    times = [s.action_time for s in statuses if s.action_time is not None and s.in_scope]
    return Coordination(
        status=status,
        explanation=_explain(status, deciding, len(in_scope), len(statuses)),
        lines=statuses,
        agencies=_agencies(statuses),
        reasons=reasons,
        latest_action_time=max(times, default=None),
        unmatched=unmatched,
    )


def _line_status(
    line: LineInput,
    latest: DispositionInput | None,
    answers: int,
    reset_answers: int,
    texts: CodeTexts,
) -> LineStatus:
    if latest is None:
        outcome = PENDING
        code = reason = None
        when = None
    else:
        outcome = outcome_of_code(latest.status_code)
        code, reason = latest.status_code, latest.reason_code
        when = latest.action_time.astimezone(dt.UTC)
    if line.disclaimed:
        outcome = DISCLAIMED
    return LineStatus(
        agency_code=line.agency_code,
        program_code=line.program_code,
        cbp_line_number=line.cbp_line_number,
        pga_line_number=line.pga_line_number,
        disclaimed=line.disclaimed,
        status=outcome,
        status_code=code,
        status_text=texts.status.get(code, "") if code else "",
        reason_code=reason,
        reason_text=_reason_text(line, latest, reset_answers, texts),
        action_time=when,
        changed_in_version=line.changed_in_version,
        answers=answers,
        reset_answers=reset_answers,
        actor=latest.actor if latest else None,
        remark=latest.remark if latest else None,
    )


def _reason_text(
    line: LineInput, latest: DispositionInput | None, reset_answers: int, texts: CodeTexts
) -> str:
    if line.disclaimed:
        return "disclaimed: no agency answer needed"
    if latest is None:
        if reset_answers:
            return f"amended in version {line.changed_in_version}: awaiting a new answer"
        return "awaiting the agency's answer"
    if latest.reason_code:
        return texts.reason.get(latest.reason_code, "")
    return ""


def _reason(line: LineStatus) -> Reason:
    return Reason(
        agency_code=line.agency_code,
        program_code=line.program_code,
        cbp_line_number=line.cbp_line_number,
        pga_line_number=line.pga_line_number,
        status_code=line.status_code,
        status_text=line.status_text,
        reason_code=line.reason_code,
        reason_text=line.reason_text,
        action_time=line.action_time,
    )


def _agencies(statuses: Sequence[LineStatus]) -> tuple[AgencyStatus, ...]:
    grouped: dict[str, list[LineStatus]] = {}
    for line in statuses:
        grouped.setdefault(line.agency_code, []).append(line)
    found = []
    for agency, lines in sorted(grouped.items()):
        scoped = [line.status for line in lines if line.in_scope]
        counts: dict[str, int] = {}
        for line in lines:
            counts[line.status] = counts.get(line.status, 0) + 1
        found.append(
            AgencyStatus(
                agency_code=agency,
                programs=tuple(sorted({line.program_code for line in lines})),
                status=max(scoped, key=OUTCOME_RANK.__getitem__) if scoped else DISCLAIMED,
                lines=len(lines),
                counts=tuple(sorted(counts.items())),
            )
        )
    return tuple(found)


def _explain(status: str, deciding: Sequence[LineStatus], in_scope: int, total: int) -> str:
    agencies = sorted({line.agency_code for line in deciding})
    who = _and(agencies)
    n = len(deciding)
    lines = f"{n} PGA line{'s' if n != 1 else ''}"
    codes = _and(sorted({f"{s.status_code} {s.status_text}" for s in deciding if s.status_code}))
    if status == REJECTED:
        return f"Rejected: {who} rejected the data on {lines} ({codes})."
    if status == HOLD:
        verb = "holds" if len(agencies) == 1 else "hold"
        return f"On hold: {who} {verb} {lines} ({codes})."
    if status == PENDING:
        return f"Pending: {lines} still await a final answer from {who}."
    if in_scope == 0:
        disclaimed = total - in_scope
        return "May proceed: no PGA line needs an agency answer" + (
            f" ({disclaimed} disclaimed)." if disclaimed else "."
        )
    return f"May proceed: all {in_scope} PGA line(s) in scope are 07 MAY PROCEED or disclaimed."


def _and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


_DEFAULT_TEXTS: list[CodeTexts] = []


def _default_texts() -> CodeTexts:
    if not _DEFAULT_TEXTS:
        _DEFAULT_TEXTS.append(CodeTexts.default())
    return _DEFAULT_TEXTS[0]


# -- adapters from stored rows (pure: attribute reads only) ----------------------------------


class PGALineLike(Protocol):
    agency_code: str
    program_code: str
    processing_code: str | None
    cbp_line_number: int
    pga_line_number: int
    disclaimer: str | None
    header: dict[str, Any]
    records: list[dict[str, Any]]
    entry_version: int
    superseded: bool


class DispositionLike(Protocol):
    agency_code: str
    program_code: str | None
    cbp_line_number: int
    pga_line_number: int
    status_code: str
    reason_code: str | None
    action_time: dt.datetime
    entry_version: int
    actor: str
    remark: str | None


def current_lines(rows: Iterable[PGALineLike]) -> list[LineInput]:
    """The current (not superseded) lines, each with the version its content last changed in.

    A line's content is its program, processing code, disclaimer, PG01 header fields and
    records (not the correction indicator). Walking back from the current version, the line
    keeps an older version number while the same (agency, CBP line, PGA line) existed in the
    previous version with identical content.
    """
    rows = list(rows)
    content: dict[int, dict[LineKey, str]] = {}
    for row in rows:
        content.setdefault(row.entry_version, {})[line_key(row)] = line_fingerprint(row)
    found = []
    for row in rows:
        if row.superseded:
            continue
        key, mine = line_key(row), line_fingerprint(row)
        changed = row.entry_version
        while content.get(changed - 1, {}).get(key) == mine:
            changed -= 1
        found.append(
            LineInput(
                agency_code=row.agency_code,
                program_code=row.program_code,
                cbp_line_number=row.cbp_line_number,
                pga_line_number=row.pga_line_number,
                disclaimed=bool((row.disclaimer or "").strip()),
                changed_in_version=changed,
            )
        )
    return found


def dispositions_from_rows(rows: Iterable[DispositionLike]) -> list[DispositionInput]:
    return [
        DispositionInput(
            agency_code=row.agency_code,
            cbp_line_number=row.cbp_line_number,
            pga_line_number=row.pga_line_number,
            status_code=row.status_code,
            action_time=row.action_time,
            reason_code=row.reason_code,
            entry_version=row.entry_version,
            program_code=row.program_code,
            actor=row.actor,
            remark=row.remark,
        )
        for row in rows
    ]


def line_key(row: PGALineLike) -> LineKey:
    return LineKey(row.agency_code, row.cbp_line_number, row.pga_line_number)


def line_fingerprint(row: PGALineLike) -> str:
    """A line's content (what an amendment changes), comparable across versions."""
    return json.dumps(
        [row.program_code, row.processing_code, row.disclaimer, row.header, row.records],
        sort_keys=True,
        default=str,
    )
