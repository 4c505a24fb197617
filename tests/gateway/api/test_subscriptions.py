"""/api/v1/subscriptions and /api/v1/events through the real HTTP server."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.support.filings import sample_filing


def test_create_list_delete(filer_client: httpx.Client) -> None:
    created = filer_client.post(
        "/api/v1/subscriptions",
        json={"url": "https://broker.example/hooks", "kinds": ["entry.status_changed"]},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert len(body["secret"]) >= 32 and body["state"] == "active"
    [listed] = filer_client.get("/api/v1/subscriptions").json()["items"]
    assert listed["id"] == body["id"] and "secret" not in listed
    assert filer_client.delete(f"/api/v1/subscriptions/{body['id']}").status_code == 204
    assert filer_client.get("/api/v1/subscriptions").json()["items"] == []
    assert filer_client.delete(f"/api/v1/subscriptions/{body['id']}").status_code == 404


@pytest.mark.parametrize(
    ("payload", "status", "fragment"),
    [
        ({"url": "ftp://x.example/h"}, 422, "http(s)"),
        ({"url": "https://user:pw@x.example/h"}, 422, "credentials"),
        ({"url": "relative/path"}, 422, "absolute"),
        ({"url": "https://x.example", "kinds": ["everything"]}, 422, "kinds"),
        ({"hook": "https://x.example"}, 422, "url"),
    ],
)
def test_bad_subscriptions_are_refused(
    filer_client: httpx.Client, payload: dict[str, object], status: int, fragment: str
) -> None:
    response = filer_client.post("/api/v1/subscriptions", json=payload)
    assert response.status_code == status
    assert fragment in response.text
    assert filer_client.get("/api/v1/subscriptions").json()["items"] == []


def test_subscriptions_belong_to_their_filer(
    base_url: str, token_for: Callable[..., str], filer_client: httpx.Client
) -> None:
    sub = filer_client.post("/api/v1/subscriptions", json={"url": "https://a.example/h"}).json()
    other = {"Authorization": f"Bearer {token_for('XYZ')}"}
    agency = {"Authorization": f"Bearer {token_for(agency='FDA')}"}
    with httpx.Client(base_url=base_url) as http:
        assert http.get("/api/v1/subscriptions", headers=other).json()["items"] == []
        resume = f"/api/v1/subscriptions/{sub['id']}/resume"
        assert http.post(resume, headers=other).status_code == 404
        assert http.delete(f"/api/v1/subscriptions/{sub['id']}", headers=other).status_code == 404
        assert http.get("/api/v1/subscriptions", headers=agency).status_code == 403
        assert http.get("/api/v1/events", headers=agency).status_code == 403


def test_event_feed_pages_by_cursor(
    base_url: str, token_for: Callable[..., str], filer_client: httpx.Client
) -> None:
    filing = sample_filing("vehicle-epa-nhtsa")
    assert filer_client.post("/api/v1/entries", json=filing).status_code == 202
    url = f"/api/v1/entries/{filing['entry_number']}/dispositions"
    for agency in ("EPA", "NHT"):
        answer = {
            "dispositions": [
                {
                    "cbp_line_number": 1,
                    "pga_line_number": 1,
                    "status_code": "07",
                    "reason_code": "22",
                    "action_time": "2026-11-21T10:00:00Z",
                }
            ]
        }
        headers = {"Authorization": f"Bearer {token_for(agency=agency)}"}
        assert httpx.post(base_url + url, json=answer, headers=headers).status_code == 200

    everything = filer_client.get("/api/v1/events").json()
    kinds = [e["kind"] for e in everything["items"]]
    # Each agency's line went to 07; the entry went PENDING -> MAY_PROCEED once.
    assert kinds.count("agency.status_changed") == 2
    assert [
        e["data"]["status"] for e in everything["items"] if e["kind"] == "entry.status_changed"
    ] == ["MAY_PROCEED"]
    first = filer_client.get("/api/v1/events", params={"limit": 1}).json()
    rest = filer_client.get("/api/v1/events", params={"after": first["next_cursor"]}).json()
    assert first["items"] + rest["items"] == everything["items"]
    assert filer_client.get(
        "/api/v1/events", params={"after": everything["next_cursor"]}
    ).json() == {"items": [], "next_cursor": everything["next_cursor"]}
    other = {"Authorization": f"Bearer {token_for('XYZ')}"}
    assert httpx.get(base_url + "/api/v1/events", headers=other).json()["items"] == []


def test_an_older_answer_arriving_late_notifies_nothing(
    base_url: str, token_for: Callable[..., str], filer_client: httpx.Client
) -> None:
    filing = sample_filing("aphis-lacey-oak")
    assert filer_client.post("/api/v1/entries", json=filing).status_code == 202
    url = base_url + f"/api/v1/entries/{filing['entry_number']}/dispositions"
    headers = {"Authorization": f"Bearer {token_for(agency='APH')}"}

    def answer(status: str, reason: str, time: str) -> None:
        body = {
            "dispositions": [
                {
                    "cbp_line_number": 1,
                    "pga_line_number": 1,
                    "status_code": status,
                    "reason_code": reason,
                    "action_time": time,
                }
            ]
        }
        assert httpx.post(url, json=body, headers=headers).status_code == 200

    answer("07", "22", "2026-11-21T12:00:00Z")
    before = filer_client.get("/api/v1/events").json()["items"]
    answer("02", "11", "2026-11-21T08:00:00Z")  # older hold, arriving after the release
    assert filer_client.get("/api/v1/events").json()["items"] == before
    status = filer_client.get(f"/api/v1/entries/{filing['entry_number']}/status").json()
    assert status["status"] == "MAY_PROCEED"
