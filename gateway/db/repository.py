"""Storage operations on the canonical model, as plain functions over a caller's ``Session``.

Every function works inside the caller's transaction (``Database.transaction()``) and never
commits; all of an operation is therefore committed together or not at all. Inputs are the
canonical model (``gateway.pgams.model``) plus JSON-ready dicts, so this module does not depend
on the JSON mapping. Integrity violations the caller can cause come back as ``Conflict``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, selectinload

from gateway.corrections import changes_in_version
from gateway.db.errors import translate, unique_violation
from gateway.db.idempotency import find_idempotent, save_idempotent
from gateway.db.models import (
    EntryRow,
    EventRow,
    OutboxRow,
    PGALineRow,
    TariffLineRow,
)
from gateway.db.types import utcnow
from gateway.errors import Conflict, ValidationFailed
from gateway.pgams.model import Filing, PGALine, TariffLine

# pga_line_json(pga_line) -> {"header": {...}, "records": [{"type": ..., "fields": {...}}]}
PGALineJSON = Callable[[PGALine], Mapping[str, Any]]

OUTBOX_KIND_PGA_DATA = "pga_data"
STATUS_ACCEPTED = "ACCEPTED"
STATUS_CANCELLED = "CANCELLED"

__all__ = [
    "PGALineJSON",
    "cancel_entry",
    "find_idempotent",
    "get_entry",
    "insert_entry",
    "list_entries",
    "outbox_for_entry",
    "record_event",
    "replace_pga_data",
    "save_idempotent",
]


def insert_entry(
    session: Session,
    filing: Filing,
    *,
    document: dict[str, Any],
    transaction_id: uuid.UUID,
    pga_line_json: PGALineJSON,
    status: str = STATUS_ACCEPTED,
    actor: str | None = None,
) -> EntryRow:
    """Write a new entry with its lines, one outbox row per agency and an event.

    Raises ``Conflict`` if the entry number exists already; the caller's transaction is left
    usable (the attempt is rolled back to a savepoint) and nothing of this entry is written.
    """
    if len(filing.entry_number) != 11:
        raise ValidationFailed(f"entry number {filing.entry_number!r} is not 11 characters")
    _check_line_numbers(filing.lines)
    now = utcnow()
    entry = EntryRow(
        id=uuid.uuid4(),
        entry_number=filing.entry_number,
        filer_code=filing.filer_code,
        entry_type=filing.entry_type,
        port_of_entry=filing.port_of_entry,
        importer_of_record=filing.importer_of_record,
        mode_of_transport=filing.mode_of_transport,
        estimated_arrival=filing.estimated_arrival,
        status=status,
        version=1,
        transaction_id=transaction_id,
        document=document,
        created_at=now,
        updated_at=now,
    )
    _add_lines(session, entry, filing.lines, pga_line_json, version=1, now=now)
    agencies = filing.agencies()
    _add_outbox(entry, agencies, version=1, now=now)
    event = _event(entry, "entry.accepted", actor or f"filer:{filing.filer_code}", now)
    event.payload = {"transaction_id": str(transaction_id), "version": 1, "agencies": agencies}
    try:
        # A savepoint: a duplicate rolls back only this attempt, not the caller's transaction.
        with session.begin_nested():
            session.add(entry)
            session.add(event)
            session.flush()
    except sa_exc.IntegrityError as exc:
        if unique_violation(exc, "uq_entries_entry_number", "entry_number"):
            raise Conflict(f"entry {filing.entry_number} already exists") from None
        raise translate(exc, session.get_bind().engine.url) from exc
    return entry


def get_entry(
    session: Session,
    entry_number: str,
    *,
    filer_code: str | None,
    agency_code: str | None = None,
) -> EntryRow | None:
    """The entry with its tariff lines, PGA lines (all versions) and outbox rows loaded.

    ``filer_code=None`` means no ownership filter; otherwise another filer's entry is ``None``.
    ``agency_code`` (optional) keeps only entries whose current PGA data has a line of that
    agency.
    """
    stmt = (
        select(EntryRow)
        .where(EntryRow.entry_number == entry_number, *_visibility(filer_code, agency_code))
        .options(
            selectinload(EntryRow.tariff_lines),
            selectinload(EntryRow.pga_lines),
            selectinload(EntryRow.outbox),
        )
    )
    return session.scalars(stmt).one_or_none()


def outbox_for_entry(session: Session, entry: EntryRow) -> list[OutboxRow]:
    """The entry's outbox rows (every version), oldest version first, by agency."""
    return list(
        session.scalars(
            select(OutboxRow)
            .where(OutboxRow.entry_id == entry.id)
            .order_by(OutboxRow.entry_version, OutboxRow.agency_code, OutboxRow.created_at)
        )
    )


def list_entries(
    session: Session,
    *,
    filer_code: str | None = None,
    agency_code: str | None = None,
    status: str | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[EntryRow], int]:
    """One page of entries, newest first, and the total matching count.

    ``filer_code``/``agency_code`` filter as in ``get_entry``. ``created_from`` is inclusive,
    ``created_to`` exclusive; both must be timezone-aware. Only the entry rows are loaded.
    """
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")
    conditions = _visibility(filer_code, agency_code)
    if status is not None:
        conditions.append(EntryRow.status == status)
    if created_from is not None:
        conditions.append(EntryRow.created_at >= _aware(created_from, "created_from"))
    if created_to is not None:
        conditions.append(EntryRow.created_at < _aware(created_to, "created_to"))
    total = session.scalar(select(func.count()).select_from(EntryRow).where(*conditions)) or 0
    page = session.scalars(
        select(EntryRow)
        .where(*conditions)
        .order_by(EntryRow.created_at.desc(), EntryRow.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(page), int(total)


def replace_pga_data(
    session: Session,
    entry: EntryRow,
    lines: list[TariffLine],
    *,
    document: dict[str, Any],
    transaction_id: uuid.UUID,
    pga_line_json: PGALineJSON,
    actor: str | None = None,
) -> EntryRow:
    """Replace the entry's PGA data: version + 1, old PGA lines kept as superseded history.

    The entry row is re-read with a row lock (FOR UPDATE on PostgreSQL), so concurrent
    replacements get consecutive versions. Tariff lines are updated in place by line number
    (new ones added; absent ones kept, since superseded PGA lines still refer to them). Each
    agency with a non-disclaimed line in the new data gets a new outbox row.
    """
    _check_line_numbers(lines)
    locked = _locked(session, entry)
    now = utcnow()
    version = locked.version + 1
    for old in locked.pga_lines:
        old.superseded = True
    locked.version = version
    locked.transaction_id = transaction_id
    locked.document = document
    locked.updated_at = now
    _add_lines(session, locked, lines, pga_line_json, version=version, now=now)
    # Only agencies whose lines this version changed (or removed) hear about it again.
    changes = changes_in_version(locked.pga_lines, version)
    agencies = [a for a in Filing("", "", "", "", "", lines=lines).agencies() if a in changes]
    agencies += sorted(a for a in changes if a not in agencies)
    _add_outbox(locked, agencies, version=version, now=now)
    event = _event(locked, "entry.pga_replaced", actor or f"filer:{locked.filer_code}", now)
    event.payload = {
        "transaction_id": str(transaction_id),
        "version": version,
        "agencies": agencies,
    }
    session.add(event)
    session.flush()
    return locked


def cancel_entry(session: Session, entry: EntryRow, *, actor: str) -> tuple[EntryRow, list[str]]:
    """Cancel the entry: a new version without PGA lines, so every agency that had lines is
    sent their deletion (correction indicator D); returns the entry and those agencies."""
    locked = _locked(session, entry)
    if locked.status == STATUS_CANCELLED:
        raise Conflict(f"entry {locked.entry_number} is already cancelled")
    now = utcnow()
    version = locked.version + 1
    for old in locked.pga_lines:
        old.superseded = True
    locked.version = version
    locked.status = STATUS_CANCELLED
    locked.updated_at = now
    agencies = sorted(changes_in_version(locked.pga_lines, version))
    _add_outbox(locked, agencies, version=version, now=now)
    event = _event(locked, "entry.cancelled", actor, now)
    event.payload = {"version": version, "agencies": agencies}
    session.add(event)
    session.flush()
    return locked, agencies


def record_event(
    session: Session,
    *,
    kind: str,
    actor: str,
    payload: dict[str, Any],
    entry_id: uuid.UUID | None = None,
) -> EventRow:
    """Append one event (audit log); flushed so its id and time are set."""
    row = EventRow(id=uuid.uuid4(), entry_id=entry_id, kind=kind, actor=actor, payload=payload)
    row.created_at = utcnow()
    session.add(row)
    session.flush()
    return row


# -- helpers ---------------------------------------------------------------------------------


def _visibility(filer_code: str | None, agency_code: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filer_code is not None:
        conditions.append(EntryRow.filer_code == filer_code)
    if agency_code is not None:
        conditions.append(
            exists().where(
                PGALineRow.entry_id == EntryRow.id,
                PGALineRow.agency_code == agency_code,
                PGALineRow.superseded.is_(False),
            )
        )
    return conditions


def _locked(session: Session, entry: EntryRow) -> EntryRow:
    """The entry re-read under a row lock (FOR UPDATE on PostgreSQL), so concurrent changes
    to one entry are serialised and each sees the other's version."""
    return session.scalars(
        select(EntryRow)
        .where(EntryRow.id == entry.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _check_line_numbers(lines: Iterable[TariffLine]) -> None:
    seen: set[int] = set()
    for line in lines:
        if line.line_number in seen:
            raise ValidationFailed(f"tariff line number {line.line_number} appears twice")
        seen.add(line.line_number)


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value


def _add_lines(
    session: Session,
    entry: EntryRow,
    lines: Iterable[TariffLine],
    pga_line_json: PGALineJSON,
    *,
    version: int,
    now: dt.datetime,
) -> None:
    # Lazy-loading a collection must not autoflush a row that is still half-linked.
    with session.no_autoflush:
        existing = {row.line_number: row for row in entry.tariff_lines} if version > 1 else {}
        for line in lines:
            tariff = existing.get(line.line_number)
            if tariff is None:
                tariff = TariffLineRow(id=uuid.uuid4(), line_number=line.line_number)
                entry.tariff_lines.append(tariff)
            tariff.hts_number = line.hts_number
            tariff.description = line.description
            tariff.country_of_origin = line.country_of_origin
            tariff.value = line.value
            for pga in line.pga_lines:
                data = pga_line_json(pga)
                row = PGALineRow(
                    id=uuid.uuid4(),
                    cbp_line_number=line.line_number,
                    agency_code=pga.agency_code,
                    program_code=pga.program_code,
                    processing_code=pga.processing_code,
                    pga_line_number=pga.pga_line_number,
                    disclaimer=pga.disclaimer,
                    correction_indicator=pga.correction_indicator,
                    header=dict(data["header"]),
                    records=list(data["records"]),
                    entry_version=version,
                    superseded=False,
                )
                # Both foreign keys are set from these collections at flush time.
                entry.pga_lines.append(row)
                tariff.pga_lines.append(row)


def _add_outbox(entry: EntryRow, agencies: list[str], *, version: int, now: dt.datetime) -> None:
    for agency in agencies:
        entry.outbox.append(
            OutboxRow(
                id=uuid.uuid4(),
                agency_code=agency,
                kind=OUTBOX_KIND_PGA_DATA,
                message_id=uuid.uuid4(),
                entry_version=version,
                state="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
        )


def _event(entry: EntryRow, kind: str, actor: str, now: dt.datetime) -> EventRow:
    return EventRow(id=uuid.uuid4(), entry_id=entry.id, kind=kind, actor=actor, created_at=now)
