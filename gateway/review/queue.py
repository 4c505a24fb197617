"""The review queue: what waits for an agency, in a few SQL statements (never a Python loop
over every row).

PGA lines: current (not superseded, not disclaimed) lines of the agency, on entries that are
not cancelled, whose latest disposition (by action time, as in coordination) is missing or is
not final (final = data rejected 04 or may proceed 07). Documents: current, not withdrawn
documents announced to the agency (their ``document_notice`` outbox row) that the agency has
not reviewed yet. A coordinator (``agency_code=None``) sees every agency's queue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from gateway.coordination import HOLD_CODES, PROCEED_CODES, REJECT_CODES
from gateway.db.models import (
    DispositionRow,
    DocumentReviewRow,
    DocumentRow,
    EntryRow,
    OutboxRow,
    PGALineRow,
    TariffLineRow,
)
from gateway.db.repository import STATUS_CANCELLED

PAGE_SIZE = 25
FINAL_CODES = REJECT_CODES | PROCEED_CODES
SORTS = ("oldest", "newest")
STATUS_FILTERS = ("", "PENDING", "HOLD")


@dataclass(frozen=True)
class QueueFilters:
    agency_code: str | None  # None: every agency (coordinator)
    program: str = ""
    status: str = ""  # "", PENDING, HOLD or a PGA status code
    port: str = ""
    filer: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "oldest"
    page: int = 1


@dataclass
class QueuePage:
    items: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    counts: dict[str, int] = field(default_factory=dict)


def _latest(column: Any) -> Any:
    """The latest disposition's ``column`` for the PGA line of the enclosing query."""
    return (
        select(column)
        .where(
            DispositionRow.entry_id == PGALineRow.entry_id,
            DispositionRow.agency_code == PGALineRow.agency_code,
            DispositionRow.cbp_line_number == PGALineRow.cbp_line_number,
            DispositionRow.pga_line_number == PGALineRow.pga_line_number,
        )
        .order_by(DispositionRow.action_time.desc(), DispositionRow.received_at.desc())
        .limit(1)
        .correlate(PGALineRow)
        .scalar_subquery()
    )


def _entry_filters(f: QueueFilters, created: Any) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [EntryRow.status != STATUS_CANCELLED]
    if f.port:
        conditions.append(EntryRow.port_of_entry == f.port)
    if f.filer:
        conditions.append(EntryRow.filer_code == f.filer)
    if f.date_from:
        start = dt.datetime.combine(f.date_from, dt.time.min, dt.UTC)
        conditions.append(created >= start)
    if f.date_to:
        end = dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time.min, dt.UTC)
        conditions.append(created < end)
    return conditions


def _lines_query(f: QueueFilters) -> Select[Any]:
    status = _latest(DispositionRow.status_code)
    conditions = [
        PGALineRow.superseded.is_(False),
        or_(PGALineRow.disclaimer.is_(None), func.trim(PGALineRow.disclaimer) == ""),
        or_(status.is_(None), status.not_in(sorted(FINAL_CODES))),
        *_entry_filters(f, EntryRow.created_at),
    ]
    if f.agency_code:
        conditions.append(PGALineRow.agency_code == f.agency_code)
    if f.program:
        conditions.append(PGALineRow.program_code == f.program)
    if f.status == "HOLD":
        conditions.append(status.in_(sorted(HOLD_CODES)))
    elif f.status == "PENDING":
        conditions.append(or_(status.is_(None), status.not_in(sorted(HOLD_CODES))))
    elif f.status:
        conditions.append(status == f.status)
    query: Select[Any] = (
        select(
            EntryRow.entry_number,
            EntryRow.filer_code,
            EntryRow.port_of_entry,
            EntryRow.created_at,
            PGALineRow.agency_code,
            PGALineRow.program_code,
            PGALineRow.cbp_line_number,
            PGALineRow.pga_line_number,
            TariffLineRow.description,
            status.label("status_code"),
            _latest(DispositionRow.action_time).label("action_time"),
        )
        .select_from(PGALineRow)
        .join(EntryRow, EntryRow.id == PGALineRow.entry_id)
        .join(TariffLineRow, TariffLineRow.id == PGALineRow.tariff_line_id)
        .where(*conditions)
    )
    return query


def _documents_query(f: QueueFilters) -> Select[Any]:
    notice = OutboxRow.__table__.alias("notice")
    reviewed = exists().where(
        DocumentReviewRow.document_row_id == DocumentRow.id,
        DocumentReviewRow.agency_code == notice.c.agency_code,
    )
    awaiting = [
        notice.c.kind == "document_notice",
        notice.c.document_id == DocumentRow.id,
        ~reviewed,
    ]
    if f.agency_code:
        awaiting.append(notice.c.agency_code == f.agency_code)
    conditions = [
        DocumentRow.superseded.is_(False),
        DocumentRow.withdrawn_at.is_(None),
        exists().where(and_(*awaiting)),
        *_entry_filters(f, DocumentRow.created_at),
    ]
    query: Any = (
        select(
            DocumentRow.id,
            DocumentRow.entry_number,
            DocumentRow.filer_code,
            DocumentRow.label,
            DocumentRow.file_name,
            DocumentRow.media_type,
            DocumentRow.agencies,
            DocumentRow.created_at,
            EntryRow.port_of_entry,
        )
        .join(EntryRow, EntryRow.id == DocumentRow.entry_id)
        .where(*conditions)
    )
    return query


def _count(session: Session, query: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _page(f: QueueFilters, total: int) -> tuple[int, int]:
    pages = max(1, -(-total // PAGE_SIZE))
    return min(max(1, f.page), pages), pages


def pga_lines(session: Session, f: QueueFilters) -> QueuePage:
    query = _lines_query(f)
    total = _count(session, query)
    page, pages = _page(f, total)
    order = EntryRow.created_at.desc() if f.sort == "newest" else EntryRow.created_at.asc()
    rows = session.execute(
        query.order_by(
            order, EntryRow.entry_number, PGALineRow.cbp_line_number, PGALineRow.pga_line_number
        )
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    # One grouped statement for the status chips (same filters, any status).
    unfiltered = _lines_query(_without_status(f))
    sub = unfiltered.subquery()
    counts: dict[str, int] = {}
    for code, n in session.execute(
        select(sub.c.status_code, func.count()).group_by(sub.c.status_code)
    ):
        bucket = "HOLD" if code in HOLD_CODES else "PENDING"
        counts[bucket] = counts.get(bucket, 0) + int(n)
    items = [dict(row._mapping) for row in rows]
    return QueuePage(items, total, page, pages, counts)


def documents(session: Session, f: QueueFilters) -> QueuePage:
    query = _documents_query(f)
    total = _count(session, query)
    page, pages = _page(f, total)
    order = DocumentRow.created_at.desc() if f.sort == "newest" else DocumentRow.created_at.asc()
    rows = session.execute(
        query.order_by(order, DocumentRow.entry_number, DocumentRow.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return QueuePage([dict(row._mapping) for row in rows], total, page, pages)


def count_lines(session: Session, f: QueueFilters) -> int:
    return _count(session, _lines_query(f))


def count_documents(session: Session, f: QueueFilters) -> int:
    return _count(session, _documents_query(f))


def _without_status(f: QueueFilters) -> QueueFilters:
    return QueueFilters(
        agency_code=f.agency_code,
        program=f.program,
        port=f.port,
        filer=f.filer,
        date_from=f.date_from,
        date_to=f.date_to,
    )


def programs(session: Session, agency_code: str | None) -> list[str]:
    query = select(PGALineRow.program_code).where(PGALineRow.superseded.is_(False)).distinct()
    if agency_code:
        query = query.where(PGALineRow.agency_code == agency_code)
    return sorted(session.scalars(query))
