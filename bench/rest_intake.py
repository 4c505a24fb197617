"""REST intake throughput: ``POST /api/v1/entries`` of the gateway (auth, full validation,
one committed transaction on SQLite) against a bare connexion endpoint that accepts the same
JSON and does no work, both under uvicorn on loopback, measured in the same run."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from connexion import AsyncApp

from gateway.app import create_app
from gateway.config import Settings
from gateway.services import build_services
from tests.support.filings import sample_filing
from tests.support.live_server import live_server


def bare_handler(body: Any) -> tuple[dict[str, str], int]:
    return {"status": "ACCEPTED"}, 202


def _bare_app() -> Any:
    app = AsyncApp(__name__, specification_dir=Path(__file__).parent)
    app.add_api("bare.yaml")
    return app


def _post_many(base_url: str, bodies: list[dict[str, Any]], token: str | None) -> float:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        client.post("/api/v1/entries", json=bodies[0])  # warm up (and the first entry)
        started = time.perf_counter()
        for body in bodies[1:]:
            response = client.post("/api/v1/entries", json=body)
            assert response.status_code == 202, response.text
        elapsed = time.perf_counter() - started
    return (len(bodies) - 1) / elapsed


def run(count: int = 300) -> dict[str, Any]:
    bodies = [sample_filing("fda-frozen-shrimp", serial=2000000 + i) for i in range(count + 1)]
    with live_server(_bare_app()) as url:
        bare = _post_many(url, bodies, None)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(var_dir=Path(tmp))
        services = build_services(settings)
        try:
            client_id, _ = services.identity.ensure_client("filer", "ABC")
            client = services.identity.find_client(client_id)
            assert client is not None
            token = services.issuer.issue(client)["access_token"]
            with live_server(create_app(services)) as url:
                ours = _post_many(url, bodies, token)
        finally:
            services.close()
    return {
        "requests": count,
        "gateway_requests_per_second": round(ours, 1),
        "bare_connexion_requests_per_second": round(bare, 1),
        "ratio_to_bare": round(ours / bare, 4),
    }
