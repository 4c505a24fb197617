"""Response helpers: JSON bodies and problem+json for every error."""

from __future__ import annotations

import json
from typing import Any

from connexion.lifecycle import ConnexionResponse

from gateway.errors import GatewayError
from gateway.intake import Receipt

PROBLEM_JSON = "application/problem+json"


def json_response(
    status: int, body: Any, headers: dict[str, str] | None = None
) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        mimetype="application/json",
        body=json.dumps(body, ensure_ascii=False).encode(),
        headers=headers or {},
    )


def receipt_response(receipt: Receipt) -> ConnexionResponse:
    return json_response(receipt.status, receipt.body, receipt.headers)


def problem_body(error: GatewayError, instance: str | None = None) -> bytes:
    return json.dumps(error.to_problem_json(instance), ensure_ascii=False).encode()


def problem_response(error: GatewayError, instance: str | None = None) -> ConnexionResponse:
    headers = {}
    if error.http_status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="pga-gateway"'
    return ConnexionResponse(
        status_code=error.http_status,
        mimetype=PROBLEM_JSON,
        body=problem_body(error, instance),
        headers=headers,
    )
