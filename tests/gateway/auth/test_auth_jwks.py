"""JwksVerifier against a real HTTP server on 127.0.0.1 serving a JWKS."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc.jwk import RSAKey

from gateway.auth.jwks import IdentityProviderUnavailable, JwksVerifier
from gateway.errors import AuthenticationFailed
from tests.gateway.auth.helpers import b64json, b64url, sign

ISSUER = "https://idp.example"
AUDIENCE = "pga-gateway"


class JwksServer:
    """A tiny issuer: serves whatever ``document`` currently is, counts requests."""

    def __init__(self) -> None:
        self.document: Any = {"keys": []}
        self.status = 200
        self.hits = 0
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                state.hits += 1
                body = (
                    state.document
                    if isinstance(state.document, bytes)
                    else json.dumps(state.document).encode()
                )
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/.well-known/jwks.json"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def publish(self, *keys: RSAKey) -> None:
        self.document = {
            "keys": [dict(k.as_dict(private=False), alg="RS256", use="sig") for k in keys]
        }

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server() -> Iterator[JwksServer]:
    srv = JwksServer()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def key_a() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "key-a"}, private=True)


@pytest.fixture(scope="module")
def key_b() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "key-b"}, private=True)


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": [AUDIENCE, "other-api"],
        "sub": "service-account-17",
        "client_id": "broker-app",
        "iat": now,
        "exp": now + 300,
        "scope": "agency",
        "agency_code": "FDA",
    }
    claims.update(extra)
    return claims


def _verifier(url: str, clock: FakeMonotonic, **kw: Any) -> JwksVerifier:
    return JwksVerifier(url, issuer=ISSUER, audience=AUDIENCE, monotonic=clock, timeout=2.0, **kw)


def test_verifies_and_caches(server: JwksServer, key_a: RSAKey) -> None:
    server.publish(key_a)
    clock = FakeMonotonic()
    verifier = _verifier(server.url, clock)
    principal = verifier.verify(sign(_claims(), key_a, "key-a"))
    assert principal.agency_code == "FDA" and principal.client_id == "broker-app"
    verifier.verify(sign(_claims(), key_a, "key-a"))
    assert server.hits == 1  # cached
    clock.now += 301  # past the 300 s TTL
    verifier.verify(sign(_claims(), key_a, "key-a"))
    assert server.hits == 2


def test_key_rotation_refetches_once_on_unknown_kid(
    server: JwksServer, key_a: RSAKey, key_b: RSAKey
) -> None:
    server.publish(key_a)
    clock = FakeMonotonic()
    verifier = _verifier(server.url, clock)
    verifier.verify(sign(_claims(), key_a, "key-a"))
    server.publish(key_a, key_b)  # the issuer rotates
    clock.now += 11  # beyond the refetch rate limit, well inside the TTL
    assert verifier.verify(sign(_claims(), key_b, "key-b")).agency_code == "FDA"
    assert server.hits == 2
    # A kid the issuer never published: no hammering, one clear answer.
    with pytest.raises(AuthenticationFailed) as info:
        verifier.verify(sign(_claims(), key_b, "key-zzz"))
    assert info.value.detail == "token signing key unknown"
    assert server.hits == 2  # rate-limited: refetched 0 s ago


def test_unknown_kid_refetch_is_rate_limited(
    server: JwksServer, key_a: RSAKey, key_b: RSAKey
) -> None:
    server.publish(key_a)
    clock = FakeMonotonic()
    verifier = _verifier(server.url, clock)
    verifier.verify(sign(_claims(), key_a, "key-a"))
    for _ in range(5):
        with pytest.raises(AuthenticationFailed, match="signing key unknown"):
            verifier.verify(sign(_claims(), key_b, "key-b"))
    assert server.hits == 1


def test_signature_by_wrong_key_with_known_kid(
    server: JwksServer, key_a: RSAKey, key_b: RSAKey
) -> None:
    server.publish(key_a)
    verifier = _verifier(server.url, FakeMonotonic())
    with pytest.raises(AuthenticationFailed) as info:
        verifier.verify(sign(_claims(), key_b, "key-a"))
    assert info.value.detail == "token signature invalid"


def test_alg_confusion_with_jwks_key(server: JwksServer, key_a: RSAKey) -> None:
    server.publish(key_a)
    verifier = _verifier(server.url, FakeMonotonic())
    signing_input = f"{b64json({'alg': 'HS256', 'kid': 'key-a'})}.{b64json(_claims())}"
    mac = hmac.new(key_a.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(AuthenticationFailed, match="algorithm not allowed"):
        verifier.verify(f"{signing_input}.{b64url(mac)}")
    assert server.hits == 0  # rejected before any key lookup


def test_missing_kid_needs_single_key_set(server: JwksServer, key_a: RSAKey, key_b: RSAKey) -> None:
    server.publish(key_a)
    verifier = _verifier(server.url, FakeMonotonic())
    verifier.verify(sign(_claims(), key_a, None))
    server.publish(key_a, key_b)
    ambiguous = _verifier(server.url, FakeMonotonic())
    with pytest.raises(AuthenticationFailed, match="signing key unknown"):
        ambiguous.verify(sign(_claims(), key_a, None))


def test_issuer_down_is_503_not_401(key_a: RSAKey) -> None:
    srv = JwksServer()
    url = srv.url
    srv.stop()  # nothing listens there any more
    clock = FakeMonotonic()
    verifier = _verifier(url, clock)
    token = sign(_claims(), key_a, "key-a")
    with pytest.raises(IdentityProviderUnavailable) as info:
        verifier.verify(token)
    assert info.value.http_status == 503
    assert "cannot fetch JWKS" in info.value.detail and token not in info.value.detail
    # Immediately again: fails fast without another network attempt.
    with pytest.raises(IdentityProviderUnavailable, match="issuer down"):
        verifier.verify(token)


def test_stale_keys_serve_while_issuer_down(key_a: RSAKey) -> None:
    srv = JwksServer()
    srv.publish(key_a)
    clock = FakeMonotonic()
    verifier = _verifier(srv.url, clock)
    verifier.verify(sign(_claims(), key_a, "key-a"))
    srv.stop()
    clock.now += 1000  # cache expired and the issuer is gone
    assert verifier.verify(sign(_claims(), key_a, "key-a")).agency_code == "FDA"


@pytest.mark.parametrize(
    ("status", "document"),
    [
        (500, {"keys": []}),
        (200, b"<html>not json</html>"),
        (200, {"no": "keys"}),
        (200, {"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}]}),
        (200, {"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "weak"}]}),
    ],
)
def test_bad_jwks_documents(server: JwksServer, key_a: RSAKey, status: int, document: Any) -> None:
    server.status, server.document = status, document
    with pytest.raises(IdentityProviderUnavailable):
        _verifier(server.url, FakeMonotonic()).verify(sign(_claims(), key_a, "key-a"))


def test_weak_and_foreign_keys_are_skipped(server: JwksServer, key_a: RSAKey) -> None:
    good = dict(key_a.as_dict(private=False), alg="RS256")
    server.document = {
        "keys": [
            {"kty": "RSA", "n": b64url(b"\xff" * 64), "e": "AQAB", "kid": "weak"},  # 512-bit
            dict(good, kid="enc-key", use="enc"),
            dict(good, kid="ps-key", alg="PS256"),
            good,
        ]
    }
    verifier = _verifier(server.url, FakeMonotonic())
    verifier.verify(sign(_claims(), key_a, "key-a"))
    for kid in ("weak", "enc-key", "ps-key"):
        with pytest.raises(AuthenticationFailed, match="signing key unknown"):
            verifier.verify(sign(_claims(), key_a, kid))


def test_claims_are_checked_for_external_tokens(server: JwksServer, key_a: RSAKey) -> None:
    server.publish(key_a)
    verifier = _verifier(server.url, FakeMonotonic())
    cases = [
        (_claims(iss="https://evil.example"), "token issuer mismatch"),
        (_claims(aud="someone-else"), "token audience mismatch"),
        (_claims(exp=int(time.time()) - 3600), "token expired"),
        (_claims(agency_code=None), "token missing agency_code claim for agency scope"),
    ]
    for claims, message in cases:
        with pytest.raises(AuthenticationFailed) as info:
            verifier.verify(sign(claims, key_a, "key-a"))
        assert info.value.detail == message
