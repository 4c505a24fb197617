"""Webhooks end to end: the embedded runtime (simulator answers, dispatch, webhook sender)
posts every status change to a real local receiver, signed, in order, exactly once, also
across a gateway restart; a receiver that keeps failing gets its subscription suspended."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from gateway.background_server import BackgroundServer
from gateway.config import Settings
from gateway.dispatch import RetryPolicy
from gateway.notify import SIGNATURE_HEADER, WebhookSender, sign, verify_signature
from gateway.services import Services
from tests.support.embedded import fast_settings, running_gateway, wait_for
from tests.support.filings import sample_filing
from tests.support.receiver import Receiver


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return fast_settings(tmp_path, database_url)


@contextmanager
def gateway(settings: Settings) -> Iterator[tuple[Services, httpx.Client]]:
    with running_gateway(settings) as (services, http, _):
        yield services, http


def _feed(http: httpx.Client) -> list[dict[str, object]]:
    items: list[dict[str, object]] = http.get("/api/v1/events", params={"limit": 500}).json()[
        "items"
    ]
    return items


def test_every_change_reaches_the_webhook_once_in_order_across_a_restart(
    settings: Settings,
) -> None:
    receiver = Receiver()
    with BackgroundServer(receiver.app()) as hook:
        with gateway(settings) as (_, http):
            created = http.post("/api/v1/subscriptions", json={"url": f"{hook.url}/hook"})
            assert created.status_code == 201, created.text
            secret = created.json()["secret"]
            first = sample_filing("vehicle-epa-nhtsa", serial=6000001)
            assert http.post("/api/v1/entries", json=first).status_code == 202
            wait_for(
                lambda: (
                    http.get(f"/api/v1/entries/{first['entry_number']}/status").json()["status"]
                    == "MAY_PROCEED"
                ),
                30,
                "first entry cleared",
            )
        # The gateway stops (workers finish their in-flight work) and starts again.
        with gateway(settings) as (_, http):
            second = sample_filing("fda-frozen-shrimp", serial=6000002)
            assert http.post("/api/v1/entries", json=second).status_code == 202
            wait_for(
                lambda: (
                    http.get(f"/api/v1/entries/{second['entry_number']}/status").json()["status"]
                    == "MAY_PROCEED"
                ),
                30,
                "second entry cleared",
            )
            wait_for(lambda: len(receiver.calls) >= len(_feed(http)), 30, "webhooks caught up")
            feed = _feed(http)

    bodies = [json.loads(call.body) for call in receiver.calls]
    assert [b["id"] for b in bodies] == [e["id"] for e in feed]  # each once, in feed order
    assert {b["entry_number"] for b in bodies} == {first["entry_number"], second["entry_number"]}
    for call in receiver.calls:
        assert verify_signature(secret, call.headers[SIGNATURE_HEADER.lower()], call.body)
        assert call.headers["x-pga-event-id"] == str(json.loads(call.body)["id"])
    kinds = [(b["entry_number"], b["kind"], b["data"].get("status")) for b in bodies]
    assert (first["entry_number"], "entry.status_changed", "MAY_PROCEED") in kinds
    agency_changes = [
        (b["data"]["agency_code"], b["data"]["status_code"])
        for b in bodies
        if b["kind"] == "agency.status_changed" and b["entry_number"] == first["entry_number"]
    ]
    assert ("EPA", "01") in agency_changes and ("EPA", "07") in agency_changes
    assert agency_changes.index(("EPA", "01")) < agency_changes.index(("EPA", "07"))


def test_a_failing_receiver_is_suspended_then_resumed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gateway.notify.SUSPEND_AFTER_FAILURES", 3)
    receiver = Receiver(status=503)
    with BackgroundServer(receiver.app()) as hook:
        quiet = replace(settings, dispatch_workers=0)  # the test drives the sender
        with gateway(quiet) as (services, http):
            sub = http.post("/api/v1/subscriptions", json={"url": f"{hook.url}/hook"}).json()
            entry = sample_filing("aphis-lacey-oak", serial=6000003)
            assert http.post("/api/v1/entries", json=entry).status_code == 202
            with httpx.Client(base_url=str(http.base_url)) as agency:
                token = services.agency_token("APH")
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
                posted = agency.post(
                    f"/api/v1/entries/{entry['entry_number']}/dispositions",
                    json=answer,
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert posted.status_code == 200
            sender = WebhookSender(services.database, RetryPolicy(50, 0.001, 0.001), timeout=5)
            try:
                for _ in range(10):
                    sender.run_once()
                    time.sleep(0.01)
                [listed] = http.get("/api/v1/subscriptions").json()["items"]
                assert listed["state"] == "suspended"
                assert listed["last_error"] == "HTTP 503"
                assert listed["pending_deliveries"] == 2
                assert len(receiver.calls) == 3
                assert sender.run_once() == 0  # suspended: nothing is attempted

                receiver.status = 200
                resumed = http.post(f"/api/v1/subscriptions/{sub['id']}/resume").json()
                assert resumed["state"] == "active"
                for _ in range(5):
                    sender.run_once()
            finally:
                sender.close()
            [listed] = http.get("/api/v1/subscriptions").json()["items"]
            assert listed["pending_deliveries"] == 0
            delivered = [json.loads(c.body)["id"] for c in receiver.calls[3:]]
            assert delivered == [e["id"] for e in _feed(http)]


def test_signatures_reject_tampering_and_old_timestamps() -> None:
    body = b'{"id":1}'
    now = int(time.time())
    header = sign("s3cret", now, body)
    assert verify_signature("s3cret", header, body)
    assert not verify_signature("s3cret", header, body + b" ")
    assert not verify_signature("other", header, body)
    assert not verify_signature("s3cret", sign("s3cret", now - 3600, body), body)
    assert not verify_signature("s3cret", "garbage", body)
