"""Review pages over plain HTTP: sign-in, sessions, CSRF, isolation by direct requests."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from itsdangerous import TimestampSigner
from sqlalchemy import select

from gateway.db.models import DispositionRow, EventRow
from gateway.review.auth import SignInThrottle
from gateway.services import Services
from tests.gateway.review.support import (
    CBP_USER,
    EPA_USER,
    FDA_USER,
    PASSWORD,
    Scenario,
    csrf_of,
    sign_in,
    staff_client,
)


def _dispositions(services: Services) -> list[DispositionRow]:
    with services.database.read() as session:
        return list(session.scalars(select(DispositionRow)))


def test_sign_in_queue_entry_and_sign_out(base_url: str, scenario: Scenario) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as anon:
        assert anon.get("/review/queue").status_code == 303  # to the sign-in page
        response = sign_in(anon, FDA_USER)
        assert response.status_code == 303
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/review" in cookie
        queue = anon.get("/review/queue")
        assert queue.status_code == 200 and scenario.fda_entry in queue.text
        assert scenario.epa_entry not in queue.text
        docs = anon.get("/review/queue", params={"tab": "documents", "sort": "newest"})
        assert "shrimp-invoice.pdf" in docs.text
        none = anon.get("/review/queue", params={"program": "XYZ", "port": "9999"})
        assert scenario.fda_entry not in none.text
        page = anon.get(f"/review/entries/{scenario.fda_entry}")
        assert page.status_code == 200
        assert "Entity ID code" in page.text and "OCEANIC FOODS PROCESSING LTD" in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        out = anon.post("/review/logout", data={"csrf_token": csrf_of(page.text)})
        assert out.status_code == 303
        assert anon.get("/review/queue").status_code == 303


def test_wrong_password_is_refused_and_throttled(base_url: str, scenario: Scenario) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as anon:
        codes = [sign_in(anon, EPA_USER, "wrong password!").status_code for _ in range(5)]
        assert codes[:3] == [401, 401, 401]
        assert 429 in codes[3:]
        # Even the right password waits out the delay.
        assert sign_in(anon, EPA_USER).status_code == 429
        assert anon.get("/review/queue").status_code == 303


def test_throttle_doubles_the_delay() -> None:
    throttle = SignInThrottle(free=1, max_delay=100)
    throttle.failed("x")
    assert throttle.wait_seconds("x") == 0
    throttle.failed("x")
    first = throttle.wait_seconds("x")
    throttle.failed("x")
    assert throttle.wait_seconds("x") > first > 0
    throttle.succeeded("x")
    assert throttle.wait_seconds("x") == 0


def test_post_without_or_with_wrong_csrf_changes_nothing(
    base_url: str, scenario: Scenario, services: Services
) -> None:
    with staff_client(base_url, FDA_USER) as fda:
        url = f"/review/entries/{scenario.fda_entry}/dispositions"
        form = {"line": "all", "status_code": "02", "reason_code": "11", "remark": "x"}
        assert fda.post(url, data=form).status_code == 403
        assert fda.post(url, data={**form, "csrf_token": "forged"}).status_code == 403
        doc = f"/review/documents/{scenario.fda_document}/review"
        assert fda.post(doc, data={"status": "ACCEPTED"}).status_code == 403
        # A cross-site Origin is refused even with the right token.
        token = csrf_of(fda.get("/review/queue").text)
        evil = fda.post(
            url, data={**form, "csrf_token": token}, headers={"Origin": "https://evil.example"}
        )
        assert evil.status_code == 403
    assert _dispositions(services) == []
    with httpx.Client(base_url=base_url, timeout=30) as anon:
        login = {"username": FDA_USER, "password": PASSWORD}
        assert anon.post("/review/login", data=login).status_code == 403


def test_forged_or_tampered_session_cookie_is_signed_out(
    base_url: str, scenario: Scenario, services: Services
) -> None:
    import base64
    import json

    payload = {
        "user": {
            "username": FDA_USER,
            "agency_code": "FDA",
            "coordinator": False,
            "source": "local",
            "fingerprint": "x",
        },
        "csrf": "t",
        "iat": 9e9,
        "seen": 9e9,
    }
    data = base64.b64encode(json.dumps(payload).encode())
    forged = TimestampSigner("not-the-secret").sign(data).decode()
    url = f"/review/entries/{scenario.fda_entry}/dispositions"
    form = {"line": "all", "status_code": "02", "csrf_token": "t"}
    with httpx.Client(base_url=base_url, timeout=30, cookies={"pga_review": forged}) as c:
        assert c.get("/review/queue").status_code == 303
        assert c.post(url, data=form).status_code == 401
    with staff_client(base_url, FDA_USER) as fda:
        real = fda.cookies["pga_review"]
        tampered = real[:-3] + ("aaa" if not real.endswith("aaa") else "bbb")
        with httpx.Client(base_url=base_url, timeout=30, cookies={"pga_review": tampered}) as c:
            assert c.get("/review/queue").status_code == 303
    # A new password ends sessions opened with the old one.
    with staff_client(base_url, FDA_USER) as fda:
        services.identity.set_staff_user(FDA_USER, "another password", agency_code="FDA")
        assert fda.get("/review/queue").status_code == 303
    assert _dispositions(services) == []


def test_fda_hold_reaches_the_filer_with_an_audit_event(
    base_url: str, scenario: Scenario, services: Services, filer_client: httpx.Client
) -> None:
    with staff_client(base_url, FDA_USER) as fda:
        token = csrf_of(fda.get(f"/review/entries/{scenario.fda_entry}").text)
        response = fda.post(
            f"/review/entries/{scenario.fda_entry}/dispositions",
            data={
                "line": "1-1",
                "status_code": "02",
                "reason_code": "11",
                "remark": "sample for lab",
                "csrf_token": token,
            },
        )
        assert response.status_code == 303
        page = fda.get(response.headers["location"]).text
        assert "Recorded status 02" in page and "sample for lab" in page
        bad = fda.post(
            f"/review/entries/{scenario.fda_entry}/dispositions",
            data={"line": "all", "status_code": "02", "reason_code": "22", "csrf_token": token},
        )
        assert "goes with status 07" in fda.get(bad.headers["location"]).text
        asked = fda.post(
            f"/review/entries/{scenario.fda_entry}/document-requests",
            data={
                "line": "all",
                "label": "FDA_PRIOR_NOTICE",
                "remark": "lab certificate",
                "csrf_token": token,
            },
        )
        assert asked.status_code == 303
        assert "Recorded status 10" in fda.get(asked.headers["location"]).text
        reviewed = fda.post(
            f"/review/documents/{scenario.fda_document}/review",
            data={
                "status": "REJECTED",
                "reject_reason": "POOR_IMAGE_QUALITY",
                "comment": "blurred",
                "csrf_token": token,
            },
        )
        assert reviewed.status_code == 303
    status = filer_client.get(f"/api/v1/entries/{scenario.fda_entry}/status").json()
    assert status["status"] == "HOLD"
    line = status["lines"][0]
    assert (line["status_code"], line["agency_code"]) == ("10", "FDA")
    doc = filer_client.get(f"/api/v1/documents/{scenario.fda_document}").json()
    assert doc["review"]["DocumentReviewStatus"] == "REJECTED"
    with services.database.read() as session:
        events = list(session.scalars(select(EventRow).where(EventRow.kind == "review.action")))
    actions = {e.payload["action"] for e in events}
    assert {
        "signed_in",
        "disposition_recorded",
        "documents_requested",
        "document_reviewed",
    } <= actions
    assert all(e.payload["remote_address"] == "127.0.0.1" for e in events)
    assert all(e.actor == f"staff:{FDA_USER}" for e in events)


def test_epa_cannot_see_or_act_on_fda_work(
    base_url: str, scenario: Scenario, services: Services
) -> None:
    with staff_client(base_url, EPA_USER) as epa:
        queue = epa.get("/review/queue").text
        assert scenario.fda_entry not in queue and scenario.epa_entry in queue
        assert "shrimp-invoice.pdf" not in epa.get("/review/queue?tab=documents").text
        token = csrf_of(queue)
        fda_entry, doc = scenario.fda_entry, scenario.fda_document
        assert epa.get(f"/review/entries/{fda_entry}").status_code == 404
        assert epa.get(f"/review/documents/{doc}").status_code == 404
        assert epa.get(f"/review/documents/{doc}/content").status_code == 404
        for url, form in (
            (f"/review/entries/{fda_entry}/dispositions", {"line": "1-1", "status_code": "07"}),
            (f"/review/entries/{fda_entry}/document-requests", {"line": "all"}),
            (f"/review/documents/{doc}/review", {"status": "ACCEPTED"}),
        ):
            assert epa.post(url, data={**form, "csrf_token": token}).status_code == 404, url
        # Its own entry works, but naming an FDA line there is refused too.
        own = f"/review/entries/{scenario.epa_entry}"
        assert epa.get(own).status_code == 200
        fda_line = epa.post(
            own + "/dispositions", data={"line": "9-9", "status_code": "07", "csrf_token": token}
        )
        assert fda_line.status_code == 404
    with httpx.Client(base_url=base_url, timeout=30) as anon:
        assert anon.get(f"/review/documents/{doc}/content").status_code == 401
    assert _dispositions(services) == []


def test_coordinator_sees_everything_read_only(
    base_url: str, scenario: Scenario, services: Services
) -> None:
    with staff_client(base_url, CBP_USER) as cbp:
        queue = cbp.get("/review/queue").text
        assert scenario.fda_entry in queue and scenario.epa_entry in queue
        page = cbp.get(f"/review/entries/{scenario.fda_entry}")
        assert page.status_code == 200 and "Record a disposition" not in page.text
        assert cbp.get(f"/review/documents/{scenario.fda_document}/content").status_code == 200
        token = csrf_of(page.text)
        response = cbp.post(
            f"/review/entries/{scenario.fda_entry}/dispositions",
            data={"line": "all", "status_code": "07", "csrf_token": token},
        )
        assert response.status_code == 403
    assert _dispositions(services) == []


def test_staff_cli_adds_users_from_stdin(
    tmp_path, monkeypatch, capsys: Callable[..., object]
) -> None:
    import io

    from gateway.auth.identity import IdentityStore
    from gateway.cli import main

    identity = tmp_path / "identity.json"
    monkeypatch.setenv("PGA_GATEWAY_IDENTITY_FILE", str(identity))
    monkeypatch.setenv("PGA_GATEWAY_VAR_DIR", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["staff", "add", "--agency", "FDA", "dana"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["staff", "add", "--agency", "FDA", "erin"]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["staff", "add", "--coordinator", "frank"]) == 0
    store = IdentityStore.load_or_create(identity)
    assert store.verify_staff("dana", PASSWORD).agency_code == "FDA"
    assert store.find_staff("frank").is_coordinator  # type: ignore[union-attr]
    assert store.find_staff("erin") is None
    assert PASSWORD not in identity.read_text()
    assert main(["staff", "list"]) == 0
    assert main(["staff", "remove", "dana"]) == 0
    assert store.find_staff("dana") is None


def test_a_copied_cookie_stops_working_after_sign_out(base_url: str, scenario: Scenario) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        assert sign_in(browser, FDA_USER).status_code == 303
        kept = dict(browser.cookies)  # someone copies the session cookie
        page = browser.get("/review/queue")
        assert page.status_code == 200
        assert (
            browser.post("/review/logout", data={"csrf_token": csrf_of(page.text)}).status_code
            == 303
        )
    with httpx.Client(base_url=base_url, timeout=30, cookies=kept) as thief:
        assert thief.get("/review/queue").status_code == 303  # back to sign-in
        assert thief.get(f"/review/entries/{scenario.fda_entry}").status_code == 303
