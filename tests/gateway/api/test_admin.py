"""Operator endpoints: list the outbox, re-drive dead letters (admin scope only)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from gateway.agency_client import AgencyRejected
from gateway.dispatch import Dispatcher, RetryPolicy
from gateway.services import Services
from tests.support.filings import sample_filing


class Refusing:
    def submit_pga_data(self, agency_code: str, message: Mapping[str, Any]) -> Mapping[str, Any]:
        raise AgencyRejected(agency_code, "schema invalid")


def test_dead_letters_are_listed_and_redriven_by_an_admin(
    services: Services,
    base_url: str,
    token_for: Callable[..., str],
    filer_client: httpx.Client,
) -> None:
    filing = sample_filing("aphis-lacey-oak")
    assert filer_client.post("/api/v1/entries", json=filing).status_code == 202
    Dispatcher(services.database, services.registry, Refusing(), RetryPolicy()).run_once()

    admin = {"Authorization": f"Bearer {token_for(admin=True)}"}
    with httpx.Client(base_url=base_url, headers=admin) as http:
        dead = http.get("/api/v1/admin/dispatch", params={"state": "dead"}).json()["items"]
        assert [(d["entry_number"], d["agency_code"]) for d in dead] == [
            (filing["entry_number"], "APH")
        ]
        assert dead[0]["history"][0]["outcome"] == "dead"
        assert "refused by APH" in dead[0]["last_error"]
        message_id = dead[0]["message_id"]

        response = http.post(f"/api/v1/admin/dispatch/{message_id}/retry")
        assert response.json() == {"message_id": message_id, "state": "pending"}
        assert http.post(f"/api/v1/admin/dispatch/{message_id}/retry").status_code == 409
        unknown = "00000000-0000-0000-0000-000000000000"
        assert http.post(f"/api/v1/admin/dispatch/{unknown}/retry").status_code == 404
        assert http.get("/api/v1/admin/dispatch", params={"state": "dead"}).json()["items"] == []
        assert http.get("/api/v1/admin/dispatch", params={"state": "lost"}).status_code == 400

    assert filer_client.get("/api/v1/admin/dispatch").status_code == 403
    assert filer_client.post(f"/api/v1/admin/dispatch/{message_id}/retry").status_code == 403
