"""The claim-under-lease pattern shared by agency dispatch and webhook delivery.

A row is claimable when it is ``pending`` and due, or ``in_flight`` with an expired lease
(its worker died). Claiming marks it ``in_flight`` for one worker until the lease ends and
counts the attempt. On PostgreSQL the claim query locks with ``FOR UPDATE SKIP LOCKED`` so
concurrent workers take different rows; SQLite's write transaction is exclusive already.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, and_, or_

from gateway.db.session import Database

Q = TypeVar("Q")  # a Select of any row shape; locking keeps its type


def claimable(model: Any, now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        and_(model.state == "pending", model.next_attempt_at <= now),
        and_(model.state == "in_flight", model.lease_until < now),
    )


def locked_for_claim(query: Q, database: Database, model: Any) -> Q:
    if database.kind == "postgresql":
        locked: Q = cast(Any, query).with_for_update(skip_locked=True, of=model)
        return locked
    return query


def take_lease(row: Any, owner: str, until: dt.datetime) -> None:
    row.state = "in_flight"
    row.lease_owner = owner
    row.lease_until = until
    row.attempts += 1
