"""Status everywhere: an entry's coordinated status (JSON and SO70 lines) and its history.

Who may see what is decided in ``gateway.queries`` (``visible_entry``, ``may_see_agency``,
``coordinate_for``): a filer sees its own entries, an agency the entries carrying its lines and
of those only its own lines, dispositions and dispatch rows (its coordinated status is the
roll-up over its own lines), an administrator everything; an invisible entry is ``NotFound``.

``refresh_entry_status`` keeps ``entries.status`` equal to the whole entry's coordinated
status after dispositions are stored, so ``GET /entries?status=HOLD`` works.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway import so70
from gateway.auth.principal import Principal
from gateway.coordination import Coordination
from gateway.db.models import DispositionRow, EntryRow, EventRow
from gateway.db.session import Database
from gateway.dispositions import dispositions_for_entry
from gateway.intake import status_path
from gateway.pgams.codes import code_tables
from gateway.pgams.entry_number import normalize_entry_number
from gateway.queries import coordinate_for, is_agency, may_see_agency, visible_entry

#: Event kinds about the whole entry (an agency sees them, with other agencies filtered out).
ENTRY_EVENT_KINDS = frozenset({"entry.accepted", "entry.pga_replaced"})


def refresh_entry_status(session: Session, entry: EntryRow) -> Coordination:
    """Set ``entry.status`` to the entry's coordinated status (in the caller's transaction).

    The entry row is locked first (``FOR NO KEY UPDATE`` on PostgreSQL: it does not conflict
    with the key-share locks the disposition inserts already hold, so two stores cannot
    deadlock) and re-read, and only then are the dispositions read: two agencies storing
    answers at the same moment are serialised here, and the second sees the first's answers,
    so the column never keeps a status computed from half of them.
    """
    session.scalars(
        select(EntryRow)
        .where(EntryRow.id == entry.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one()
    coordinated = coordinate_for(entry, dispositions_for_entry(session, entry))
    if entry.status != coordinated.status:
        entry.status = coordinated.status
        session.flush()
    return coordinated


class StatusService:
    """Read side of ``/entries/{n}/status`` and ``/entries/{n}/history`` (and SOAP)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def status(self, entry_number: str, principal: Principal) -> dict[str, Any]:
        """The coordinated status as JSON: status, explanation, reasons, agencies, lines."""
        number = normalize_entry_number(entry_number)
        with self._db.read() as session:
            entry = visible_entry(session, number, principal)
            coordinated = coordinate_for(entry, dispositions_for_entry(session, entry), principal)
            return _status_view(entry, coordinated, principal)

    def so70(self, entry_number: str, principal: Principal) -> str:
        """SO70-style 80-column lines: one per answered PGA line, then the entry summary."""
        number = normalize_entry_number(entry_number)
        with self._db.read() as session:
            entry = visible_entry(session, number, principal)
            coordinated = coordinate_for(entry, dispositions_for_entry(session, entry), principal)
            return so70.render(coordinated, as_of=entry.updated_at)

    def history(self, entry_number: str, principal: Principal) -> dict[str, Any]:
        """Every event of the entry the principal may see, oldest first (gateway clock)."""
        number = normalize_entry_number(entry_number)
        with self._db.read() as session:
            entry = visible_entry(session, number, principal)
            items = [
                _disposition_event(row)
                for row in dispositions_for_entry(session, entry)
                if may_see_agency(principal, row.agency_code)
            ]
            events = session.scalars(
                select(EventRow).where(EventRow.entry_id == entry.id).order_by(EventRow.created_at)
            )
            for event in events:
                shown = _visible_event(event, principal)
                if shown is not None:
                    items.append(shown)
        items.sort(key=lambda i: (dt.datetime.fromisoformat(i["at"]), i["kind"], i["id"]))
        return {"entry_number": number, "items": items}


def _status_view(
    entry: EntryRow, coordinated: Coordination, principal: Principal
) -> dict[str, Any]:
    view = {
        "entry_number": entry.entry_number,
        "version": entry.version,
        "scope": f"agency:{principal.agency_code}" if is_agency(principal) else "entry",
    }
    view.update(coordinated.as_dict())
    base = status_path(entry.entry_number)
    view["links"] = {
        "entry": base,
        "self": f"{base}/status",
        "catair": f"{base}/status?format=catair",
        "history": f"{base}/history",
    }
    return view


def _disposition_event(row: DispositionRow) -> dict[str, Any]:
    tables = code_tables()["pga_status"]
    status_text = tables["entry_level"].get(row.status_code, {}).get("text", "")
    reason_text = (
        tables["reason_codes"].get(row.reason_code, {}).get("text", "") if row.reason_code else ""
    )
    reason = f", reason {row.reason_code} {reason_text}" if row.reason_code else ""
    return {
        "id": str(row.id),
        "at": _iso(row.received_at),
        "kind": "disposition.received",
        "actor": row.actor,
        "agency_code": row.agency_code,
        "summary": (
            f"{row.agency_code} {row.status_code} {status_text} on CBP line "
            f"{row.cbp_line_number} PGA line {row.pga_line_number}{reason}"
        ),
        "details": {
            "program_code": row.program_code,
            "cbp_line_number": row.cbp_line_number,
            "pga_line_number": row.pga_line_number,
            "status_code": row.status_code,
            "status_text": status_text,
            "reason_code": row.reason_code,
            "reason_text": reason_text,
            "action_time": _iso(row.action_time),
            "received_at": _iso(row.received_at),
            "source": row.source,
            "entry_version": row.entry_version,
            "remark": row.remark,
        },
    }


def _visible_event(event: EventRow, principal: Principal) -> dict[str, Any] | None:
    payload = dict(event.payload or {})
    agency = _event_agency(event)
    if is_agency(principal):
        if event.kind in ENTRY_EVENT_KINDS:
            payload["agencies"] = [
                a for a in payload.get("agencies", []) if a == principal.agency_code
            ]
        elif agency != principal.agency_code:
            return None
    return {
        "id": str(event.id),
        "at": _iso(event.created_at),
        "kind": event.kind,
        "actor": event.actor,
        "agency_code": agency,
        "summary": _event_summary(event.kind, agency, payload),
        "details": payload,
    }


def _event_agency(event: EventRow) -> str | None:
    """The agency an event is about: its payload's ``agency_code``, or an ``agency:XXX`` actor."""
    code = (event.payload or {}).get("agency_code")
    if isinstance(code, str):
        return code
    prefix, _, rest = event.actor.partition(":")
    if prefix == "agency" and len(rest) == 3:
        return rest
    return None


def _event_summary(kind: str, agency: str | None, payload: dict[str, Any]) -> str:
    version = payload.get("version")
    agencies = ", ".join(payload.get("agencies", []))
    summaries = {
        "entry.accepted": f"entry accepted (version {version}) for {agencies}",
        "entry.pga_replaced": f"PGA data replaced (version {version}) for {agencies}",
        "dispatch.delivered": f"PGA data delivered to {agency}",
        "dispatch.dead": f"delivery to {agency} gave up (dead letter): {payload.get('error')}",
        "dispatch.redriven": f"dead letter to {agency} queued again",
        "dispositions.recorded": (
            f"{payload.get('recorded')} disposition(s) recorded from {agency} "
            f"({payload.get('source')})"
        ),
        "dispositions.rejected": f"dispositions from {agency} refused",
    }
    return summaries.get(kind, kind)


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None
