"""``POST /oauth/token``: the OAuth2 client-credentials grant (RFC 6749 §4.4), framework-free.

The HTTP edge parses the form and passes it in with the two headers that matter; it gets back
``(status, json_body, headers)`` and renders them as-is. Error bodies are RFC 6749 §5.2 JSON
built from authlib's ``rfc6749`` error classes, so codes and shapes follow the spec.

Limitation: ``form`` is a plain mapping, so a repeated parameter (which §3.2 forbids) cannot
be detected here; the edge should reject duplicates or pass the first value.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnsupportedGrantTypeError,
)
from authlib.oauth2.rfc6749.util import scope_to_list

from gateway.auth.identity import ClientRecord, IdentityStore
from gateway.auth.tokens import TokenIssuer
from gateway.errors import AuthenticationFailed

log = logging.getLogger(__name__)

GRANT_TYPE = "client_credentials"
FORM_TYPE = "application/x-www-form-urlencoded"
REALM = "pga-gateway"
# Bounds on what we are willing to hash/compare; real ids and secrets are far shorter.
_MAX_CREDENTIAL = 512

TokenResponse = tuple[int, dict[str, Any], dict[str, str]]


def handle_token_request(
    form: Mapping[str, str],
    authorization: str | None,
    content_type: str | None,
    store: IdentityStore,
    issuer: TokenIssuer,
) -> TokenResponse:
    """Answer one token request: ``(status, body, headers)``; never raises for bad input."""
    try:
        _check_content_type(content_type)
        client_id, secret = _client_credentials(form, authorization)
        try:
            client = store.verify_client(client_id, secret)
        except AuthenticationFailed:
            raise InvalidClientError(description="client authentication failed") from None
        scopes = _granted_scopes(form, client)
        body = issuer.issue(client, scopes)
    except OAuth2Error as err:
        log.info("oauth token request refused: %s", err.error)
        return _error_response(err)
    log.info("oauth token issued to %s scope=%s", client.client_id, body["scope"])
    return 200, body, _no_store({"Content-Type": "application/json"})


def _check_content_type(content_type: str | None) -> None:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != FORM_TYPE:
        raise InvalidRequestError(description=f"Content-Type must be {FORM_TYPE}")


def _client_credentials(form: Mapping[str, str], authorization: str | None) -> tuple[str, str]:
    """client_secret_basic or client_secret_post (RFC 6749 §2.3.1), never both."""
    form_id, form_secret = form.get("client_id"), form.get("client_secret")
    if authorization is not None and authorization.strip():
        if form_secret is not None:
            raise InvalidRequestError(description="use one client authentication method only")
        client_id, secret = _parse_basic(authorization)
        # client_id may repeat in the body (§4.4 doesn't forbid it) but must then agree.
        if form_id is not None and form_id != client_id:
            raise InvalidRequestError(description="client_id in body and header disagree")
        return client_id, secret
    if form_id is None and form_secret is None:
        raise InvalidClientError(description="client authentication required")
    if not form_id or form_secret is None:
        raise InvalidClientError(description="client_id and client_secret are both required")
    if len(form_id) > _MAX_CREDENTIAL or len(form_secret) > _MAX_CREDENTIAL:
        raise InvalidClientError(description="client authentication failed")
    return form_id, form_secret


def _parse_basic(authorization: str) -> tuple[str, str]:
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClientError(description="unsupported authorization scheme; use Basic")
    encoded = encoded.strip()
    if not encoded or len(encoded) > 2 * _MAX_CREDENTIAL:
        raise InvalidClientError(description="malformed Basic credentials")
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidClientError(description="malformed Basic credentials") from None
    raw_id, sep, raw_secret = decoded.partition(":")
    if not sep or not raw_id:
        raise InvalidClientError(description="malformed Basic credentials")
    # §2.3.1: id and secret are form-urlencoded before being joined and base64-encoded.
    return unquote_plus(raw_id), unquote_plus(raw_secret)


def _granted_scopes(form: Mapping[str, str], client: ClientRecord) -> frozenset[str]:
    grant_type = form.get("grant_type")
    if not grant_type:
        raise InvalidRequestError(description="grant_type is required")
    if grant_type != GRANT_TYPE:
        # The caller's value is not echoed back: it is untrusted text.
        raise OAuth2Error(
            error=UnsupportedGrantTypeError.error,
            description=f"only grant_type={GRANT_TYPE} is supported",
            status_code=400,
        )
    requested = form.get("scope")
    if requested is None:
        return client.scopes
    wanted = frozenset(scope_to_list(requested) or [])
    if not wanted:
        raise InvalidScopeError(description="scope is empty")
    if not wanted <= client.scopes:
        raise InvalidScopeError(description="requested scope exceeds the client's scopes")
    return wanted


def _error_response(err: OAuth2Error) -> TokenResponse:
    body: dict[str, Any] = dict(err.get_body())
    headers = _no_store({"Content-Type": "application/json"})
    status = int(err.status_code)
    if err.error == InvalidClientError.error:
        # §5.2: invalid_client may be 401 and then MUST name the scheme; we always use 401.
        status = 401
        headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'
    return status, body, headers


def _no_store(headers: dict[str, str]) -> dict[str, str]:
    # §5.1: token responses (and their errors) must not be cached anywhere.
    headers["Cache-Control"] = "no-store"
    headers["Pragma"] = "no-cache"
    return headers
