"""The documents-required loop.

A ``10 DOCUMENTS REQUIRED`` disposition opens one request per document label it names (or
one for "any document" when it names none). A document the filer then sends that names the
agency (and, where the request names a label, has that label) fulfils the agency's open
requests on that entry: the request is closed, the fact is an event, and the filer is told.
The agency itself hears of the document through its ordinary document notice.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.db.models import DocumentRequestRow, EntryRow
from gateway.db.repository import record_event
from gateway.db.types import utcnow
from gateway.notify import emit

DOCUMENTS_REQUIRED = "10"


def open_requests(
    session: Session,
    entry: EntryRow,
    agency_code: str,
    *,
    cbp_line_number: int,
    pga_line_number: int,
    labels: tuple[str, ...],
    remark: str | None,
) -> list[DocumentRequestRow]:
    rows = [
        DocumentRequestRow(
            id=uuid.uuid4(),
            entry_id=entry.id,
            agency_code=agency_code,
            cbp_line_number=cbp_line_number,
            pga_line_number=pga_line_number,
            label_code=label,
            remark=remark,
            state="open",
            created_at=utcnow(),
        )
        for label in (labels or (None,))
    ]
    session.add_all(rows)
    return rows


def fulfil(
    session: Session,
    entry: EntryRow,
    agencies: list[str],
    label: str,
    document_row_id: uuid.UUID,
    actor: str,
) -> list[DocumentRequestRow]:
    """Close the open requests this document answers; returns them."""
    candidates = session.scalars(
        select(DocumentRequestRow).where(
            DocumentRequestRow.entry_id == entry.id,
            DocumentRequestRow.state == "open",
            DocumentRequestRow.agency_code.in_(agencies),
        )
    ).all()
    matched = [r for r in candidates if r.label_code in (None, label)]
    now = utcnow()
    for request in matched:
        request.state = "fulfilled"
        request.fulfilled_at = now
        request.document_row_id = document_row_id
    if matched:
        payload = {
            "document": str(document_row_id),
            "label": label,
            "requests": [request_view(r) for r in matched],
        }
        record_event(
            session,
            kind="document.request_fulfilled",
            actor=actor,
            entry_id=entry.id,
            payload=payload,
        )
        emit(session, entry, "document.request_fulfilled", payload)
    return matched


def requests_for_entry(session: Session, entry: EntryRow) -> list[DocumentRequestRow]:
    return list(
        session.scalars(
            select(DocumentRequestRow)
            .where(DocumentRequestRow.entry_id == entry.id)
            .order_by(DocumentRequestRow.created_at)
        )
    )


def request_view(row: DocumentRequestRow) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "agency_code": row.agency_code,
        "cbp_line_number": row.cbp_line_number,
        "pga_line_number": row.pga_line_number,
        "label_code": row.label_code,
        "remark": row.remark,
        "state": row.state,
        "created_at": row.created_at.isoformat(),
        "fulfilled_at": row.fulfilled_at.isoformat() if row.fulfilled_at else None,
        "document": str(row.document_row_id) if row.document_row_id else None,
    }
