"""Issue -> verify round trip and every way a token must be refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from joserfc.jwk import RSAKey

from gateway.auth.identity import ClientRecord, IdentityStore
from gateway.auth.tokens import (
    LocalKeyVerifier,
    TokenIssuer,
    parse_bearer,
    verifier_from_settings,
)
from gateway.config import Settings
from gateway.errors import AuthenticationFailed, ConfigurationError, PermissionDenied
from tests.gateway.auth.helpers import b64json, b64url, good_claims, sign


def _client(store: IdentityStore, kind: str = "filer", code: str | None = "ABC") -> ClientRecord:
    client_id, _ = store.ensure_client(kind, code)  # type: ignore[arg-type]
    record = store.find_client(client_id)
    assert record is not None
    return record


def _rejected(verifier: LocalKeyVerifier, token: str) -> str:
    with pytest.raises(AuthenticationFailed) as info:
        verifier.verify(token)
    assert not token or token not in info.value.detail
    return info.value.detail


def test_round_trip(store: IdentityStore, issuer: TokenIssuer, verifier: LocalKeyVerifier) -> None:
    response = issuer.issue(_client(store))
    assert response["token_type"] == "Bearer"
    assert response["expires_in"] == 900 and response["scope"] == "filer"
    principal = verifier.verify(response["access_token"])
    assert principal.subject == principal.client_id == "filer-ABC"
    assert principal.scopes == frozenset({"filer"})
    assert principal.filer_code == "ABC" and principal.agency_code is None


def test_claims_and_header(store: IdentityStore, issuer: TokenIssuer, settings: Settings) -> None:
    token = issuer.issue(_client(store, "agency", "FDA"))["access_token"]
    header_seg, payload_seg, _ = token.split(".")
    header = json.loads(b64decode(header_seg))
    claims = json.loads(b64decode(payload_seg))
    assert header["alg"] == "RS256" and header["kid"] == store.kid
    assert claims["iss"] == settings.token_issuer and claims["aud"] == settings.token_audience
    assert claims["exp"] - claims["iat"] == settings.token_ttl_seconds
    assert claims["nbf"] == claims["iat"] and claims["jti"]
    assert claims["agency_code"] == "FDA" and "filer_code" not in claims


def b64decode(seg: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))


def test_admin_token(store: IdentityStore, issuer: TokenIssuer, verifier: LocalKeyVerifier) -> None:
    principal = verifier.verify(issuer.issue(_client(store, "admin", None))["access_token"])
    assert principal.is_admin and principal.filer_code is None


def test_scope_cannot_be_widened(store: IdentityStore, issuer: TokenIssuer) -> None:
    with pytest.raises(PermissionDenied):
        issuer.issue(_client(store), scope=["admin"])


def test_expired(store: IdentityStore, settings: Settings, verifier: LocalKeyVerifier) -> None:
    old = TokenIssuer(store, settings, clock=lambda: time.time() - 1000)
    assert _rejected(verifier, old.issue(_client(store))["access_token"]) == "token expired"


def test_within_leeway_is_accepted(
    store: IdentityStore, settings: Settings, verifier: LocalKeyVerifier
) -> None:
    # Expired 10 s ago: inside the 30 s clock-skew allowance.
    almost = TokenIssuer(store, settings, clock=lambda: time.time() - 910)
    verifier.verify(almost.issue(_client(store))["access_token"])


def test_not_yet_valid(
    store: IdentityStore, settings: Settings, verifier: LocalKeyVerifier
) -> None:
    future = TokenIssuer(store, settings, clock=lambda: time.time() + 300)
    assert _rejected(verifier, future.issue(_client(store))["access_token"]) == (
        "token not yet valid"
    )


def test_wrong_audience_and_issuer(store: IdentityStore, issuer: TokenIssuer) -> None:
    token = issuer.issue(_client(store))["access_token"]
    wrong_aud = LocalKeyVerifier(store, issuer="urn:pga-gateway:embedded", audience="other")
    assert _rejected(wrong_aud, token) == "token audience mismatch"
    wrong_iss = LocalKeyVerifier(store, issuer="https://elsewhere", audience="pga-gateway")
    assert _rejected(wrong_iss, token) == "token issuer mismatch"


def test_audience_list_is_accepted(
    store: IdentityStore, settings: Settings, verifier: LocalKeyVerifier
) -> None:
    now = int(time.time())
    claims = good_claims(settings, now, aud=["x", settings.token_audience])
    assert verifier.verify(sign(claims, store.signing_key, store.kid)).filer_code == "ABC"


def test_tampered_payload(
    store: IdentityStore, issuer: TokenIssuer, verifier: LocalKeyVerifier
) -> None:
    token = issuer.issue(_client(store))["access_token"]
    header, payload, signature = token.split(".")
    claims = json.loads(b64decode(payload))
    claims["filer_code"] = "XYZ"
    forged = f"{header}.{b64json(claims)}.{signature}"
    assert _rejected(verifier, forged) == "token signature invalid"


def test_signed_by_another_key(
    store: IdentityStore, settings: Settings, verifier: LocalKeyVerifier, other_key: RSAKey
) -> None:
    claims = good_claims(settings, int(time.time()))
    # Same kid as ours: the signature check is what catches it.
    assert _rejected(verifier, sign(claims, other_key, store.kid)) == "token signature invalid"
    assert _rejected(verifier, sign(claims, other_key, "their-kid")) == "token signing key unknown"


def test_alg_none(store: IdentityStore, settings: Settings, verifier: LocalKeyVerifier) -> None:
    claims = good_claims(settings, int(time.time()))
    for alg in ("none", "None", "NONE"):
        token = f"{b64json({'alg': alg, 'kid': store.kid})}.{b64json(claims)}."
        assert _rejected(verifier, token) == "token algorithm not allowed"


def test_hs256_signed_with_public_key(
    store: IdentityStore, settings: Settings, verifier: LocalKeyVerifier
) -> None:
    """The classic confusion: HMAC keyed with the (public) RSA key must not verify."""
    claims = good_claims(settings, int(time.time()))
    signing_input = f"{b64json({'alg': 'HS256', 'kid': store.kid})}.{b64json(claims)}"
    for secret in (store.public_key().as_pem(), json.dumps(store.public_jwks()).encode()):
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{b64url(mac)}"
        assert _rejected(verifier, token) == "token algorithm not allowed"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"filer_code": None}, "token missing filer_code claim for filer scope"),
        (
            {"scope": "agency", "filer_code": None},
            "token missing agency_code claim for agency scope",
        ),
        ({"exp": None}, "token missing claim 'exp'"),
        ({"iss": None}, "token missing claim 'iss'"),
        ({"aud": None}, "token missing claim 'aud'"),
        ({"sub": None}, "token missing claim 'sub'"),
        ({"scope": None}, "token missing claim 'scope'"),
        ({"exp": "tomorrow"}, "token claim 'exp' invalid"),
        ({"exp": True}, "token claim 'exp' invalid"),
        ({"iat": 10**12}, "token issued in the future"),
        ({"scope": "openid profile"}, "token carries no gateway scope"),
        ({"filer_code": "ab1"}, "token claim 'filer_code' invalid"),
    ],
)
def test_claim_rules(
    store: IdentityStore,
    settings: Settings,
    verifier: LocalKeyVerifier,
    overrides: dict[str, Any],
    message: str,
) -> None:
    claims = good_claims(settings, int(time.time()), **overrides)
    assert _rejected(verifier, sign(claims, store.signing_key, store.kid)) == message


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("a" * (8 * 1024 + 1), "token too large"),
        ("", "token malformed"),
        ("abc", "token malformed"),
        ("a.b", "token malformed"),
        ("a.b.c.d", "token malformed"),
        ("!!!.???.***", "token malformed"),
        (f"{b64url(b'not json')}.e30.", "token malformed"),
        (f"{b64json([1, 2])}.e30.", "token malformed"),
    ],
)
def test_shape_rules(verifier: LocalKeyVerifier, token: str, message: str) -> None:
    assert _rejected(verifier, token) == message


def test_non_object_payload(store: IdentityStore, verifier: LocalKeyVerifier) -> None:
    from joserfc import jws

    token = jws.serialize_compact(
        {"alg": "RS256", "kid": store.kid}, b"[1,2,3]", store.signing_key, algorithms=["RS256"]
    )
    assert _rejected(verifier, token) == "token malformed"


def test_rejections_never_log_the_token(
    store: IdentityStore,
    settings: Settings,
    verifier: LocalKeyVerifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = TokenIssuer(store, settings, clock=lambda: 0.0).issue(_client(store))["access_token"]
    with caplog.at_level(logging.DEBUG):
        _rejected(verifier, token)
    assert "token expired" in caplog.text
    assert token not in caplog.text and token.split(".")[2] not in caplog.text


# -- property: garbage never escapes as anything but AuthenticationFailed ------------------

_B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_segments = st.text(alphabet=_B64_CHARS, max_size=60)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_claim_values = st.one_of(_json, st.sampled_from(["filer", "agency admin", "ABC", "pga-gateway"]))
_claims = st.dictionaries(
    st.sampled_from(
        ["iss", "aud", "sub", "exp", "nbf", "iat", "scope", "filer_code", "agency_code", "azp"]
    ),
    _claim_values,
)
_fast = hsettings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@_fast
@given(
    st.one_of(st.text(max_size=300), st.builds("{}.{}.{}".format, _segments, _segments, _segments))
)
def test_garbage_tokens_only_raise_authentication_failed(token: str) -> None:
    verifier = _SHARED["verifier"]
    with pytest.raises(AuthenticationFailed):
        verifier.verify(token)


@_fast
@given(header=st.dictionaries(st.text(max_size=6), _json, max_size=4), payload=_json, sig=_segments)
def test_garbage_headers_and_payloads(header: dict[str, Any], payload: Any, sig: str) -> None:
    header = {**header, "alg": "RS256"}
    token = f"{b64json(header)}.{b64json(payload)}.{sig}"
    with pytest.raises(AuthenticationFailed):
        _SHARED["verifier"].verify(token)


@_fast
@given(claims=_claims)
def test_validly_signed_arbitrary_claims_never_crash(claims: dict[str, Any]) -> None:
    """Signature is good, claims are anything: a Principal or AuthenticationFailed, only."""
    store: IdentityStore = _SHARED["store"]
    try:
        principal = _SHARED["verifier"].verify(sign(claims, store.signing_key, store.kid))
    except AuthenticationFailed:
        return
    assert principal.scopes


_SHARED: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _share(store: IdentityStore, verifier: LocalKeyVerifier) -> None:
    # Hypothesis tests can't take function-scoped fixtures per example; share them.
    _SHARED["store"], _SHARED["verifier"] = store, verifier


# -- parse_bearer and verifier_from_settings -----------------------------------------------


def test_parse_bearer() -> None:
    assert parse_bearer("Bearer abc.def.ghi") == "abc.def.ghi"
    assert parse_bearer("bearer   abc.def.ghi ") == "abc.def.ghi"
    for header, message in [
        (None, "missing bearer token"),
        ("", "missing bearer token"),
        ("Basic dXNlcjpwdw==", "authorization scheme must be Bearer"),
        ("Bearer", "empty bearer token"),
        (
            "Bearer    ",
            "missing bearer token" if not "Bearer    ".strip() else "empty bearer token",
        ),
        ("Bearer a b", "token malformed"),
        ("Bearer " + "a" * 9000, "token too large"),
    ]:
        with pytest.raises(AuthenticationFailed) as info:
            parse_bearer(header)
        assert info.value.detail == message


def test_verifier_from_settings(store: IdentityStore, settings: Settings) -> None:
    assert isinstance(verifier_from_settings(settings, store), LocalKeyVerifier)
    assert isinstance(verifier_from_settings(settings), LocalKeyVerifier)
    remote = verifier_from_settings(settings.with_overrides(jwks_url="https://idp.example/jwks"))
    assert type(remote).__name__ == "JwksVerifier"
    for bad in ("http://idp.example/jwks", "ftp://idp/jwks", "https:///jwks"):
        with pytest.raises(ConfigurationError, match="PGA_GATEWAY_JWKS_URL"):
            verifier_from_settings(settings.with_overrides(jwks_url=bad))
