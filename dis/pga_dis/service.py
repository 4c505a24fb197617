"""``DocumentService``: upload, replace, withdraw, list/get for a principal, content, review.

Durability (no row without its object, no visible half object):

1. every check that needs no bytes (caller, entry ownership, lines, agencies, label, name) and
   the type sniffed from the first bytes run first; any problem -> ``ValidationFailed`` listing
   all of them, before anything is stored;
2. the bytes stream into the object store under a fresh key ``documents/<ms>-<uuid>`` while
   being hashed (the store writes atomically: a crash leaves only its temp file, never a
   visible half object);
3. the document row, one ``document_notice`` outbox row per named agency and an event are
   written in ONE transaction; if it fails, the object is deleted.

A crash between 2 and 3 leaves an object no row points to; ``sweep_orphans`` (run at start-up)
deletes such objects once they are older than any upload still in progress could be.
"""

from __future__ import annotations

import builtins
import datetime as dt
import itertools
import logging
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agencies.registry import AgencyRegistry
from gateway.auth.principal import Principal
from gateway.config import Settings
from gateway.db.models import DocumentReviewRow, DocumentRow, EntryRow, OutboxRow, PGALineRow
from gateway.db.repository import record_event
from gateway.db.session import Database
from gateway.db.types import utcnow
from gateway.document_requests import fulfil
from gateway.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    Problem,
    ValidationFailed,
)
from gateway.notify import emit
from gateway.pgams.entry_number import normalize_entry_number
from pga_dis import validation
from pga_dis.storage import ObjectStore

log = logging.getLogger("pga_dis.service")

KEY_PREFIX = "documents/"
REVIEW_STATUSES = ("ACCEPTED", "REJECTED")
# CBP DocumentRejectReason values (dis.md section 3c).
REJECT_REASONS = (
    "POOR_IMAGE_QUALITY",
    "INCORRECT_METADATA_ASSOCIATION",
    "INCORRECT_DOCUMENT_RECEIVED",
    "NO_ASSOCIATED_TRANSACTION",
    "INCOMPLETE_DOCUMENT_SET",
    "INCORRECT_CBP_REQUEST",
    "OTHER",
)
ACTIONS = ("ADD", "REPLACE")


@dataclass
class UploadRequest:
    entry_number: str
    agencies: list[str]
    label: str
    document_id: str
    file_name: str
    description: str | None = None
    cbp_line_numbers: list[int] = field(default_factory=list)
    pga_line_refs: list[dict[str, int]] = field(default_factory=list)
    action: str = "ADD"
    declared_extension: str | None = None
    channel: str = "rest"
    message_id: str | None = None


@dataclass
class _Prepared:
    request: UploadRequest
    entry_id: uuid.UUID
    key: str
    size: int
    sha256: str
    media_type: str


def new_object_key() -> str:
    """``documents/<epoch ms>-<uuid>``: the time lets ``sweep_orphans`` judge an orphan's age."""
    return f"{KEY_PREFIX}{int(time.time() * 1000):013d}-{uuid.uuid4().hex}"


def _key_age_seconds(key: str, now: float) -> float | None:
    stamp = key[len(KEY_PREFIX) :].partition("-")[0]
    return now - int(stamp) / 1000 if stamp.isdigit() else None


def read_head(
    chunks: Iterable[bytes], size: int = validation.SNIFF_BYTES
) -> tuple[bytes, Iterator[bytes]]:
    """The first ``size`` bytes (fewer at EOF) and an iterator over the rest."""
    iterator = iter(chunks)
    parts: list[bytes] = []
    have = 0
    for chunk in iterator:
        if chunk:
            parts.append(chunk)
            have += len(chunk)
        if have >= size:
            break
    return b"".join(parts), iterator


def _is_filer(principal: Principal) -> bool:
    return not principal.is_admin and principal.agency_code is None


def _is_agency(principal: Principal) -> bool:
    return not principal.is_admin and principal.agency_code is not None


class DocumentService:
    def __init__(
        self,
        database: Database,
        store: ObjectStore,
        registry: AgencyRegistry,
        settings: Settings,
    ) -> None:
        self._db = database
        self.store = store
        self._registry = registry
        self._settings = settings

    # -- checks --------------------------------------------------------------------------------

    def allowed_types(self, channel: str) -> frozenset[str]:
        text = (
            self._settings.document_types_soap
            if channel == "soap"
            else self._settings.document_types_rest
        )
        return validation.parse_type_list(text)

    def check_metadata(
        self, principal: Principal, request: UploadRequest
    ) -> tuple[list[Problem], uuid.UUID | None]:
        """Every problem with ``request`` that needs no bytes, and the entry's id if found."""
        if not _is_filer(principal):
            raise PermissionDenied("only filer clients upload documents")
        problems: list[Problem] = []
        if request.action not in ACTIONS:
            problems.append(
                Problem(f"action {request.action!r}: use ADD or REPLACE", location="action")
            )
        if not request.document_id or len(request.document_id) > 100:
            problems.append(
                Problem("document id must be 1 to 100 characters", location="document_id")
            )
        problems += validation.check_file_name(request.file_name)
        problems += validation.check_agencies_and_label(
            request.agencies, request.label, self._registry.codes()
        )
        entry_id = None
        try:
            number = normalize_entry_number(request.entry_number)
        except ValueError as exc:
            problems.append(Problem(str(exc), code="DIS-ENTRY", location="entry_number"))
            return problems, None
        with self._db.read() as session:
            entry = session.scalars(
                select(EntryRow).where(EntryRow.entry_number == number)
            ).one_or_none()
            if entry is None or entry.filer_code != principal.filer_code:
                # Someone else's entry reads exactly like a missing one.
                problems.append(
                    Problem(
                        f"entry {number} does not exist for filer {principal.filer_code}",
                        code="DIS-ENTRY",
                        location="entry_number",
                    )
                )
                return problems, None
            entry_id = entry.id
            lines = {t.line_number for t in entry.tariff_lines}
            for i, line in enumerate(request.cbp_line_numbers):
                if line not in lines:
                    problems.append(
                        Problem(
                            f"entry {number} has no line {line}",
                            code="DIS-LINE",
                            location=f"entry_line_numbers/{i}",
                        )
                    )
            pga = {
                (p.cbp_line_number, p.pga_line_number)
                for p in session.scalars(
                    select(PGALineRow).where(
                        PGALineRow.entry_id == entry.id, PGALineRow.superseded.is_(False)
                    )
                )
            }
            for i, ref in enumerate(request.pga_line_refs):
                pair = (ref.get("cbp_line_number"), ref.get("pga_line_number"))
                if pair not in pga:
                    problems.append(
                        Problem(
                            f"entry {number} has no PGA line {pair[1]} on line {pair[0]}",
                            code="DIS-LINE",
                            location=f"pga_line_refs/{i}",
                        )
                    )
            if request.action == "REPLACE" and request.document_id:
                current = _current(session, principal.filer_code or "", request.document_id)
                if current is None or current.withdrawn_at is not None:
                    problems.append(
                        Problem(
                            f"REPLACE: no current document {request.document_id!r} to replace",
                            code="DIS-ACTION",
                            location="document_id",
                        )
                    )
        return problems, entry_id

    # -- uploads -------------------------------------------------------------------------------

    def upload(
        self, principal: Principal, request: UploadRequest, chunks: Iterable[bytes]
    ) -> dict[str, Any]:
        """Check, stream into the store, commit; the stored version's view (``replayed`` True
        when the same document id and bytes were stored before)."""
        problems, entry_id = self.check_metadata(principal, request)
        head, rest = read_head(chunks)
        ftype, content_problems = validation.check_content(
            head,
            request.file_name,
            self.allowed_types(request.channel),
            declared_extension=request.declared_extension,
        )
        problems += content_problems
        if problems or ftype is None or entry_id is None:
            raise ValidationFailed(_count(problems, "document"), problems)
        key = new_object_key()
        stored = self.store.put_stream(
            key,
            itertools.chain((head,), rest),
            content_type=ftype.media_type,
            max_bytes=self._settings.document_max_bytes,
        )
        prepared = _Prepared(request, entry_id, key, stored.size, stored.sha256, ftype.media_type)
        return self._commit(principal, [prepared])[0]

    def submit_message(
        self, principal: Principal, items: list[tuple[UploadRequest, bytes]]
    ) -> tuple[list[list[Problem]], list[dict[str, Any]]]:
        """All documents of one DIS message, all or nothing: (problems per document, views).

        Views are empty when any document has a problem (nothing is stored then).
        """
        per_doc: list[list[Problem]] = []
        checked = []
        total = sum(len(content) for _, content in items)
        for request, content in items:
            problems, entry_id = self.check_metadata(principal, request)
            ftype, content_problems = validation.check_content(
                content[: validation.SNIFF_BYTES * 4],
                request.file_name,
                self.allowed_types(request.channel),
                declared_extension=request.declared_extension,
            )
            problems += content_problems
            problems += validation.check_size(len(content), self._settings.document_max_bytes)
            per_doc.append(problems)
            checked.append((request, content, ftype, entry_id))
        if total > self._settings.document_message_max_bytes and per_doc:
            per_doc[0].append(
                Problem(
                    f"the message's documents total {total} bytes; the limit is "
                    f"{self._settings.document_message_max_bytes}",
                    code="DIS-SIZE",
                )
            )
        if any(per_doc):
            return per_doc, []
        prepared: list[_Prepared] = []
        try:
            for request, content, ftype, entry_id in checked:
                assert ftype is not None and entry_id is not None
                key = new_object_key()
                stored = self.store.put_stream(
                    key, [content], content_type=ftype.media_type, max_bytes=len(content)
                )
                prepared.append(
                    _Prepared(request, entry_id, key, stored.size, stored.sha256, ftype.media_type)
                )
        except BaseException:
            self._delete_quietly([p.key for p in prepared])
            raise
        return per_doc, self._commit(principal, prepared)

    def _commit(self, principal: Principal, prepared: list[_Prepared]) -> list[dict[str, Any]]:
        replays: list[str] = []
        try:
            with self._db.transaction() as session:
                views = [self._insert(session, principal, p, replays) for p in prepared]
        except BaseException:
            self._delete_quietly([p.key for p in prepared])
            raise
        self._delete_quietly(replays)
        return views

    def _insert(
        self, session: Session, principal: Principal, p: _Prepared, replays: list[str]
    ) -> dict[str, Any]:
        request = p.request
        filer = principal.filer_code or ""
        entry = session.get(EntryRow, p.entry_id)
        if entry is None:
            raise NotFound("the entry disappeared during the upload")
        current = _current(session, filer, request.document_id)
        version = 1
        if current is not None and request.action == "ADD":
            if current.sha256 == p.sha256 and current.withdrawn_at is None:
                replays.append(p.key)  # same id, same bytes: idempotent replay
                return {**_view(current, self.store), "replayed": True}
            raise Conflict(
                f"document id {request.document_id!r} was already used for different content "
                f"(SHA-256 {current.sha256}); send ActionCode REPLACE for a new version",
                [
                    Problem(
                        "duplicate document id with different bytes",
                        code="DIS-DUPLICATE",
                        location="document_id",
                    )
                ],
            )
        if request.action == "REPLACE":
            if current is None or current.withdrawn_at is not None:
                raise NotFound(f"no current document {request.document_id!r} to replace")
            current.superseded = True
            version = current.version + 1
        row = DocumentRow(
            id=uuid.uuid4(),
            filer_code=filer,
            document_id=request.document_id,
            version=version,
            superseded=False,
            entry_id=entry.id,
            entry_number=entry.entry_number,
            label=request.label,
            agencies=list(request.agencies),
            cbp_line_numbers=list(request.cbp_line_numbers),
            pga_line_refs=list(request.pga_line_refs),
            description=request.description,
            file_name=request.file_name,
            media_type=p.media_type,
            size_bytes=p.size,
            sha256=p.sha256,
            object_key=p.key,
            channel=request.channel,
            message_id=request.message_id,
            created_by=principal.subject,
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        for agency in request.agencies:
            if agency in self._registry:  # CBP itself has no IWS endpoint here
                session.add(
                    OutboxRow(
                        id=uuid.uuid4(),
                        entry_id=entry.id,
                        agency_code=agency,
                        kind="document_notice",
                        document_id=row.id,
                        message_id=uuid.uuid4(),
                        entry_version=entry.version,
                        state="pending",
                        attempts=0,
                        next_attempt_at=utcnow(),
                    )
                )
        fulfil(session, entry, row.agencies, row.label, row.id, principal.subject)
        record_event(
            session,
            kind="document.replaced" if version > 1 else "document.submitted",
            actor=principal.subject,
            entry_id=entry.id,
            payload={
                "document": str(row.id),
                "document_id": row.document_id,
                "version": version,
                "agencies": row.agencies,
                "sha256": row.sha256,
                "size_bytes": row.size_bytes,
            },
        )
        return {**_view(row, self.store), "replayed": False}

    def _delete_quietly(self, keys: list[str]) -> None:
        for key in keys:
            try:
                self.store.delete(key)
            except Exception:  # the orphan sweep will get it
                log.warning("could not delete object %s; left for the orphan sweep", key)

    # -- withdraw ------------------------------------------------------------------------------

    def withdraw(self, principal: Principal, row_id: str) -> dict[str, Any]:
        """DELETE: every version is hidden from agencies and kept for audit."""
        if not _is_filer(principal):
            raise PermissionDenied("only the filer who sent a document withdraws it")
        with self._db.transaction() as session:
            row = _visible(session, principal, row_id)
            return self._withdraw_row(session, principal, row)

    def withdraw_by_document_id(self, principal: Principal, document_id: str) -> dict[str, Any]:
        if not _is_filer(principal):
            raise PermissionDenied("only the filer who sent a document withdraws it")
        with self._db.transaction() as session:
            row = _current(session, principal.filer_code or "", document_id)
            if row is None:
                raise NotFound(f"no document {document_id!r}")
            return self._withdraw_row(session, principal, row)

    def _withdraw_row(
        self, session: Session, principal: Principal, row: DocumentRow
    ) -> dict[str, Any]:
        now = utcnow()
        versions = session.scalars(
            select(DocumentRow).where(
                DocumentRow.filer_code == row.filer_code,
                DocumentRow.document_id == row.document_id,
            )
        ).all()
        for version in versions:
            if version.withdrawn_at is None:
                version.withdrawn_at = now
        record_event(
            session,
            kind="document.withdrawn",
            actor=principal.subject,
            entry_id=row.entry_id,
            payload={"document": str(row.id), "document_id": row.document_id},
        )
        session.flush()
        return _view(row, self.store)

    # -- reading -------------------------------------------------------------------------------

    def list(
        self, principal: Principal, *, entry_number: str | None = None, history: bool = False
    ) -> dict[str, Any]:
        with self._db.read() as session:
            query = select(DocumentRow).order_by(DocumentRow.created_at.desc())
            if _is_filer(principal):
                query = query.where(DocumentRow.filer_code == principal.filer_code)
            if _is_agency(principal):
                query = query.where(DocumentRow.withdrawn_at.is_(None))
            if not history:
                query = query.where(DocumentRow.superseded.is_(False))
            if entry_number:
                try:
                    number = normalize_entry_number(entry_number)
                except ValueError as exc:
                    raise ValidationFailed(str(exc)) from None
                query = query.where(DocumentRow.entry_number == number)
            rows = [r for r in session.scalars(query) if _may_see(principal, r)]
            items = [_view(r, None, _reviews(session, r.id)) for r in rows]
        return {"items": items, "total": len(items)}

    def get(self, principal: Principal, row_id: str) -> dict[str, Any]:
        with self._db.read() as session:
            row = _visible(session, principal, row_id)
            view = _view(row, self.store, _reviews(session, row.id), with_url=True)
            versions = session.scalars(
                select(DocumentRow)
                .where(
                    DocumentRow.filer_code == row.filer_code,
                    DocumentRow.document_id == row.document_id,
                )
                .order_by(DocumentRow.version)
            ).all()
            view["versions"] = [
                {"id": str(v.id), "version": v.version, "sha256": v.sha256}
                for v in versions
                if _may_see(principal, v)
            ]
            return view

    def open_content(
        self, principal: Principal, row_id: str
    ) -> tuple[dict[str, Any], Iterator[bytes]]:
        with self._db.read() as session:
            row = _visible(session, principal, row_id)
            info = {
                "media_type": row.media_type,
                "file_name": row.file_name,
                "size_bytes": row.size_bytes,
                "sha256": row.sha256,
                "key": row.object_key,
            }
        return info, self.store.open(str(info["key"]))

    def presigned_url(
        self, principal: Principal, row_id: str, expires_seconds: int = 300
    ) -> str | None:
        with self._db.read() as session:
            key = _visible(session, principal, row_id).object_key
        return self.store.presigned_url(key, expires_seconds=expires_seconds)

    # -- review --------------------------------------------------------------------------------

    def review(
        self,
        principal: Principal,
        row_id: str,
        *,
        status: str,
        reject_reason: str | None,
        comment: str | None,
    ) -> dict[str, Any]:
        if not _is_agency(principal):
            raise PermissionDenied("only agency clients review documents")
        problems = []
        status = (status or "").upper()
        if status not in REVIEW_STATUSES:
            problems.append(
                Problem(f"status {status!r}: use ACCEPTED or REJECTED", location="status")
            )
        if status == "REJECTED" and reject_reason not in REJECT_REASONS:
            problems.append(
                Problem(
                    f"reject_reason {reject_reason!r}: use one of CBP's reasons "
                    + ", ".join(REJECT_REASONS),
                    location="reject_reason",
                )
            )
        if status == "ACCEPTED" and reject_reason:
            problems.append(
                Problem("an ACCEPTED review has no reject_reason", location="reject_reason")
            )
        if problems:
            raise ValidationFailed(_count(problems, "review"), problems)
        with self._db.transaction() as session:
            row = _visible(session, principal, row_id)
            review = DocumentReviewRow(
                id=uuid.uuid4(),
                document_row_id=row.id,
                agency_code=principal.agency_code or "",
                status=status,
                reject_reason=reject_reason if status == "REJECTED" else None,
                comment=comment,
                actor=principal.subject,
                reviewed_at=utcnow(),
            )
            session.add(review)
            session.flush()
            reviews = _reviews(session, row.id)
            shaped = review_status(row, reviews)
            record_event(
                session,
                kind="document.reviewed",
                actor=principal.subject,
                entry_id=row.entry_id,
                payload={
                    "document": str(row.id),
                    "document_id": row.document_id,
                    "filer_code": row.filer_code,
                    "agency_code": review.agency_code,
                    "status": status,
                    "reject_reason": review.reject_reason,
                    "comment": comment,
                    "review": shaped,
                },
            )
            entry = session.get(EntryRow, row.entry_id)
            if entry is not None:  # the filer hears of it like any status change
                emit(
                    session,
                    entry,
                    "document.reviewed",
                    {
                        "document": str(row.id),
                        "document_id": row.document_id,
                        "agency_code": review.agency_code,
                        "status": status,
                        "reject_reason": review.reject_reason,
                        "review": shaped,
                    },
                )
            return {
                "document": str(row.id),
                "agency_code": review.agency_code,
                "status": status,
                "review": shaped,
            }

    # -- maintenance ---------------------------------------------------------------------------

    def sweep_orphans(self, older_than: dt.timedelta = dt.timedelta(hours=1)) -> builtins.list[str]:
        return sweep_orphans(self._db, self.store, older_than)


def sweep_orphans(
    database: Database, store: ObjectStore, older_than: dt.timedelta = dt.timedelta(hours=1)
) -> list[str]:
    """Delete objects under ``documents/`` that no row names and that are older than
    ``older_than`` (younger ones may belong to an upload about to commit). Returns the keys."""
    now = time.time()
    limit = older_than.total_seconds()
    candidates = []
    for key in store.list_keys(KEY_PREFIX):
        age = _key_age_seconds(key, now)
        if age is not None and age >= limit:
            candidates.append(key)
    if not candidates:
        return []
    with database.read() as session:
        known = set(
            session.scalars(
                select(DocumentRow.object_key).where(DocumentRow.object_key.in_(candidates))
            )
        )
    removed = []
    for key in candidates:
        if key not in known:
            store.delete(key)
            removed.append(key)
    if removed:
        log.warning("deleted %d orphaned document object(s)", len(removed))
    return removed


# -- helpers -------------------------------------------------------------------------------------


def _count(problems: list[Problem], what: str) -> str:
    n = len(problems)
    return f"{n} problem{'s' if n != 1 else ''} in the {what}"


def _current(session: Session, filer: str, document_id: str) -> DocumentRow | None:
    top = (
        select(func.max(DocumentRow.version))
        .where(DocumentRow.filer_code == filer, DocumentRow.document_id == document_id)
        .scalar_subquery()
    )
    return session.scalars(
        select(DocumentRow).where(
            DocumentRow.filer_code == filer,
            DocumentRow.document_id == document_id,
            DocumentRow.version == top,
        )
    ).one_or_none()


def _may_see(principal: Principal, row: DocumentRow) -> bool:
    if principal.is_admin:
        return True
    if _is_agency(principal):
        return row.withdrawn_at is None and principal.agency_code in row.agencies
    return row.filer_code == principal.filer_code


def _visible(session: Session, principal: Principal, row_id: str) -> DocumentRow:
    try:
        ident = uuid.UUID(str(row_id))
    except ValueError:
        raise NotFound(f"no document {row_id}") from None
    row = session.get(DocumentRow, ident)
    if row is None or not _may_see(principal, row):
        raise NotFound(f"no document {row_id}")
    return row


def _reviews(session: Session, row_id: uuid.UUID) -> builtins.list[DocumentReviewRow]:
    return list(
        session.scalars(
            select(DocumentReviewRow)
            .where(DocumentReviewRow.document_row_id == row_id)
            .order_by(DocumentReviewRow.reviewed_at)
        )
    )


def review_status(row: DocumentRow, reviews: list[DocumentReviewRow]) -> dict[str, Any]:
    """CBP ``DocumentReviewResult``-shaped roll-up: the latest review per agency counts;
    REJECTED if any agency rejects, ACCEPTED once every named agency accepted, UNDER_REVIEW
    while some have answered, PENDING before any answer."""
    latest: dict[str, DocumentReviewRow] = {}
    for review in reviews:
        latest[review.agency_code] = review
    rejected = [r for r in latest.values() if r.status == "REJECTED"]
    if rejected:
        status, deciding = "REJECTED", rejected[-1]
    elif latest and all(a in latest for a in row.agencies if a != "CBP"):
        status, deciding = "ACCEPTED", list(latest.values())[-1]
    elif latest:
        status, deciding = "UNDER_REVIEW", None
    else:
        status, deciding = "PENDING", None
    return {
        "ProcessingEvent": "REVIEW",
        "DocumentReviewStatus": status,
        "DocumentReviewComment": deciding.comment if deciding else None,
        "DocumentRejectReason": deciding.reject_reason if deciding else None,
        "agencies": [
            {
                "agency_code": r.agency_code,
                "status": r.status,
                "reject_reason": r.reject_reason,
                "comment": r.comment,
                "reviewed_at": r.reviewed_at.isoformat(),
            }
            for r in latest.values()
        ],
    }


def _view(
    row: DocumentRow,
    store: ObjectStore | None,
    reviews: list[DocumentReviewRow] | None = None,
    *,
    with_url: bool = False,
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(row.id),
        "document_id": row.document_id,
        "version": row.version,
        "state": "withdrawn" if row.withdrawn_at else "superseded" if row.superseded else "current",
        "entry_number": row.entry_number,
        "filer_code": row.filer_code,
        "agencies": row.agencies,
        "label": row.label,
        "entry_line_numbers": row.cbp_line_numbers,
        "pga_line_refs": row.pga_line_refs,
        "description": row.description,
        "file_name": row.file_name,
        "media_type": row.media_type,
        "size_bytes": row.size_bytes,
        "sha256": row.sha256,
        "channel": row.channel,
        "created_at": row.created_at.isoformat(),
        "withdrawn_at": row.withdrawn_at.isoformat() if row.withdrawn_at else None,
        "content_url": f"/api/v1/documents/{row.id}/content",
        "review": review_status(row, reviews or []),
    }
    if with_url and store is not None:
        view["download_url"] = store.presigned_url(row.object_key, expires_seconds=300)
    return view
