"""RFC 6749 §4.4 client-credentials handling, framework-free."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from gateway.auth.identity import IdentityStore
from gateway.auth.oauth import handle_token_request
from gateway.auth.tokens import LocalKeyVerifier, TokenIssuer
from gateway.config import Settings

FORM = "application/x-www-form-urlencoded"
GRANT = {"grant_type": "client_credentials"}


@pytest.fixture
def client(store: IdentityStore) -> tuple[str, str]:
    client_id = "filer-OAU"
    if store.find_client(client_id) is None:
        store.ensure_client("filer", "OAU")
    return client_id, store.rotate_secret(client_id)


def _basic(client_id: str, secret: str) -> str:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def _assert_no_store(headers: dict[str, str]) -> None:
    assert headers["Cache-Control"] == "no-store"
    assert headers["Pragma"] == "no-cache"


def test_client_secret_basic(
    client: tuple[str, str],
    store: IdentityStore,
    issuer: TokenIssuer,
    verifier: LocalKeyVerifier,
) -> None:
    status, body, headers = handle_token_request(GRANT, _basic(*client), FORM, store, issuer)
    assert status == 200, body
    assert body["token_type"] == "Bearer" and body["scope"] == "filer"
    assert body["expires_in"] == 900
    _assert_no_store(headers)
    assert verifier.verify(body["access_token"]).filer_code == "OAU"


def test_client_secret_post_with_charset(
    client: tuple[str, str], store: IdentityStore, issuer: TokenIssuer
) -> None:
    form = {**GRANT, "client_id": client[0], "client_secret": client[1]}
    status, body, headers = handle_token_request(
        form, None, FORM + "; charset=UTF-8", store, issuer
    )
    assert status == 200, body
    _assert_no_store(headers)


def test_basic_with_matching_body_client_id(
    client: tuple[str, str], store: IdentityStore, issuer: TokenIssuer
) -> None:
    form = {**GRANT, "client_id": client[0]}
    assert handle_token_request(form, _basic(*client), FORM, store, issuer)[0] == 200
    form = {**GRANT, "client_id": "filer-ZZZ"}
    status, body, _ = handle_token_request(form, _basic(*client), FORM, store, issuer)
    assert (status, body["error"]) == (400, "invalid_request")


@pytest.mark.parametrize("how", ["basic", "post"])
def test_wrong_secret_and_unknown_client(
    how: str, client: tuple[str, str], store: IdentityStore, issuer: TokenIssuer
) -> None:
    answers = []
    for client_id, secret in [(client[0], "wrong"), ("filer-NOP", client[1])]:
        if how == "basic":
            form, authorization = GRANT, _basic(client_id, secret)
        else:
            form = {**GRANT, "client_id": client_id, "client_secret": secret}
            authorization = None
        status, body, headers = handle_token_request(form, authorization, FORM, store, issuer)
        assert status == 401
        assert body["error"] == "invalid_client"
        assert headers["WWW-Authenticate"] == 'Basic realm="pga-gateway"'
        _assert_no_store(headers)
        assert secret not in str(body)
        answers.append(body)
    assert answers[0] == answers[1]  # unknown client and wrong secret look the same


def test_both_methods_at_once(
    client: tuple[str, str], store: IdentityStore, issuer: TokenIssuer
) -> None:
    form = {**GRANT, "client_id": client[0], "client_secret": client[1]}
    status, body, headers = handle_token_request(form, _basic(*client), FORM, store, issuer)
    assert (status, body["error"]) == (400, "invalid_request")
    assert "one client authentication method" in body["error_description"]
    _assert_no_store(headers)


@pytest.mark.parametrize(
    "authorization",
    ["Basic", "Basic !!!notbase64", "Basic " + base64.b64encode(b"no-colon").decode(), "Bearer x"],
)
def test_malformed_client_authentication(
    authorization: str, store: IdentityStore, issuer: TokenIssuer
) -> None:
    status, body, headers = handle_token_request(GRANT, authorization, FORM, store, issuer)
    assert (status, body["error"]) == (401, "invalid_client")
    assert headers["WWW-Authenticate"] == 'Basic realm="pga-gateway"'


def test_no_client_authentication(store: IdentityStore, issuer: TokenIssuer) -> None:
    status, body, _ = handle_token_request(GRANT, None, FORM, store, issuer)
    assert (status, body["error"]) == (401, "invalid_client")
    status, body, _ = handle_token_request({**GRANT, "client_id": "x"}, None, FORM, store, issuer)
    assert (status, body["error"]) == (401, "invalid_client")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
        ({}, "invalid_request"),
    ],
)
def test_grant_type(
    form: dict[str, str],
    error: str,
    client: tuple[str, str],
    store: IdentityStore,
    issuer: TokenIssuer,
) -> None:
    status, body, headers = handle_token_request(form, _basic(*client), FORM, store, issuer)
    assert (status, body["error"]) == (400, error)
    assert set(body) <= {"error", "error_description"}
    _assert_no_store(headers)


@pytest.mark.parametrize(
    "content_type", [None, "application/json", "text/plain", "multipart/form-data"]
)
def test_content_type(
    content_type: str | None, client: tuple[str, str], store: IdentityStore, issuer: TokenIssuer
) -> None:
    status, body, _ = handle_token_request(GRANT, _basic(*client), content_type, store, issuer)
    assert (status, body["error"]) == (400, "invalid_request")
    assert FORM in body["error_description"]


@pytest.mark.parametrize(
    ("scope", "status", "granted"),
    [
        ("filer", 200, "filer"),
        ("  filer  ", 200, "filer"),
        ("filer admin", 400, None),
        ("admin", 400, None),
        ("", 400, None),
    ],
)
def test_scope_subset(
    scope: str,
    status: int,
    granted: str | None,
    client: tuple[str, str],
    store: IdentityStore,
    issuer: TokenIssuer,
) -> None:
    got, body, _ = handle_token_request(
        {**GRANT, "scope": scope}, _basic(*client), FORM, store, issuer
    )
    assert got == status, body
    if granted:
        assert body["scope"] == granted
    else:
        assert body["error"] == "invalid_scope"


def test_narrowed_scope_drops_code_claims(tmp_path: Path) -> None:
    """A multi-scope client narrowing to one scope gets only that scope's code claim."""
    import json

    path = tmp_path / "identity.json"
    store = IdentityStore.load_or_create(path)
    store.ensure_client("admin", None)
    secret = store.rotate_secret("admin")
    data = json.loads(path.read_text())
    data["clients"]["admin"]["scopes"] = ["admin", "filer"]
    data["clients"]["admin"]["filer_code"] = "ADM"
    path.write_text(json.dumps(data))
    settings = Settings(identity_file=path)
    issuer = TokenIssuer(store, settings)
    verifier = LocalKeyVerifier(
        store, issuer=settings.token_issuer, audience=settings.token_audience
    )
    status, body, _ = handle_token_request(
        {**GRANT, "scope": "admin"}, _basic("admin", secret), FORM, store, issuer
    )
    assert status == 200, body
    principal = verifier.verify(body["access_token"])
    assert principal.scopes == frozenset({"admin"}) and principal.filer_code is None
