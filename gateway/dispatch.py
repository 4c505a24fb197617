"""Reliable dispatch of outbox rows to agency systems.

Intake writes one outbox row per (entry version, agency) in the entry's own transaction. A
``Dispatcher`` claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite the
write transaction itself is exclusive), marks them ``in_flight`` under a lease, lets the agency
plugin build the message, and calls the agency with the row's message id — the same id on
every attempt, so agencies can deduplicate. Failures retry with exponential backoff and
jitter up to ``max_attempts``, then the row is dead-lettered for an operator to re-drive. A
worker that dies mid-delivery leaves an ``in_flight`` row whose lease expires; another worker
then claims it again (at-least-once delivery, exactly-once processing at the agency).

Per (entry, agency) rows go out in version order: a row waits while an older version's row
for the same agency is still pending. A row whose entry has moved on to a newer version is
closed as ``superseded`` without a call, because the newer row carries the current data.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, aliased

from agencies.contract import AgencyLine
from agencies.iws_message import build_document_notice
from agencies.registry import AgencyRegistry
from gateway.corrections import DELETE, changes_in_version
from gateway.db.models import DeliveryAttemptRow, DocumentRow, EntryRow, OutboxRow
from gateway.db.repository import record_event
from gateway.db.session import Database
from gateway.db.types import utcnow
from gateway.dispositions import DispositionItem, store
from gateway.errors import ClientError, GatewayError, ServerError, ValidationFailed
from gateway.leases import claimable, locked_for_claim, take_lease
from gateway.pgams.jsonmap import filing_from_json, pga_line_from_json

log = logging.getLogger("gateway.dispatch")

ACTIVE_STATES = ("pending", "in_flight")


class AgencyTransport(Protocol):
    """Sends one SubmitPGAData message; raises ``ClientError`` when the agency refuses it for
    good, any other ``GatewayError`` when a retry may succeed. Returns the acknowledgement as
    a plain dict (``ReturnCode``, ``Duplicate``, ``Dispositions``...)."""

    def submit_pga_data(
        self, agency_code: str, message: Mapping[str, Any]
    ) -> Mapping[str, Any]: ...

    def submit_document_notice(
        self, agency_code: str, message: Mapping[str, Any]
    ) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 0.5
    cap_seconds: float = 300.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with "equal jitter": never shorter than half the step."""
        step = min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1))
        return step / 2 + rng.uniform(0, step / 2)


@dataclass(frozen=True)
class Claim:
    outbox_id: uuid.UUID
    entry_id: uuid.UUID
    agency_code: str
    message_id: uuid.UUID
    entry_version: int
    attempt: int
    kind: str = "pga_data"
    document_id: uuid.UUID | None = None  # kind "document_notice": the documents row


@dataclass
class Outcome:
    state: str  # delivered | pending | dead
    label: str  # delivered | retry | dead | superseded
    error: str | None = None
    retry_at: dt.datetime | None = None
    answer: Mapping[str, Any] | None = None


class Dispatcher:
    def __init__(
        self,
        database: Database,
        registry: AgencyRegistry,
        transport: AgencyTransport,
        policy: RetryPolicy,
        *,
        worker_id: str | None = None,
        lease_seconds: float = 60.0,
        seed: int | None = None,
    ) -> None:
        self._db = database
        self._registry = registry
        self._transport = transport
        self._policy = policy
        # host:pid:random, so operators (and tests) can tell which process did an attempt.
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._lease = dt.timedelta(seconds=lease_seconds)
        self._rng = random.Random(seed)

    # -- claiming ---------------------------------------------------------------------------

    def claim(self, limit: int = 10) -> list[Claim]:
        now = utcnow()
        older = aliased(OutboxRow)
        waits_for_older = exists().where(
            older.entry_id == OutboxRow.entry_id,
            older.agency_code == OutboxRow.agency_code,
            older.entry_version < OutboxRow.entry_version,
            older.kind == OutboxRow.kind,
            older.state.in_(ACTIVE_STATES),
        )
        query = (
            select(OutboxRow)
            .where(claimable(OutboxRow, now), ~waits_for_older)
            .order_by(OutboxRow.next_attempt_at)
            .limit(limit)
        )
        query = locked_for_claim(query, self._db, OutboxRow)
        with self._db.transaction() as session:
            claims = []
            for row in session.scalars(query):
                take_lease(row, self.worker_id, now + self._lease)
                claims.append(
                    Claim(
                        row.id,
                        row.entry_id,
                        row.agency_code,
                        row.message_id,
                        row.entry_version,
                        row.attempts,
                        row.kind,
                        row.document_id,
                    )
                )
        return claims

    # -- delivering -------------------------------------------------------------------------

    def run_once(self, limit: int = 10) -> int:
        claims = self.claim(limit)
        for claim in claims:
            self.deliver(claim)
        return len(claims)

    def deliver(self, claim: Claim) -> None:
        started = utcnow()
        try:
            outcome = self._attempt(claim)
        except Exception as exc:  # a bug must not kill the worker or lose the row
            log.exception("delivery crashed", extra={"message_id": str(claim.message_id)})
            outcome = self._retry_or_dead(claim, f"internal error: {type(exc).__name__}")
        self._finish(claim, outcome, started)

    def _attempt(self, claim: Claim) -> Outcome:
        if claim.kind == "document_notice":
            return self._attempt_document_notice(claim)
        with self._db.read() as session:
            entry = session.get(EntryRow, claim.entry_id)
            if entry is None:
                return Outcome("dead", "dead", "the entry no longer exists")
            if entry.version > claim.entry_version:
                return Outcome("delivered", "superseded", f"superseded by version {entry.version}")
            document, transaction_id = entry.document, entry.transaction_id
            correction = None
            if claim.entry_version > 1:
                changes = changes_in_version(entry.pga_lines, claim.entry_version)
                correction = changes.get(claim.agency_code)
                if correction is None:
                    return Outcome("delivered", "superseded", "no change for this agency")
                removed = [_deleted_line_json(row) for row in correction.removed]
        plugin = self._registry.get(claim.agency_code)
        if plugin is None:
            return Outcome("dead", "dead", f"no enabled agency plugin for {claim.agency_code}")
        filing, problems = filing_from_json(document)
        if filing is None or problems:
            return Outcome("dead", "dead", "stored filing no longer validates")
        lines = self._registry.agency_lines(filing, claim.agency_code)
        if correction is not None:
            # A correction carries only what changed: new or amended lines, and deleted ones
            # (their last content, correction indicator D).
            changed = {(key.cbp_line_number, key.pga_line_number) for key in correction.changed}
            lines = [
                ln for ln in lines if (ln.cbp_line_number, ln.pga_line.pga_line_number) in changed
            ]
            lines += [_deleted_line(filing, data) for data in removed]
        message = plugin.to_agency_message(
            filing,
            lines,
            message_id=str(claim.message_id),
            correlation_id=str(transaction_id),
            entry_version=claim.entry_version,
        )
        try:
            answer = self._transport.submit_pga_data(claim.agency_code, message)
        except ClientError as exc:
            return Outcome("dead", "dead", f"refused by {claim.agency_code}: {exc.detail}")
        except GatewayError as exc:
            return self._retry_or_dead(claim, exc.detail)
        return Outcome("delivered", "delivered", answer=answer)

    def _attempt_document_notice(self, claim: Claim) -> Outcome:
        """Announce a stored DIS document to one agency (agency IWS SubmitDocumentNotice)."""
        with self._db.read() as session:
            doc = session.get(DocumentRow, claim.document_id) if claim.document_id else None
            if doc is None:
                return Outcome("dead", "dead", "the document no longer exists")
            if doc.withdrawn_at is not None:
                return Outcome("delivered", "superseded", "the document was withdrawn")
            message = build_document_notice(
                message_id=str(claim.message_id),
                correlation_id=str(doc.id),
                agency_code=claim.agency_code,
                entry_number=doc.entry_number,
                document_id=str(doc.id),
                label_code=doc.label,
                file_name=doc.file_name,
                media_type=doc.media_type,
                size_bytes=doc.size_bytes,
                sha256=doc.sha256,
                cbp_line_numbers=list(doc.cbp_line_numbers),
            )
        try:
            answer = self._transport.submit_document_notice(claim.agency_code, message)
        except ClientError as exc:
            return Outcome("dead", "dead", f"refused by {claim.agency_code}: {exc.detail}")
        except GatewayError as exc:
            return self._retry_or_dead(claim, exc.detail)
        return Outcome("delivered", "delivered", answer={**answer, "Dispositions": []})

    def _retry_or_dead(self, claim: Claim, error: str) -> Outcome:
        if claim.attempt >= self._policy.max_attempts:
            return Outcome("dead", "dead", f"gave up after {claim.attempt} attempts: {error}")
        wait = self._policy.delay(claim.attempt, self._rng)
        return Outcome("pending", "retry", error, utcnow() + dt.timedelta(seconds=wait))

    def _finish(self, claim: Claim, outcome: Outcome, started: dt.datetime) -> None:
        now = utcnow()
        with self._db.transaction() as session:
            result: Any = session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id == claim.outbox_id,
                    OutboxRow.lease_owner == self.worker_id,
                    OutboxRow.state == "in_flight",
                )
                .values(
                    state=outcome.state,
                    lease_owner=None,
                    lease_until=None,
                    last_error=outcome.error,
                    next_attempt_at=outcome.retry_at or now,
                    updated_at=now,
                )
            )
            changed = result.rowcount
            session.add(
                DeliveryAttemptRow(
                    id=uuid.uuid4(),
                    outbox_id=claim.outbox_id,
                    attempt=claim.attempt,
                    worker=self.worker_id,
                    started_at=started,
                    finished_at=now,
                    outcome=outcome.label,
                    error=outcome.error,
                )
            )
            if not changed:
                # Our lease ran out and another worker owns the row now; it will send the same
                # message id again, which the agency deduplicates.
                log.warning("lease lost", extra={"message_id": str(claim.message_id)})
                return
            if outcome.label in ("delivered", "dead"):
                record_event(
                    session,
                    kind=f"dispatch.{outcome.label}",
                    actor=f"worker:{self.worker_id}",
                    entry_id=claim.entry_id,
                    payload={
                        "agency_code": claim.agency_code,
                        "message_id": str(claim.message_id),
                        "attempts": claim.attempt,
                        "error": outcome.error,
                    },
                )
            if outcome.answer is not None:
                self._store_ack_dispositions(session, claim, outcome.answer)

    def _store_ack_dispositions(
        self, session: Session, claim: Claim, answer: Mapping[str, Any]
    ) -> None:
        plugin = self._registry.get(claim.agency_code)
        entry = session.get(EntryRow, claim.entry_id)
        if plugin is None or entry is None:
            return
        items = [
            DispositionItem(
                d.cbp_line_number,
                d.pga_line_number,
                d.status_code,
                d.action_time.astimezone(dt.UTC),
                d.reason_code,
                d.remark,
            )
            for d in plugin.parse_agency_answer(answer)
        ]
        if not items:
            return
        try:
            with session.begin_nested():
                store(
                    session,
                    entry,
                    claim.agency_code,
                    items,
                    source="ack",
                    actor=f"agency:{claim.agency_code}",
                    message_id=claim.message_id,
                )
        except ValidationFailed as exc:
            # The message was delivered; a bad answer in its acknowledgement is recorded for
            # operators and otherwise ignored (it changes no status).
            record_event(
                session,
                kind="dispositions.rejected",
                actor=f"agency:{claim.agency_code}",
                entry_id=claim.entry_id,
                payload={
                    "message_id": str(claim.message_id),
                    "problems": [p.to_dict() for p in exc.problems],
                },
            )


def _deleted_line_json(row: Any) -> dict[str, Any]:
    return {
        "cbp_line_number": row.cbp_line_number,
        "pga": {
            "pga_line_number": row.pga_line_number,
            "agency_code": row.agency_code,
            "program_code": row.program_code,
            "processing_code": row.processing_code,
            "correction_indicator": DELETE,
            "header": row.header,
            "records": row.records,
        },
    }


def _deleted_line(filing: Any, data: dict[str, Any]) -> AgencyLine:
    pga, problems = pga_line_from_json(data["pga"])
    if pga is None or problems:
        raise ServerError("a stored PGA line no longer decodes")
    tariff = next((t for t in filing.lines if t.line_number == data["cbp_line_number"]), None)
    return AgencyLine(
        cbp_line_number=data["cbp_line_number"],
        pga_line=pga,
        description=tariff.description if tariff else "",
        hts_number=tariff.hts_number if tariff else None,
        country_of_origin=tariff.country_of_origin if tariff else None,
    )


class WorkerPool:
    """Dispatcher loops on background threads (``serve``) or in the foreground (``worker``)."""

    def __init__(self, make_dispatcher: Any, threads: int, poll_seconds: float) -> None:
        self._make = make_dispatcher
        self._count = threads
        self._poll = poll_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for i in range(self._count):
            thread = threading.Thread(target=self.loop, name=f"dispatch-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def loop(self) -> None:
        runner = self._make()
        try:
            while not self._stop.is_set():
                try:
                    busy = runner.run_once()
                except GatewayError as exc:  # e.g. database briefly unavailable
                    log.warning("dispatch loop: %s", exc.detail)
                    busy = 0
                if not busy:
                    self._stop.wait(self._poll)
        finally:
            close = getattr(runner, "close", None)
            if close is not None:
                close()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)


def outbox_view(row: OutboxRow, attempts: list[DeliveryAttemptRow]) -> dict[str, Any]:
    return {
        "agency_code": row.agency_code,
        "message_id": str(row.message_id),
        "entry_version": row.entry_version,
        "state": row.state,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at.isoformat(),
        "last_error": row.last_error,
        "history": [
            {
                "attempt": a.attempt,
                "worker": a.worker,
                "started_at": a.started_at.isoformat(),
                "finished_at": a.finished_at.isoformat(),
                "outcome": a.outcome,
                "error": a.error,
            }
            for a in sorted(attempts, key=lambda a: (a.attempt, a.finished_at))
        ],
    }
