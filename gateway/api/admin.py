"""Operator endpoints under ``/admin``: the dispatch outbox and its dead letters."""

from __future__ import annotations

import uuid

from connexion.lifecycle import ConnexionResponse

from gateway.api.context import principal, services
from gateway.api.responses import json_response
from gateway.errors import NotFound, PermissionDenied


def _require_admin() -> str:
    who = principal()
    if not who.is_admin:
        raise PermissionDenied("operator endpoints need the 'admin' scope")
    return f"admin:{who.client_id}"


def list_dispatch(state: str | None = None, limit: int = 100) -> ConnexionResponse:
    _require_admin()
    return json_response(200, {"items": services().dispatch_admin.list(state, limit)})


def retry_dispatch(message_id: str) -> ConnexionResponse:
    actor = _require_admin()
    try:
        parsed = uuid.UUID(message_id)
    except ValueError:
        raise NotFound(f"no outbox message {message_id}") from None
    return json_response(200, services().dispatch_admin.retry(parsed, actor))
