"""Review sign-in through a real OpenID Connect provider (tests/support/oidc_provider.py).

The gateway is configured with the ``oidc_*`` settings pointing at a provider served on
127.0.0.1; a "browser" (one httpx client, redirects followed one at a time so cookies carry
over) goes ``/review/oidc/login`` -> provider ``/authorize`` -> ``/review/oidc/callback``.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from gateway.config import Settings
from gateway.db.models import DispositionRow, EventRow
from gateway.services import Services
from tests.gateway.review.support import (
    FDA_USER,
    PASSWORD,
    Scenario,
    add_staff,
    csrf_of,
    file_entries,
)
from tests.support.oidc_provider import OidcProvider

CLIENT_ID = "pga-gateway-review"
CLIENT_SECRET = "oidc-client-secret-" + "s" * 32
SESSION_SECRET = "review-session-secret-for-the-oidc-tests"
FDA_PERSON = {"sub": "u-1001", "preferred_username": "fda.olivia", "pga_agency": "FDA"}
CBP_PERSON = {"sub": "u-2002", "preferred_username": "cbp.chen", "pga_agency": "CBP"}


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    with OidcProvider(CLIENT_ID, CLIENT_SECRET, user=dict(FDA_PERSON)) as running:
        yield running


@pytest.fixture
def settings(tmp_path: Path, database_url: str, provider: OidcProvider) -> Settings:
    """The REST suite's settings plus OIDC sign-in against ``provider``."""
    return Settings(
        var_dir=tmp_path,
        database_url=database_url,
        identity_file=tmp_path / "identity.json",
        max_body_bytes=256 * 1024,
        review_session_secret=SESSION_SECRET,
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
    )


@pytest.fixture
def gateway(base_url: str, provider: OidcProvider) -> str:
    """The live gateway's URL, its callback registered with the provider."""
    provider.redirect_uris.add(base_url + "/review/oidc/callback")
    return base_url


@pytest.fixture
def entries(services: Services, filer_client: httpx.Client) -> Scenario:
    add_staff(services)  # local users exist too: OIDC must still refuse their passwords
    return file_entries(filer_client)


@pytest.fixture
def browser(gateway: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway, timeout=30, follow_redirects=False) as client:
        yield client


# -- helpers ----------------------------------------------------------------------------------


def session_of(client: httpx.Client) -> dict[str, Any]:
    """The review session as the gateway sees it (the cookie, unsigned with the secret)."""
    raw = client.cookies.get("pga_review", path="/review")
    if not raw:
        return {}
    data = TimestampSigner(SESSION_SECRET).unsign(raw.encode())
    session: dict[str, Any] = json.loads(base64.b64decode(data))
    return session


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def to_provider(browser: httpx.Client) -> str:
    """Start sign-in at the gateway; the URL of the provider's authorize endpoint."""
    start = browser.get("/review/oidc/login")
    assert start.status_code == 302, start.text
    location = start.headers["location"]
    assert "/authorize?" in location
    return location


def to_callback(browser: httpx.Client, authorize_url: str) -> str:
    """The provider's answer (no login form): the gateway callback URL with code and state."""
    answer = browser.get(authorize_url)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert "/review/oidc/callback?" in location
    return location


def sign_in_via_provider(browser: httpx.Client) -> httpx.Response:
    """The whole redirect dance; the callback's response."""
    return browser.get(to_callback(browser, to_provider(browser)))


def signed_in_events(services: Services) -> list[EventRow]:
    with services.database.read() as session:
        rows = session.scalars(select(EventRow).where(EventRow.kind == "review.action"))
        return [row for row in rows if row.payload.get("action") == "signed_in"]


def dispositions(services: Services) -> list[DispositionRow]:
    with services.database.read() as session:
        return list(session.scalars(select(DispositionRow)))


def assert_signed_out(browser: httpx.Client, services: Services) -> None:
    assert "user" not in session_of(browser)
    queue = browser.get("/review/queue")
    assert queue.status_code == 303 and queue.headers["location"].startswith("/review/login")
    assert signed_in_events(services) == []


# -- sign-in ----------------------------------------------------------------------------------


def test_fda_user_signs_in_through_the_provider_and_acts_as_fda(
    browser: httpx.Client, provider: OidcProvider, entries: Scenario, services: Services
) -> None:
    # The sign-in page offers the provider, not a password form.
    login_page = browser.get("/review/login")
    assert login_page.status_code == 200
    assert "/review/oidc/login" in login_page.text and 'name="password"' not in login_page.text

    anonymous_csrf = session_of(browser)["csrf"]
    authorize_url = to_provider(browser)
    assert authorize_url.startswith(provider.issuer + "/authorize?")
    asked = query_of(authorize_url)
    assert asked["client_id"] == CLIENT_ID and asked["response_type"] == "code"
    assert asked["redirect_uri"] == str(browser.base_url).rstrip("/") + "/review/oidc/callback"
    assert "openid" in asked["scope"].split() and asked["state"] and asked["nonce"]

    callback_url = to_callback(browser, authorize_url)
    assert query_of(callback_url)["state"] == asked["state"]
    landed = browser.get(callback_url)
    assert landed.status_code == 303 and landed.headers["location"] == "/review/queue"
    cookie = landed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/review" in cookie

    # The gateway authenticated to the token endpoint with its secret, exactly once.
    assert [(t.auth_method, t.status) for t in provider.token_requests] == [
        ("client_secret_basic", 200)
    ]
    assert provider.token_requests[0].params["redirect_uri"] == asked["redirect_uri"]

    session = session_of(browser)
    assert session["user"] == {
        "username": "fda.olivia",
        "agency_code": "FDA",
        "coordinator": False,
        "source": "oidc",
        "fingerprint": None,
    }
    assert not [key for key in session if key.startswith("_state_")]  # nothing left over
    assert session["csrf"] != anonymous_csrf  # a fresh session, not the anonymous one

    queue = browser.get("/review/queue")
    assert queue.status_code == 200 and "fda.olivia" in queue.text
    assert entries.fda_entry in queue.text and entries.epa_entry not in queue.text
    page = browser.get(f"/review/entries/{entries.fda_entry}")
    assert page.status_code == 200 and "Record a disposition" in page.text
    assert browser.get(f"/review/entries/{entries.epa_entry}").status_code == 404

    # An FDA reviewer may act: the hold is recorded under the OIDC user's name.
    recorded = browser.post(
        f"/review/entries/{entries.fda_entry}/dispositions",
        data={
            "line": "1-1",
            "status_code": "02",
            "reason_code": "11",
            "remark": "lab",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert recorded.status_code == 303
    assert len(dispositions(services)) == 1
    events = signed_in_events(services)
    assert len(events) == 1 and events[0].actor == "staff:fda.olivia"
    assert events[0].payload["agency_code"] == "FDA"


def test_cbp_user_is_a_read_only_coordinator(
    browser: httpx.Client, provider: OidcProvider, entries: Scenario, services: Services
) -> None:
    provider.user = dict(CBP_PERSON)
    landed = sign_in_via_provider(browser)
    assert landed.status_code == 303 and landed.headers["location"] == "/review/queue"
    assert session_of(browser)["user"]["coordinator"] is True

    queue = browser.get("/review/queue")
    assert queue.status_code == 200
    assert entries.fda_entry in queue.text and entries.epa_entry in queue.text
    page = browser.get(f"/review/entries/{entries.fda_entry}")
    assert page.status_code == 200 and "Record a disposition" not in page.text
    assert browser.get(f"/review/entries/{entries.epa_entry}").status_code == 200
    token = csrf_of(page.text)
    for url, form in (
        (f"/review/entries/{entries.fda_entry}/dispositions", {"line": "all", "status_code": "07"}),
        (f"/review/entries/{entries.fda_entry}/document-requests", {"line": "all"}),
        (f"/review/documents/{entries.fda_document}/review", {"status": "ACCEPTED"}),
    ):
        refused = browser.post(url, data={**form, "csrf_token": token})
        assert refused.status_code == 403 and "Read-only" in refused.text, url
    assert dispositions(services) == []
    assert browser.get(f"/review/documents/{entries.fda_document}").status_code == 200


# -- refusals ---------------------------------------------------------------------------------


def test_wrong_state_is_refused(
    browser: httpx.Client, provider: OidcProvider, services: Services
) -> None:
    callback = to_callback(browser, to_provider(browser))
    params = query_of(callback)
    forged = (
        callback.split("?")[0]
        + "?"
        + urllib.parse.urlencode({"code": params["code"], "state": "not-" + params["state"]})
    )
    answer = browser.get(forged)
    assert answer.status_code == 401
    assert provider.token_requests == []  # the code was never even redeemed
    assert_signed_out(browser, services)
    # Without any state at all, likewise.
    missing = callback.split("?")[0] + "?" + urllib.parse.urlencode({"code": params["code"]})
    assert browser.get(missing).status_code == 401
    assert_signed_out(browser, services)


def test_callback_from_another_browser_is_refused(
    browser: httpx.Client, gateway: str, services: Services
) -> None:
    """Login CSRF: a callback URL started in the attacker's browser is useless in the victim's."""
    callback = to_callback(browser, to_provider(browser))
    with httpx.Client(base_url=gateway, timeout=30) as victim:
        assert victim.get(callback).status_code == 401
        assert_signed_out(victim, services)


@pytest.mark.parametrize(
    "mode", ["foreign_key", "foreign_kid", "tampered", "none", "hs256"], ids=lambda m: m
)
def test_badly_signed_id_token_is_refused(
    mode: str, browser: httpx.Client, provider: OidcProvider, services: Services
) -> None:
    provider.id_token_mode = mode
    answer = sign_in_via_provider(browser)
    assert answer.status_code == 401
    assert [t.status for t in provider.token_requests] == [200]  # the provider said yes
    assert_signed_out(browser, services)


@pytest.mark.parametrize(
    "knob",
    [
        {"audience": "some-other-client"},
        {"audience": "some-other-client", "extra_claims": {"azp": CLIENT_ID}},
        {"extra_claims": {"aud": ["some-other-client", "and-another"], "azp": CLIENT_ID}},
        {"issuer_override": "https://impostor.example"},
        {"nonce_override": "a-nonce-from-another-sign-in"},
        {"id_token_lifetime": -3600},
        {"id_token_lifetime": -300},  # beyond any reasonable clock-skew leeway
        {"issue_id_token": False},
    ],
    ids=[
        "wrong-audience",
        "wrong-audience-our-azp",
        "audiences-without-us",
        "wrong-issuer",
        "wrong-nonce",
        "expired",
        "expired-5min",
        "no-id",
    ],
)
def test_id_token_with_bad_claims_is_refused(
    knob: dict[str, Any], browser: httpx.Client, provider: OidcProvider, services: Services
) -> None:
    for name, value in knob.items():
        setattr(provider, name, value)
    answer = sign_in_via_provider(browser)
    assert answer.status_code in (401, 403)
    assert_signed_out(browser, services)


def test_several_audiences_including_ours_with_azp_are_accepted(
    browser: httpx.Client, provider: OidcProvider
) -> None:
    provider.extra_claims = {"aud": [CLIENT_ID, "a-resource-server"], "azp": CLIENT_ID}
    assert sign_in_via_provider(browser).status_code == 303
    assert session_of(browser)["user"]["username"] == "fda.olivia"


@pytest.mark.parametrize(
    "agency",
    [None, "", "ZZZ", "fda", "FDAX", ["FDA", "EPA"], 7],
    ids=["missing", "empty", "unknown", "lower-case", "too-long", "two", "number"],
)
def test_missing_or_unknown_agency_is_refused(
    agency: Any, browser: httpx.Client, provider: OidcProvider, services: Services
) -> None:
    person = {k: v for k, v in FDA_PERSON.items() if k != "pga_agency"}
    if agency is not None:
        person["pga_agency"] = agency
    provider.user = person
    answer = sign_in_via_provider(browser)
    assert answer.status_code == 403 and "No agency" in answer.text
    assert_signed_out(browser, services)


def test_agency_as_a_one_element_list_is_accepted(
    browser: httpx.Client, provider: OidcProvider, services: Services
) -> None:
    provider.user = {**FDA_PERSON, "pga_agency": ["FDA"]}
    assert sign_in_via_provider(browser).status_code == 303
    assert session_of(browser)["user"]["agency_code"] == "FDA"


def test_replayed_authorization_code_is_refused(
    browser: httpx.Client, provider: OidcProvider, gateway: str, services: Services
) -> None:
    callback = to_callback(browser, to_provider(browser))
    code = query_of(callback)["code"]
    assert browser.get(callback).status_code == 303  # first use signs in
    # The same callback again in the same browser: the state is spent, the provider not asked.
    assert browser.get(callback).status_code == 401
    # A fresh browser with its own valid state, but the spent code.
    with httpx.Client(base_url=gateway, timeout=30) as thief:
        state = query_of(to_provider(thief))["state"]
        replay = (
            callback.split("?")[0] + "?" + urllib.parse.urlencode({"code": code, "state": state})
        )
        answer = thief.get(replay)
        assert answer.status_code == 401
        assert "user" not in session_of(thief)
        assert thief.get("/review/queue").status_code == 303
    assert [(t.status, t.error) for t in provider.token_requests] == [
        (200, None),
        (400, "invalid_grant"),
    ]
    assert len(signed_in_events(services)) == 1


def test_provider_error_and_bad_client_secret_are_refused(
    browser: httpx.Client, provider: OidcProvider, services: Services
) -> None:
    # The user declined at the provider.
    state = query_of(to_provider(browser))["state"]
    denied = browser.get("/review/oidc/callback", params={"error": "access_denied", "state": state})
    assert denied.status_code == 401
    assert_signed_out(browser, services)
    # The provider does not accept the gateway's client secret.
    provider.client_secret = "rotated-" + CLIENT_SECRET
    assert sign_in_via_provider(browser).status_code == 401
    assert [(t.status, t.error) for t in provider.token_requests] == [(401, "invalid_client")]
    assert_signed_out(browser, services)


def test_refused_sign_in_does_not_switch_an_existing_session(
    browser: httpx.Client, provider: OidcProvider, services: Services
) -> None:
    """A refused second sign-in neither becomes the new identity nor drops the old one."""
    assert sign_in_via_provider(browser).status_code == 303
    before = session_of(browser)
    provider.user = dict(CBP_PERSON)
    provider.id_token_mode = "foreign_key"
    assert sign_in_via_provider(browser).status_code == 401
    after = session_of(browser)
    assert after["user"] == before["user"] and after["user"]["agency_code"] == "FDA"
    assert after["csrf"] == before["csrf"]
    assert browser.get("/review/queue").status_code == 200
    assert len(signed_in_events(services)) == 1


# -- local passwords --------------------------------------------------------------------------


def test_local_password_sign_in_is_refused(
    browser: httpx.Client, entries: Scenario, services: Services
) -> None:
    browser.get("/review/login")
    token = session_of(browser)["csrf"]  # a valid CSRF token: only OIDC can refuse this
    answer = browser.post(
        "/review/login",
        data={"username": FDA_USER, "password": PASSWORD, "csrf_token": token},
    )
    assert answer.status_code == 403 and "provider" in answer.text
    assert_signed_out(browser, services)


def test_unreachable_provider_is_a_clean_refusal(
    browser: httpx.Client, provider: OidcProvider, services: Services
) -> None:
    provider.__exit__(None, None, None)  # the provider goes away
    answer = browser.get("/review/oidc/login")
    assert answer.status_code == 503 and "cannot be reached" in answer.text
    assert_signed_out(browser, services)
    # It comes back on the same address: sign-in works again without restarting the gateway.
    port = urllib.parse.urlsplit(provider.issuer).port
    with OidcProvider(CLIENT_ID, CLIENT_SECRET, user=dict(FDA_PERSON), port=port) as again:
        assert again.issuer == provider.issuer
        again.redirect_uris |= provider.redirect_uris
        assert sign_in_via_provider(browser).status_code == 303
    assert session_of(browser)["user"]["agency_code"] == "FDA"
