"""Bearer-token verification: one policy, pluggable key sources.

``TokenVerifier.verify`` does every check in a fixed order and answers each failure with its
own ``AuthenticationFailed`` message ("token expired", "token signature invalid", ...). The
token text itself never appears in a message or a log line: it is a credential.

Order, and why:

1. size cap (8 KiB) and shape, before any decoding work an attacker could inflate;
2. ``alg`` must be exactly ``RS256`` *before* a key is chosen, so ``none`` and the
   HS256-with-the-public-key confusion never reach a signature routine;
3. key by ``kid`` (subclass: the local identity file or a JWKS), then the signature;
4. registered claims (iss, aud, exp, nbf, iat) with a small leeway for clock skew;
5. gateway claims (scope, filer_code / agency_code) via ``Principal.from_claims``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, Final

from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import RSAKey

from gateway.auth.identity import IdentityStore
from gateway.auth.principal import Principal
from gateway.errors import AuthenticationFailed

log = logging.getLogger(__name__)

ALGORITHM: Final = "RS256"
MAX_TOKEN_BYTES: Final = 8 * 1024
LEEWAY_SECONDS: Final = 30
REQUIRED_CLAIMS: Final = ("iss", "aud", "sub", "exp", "iat", "scope")

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
Clock = Callable[[], float]


class TokenVerifier(ABC):
    """``verify(token) -> Principal``; subclasses only decide where signing keys come from."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        leeway: int = LEEWAY_SECONDS,
        clock: Clock = time.time,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self._clock = clock

    @abstractmethod
    def _key_for(self, kid: str | None) -> RSAKey:
        """The public key for ``kid``; raise AuthenticationFailed when there is none."""

    def verify(self, token: str) -> Principal:
        try:
            return self._verify(token)
        except AuthenticationFailed as exc:
            # The reason only: never the token, which is a live credential.
            log.info("token rejected: %s", exc.detail)
            raise

    def _verify(self, token: str) -> Principal:
        if not isinstance(token, str):
            raise AuthenticationFailed("token malformed")
        if len(token) > MAX_TOKEN_BYTES:
            raise AuthenticationFailed("token too large")
        parts = token.split(".")
        if len(parts) != 3 or not all(_B64URL.fullmatch(p) for p in parts) or not parts[0]:
            raise AuthenticationFailed("token malformed")
        header = _json_object(parts[0])
        if header.get("alg") != ALGORITHM:
            raise AuthenticationFailed("token algorithm not allowed")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise AuthenticationFailed("token malformed")
        key = self._key_for(kid)
        try:
            signed = jws.deserialize_compact(token, key, algorithms=[ALGORITHM])
        except BadSignatureError:
            raise AuthenticationFailed("token signature invalid") from None
        except (JoseError, ValueError, TypeError, KeyError):
            raise AuthenticationFailed("token malformed") from None
        claims = _json_object_bytes(signed.payload or b"")
        self._check_registered_claims(claims)
        return Principal.from_claims(claims)

    def _check_registered_claims(self, claims: Mapping[str, Any]) -> None:
        for name in REQUIRED_CLAIMS:
            if name not in claims:
                raise AuthenticationFailed(f"token missing claim '{name}'")
        if claims["iss"] != self.issuer:
            raise AuthenticationFailed("token issuer mismatch")
        aud = claims["aud"]
        audiences = aud if isinstance(aud, list) else [aud]
        if self.audience not in audiences:
            raise AuthenticationFailed("token audience mismatch")
        now = self._clock()
        exp = _numeric(claims, "exp")
        if now > exp + self.leeway:
            raise AuthenticationFailed("token expired")
        if "nbf" in claims and now < _numeric(claims, "nbf") - self.leeway:
            raise AuthenticationFailed("token not yet valid")
        if now < _numeric(claims, "iat") - self.leeway:
            raise AuthenticationFailed("token issued in the future")


class LocalKeyVerifier(TokenVerifier):
    """Trusts the embedded identity file's own signing key (the ``make serve`` default)."""

    def __init__(
        self,
        store: IdentityStore,
        *,
        issuer: str,
        audience: str,
        leeway: int = LEEWAY_SECONDS,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(issuer=issuer, audience=audience, leeway=leeway, clock=clock)
        self._store = store
        self._kid = store.kid
        self._public = store.public_key()

    def _key_for(self, kid: str | None) -> RSAKey:
        # Our own tokens always carry the kid; a missing one is tolerated since there is only
        # one key anyway, and the signature check still decides.
        if kid is not None and kid != self._kid:
            raise AuthenticationFailed("token signing key unknown")
        return self._public


def _json_object(segment: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise AuthenticationFailed("token malformed") from None
    return _json_object_bytes(raw)


def _json_object_bytes(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise AuthenticationFailed("token malformed") from None
    if not isinstance(value, dict):
        raise AuthenticationFailed("token malformed")
    return value


def _numeric(claims: Mapping[str, Any], name: str) -> float:
    value = claims[name]
    # bool is an int in Python; a JSON true is not a NumericDate.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AuthenticationFailed(f"token claim '{name}' invalid")
    return float(value)
