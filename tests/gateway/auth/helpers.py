"""Token-forging helpers for the auth tests (imported as ``tests.gateway.auth.helpers``)."""

from __future__ import annotations

import base64
import json
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

from gateway.config import Settings


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64json(value: Any) -> str:
    return b64url(json.dumps(value).encode())


def sign(claims: dict[str, Any], key: RSAKey, kid: str | None) -> str:
    """An RS256 JWT over arbitrary claims (for forging tokens the issuer would never make)."""
    header: dict[str, Any] = {"alg": "RS256"}
    if kid is not None:
        header["kid"] = kid
    return jwt.encode(header, claims, key, algorithms=["RS256"])


def good_claims(settings: Settings, now: int, **overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": "filer-ABC",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "j-1",
        "scope": "filer",
        "filer_code": "ABC",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}
