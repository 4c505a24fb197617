"""``POST /oauth/token``: OAuth2 client credentials (RFC 6749 section 4.4).

Answers in RFC 6749's own error format rather than problem+json, because OAuth2 client
libraries parse ``{"error": ...}``.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from gateway.api.context import SERVICES_SCOPE_KEY
from gateway.auth.oauth import handle_token_request

MAX_FORM_BYTES = 8 * 1024


async def token_endpoint(request: Request) -> Response:
    services = request.scope[SERVICES_SCOPE_KEY]
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return _oauth_error(400, "invalid_request", "the token request is too large")
    try:
        form = dict(parse_qsl(raw.decode("ascii"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        return _oauth_error(400, "invalid_request", "the token request must be ASCII form data")
    status, body, headers = await run_in_threadpool(
        handle_token_request,
        form,
        request.headers.get("authorization"),
        request.headers.get("content-type"),
        services.identity,
        services.issuer,
    )
    return Response(json.dumps(body), status, headers, media_type="application/json")


def _oauth_error(status: int, error: str, description: str) -> Response:
    body = {"error": error, "error_description": description}
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    return Response(json.dumps(body), status, headers, media_type="application/json")
