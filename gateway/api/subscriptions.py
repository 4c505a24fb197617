"""Handlers for ``/subscriptions`` (filer webhooks) and ``/events`` (the event feed)."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionResponse

from gateway.api.context import principal, services
from gateway.api.responses import json_response


def create_subscription(body: Any) -> ConnexionResponse:
    return json_response(201, services().subscriptions.create(principal(), body))


def list_subscriptions() -> ConnexionResponse:
    return json_response(200, {"items": services().subscriptions.list(principal())})


def delete_subscription(subscription_id: str) -> ConnexionResponse:
    services().subscriptions.delete(principal(), subscription_id)
    return ConnexionResponse(status_code=204)


def resume_subscription(subscription_id: str) -> ConnexionResponse:
    return json_response(200, services().subscriptions.resume(principal(), subscription_id))


def list_events(after: int = 0, limit: int = 100) -> ConnexionResponse:
    return json_response(200, services().subscriptions.events(principal(), after, limit))
