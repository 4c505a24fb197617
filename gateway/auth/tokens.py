"""RS256 access tokens: issue (embedded issuer) and verify (local key or external JWKS).

Library choice. The installed authlib (1.9) marks ``authlib.jose`` deprecated: importing it
emits ``AuthlibDeprecationWarning: authlib.jose module is deprecated, please use joserfc``,
which fails a suite run with ``filterwarnings = error`` and will break at authlib 2.0. So the
JOSE work (JWK import/generation, RFC 7638 thumbprints, JWS compact sign/verify) uses
``joserfc``, the successor authlib points to, by the same author. authlib stays a dependency
for the OAuth2 side, where it is not deprecated: ``gateway.auth.oauth`` uses its RFC 6749
error classes and scope helpers for the token endpoint.

The verifier deliberately does not use ``joserfc.jwt``'s claim registry: every failure must
map to one precise, stable ``AuthenticationFailed`` message, so claim checks are ours
(``gateway.auth.verify``) and joserfc does only the cryptography.

This module is the import point for the rest of the gateway: ``TokenIssuer``,
``TokenVerifier`` (+ ``LocalKeyVerifier``, ``JwksVerifier``), ``verifier_from_settings`` and
``parse_bearer``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from joserfc import jwt

from gateway.auth.identity import SIGNING_ALG, ClientRecord, IdentityStore
from gateway.auth.jwks import IdentityProviderUnavailable, JwksVerifier
from gateway.auth.principal import AGENCY, FILER
from gateway.auth.verify import (
    MAX_TOKEN_BYTES,
    Clock,
    LocalKeyVerifier,
    TokenVerifier,
)
from gateway.config import Settings
from gateway.errors import AuthenticationFailed, ConfigurationError, PermissionDenied

__all__ = [
    "MAX_TOKEN_BYTES",
    "IdentityProviderUnavailable",
    "JwksVerifier",
    "LocalKeyVerifier",
    "TokenIssuer",
    "TokenVerifier",
    "parse_bearer",
    "verifier_from_settings",
]


class TokenIssuer:
    """Mints access tokens with the identity file's private key (embedded issuer only)."""

    def __init__(self, store: IdentityStore, settings: Settings, clock: Clock = time.time) -> None:
        self._store = store
        self._issuer = settings.token_issuer
        self._audience = settings.token_audience
        self._ttl = settings.token_ttl_seconds
        self._clock = clock

    def issue(self, client: ClientRecord, scope: Iterable[str] | None = None) -> dict[str, Any]:
        """An RFC 6749 §5.1 token response for ``client``, optionally narrowed to ``scope``."""
        scopes = client.scopes if scope is None else frozenset(scope)
        if not scopes or not scopes <= client.scopes:
            raise PermissionDenied("requested scope is not granted to this client")
        access_token = self._mint(client, scopes)
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self._ttl,
            "scope": " ".join(sorted(scopes)),
        }

    def _mint(self, client: ClientRecord, scopes: frozenset[str]) -> str:
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": client.client_id,
            "client_id": client.client_id,
            "iat": now,
            "nbf": now,
            "exp": now + self._ttl,
            "jti": str(uuid.uuid4()),
            "scope": " ".join(sorted(scopes)),
        }
        # A code claim only accompanies the scope it qualifies.
        if FILER in scopes:
            claims["filer_code"] = client.filer_code
        if AGENCY in scopes:
            claims["agency_code"] = client.agency_code
        header = {"alg": SIGNING_ALG, "kid": self._store.kid}
        return jwt.encode(header, claims, self._store.signing_key, algorithms=[SIGNING_ALG])


def parse_bearer(authorization_header: str | None) -> str:
    """The token from an ``Authorization: Bearer <token>`` header (RFC 6750 §2.1)."""
    if authorization_header is None or not authorization_header.strip():
        raise AuthenticationFailed("missing bearer token")
    scheme, _, token = authorization_header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise AuthenticationFailed("authorization scheme must be Bearer")
    token = token.strip()
    if not token:
        raise AuthenticationFailed("empty bearer token")
    if len(token) > MAX_TOKEN_BYTES:
        raise AuthenticationFailed("token too large")
    if " " in token:
        raise AuthenticationFailed("token malformed")
    return token


def verifier_from_settings(settings: Settings, store: IdentityStore | None = None) -> TokenVerifier:
    """``JwksVerifier`` when ``PGA_GATEWAY_JWKS_URL`` is set, else the local identity key."""
    if settings.jwks_url:
        _check_jwks_url(settings.jwks_url)
        return JwksVerifier(
            settings.jwks_url, issuer=settings.token_issuer, audience=settings.token_audience
        )
    if store is None:
        store = IdentityStore.load_or_create(settings.effective_identity_file)
    return LocalKeyVerifier(store, issuer=settings.token_issuer, audience=settings.token_audience)


def _check_jwks_url(url: str) -> None:
    # Keys fetched over plain HTTP could be swapped by anyone on the path; only loopback
    # (a sidecar or a test issuer) may skip TLS.
    parts = urlsplit(url)
    loopback = parts.hostname in {"127.0.0.1", "::1", "localhost"}
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ConfigurationError(
            "PGA_GATEWAY_JWKS_URL: must be an https:// URL (http only for loopback)"
        )
    if not parts.hostname:
        raise ConfigurationError("PGA_GATEWAY_JWKS_URL: no host in URL")
