"""Filers' webhook subscriptions and their event feed (``/subscriptions``, ``/events``)."""

from __future__ import annotations

import secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update

from gateway.auth.principal import Principal
from gateway.db.models import NotificationRow, SubscriptionRow, WebhookDeliveryRow
from gateway.db.session import Database
from gateway.db.types import utcnow
from gateway.errors import NotFound, PermissionDenied, Problem, ValidationFailed
from gateway.notify import event_body

KINDS = (
    "entry.status_changed",
    "agency.status_changed",
    "document.reviewed",
    "document.request_fulfilled",
)
MAX_SUBSCRIPTIONS = 20


class SubscriptionService:
    def __init__(self, database: Database) -> None:
        self._db = database

    def create(self, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
        filer = _filer(principal)
        url, kinds = _checked(body)
        secret = secrets.token_urlsafe(32)
        with self._db.transaction() as session:
            count = session.scalar(
                select(func.count())
                .select_from(SubscriptionRow)
                .where(SubscriptionRow.filer_code == filer)
            )
            if (count or 0) >= MAX_SUBSCRIPTIONS:
                raise ValidationFailed(f"at most {MAX_SUBSCRIPTIONS} subscriptions per filer")
            row = SubscriptionRow(
                id=uuid.uuid4(),
                filer_code=filer,
                url=url,
                secret=secret,
                kinds=kinds,
                state="active",
                consecutive_failures=0,
                created_at=utcnow(),
            )
            session.add(row)
            session.flush()
            view = _view(row, pending=0)
        view["secret"] = secret  # shown once; used to verify X-PGA-Signature
        return view

    def list(self, principal: Principal) -> list[dict[str, Any]]:
        filer = _filer(principal)
        with self._db.read() as session:
            rows = session.scalars(
                select(SubscriptionRow)
                .where(SubscriptionRow.filer_code == filer)
                .order_by(SubscriptionRow.created_at)
            ).all()
            return [_view(row, self._pending(session, row.id)) for row in rows]

    def delete(self, principal: Principal, subscription_id: str) -> None:
        with self._db.transaction() as session:
            session.delete(self._own(session, principal, subscription_id))

    def resume(self, principal: Principal, subscription_id: str) -> dict[str, Any]:
        with self._db.transaction() as session:
            row = self._own(session, principal, subscription_id)
            row.state = "active"
            row.consecutive_failures = 0
            row.suspended_at = None
            session.execute(
                update(WebhookDeliveryRow)
                .where(
                    WebhookDeliveryRow.subscription_id == row.id,
                    WebhookDeliveryRow.state == "pending",
                )
                .values(next_attempt_at=utcnow())
            )
            return _view(row, self._pending(session, row.id))

    def events(self, principal: Principal, after: int, limit: int) -> dict[str, Any]:
        filer = _filer(principal)
        with self._db.read() as session:
            rows = session.scalars(
                select(NotificationRow)
                .where(NotificationRow.filer_code == filer, NotificationRow.id > after)
                .order_by(NotificationRow.id)
                .limit(limit)
            ).all()
            items = [event_body(row) for row in rows]
        return {"items": items, "next_cursor": items[-1]["id"] if items else after}

    def _own(self, session: Any, principal: Principal, subscription_id: str) -> SubscriptionRow:
        filer = _filer(principal)
        try:
            key = uuid.UUID(subscription_id)
        except ValueError:
            raise NotFound(f"no subscription {subscription_id}") from None
        row = session.get(SubscriptionRow, key)
        if row is None or row.filer_code != filer:
            raise NotFound(f"no subscription {subscription_id}")
        return row

    @staticmethod
    def _pending(session: Any, subscription_id: uuid.UUID) -> int:
        count = session.scalar(
            select(func.count())
            .select_from(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.subscription_id == subscription_id,
                WebhookDeliveryRow.state != "delivered",
            )
        )
        return int(count or 0)


def _filer(principal: Principal) -> str:
    if principal.filer_code is None or "filer" not in principal.scopes:
        raise PermissionDenied("subscriptions and the event feed belong to filers")
    return principal.filer_code


def _checked(body: dict[str, Any]) -> tuple[str, list[str]]:
    problems = []
    url = body.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(Problem("must be an absolute http(s) URL", location="/url"))
    elif parts.username or parts.password:
        problems.append(
            Problem("must not carry credentials; use the signing secret", location="/url")
        )
    kinds = body.get("kinds") or ["*"]
    unknown = [k for k in kinds if k != "*" and k not in KINDS]
    if unknown:
        problems.append(
            Problem(f"unknown kinds {unknown} (known: {', '.join(KINDS)})", location="/kinds")
        )
    if problems:
        raise ValidationFailed("invalid subscription", problems)
    assert isinstance(url, str)
    return url, sorted(set(kinds))


def _view(row: SubscriptionRow, pending: int) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "url": row.url,
        "kinds": row.kinds,
        "state": row.state,
        "consecutive_failures": row.consecutive_failures,
        "last_error": row.last_error,
        "suspended_at": row.suspended_at.isoformat() if row.suspended_at else None,
        "created_at": row.created_at.isoformat(),
        "pending_deliveries": pending,
    }
