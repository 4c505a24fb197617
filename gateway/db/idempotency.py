"""Idempotency keys: the first answer to (principal, key), replayed on a retry.

Re-exported by ``gateway.db.repository``; same conventions (caller's session, no commit).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.db.errors import translate, unique_violation
from gateway.db.models import IdempotencyRow
from gateway.db.types import utcnow
from gateway.errors import Conflict, ValidationFailed


def find_idempotent(session: Session, principal: str, key: str) -> IdempotencyRow | None:
    """The stored first answer for (principal, key), if any."""
    return session.scalars(
        select(IdempotencyRow).where(
            IdempotencyRow.principal == principal, IdempotencyRow.key == key
        )
    ).one_or_none()


def save_idempotent(
    session: Session,
    principal: str,
    key: str,
    request_hash: str,
    status: int,
    body: Any,
    headers: Mapping[str, str],
) -> IdempotencyRow:
    """Store the first answer for (principal, key).

    If another request stored the same key first (a race), raises ``Conflict``; the caller's
    transaction stays usable but should normally be abandoned and the stored answer replayed.
    """
    if len(key) > 255:
        raise ValidationFailed("Idempotency-Key is longer than 255 characters")
    row = IdempotencyRow(
        id=uuid.uuid4(),
        principal=principal,
        key=key,
        request_hash=request_hash,
        response_status=status,
        response_body=body,
        response_headers=dict(headers),
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except sa_exc.IntegrityError as exc:
        if unique_violation(exc, "uq_idempotency_keys_principal_key", "idempotency_keys.key"):
            raise Conflict(f"Idempotency-Key {key!r} is already in use") from None
        raise translate(exc, session.get_bind().engine.url) from exc
    return row
