"""Operator view of the outbox: list messages by state, re-drive dead letters."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from gateway.db.models import DeliveryAttemptRow, EntryRow, OutboxRow
from gateway.db.repository import record_event
from gateway.db.session import Database
from gateway.db.types import utcnow
from gateway.dispatch import outbox_view
from gateway.errors import Conflict, NotFound

STATES = ("pending", "in_flight", "delivered", "dead")


class DispatchAdmin:
    def __init__(self, database: Database) -> None:
        self._db = database

    def list(self, state: str | None, limit: int = 100) -> list[dict[str, Any]]:
        query = select(OutboxRow, EntryRow.entry_number).join(EntryRow)
        if state:
            query = query.where(OutboxRow.state == state)
        query = query.order_by(OutboxRow.updated_at.desc()).limit(limit)
        with self._db.read() as session:
            rows = session.execute(query).all()
            ids = [row.id for row, _ in rows]
            attempts: dict[uuid.UUID, list[DeliveryAttemptRow]] = {i: [] for i in ids}
            if ids:
                for attempt in session.scalars(
                    select(DeliveryAttemptRow).where(DeliveryAttemptRow.outbox_id.in_(ids))
                ):
                    attempts[attempt.outbox_id].append(attempt)
            return [
                {"entry_number": number, **outbox_view(row, attempts[row.id])}
                for row, number in rows
            ]

    def retry(self, message_id: uuid.UUID, actor: str) -> dict[str, Any]:
        """Put a dead letter back in the queue with a fresh attempt budget."""
        with self._db.transaction() as session:
            row = session.scalars(
                select(OutboxRow).where(OutboxRow.message_id == message_id)
            ).one_or_none()
            if row is None:
                raise NotFound(f"no outbox message {message_id}")
            if row.state != "dead":
                raise Conflict(f"message {message_id} is {row.state}; only dead letters re-drive")
            row.state = "pending"
            row.attempts = 0
            row.next_attempt_at = utcnow()
            row.last_error = None
            record_event(
                session,
                kind="dispatch.redriven",
                actor=actor,
                entry_id=row.entry_id,
                payload={"agency_code": row.agency_code, "message_id": str(message_id)},
            )
            return {"message_id": str(message_id), "state": row.state}

    def retry_all_dead(self, actor: str) -> int:
        with self._db.read() as session:
            dead = list(
                session.scalars(select(OutboxRow.message_id).where(OutboxRow.state == "dead"))
            )
        for message_id in dead:
            self.retry(message_id, actor)
        return len(dead)
