"""Per-request access to the process services and the caller, for connexion handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connexion import request
from connexion.context import context

from gateway.auth.principal import Principal
from gateway.errors import AuthenticationFailed

if TYPE_CHECKING:
    from gateway.services import Services

SERVICES_SCOPE_KEY = "pga_gateway.services"


def services() -> Services:
    found: Services = request.scope[SERVICES_SCOPE_KEY]
    return found


def principal() -> Principal:
    info = context.get("token_info") or {}
    who = info.get("principal")
    if not isinstance(who, Principal):  # connexion only calls handlers after security passed
        raise AuthenticationFailed("no authenticated caller")
    return who


def idempotency_key() -> str | None:
    """The ``Idempotency-Key`` header (connexion validates it but passes no header params)."""
    value: str | None = request.headers.get("idempotency-key")
    return value
