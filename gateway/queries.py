"""Read side: what a caller may see of entries, shaped for the API.

A filer sees only its own entries (another filer's entry is "not found", never "forbidden",
so entry numbers cannot be probed); an agency sees entries carrying at least one of its PGA
lines, and of those only its own PGA lines; an administrator sees everything.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.auth.principal import Principal
from gateway.db import repository
from gateway.db.session import Database
from gateway.errors import NotFound
from gateway.intake import status_path
from gateway.pgams.entry_number import normalize_entry_number


class EntryQueries:
    def __init__(self, database: Database) -> None:
        self._db = database

    def get(self, entry_number: str, principal: Principal) -> dict[str, Any]:
        number = normalize_entry_number(entry_number)
        with self._db.read() as session:
            entry = repository.get_entry(
                session,
                number,
                filer_code=principal.filer_code if _is_filer(principal) else None,
                agency_code=principal.agency_code if _is_agency(principal) else None,
            )
            if entry is None:
                raise NotFound(f"no entry {number}")
            view = _summary(entry)
            document = entry.document
            view.update(
                importer_of_record=entry.importer_of_record,
                mode_of_transport=entry.mode_of_transport,
                estimated_arrival=_iso(entry.estimated_arrival),
                transaction_id=str(entry.transaction_id),
                lines=[_visible_line(line, principal) for line in document["lines"]],
                dispatch=[
                    {
                        "agency_code": row.agency_code,
                        "message_id": str(row.message_id),
                        "entry_version": row.entry_version,
                        "state": row.state,
                        "attempts": row.attempts,
                        "last_error": row.last_error,
                    }
                    for row in repository.outbox_for_entry(session, entry)
                    if not _is_agency(principal) or row.agency_code == principal.agency_code
                ],
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
        with self._db.read() as session:
            rows, total = repository.list_entries(
                session,
                filer_code=principal.filer_code if _is_filer(principal) else None,
                agency_code=principal.agency_code if _is_agency(principal) else None,
                status=status,
                created_from=created_from,
                created_to=created_to,
                limit=limit,
                offset=offset,
            )
            items = [_summary(row) for row in rows]
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


def _is_filer(principal: Principal) -> bool:
    return not principal.is_admin and principal.agency_code is None


def _is_agency(principal: Principal) -> bool:
    return not principal.is_admin and principal.agency_code is not None


def _visible_line(line: dict[str, Any], principal: Principal) -> dict[str, Any]:
    if not _is_agency(principal):
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
