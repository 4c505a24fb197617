"""Production verifier: trust an external OAuth2/OIDC issuer's published JWKS.

Keys are fetched with httpx and cached for ``cache_ttl`` seconds. A token whose ``kid`` is not
in the cache triggers one refetch (the issuer rotated its key), but at most once per
``min_refetch_interval`` so random kids cannot turn us into a flood against the issuer.

When the issuer cannot be reached:

* with keys already cached, the stale keys keep serving (a short issuer outage must not take
  the gateway down) and a warning is logged;
* with no keys at all, ``verify`` raises ``IdentityProviderUnavailable`` (503). That is a
  deliberate choice over 401: the caller's token may be perfectly good, and a 401 would tell
  well-behaved clients to throw away their credentials instead of retrying later.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from typing import Any, Final

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from gateway.auth.verify import ALGORITHM, LEEWAY_SECONDS, Clock, TokenVerifier
from gateway.errors import AuthenticationFailed, StorageUnavailable

log = logging.getLogger(__name__)

MAX_JWKS_BYTES: Final = 512 * 1024
MIN_RSA_BITS: Final = 2048


class IdentityProviderUnavailable(StorageUnavailable):
    """The external issuer's keys cannot be fetched (503: retry later, token may be fine)."""

    title = "Identity provider unavailable"


class JwksVerifier(TokenVerifier):
    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        cache_ttl: float = 300.0,
        min_refetch_interval: float = 10.0,
        timeout: float = 5.0,
        leeway: int = LEEWAY_SECONDS,
        clock: Clock = time.time,
        monotonic: Clock = time.monotonic,
    ) -> None:
        super().__init__(issuer=issuer, audience=audience, leeway=leeway, clock=clock)
        self.jwks_url = jwks_url
        self._cache_ttl = cache_ttl
        self._min_refetch = min_refetch_interval
        self._timeout = timeout
        self._monotonic = monotonic
        self._lock = threading.Lock()  # one fetch at a time; verifiers are shared by threads
        self._keys: dict[str | None, RSAKey] | None = None
        self._fetched_at = 0.0
        self._attempted_at: float | None = None
        self.fetch_count = 0  # observable for metrics and tests

    def _key_for(self, kid: str | None) -> RSAKey:
        with self._lock:
            now = self._monotonic()
            expired = now - self._fetched_at >= self._cache_ttl
            if self._keys is None or (expired and self._may_refetch(now)):
                self._refresh(now)
            key = self._lookup(kid)
            if key is None and self._may_refetch(now):
                self._refresh(now)
                key = self._lookup(kid)
        if key is None:
            raise AuthenticationFailed("token signing key unknown")
        return key

    def _lookup(self, kid: str | None) -> RSAKey | None:
        keys = self._keys or {}
        if kid is None:
            # Without a kid only an unambiguous single-key set is acceptable.
            return next(iter(keys.values())) if len(keys) == 1 else None
        return keys.get(kid)

    def _may_refetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self._min_refetch

    def _refresh(self, now: float) -> None:
        if self._keys is None and not self._may_refetch(now):
            # Issuer failed moments ago; don't queue every request behind another timeout.
            raise IdentityProviderUnavailable("token signing keys unavailable (issuer down)")
        self._attempted_at = now
        try:
            keys = self._fetch()
        except _FetchError as exc:
            if self._keys is not None:
                log.warning(
                    "jwks: refresh from %s failed (%s); using cached keys", self.jwks_url, exc
                )
                return
            log.error("jwks: cannot fetch %s: %s", self.jwks_url, exc)
            raise IdentityProviderUnavailable(
                f"token signing keys unavailable: cannot fetch JWKS ({exc})"
            ) from None
        self._keys, self._fetched_at = keys, now

    def _fetch(self) -> dict[str | None, RSAKey]:
        self.fetch_count += 1
        try:
            with (
                httpx.Client(timeout=self._timeout, follow_redirects=False) as client,
                client.stream("GET", self.jwks_url, headers={"Accept": "application/json"}) as resp,
            ):
                if resp.status_code != 200:
                    raise _FetchError(f"HTTP {resp.status_code}")
                body = bytearray()
                for chunk in resp.iter_bytes():
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise _FetchError("JWKS document too large")
        except httpx.HTTPError as exc:
            raise _FetchError(type(exc).__name__) from None
        return _parse_jwks(bytes(body))


class _FetchError(Exception):
    """Internal: why a JWKS fetch failed (never leaves this module)."""


def _parse_jwks(body: bytes) -> dict[str | None, RSAKey]:
    try:
        doc = json.loads(body)
    except ValueError:
        raise _FetchError("JWKS is not JSON") from None
    entries = doc.get("keys") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise _FetchError("JWKS has no 'keys' list")
    keys: dict[str | None, RSAKey] = {}
    for entry in entries:
        key = _usable_key(entry)
        if key is not None:
            keys[entry.get("kid")] = key
    if not keys:
        raise _FetchError("JWKS has no usable RS256 signing key")
    return keys


def _usable_key(entry: Any) -> RSAKey | None:
    """An RS256-capable public key from one JWK, or None to skip it."""
    if not isinstance(entry, dict) or entry.get("kty") != "RSA":
        return None
    if entry.get("use", "sig") != "sig" or entry.get("alg", ALGORITHM) != ALGORITHM:
        return None
    n, e, kid = entry.get("n"), entry.get("e"), entry.get("kid")
    if not isinstance(n, str) or not isinstance(e, str) or not isinstance(kid, str | None):
        return None
    try:
        modulus = base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))
    except (binascii.Error, ValueError):
        return None
    # Checked here rather than letting joserfc warn: weak keys are simply not trusted.
    if int.from_bytes(modulus, "big").bit_length() < MIN_RSA_BITS:
        return None
    # Public members only: a JWKS that (wrongly) publishes "d" must not make us hold it.
    public: dict[str, str | list[str]] = {"kty": "RSA", "n": n, "e": e}
    try:
        return RSAKey.import_key(public, parameters={"kid": kid} if kid else None)
    except (JoseError, ValueError, TypeError):
        return None
