"""Handlers for ``/entries/{entry_number}/status`` and ``/entries/{entry_number}/history``.

The status operation declares two media types, so every response names its own
``Content-Type`` (connexion cannot infer one from the spec).
"""

from __future__ import annotations

import json
from typing import Any

from connexion.lifecycle import ConnexionResponse

from gateway.api.context import principal, services
from gateway.api.responses import json_response


def get_entry_status(entry_number: str, format: str = "json") -> ConnexionResponse:
    """JSON coordinated status, or (``format=catair``) SO70-style 80-column lines."""
    status = services().status
    if format == "catair":
        text = status.so70(entry_number, principal())
        return _response("text/plain", text.encode("ascii", "replace"))
    return _response("application/json", _json(status.status(entry_number, principal())))


def get_entry_history(entry_number: str) -> ConnexionResponse:
    return json_response(200, services().status.history(entry_number, principal()))


def _json(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def _response(content_type: str, body: bytes) -> ConnexionResponse:
    return ConnexionResponse(status_code=200, content_type=content_type, body=body)
