"""The whole embedded gateway for end-to-end tests: API server, agency simulator, workers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from gateway.app import create_app
from gateway.background_server import BackgroundServer
from gateway.config import Settings
from gateway.runtime import Embedded, embedded
from gateway.services import Services, build_services


def fast_settings(var_dir: Path, database_url: str) -> Settings:
    """Settings that keep end-to-end tests quick: short polls and backoff."""
    return Settings(
        var_dir=var_dir,
        database_url=database_url,
        dispatch_workers=2,
        dispatch_poll_ms=20,
        dispatch_backoff_base_ms=20,
        dispatch_backoff_max_ms=300,
    )


def filer_token(services: Services, filer_code: str = "ABC") -> str:
    client_id, _ = services.identity.ensure_client("filer", filer_code)
    client = services.identity.find_client(client_id)
    assert client is not None
    token: str = services.issuer.issue(client)["access_token"]
    return token


@contextmanager
def running_gateway(settings: Settings) -> Iterator[tuple[Services, httpx.Client, Embedded]]:
    """Yield the services, an HTTP client with filer ABC's token, and the runtime."""
    services = build_services(settings)
    try:
        with (
            BackgroundServer(create_app(services)) as server,
            embedded(services, server.url) as runtime,
        ):
            headers = {"Authorization": f"Bearer {filer_token(services)}"}
            with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
                yield services, http, runtime
    finally:
        services.close()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until ``condition()`` holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
