"""Handlers for ``/entries``: submit, list, read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from connexion.lifecycle import ConnexionResponse

from gateway.api.context import idempotency_key, principal, services
from gateway.api.responses import json_response, receipt_response
from gateway.errors import MalformedInput


def create_entry(body: Any) -> ConnexionResponse:
    receipt = services().intake.submit(body, principal(), idempotency_key())
    return receipt_response(receipt)


def cancel_entry(entry_number: str) -> ConnexionResponse:
    return json_response(200, services().intake.cancel(entry_number, principal()))


def get_entry(entry_number: str) -> ConnexionResponse:
    return json_response(200, services().queries.get(entry_number, principal()))


def list_entries(
    status: str | None = None,
    created_from: str | None = None,
    created_to: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ConnexionResponse:
    page = services().queries.list(
        principal(),
        status=status,
        created_from=_instant("created_from", created_from),
        created_to=_instant("created_to", created_to),
        limit=limit,
        offset=offset,
    )
    return json_response(200, page)


def _instant(name: str, value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedInput(f"{name}: {value!r} is not an RFC 3339 date-time") from None
    if parsed.tzinfo is None:
        raise MalformedInput(f"{name}: give a time zone (e.g. 2026-11-22T00:00:00Z)")
    return parsed.astimezone(dt.UTC)
