"""Notifications to filers: a durable event feed and signed webhooks.

Every status change becomes a ``NotificationRow`` (the feed; its integer id is the cursor)
written in the same transaction as the change, plus one ``WebhookDeliveryRow`` per active
subscription of that filer. A ``WebhookSender`` delivers them like the agency dispatcher
does: claimed under a lease, POSTed as JSON signed with HMAC-SHA256 over timestamp + body,
retried with backoff, and in order per (subscription, entry): a delivery waits while an
earlier one for the same entry is still pending. A subscription whose deliveries keep
failing is suspended (its pending deliveries wait) until the filer resumes it.

Signature header (Stripe-style, so receivers can reject replays by age)::

    X-PGA-Signature: t=1732240000,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import random
import socket
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from gateway.coordination import Coordination, LineStatus
from gateway.db.models import (
    EntryRow,
    NotificationRow,
    SubscriptionRow,
    WebhookDeliveryRow,
)
from gateway.db.session import Database
from gateway.db.types import utcnow
from gateway.leases import claimable, locked_for_claim, take_lease

if TYPE_CHECKING:  # gateway.dispatch -> dispositions -> notify: a runtime import would loop
    from gateway.dispatch import RetryPolicy

log = logging.getLogger("gateway.notify")

SIGNATURE_HEADER = "X-PGA-Signature"
EVENT_ID_HEADER = "X-PGA-Event-Id"
# Consecutive failed attempts after which a subscription is suspended.
SUSPEND_AFTER_FAILURES = 10


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """What a receiver does (used by our tests and documented in README)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def emit(session: Session, entry: EntryRow, kind: str, data: dict[str, Any]) -> None:
    """Record one notification for the entry's filer and queue it for each webhook."""
    _publish(session, entry, [_notification(entry, kind, data)])


def _notification(entry: EntryRow, kind: str, data: dict[str, Any]) -> NotificationRow:
    return NotificationRow(
        filer_code=entry.filer_code,
        entry_id=entry.id,
        entry_number=entry.entry_number,
        kind=kind,
        payload=data,
        created_at=utcnow(),
    )


def _publish(session: Session, entry: EntryRow, notifications: list[NotificationRow]) -> None:
    """Store the notifications (the flush assigns their feed cursors, in order) and queue
    one delivery per matching subscription of the filer."""
    if not notifications:
        return
    session.add_all(notifications)
    session.flush()
    subscriptions = session.scalars(
        select(SubscriptionRow).where(SubscriptionRow.filer_code == entry.filer_code)
    ).all()
    now = utcnow()
    for notification in notifications:
        for subscription in subscriptions:
            if notification.kind in subscription.kinds or "*" in subscription.kinds:
                session.add(
                    WebhookDeliveryRow(
                        id=uuid.uuid4(),
                        subscription_id=subscription.id,
                        notification_id=notification.id,
                        entry_id=entry.id,
                        state="pending",
                        attempts=0,
                        next_attempt_at=now,
                    )
                )


def notify_changes(
    session: Session, entry: EntryRow, before: Coordination, after: Coordination, *, source: str
) -> None:
    """Tell the filer what changed: each line whose agency status changed, then the entry's
    coordinated status if it changed. An answer that changes nothing (an older action time
    arriving late) produces no notification."""
    old = {_line_key(line): _line_state(line) for line in before.lines}
    changes = []
    for line in after.lines:
        state = _line_state(line)
        if old.get(_line_key(line)) != state:
            data = {**_line_json(line), **state, "source": source}
            changes.append(_notification(entry, "agency.status_changed", data))
    if before.status != after.status:
        data = {"previous": before.status, "status": after.status, "explanation": after.explanation}
        changes.append(_notification(entry, "entry.status_changed", data))
    _publish(session, entry, changes)


def _line_key(line: LineStatus) -> tuple[str, int, int]:
    return (line.agency_code, line.cbp_line_number, line.pga_line_number)


def _line_state(line: LineStatus) -> dict[str, Any]:
    return {
        "status": line.status,
        "status_code": line.status_code,
        "status_text": line.status_text,
        "reason_code": line.reason_code,
        "reason_text": line.reason_text,
        "action_time": line.action_time.isoformat() if line.action_time else None,
    }


def _line_json(line: LineStatus) -> dict[str, Any]:
    return {
        "agency_code": line.agency_code,
        "program_code": line.program_code,
        "cbp_line_number": line.cbp_line_number,
        "pga_line_number": line.pga_line_number,
    }


def event_body(notification: NotificationRow) -> dict[str, Any]:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "entry_number": notification.entry_number,
        "created_at": notification.created_at.isoformat(),
        "data": notification.payload,
    }


@dataclass(frozen=True)
class _Claim:
    delivery_id: uuid.UUID
    url: str
    secret: str
    body: bytes
    event_id: int
    attempt: int
    subscription_id: uuid.UUID


class WebhookSender:
    def __init__(
        self,
        database: Database,
        policy: RetryPolicy,
        *,
        timeout: float = 10.0,
        lease_seconds: float = 60.0,
        seed: int | None = None,
    ) -> None:
        self._db = database
        self._policy = policy
        self._lease = dt.timedelta(seconds=lease_seconds)
        self._rng = random.Random(seed)
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def close(self) -> None:
        self._http.close()

    def run_once(self, limit: int = 10) -> int:
        claims = self._claim(limit)
        for claim in claims:
            self._deliver(claim)
        return len(claims)

    def _claim(self, limit: int) -> list[_Claim]:
        now = utcnow()
        earlier = aliased(WebhookDeliveryRow)
        blocked = exists().where(
            earlier.subscription_id == WebhookDeliveryRow.subscription_id,
            earlier.entry_id == WebhookDeliveryRow.entry_id,
            earlier.notification_id < WebhookDeliveryRow.notification_id,
            earlier.state.in_(("pending", "in_flight")),
        )
        query = (
            select(WebhookDeliveryRow, SubscriptionRow, NotificationRow)
            .join(SubscriptionRow, SubscriptionRow.id == WebhookDeliveryRow.subscription_id)
            .join(NotificationRow, NotificationRow.id == WebhookDeliveryRow.notification_id)
            .where(claimable(WebhookDeliveryRow, now), ~blocked, SubscriptionRow.state == "active")
            .order_by(WebhookDeliveryRow.notification_id)
            .limit(limit)
        )
        query = locked_for_claim(query, self._db, WebhookDeliveryRow)
        claims = []
        with self._db.transaction() as session:
            for delivery, subscription, notification in session.execute(query):
                take_lease(delivery, self.worker_id, now + self._lease)
                body = json.dumps(event_body(notification), separators=(",", ":")).encode()
                claims.append(
                    _Claim(
                        delivery.id,
                        subscription.url,
                        subscription.secret,
                        body,
                        notification.id,
                        delivery.attempts,
                        subscription.id,
                    )
                )
        return claims

    def _deliver(self, claim: _Claim) -> None:
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(claim.secret, timestamp, claim.body),
            EVENT_ID_HEADER: str(claim.event_id),
        }
        error = None
        try:
            response = self._http.post(claim.url, content=claim.body, headers=headers)
            if not 200 <= response.status_code < 300:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
        self._finish(claim, error)

    def _finish(self, claim: _Claim, error: str | None) -> None:
        now = utcnow()
        with self._db.transaction() as session:
            delivery = session.get(WebhookDeliveryRow, claim.delivery_id)
            subscription = session.get(SubscriptionRow, claim.subscription_id)
            if delivery is None or subscription is None or delivery.lease_owner != self.worker_id:
                return  # lease lost; another worker owns it now
            delivery.lease_owner = None
            delivery.lease_until = None
            delivery.last_error = error
            if error is None:
                delivery.state = "delivered"
                delivery.delivered_at = now
                subscription.consecutive_failures = 0
                return
            subscription.consecutive_failures += 1
            subscription.last_error = error
            if subscription.consecutive_failures >= SUSPEND_AFTER_FAILURES:
                subscription.state = "suspended"
                subscription.suspended_at = now
                log.warning("webhook suspended", extra={"subscription": str(subscription.id)})
            # Deliveries are never dead-lettered: a suspended subscription keeps its backlog in
            # order until the filer fixes the receiver and resumes it.
            delivery.state = "pending"
            wait = self._policy.delay(min(claim.attempt, 30), self._rng)
            delivery.next_attempt_at = now + dt.timedelta(seconds=wait)
