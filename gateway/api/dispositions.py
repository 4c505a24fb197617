"""Handler for ``/entries/{entry_number}/dispositions``: the agencies' inbound interface."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionResponse

from gateway.api.context import principal, services
from gateway.api.responses import json_response


def submit_dispositions(entry_number: str, body: Any) -> ConnexionResponse:
    result = services().dispositions.submit(entry_number, body, principal(), source="callback")
    return json_response(200, result)
