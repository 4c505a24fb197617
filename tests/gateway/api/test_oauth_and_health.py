"""The token endpoint and health checks over real HTTP."""

from __future__ import annotations

import httpx

from gateway.services import Services


def test_client_credentials_token_opens_the_api(client: httpx.Client, services: Services) -> None:
    client_id, _ = services.identity.ensure_client("filer", "QRS")
    secret = services.identity.rotate_secret(client_id)
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    token = response.json()["access_token"]
    listed = client.get("/api/v1/entries", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200


def test_wrong_secret_is_invalid_client(client: httpx.Client, services: Services) -> None:
    client_id, _ = services.identity.ensure_client("filer", "QRT")
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, "wrong")
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_health_and_readiness(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"


def test_spec_is_served_and_every_response_has_a_correlation_id(client: httpx.Client) -> None:
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    assert "/entries" in spec.json()["paths"]
    assert len(client.get("/healthz").headers["x-correlation-id"]) >= 16
    echoed = client.get("/healthz", headers={"X-Correlation-ID": "abc-123"})
    assert echoed.headers["x-correlation-id"] == "abc-123"
    hostile = client.get("/healthz", headers={"X-Correlation-ID": "a\tb" * 40})
    assert hostile.headers["x-correlation-id"] != "a\tb" * 40


def test_unknown_path_is_problem_json(client: httpx.Client) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_metrics_report_requests_and_backlogs(
    client: httpx.Client, filer_client: httpx.Client
) -> None:
    from tests.support.filings import sample_filing

    assert (
        filer_client.post("/api/v1/entries", json=sample_filing("vehicle-epa-nhtsa")).status_code
        == 202
    )
    client.get("/api/v1/entries")  # a 401, counted too
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'pga_http_requests_total{method="POST",route="/api/v1/entries",status="202"} 1' in text
    assert 'pga_http_requests_total{method="GET",route="/api/v1/entries",status="401"} 1' in text
    assert 'pga_outbox_messages{state="pending"} 2' in text  # EPA and NHTSA, no workers here
    assert 'pga_entries{status="PENDING"} 1' in text
    for line in text.splitlines():  # every sample line is `name{labels} number`
        if not line.startswith("#"):
            float(line.rsplit(" ", 1)[1])
