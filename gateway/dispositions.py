"""Agency dispositions: check them, store them as append-only events.

Dispositions arrive three ways: in a delivery's synchronous acknowledgement (the dispatcher),
through the inbound interface (REST and SOAP callbacks from agency systems), and from staff in
the review pages. All go through ``check_items`` and ``store``: an agency speaks only for its
own current PGA lines, with CBP's status and reason codes and a timezone-aware action time.
A batch with any bad item is refused whole, so a bad answer changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.db import repository
from gateway.db.models import DispositionRow, EntryRow
from gateway.db.repository import STATUS_CANCELLED
from gateway.db.session import Database
from gateway.document_requests import DOCUMENTS_REQUIRED, open_requests
from gateway.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from gateway.notify import notify_changes
from gateway.pgams.codes import pga_status_codes, reason_code_status
from gateway.pgams.entry_number import normalize_entry_number

MAX_ITEMS = 999
# An action time this far ahead of our clock is a broken agency clock, not a disposition.
MAX_CLOCK_SKEW = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class DispositionItem:
    cbp_line_number: int
    pga_line_number: int
    status_code: str
    action_time: dt.datetime
    reason_code: str | None = None
    remark: str | None = None
    # With status 10 (documents required): the document labels asked for.
    requested_documents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoreResult:
    recorded: int
    duplicates: int


def parse_items(raw: Any) -> list[DispositionItem]:
    """JSON ``{"dispositions": [...]}`` -> items; every problem reported at once."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("dispositions"), list):
        raise ValidationFailed(
            'expected {"dispositions": [...]}',
            [Problem("expected an object with a 'dispositions' list", location="/dispositions")],
        )
    items: list[DispositionItem] = []
    problems: list[Problem] = []
    entries = raw["dispositions"]
    if not entries or len(entries) > MAX_ITEMS:
        problems.append(Problem(f"send 1 to {MAX_ITEMS} dispositions", location="/dispositions"))
    for i, entry in enumerate(entries[:MAX_ITEMS]):
        where = f"/dispositions/{i}"
        try:
            items.append(_item(entry, where))
        except _ItemError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in the dispositions", problems)
    return items


class _ItemError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems


def _item(entry: Any, where: str) -> DispositionItem:
    if not isinstance(entry, Mapping):
        raise _ItemError([Problem("expected an object", location=where)])
    problems: list[Problem] = []
    known = {"cbp_line_number", "pga_line_number", "status_code", "reason_code"}
    known |= {"action_time", "remark", "requested_documents"}
    for key in entry:
        if key not in known:
            problems.append(Problem(f"unknown key {key!r}", location=f"{where}/{key}"))
    numbers: dict[str, Any] = {}
    for key in ("cbp_line_number", "pga_line_number"):
        value = entry.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 999:
            problems.append(Problem("must be a whole number 1-999", location=f"{where}/{key}"))
        numbers[key] = value
    status: Any = entry.get("status_code")
    reason = entry.get("reason_code")
    problems += check_codes(status, reason, where)
    action_time = _instant(entry.get("action_time"), f"{where}/action_time", problems)
    remark = entry.get("remark")
    if remark is not None and (not isinstance(remark, str) or len(remark) > 2000):
        problems.append(
            Problem("must be text of at most 2000 characters", location=f"{where}/remark")
        )
    requested = _requested(entry.get("requested_documents"), status, where, problems)
    if problems or action_time is None:
        raise _ItemError(problems)
    return DispositionItem(
        numbers["cbp_line_number"],
        numbers["pga_line_number"],
        status,
        action_time,
        reason,
        remark,
        requested,
    )


def _requested(raw: Any, status: Any, where: str, problems: list[Problem]) -> tuple[str, ...]:
    if raw is None:
        return ()
    location = f"{where}/requested_documents"
    if status != DOCUMENTS_REQUIRED:
        problems.append(
            Problem("only a 10 DOCUMENTS REQUIRED answer requests documents", location=location)
        )
        return ()
    if (
        not isinstance(raw, list)
        or not 1 <= len(raw) <= 10
        or not all(isinstance(x, str) and 0 < len(x) <= 100 for x in raw)
    ):
        problems.append(Problem("must be a list of 1-10 document label codes", location=location))
        return ()
    return tuple(dict.fromkeys(raw))


def check_codes(status: Any, reason: Any, where: str) -> list[Problem]:
    """CBP PGA status code, and a reason code that belongs to that status."""
    statuses = pga_status_codes()
    if not isinstance(status, str) or status not in statuses:
        known = ", ".join(sorted(statuses))
        return [
            Problem(
                f"unknown PGA status code {status!r} (known: {known})",
                location=f"{where}/status_code",
            )
        ]
    if reason is None:
        return []
    owner = reason_code_status(reason) if isinstance(reason, str) else None
    if owner is None:
        return [Problem(f"unknown PGA reason code {reason!r}", location=f"{where}/reason_code")]
    if owner != status:
        return [
            Problem(
                f"reason code {reason} goes with status {owner}, not {status}",
                location=f"{where}/reason_code",
            )
        ]
    return []


def _instant(raw: Any, where: str, problems: list[Problem]) -> dt.datetime | None:
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            problems.append(Problem("must be an RFC 3339 date-time", location=where))
            return None
    else:
        problems.append(Problem("must be an RFC 3339 date-time", location=where))
        return None
    if value.tzinfo is None:
        problems.append(Problem("needs a time zone (e.g. ...Z)", location=where))
        return None
    value = value.astimezone(dt.UTC)
    if value > dt.datetime.now(dt.UTC) + MAX_CLOCK_SKEW:
        problems.append(Problem("action time is in the future", location=where))
        return None
    return value


def store(
    session: Session,
    entry: EntryRow,
    agency_code: str,
    items: Sequence[DispositionItem],
    *,
    source: str,
    actor: str,
    message_id: uuid.UUID | None = None,
) -> StoreResult:
    """Check every item against the entry's current PGA lines, then store them all or none."""
    if entry.status == STATUS_CANCELLED:
        raise Conflict(f"entry {entry.entry_number} was cancelled; it takes no dispositions")
    current = {
        (p.cbp_line_number, p.pga_line_number, p.agency_code): p
        for p in entry.pga_lines
        if not p.superseded
    }
    problems = []
    for i, item in enumerate(items):
        key = (item.cbp_line_number, item.pga_line_number)
        if (*key, agency_code) in current:
            continue
        owners = sorted(a for (c, n, a) in current if (c, n) == key)
        message = (
            f"CBP line {key[0]} PGA line {key[1]} belongs to {', '.join(owners)}, not {agency_code}"
            if owners
            else f"entry {entry.entry_number} has no PGA line {key[1]} of {agency_code} "
            f"on CBP line {key[0]}"
        )
        problems.append(Problem(message, location=f"/dispositions/{i}"))
    if problems:
        raise ValidationFailed(
            f"{len(problems)} disposition(s) name lines this agency does not own", problems
        )
    from gateway.status import refresh_entry_status  # here: gateway.status imports us

    before = refresh_entry_status(session, entry)
    recorded = duplicates = 0
    for item in items:
        line = current[(item.cbp_line_number, item.pga_line_number, agency_code)]
        row = DispositionRow(
            id=uuid.uuid4(),
            entry_id=entry.id,
            entry_version=entry.version,
            agency_code=agency_code,
            program_code=line.program_code,
            cbp_line_number=item.cbp_line_number,
            pga_line_number=item.pga_line_number,
            status_code=item.status_code,
            reason_code=item.reason_code,
            action_time=item.action_time,
            source=source,
            actor=actor,
            remark=item.remark,
            message_id=message_id,
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except sa_exc.IntegrityError:
            duplicates += 1  # the same answer again (a retried callback): already stored
            continue
        recorded += 1
        if item.status_code == DOCUMENTS_REQUIRED:
            open_requests(
                session,
                entry,
                agency_code,
                cbp_line_number=item.cbp_line_number,
                pga_line_number=item.pga_line_number,
                labels=item.requested_documents,
                remark=item.remark,
            )
    if recorded:
        repository.record_event(
            session,
            kind="dispositions.recorded",
            actor=actor,
            entry_id=entry.id,
            payload={"agency_code": agency_code, "source": source, "recorded": recorded},
        )
        after = refresh_entry_status(session, entry)
        notify_changes(session, entry, before, after, source=source)
    return StoreResult(recorded, duplicates)


def dispositions_for_entry(session: Session, entry: EntryRow) -> list[DispositionRow]:
    return list(
        session.scalars(
            select(DispositionRow)
            .where(DispositionRow.entry_id == entry.id)
            .order_by(DispositionRow.action_time, DispositionRow.received_at)
        )
    )


class DispositionService:
    """The inbound interface (REST and SOAP) for agency systems."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def submit(
        self, entry_number: str, body: Any, principal: Principal, *, source: str
    ) -> dict[str, Any]:
        agency = principal.agency_code
        if agency is None or "agency" not in principal.scopes:
            raise PermissionDenied("sending dispositions needs an agency token")
        items = parse_items(body)
        number = normalize_entry_number(entry_number)
        with self._db.transaction() as session:
            entry = repository.get_entry(session, number, filer_code=None, agency_code=agency)
            if entry is None:
                raise NotFound(f"no entry {number} with PGA lines of {agency}")
            result = store(
                session, entry, agency, items, source=source, actor=f"agency:{principal.client_id}"
            )
        return {"recorded": result.recorded, "duplicates": result.duplicates}
