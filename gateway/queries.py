"""Read side: what a caller may see of entries, shaped for the API.

A filer sees only its own entries (another filer's entry is "not found", never "forbidden",
so entry numbers cannot be probed); an agency sees entries carrying at least one of its PGA
lines, and of those only its own PGA lines; an administrator sees everything. These rules live
here only (``visible_entry``, ``may_see_agency``); ``gateway.status`` uses them too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.principal import Principal
from gateway.coordination import (
    Coordination,
    coordinate,
    current_lines,
    dispositions_from_rows,
)
from gateway.db import repository
from gateway.db.models import DeliveryAttemptRow, DispositionRow, EntryRow
from gateway.db.repository import STATUS_CANCELLED
from gateway.db.session import Database
from gateway.dispatch import outbox_view
from gateway.dispositions import dispositions_for_entry
from gateway.document_requests import request_view, requests_for_entry
from gateway.errors import NotFound
from gateway.intake import status_path
from gateway.pgams.codes import pga_status_codes
from gateway.pgams.entry_number import normalize_entry_number

# An agency's list is filtered after computing its own status per entry; this bounds the scan.
AGENCY_SCAN_LIMIT = 5000


class EntryQueries:
    def __init__(self, database: Database) -> None:
        self._db = database

    def get(self, entry_number: str, principal: Principal) -> dict[str, Any]:
        number = normalize_entry_number(entry_number)
        with self._db.read() as session:
            entry = visible_entry(session, number, principal)
            view = _summary(entry)
            outbox = repository.outbox_for_entry(session, entry)
            attempts = _attempts_by_outbox(session, [row.id for row in outbox])
            document = entry.document
            dispositions = dispositions_for_entry(session, entry)
            coordinated = coordinate_for(entry, dispositions, principal)
            view.update(
                status=coordinated.status,
                importer_of_record=entry.importer_of_record,
                mode_of_transport=entry.mode_of_transport,
                estimated_arrival=_iso(entry.estimated_arrival),
                transaction_id=str(entry.transaction_id),
                lines=[_visible_line(line, principal) for line in document["lines"]],
                dispatch=[
                    outbox_view(row, attempts.get(row.id, []))
                    for row in outbox
                    if may_see_agency(principal, row.agency_code)
                ],
                document_requests=[
                    request_view(row)
                    for row in requests_for_entry(session, entry)
                    if may_see_agency(principal, row.agency_code)
                ],
                dispositions=[
                    _disposition_view(row)
                    for row in dispositions
                    if may_see_agency(principal, row.agency_code)
                ],
                coordinated=coordinated.as_dict(),
            )
            return view

    def list(
        self,
        principal: Principal,
        *,
        status: str | None,
        created_from: dt.datetime | None,
        created_to: dt.datetime | None,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        agency = principal.agency_code if is_agency(principal) else None
        with self._db.read() as session:
            if agency is None:
                rows, total = repository.list_entries(
                    session,
                    filer_code=principal.filer_code if is_filer(principal) else None,
                    status=status,
                    created_from=created_from,
                    created_to=created_to,
                    limit=limit,
                    offset=offset,
                )
                items = [_summary(row) for row in rows]
            else:
                items, total = _agency_page(
                    session, principal, status, created_from, created_to, limit, offset
                )
        following = offset + len(items)
        return {
            "items": items,
            "total": total,
            "limit": limit,
            "offset": offset,
            "next": f"/api/v1/entries?limit={limit}&offset={following}"
            if following < total
            else None,
        }


def _agency_page(
    session: Session,
    principal: Principal,
    status: str | None,
    created_from: dt.datetime | None,
    created_to: dt.datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """An agency sees each entry's status over its own lines only (another agency's hold
    is not its business), so status and its filter are computed per entry, not read from
    the entry-wide column."""
    rows, total = repository.list_entries(
        session,
        agency_code=principal.agency_code,
        created_from=created_from,
        created_to=created_to,
        limit=AGENCY_SCAN_LIMIT,
        offset=0,
    )
    items = []
    for row in rows:
        item = _summary(row)
        scoped = coordinate_for(row, dispositions_for_entry(session, row), principal)
        item["status"] = scoped.status
        if status is None or scoped.status == status:
            items.append(item)
    if status is not None:
        total = len(items)
    return items[offset : offset + limit], total


def visible_entry(session: Session, entry_number: str, principal: Principal) -> EntryRow:
    """The entry if this principal may see it (see the module docstring), else ``NotFound``.

    ``entry_number`` must be normalized already.
    """
    entry = repository.get_entry(
        session,
        entry_number,
        filer_code=principal.filer_code if is_filer(principal) else None,
        agency_code=principal.agency_code if is_agency(principal) else None,
    )
    if entry is None:
        raise NotFound(f"no entry {entry_number}")
    return entry


def may_see_agency(principal: Principal, agency_code: str) -> bool:
    """Whether the principal may see this agency's lines, dispositions and dispatch rows."""
    return not is_agency(principal) or agency_code == principal.agency_code


def coordinate_for(
    entry: EntryRow, dispositions: Iterable[DispositionRow], principal: Principal | None = None
) -> Coordination:
    """The entry's coordinated status as this principal may see it.

    An agency sees the roll-up over its own lines and dispositions only (another agency's
    hold is not its business); filers, administrators and ``None`` (the gateway itself) see
    the whole entry.
    """
    lines = current_lines(entry.pga_lines)
    answers = dispositions_from_rows(dispositions)
    if principal is not None and is_agency(principal):
        lines = [line for line in lines if line.agency_code == principal.agency_code]
        answers = [a for a in answers if a.agency_code == principal.agency_code]
    coordinated = coordinate(lines, answers)
    if entry.status == STATUS_CANCELLED:
        # A cancelled entry has no PGA lines left to coordinate; say so instead.
        return dataclasses.replace(
            coordinated,
            status=STATUS_CANCELLED,
            explanation=f"The filer cancelled entry {entry.entry_number}; "
            "every agency that had its PGA lines was told to delete them.",
        )
    return coordinated


def _attempts_by_outbox(
    session: Session, outbox_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[DeliveryAttemptRow]]:
    found: dict[uuid.UUID, list[DeliveryAttemptRow]] = {}
    if outbox_ids:
        query = select(DeliveryAttemptRow).where(DeliveryAttemptRow.outbox_id.in_(outbox_ids))
        for attempt in session.scalars(query):
            found.setdefault(attempt.outbox_id, []).append(attempt)
    return found


def _disposition_view(row: DispositionRow) -> dict[str, Any]:
    return {
        "agency_code": row.agency_code,
        "program_code": row.program_code,
        "cbp_line_number": row.cbp_line_number,
        "pga_line_number": row.pga_line_number,
        "status_code": row.status_code,
        "status_text": pga_status_codes().get(row.status_code, ""),
        "reason_code": row.reason_code,
        "action_time": row.action_time.isoformat(),
        "received_at": row.received_at.isoformat(),
        "source": row.source,
        "remark": row.remark,
    }


def is_filer(principal: Principal) -> bool:
    return not principal.is_admin and principal.agency_code is None


def is_agency(principal: Principal) -> bool:
    return not principal.is_admin and principal.agency_code is not None


def _visible_line(line: dict[str, Any], principal: Principal) -> dict[str, Any]:
    if not is_agency(principal):
        return line
    shown = dict(line)
    shown["pga_lines"] = [
        p for p in line.get("pga_lines", []) if p.get("agency_code") == principal.agency_code
    ]
    return shown


def _summary(entry: Any) -> dict[str, Any]:
    return {
        "entry_number": entry.entry_number,
        "filer_code": entry.filer_code,
        "entry_type": entry.entry_type,
        "port_of_entry": entry.port_of_entry,
        "status": entry.status,
        "version": entry.version,
        "created_at": _iso(entry.created_at),
        "updated_at": _iso(entry.updated_at),
        "url": status_path(entry.entry_number),
    }


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
