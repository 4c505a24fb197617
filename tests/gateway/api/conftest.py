"""A real gateway on a real port, per test, on the run's database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.services import Services, build_services
from tests.support.live_server import live_server

SHARED = Path(__file__).resolve().parents[3].parent / "shared"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        var_dir=tmp_path,
        database_url=database_url,
        identity_file=tmp_path / "identity.json",
        max_body_bytes=256 * 1024,
    )


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


@pytest.fixture
def base_url(services: Services) -> Iterator[str]:
    with live_server(create_app(services)) as url:
        yield url


@pytest.fixture
def token_for(services: Services) -> Callable[..., str]:
    """Mint a bearer token through the real identity store (as `pga-gateway token` does)."""

    def mint(filer: str | None = None, agency: str | None = None, admin: bool = False) -> str:
        kind = "admin" if admin else "agency" if agency else "filer"
        client_id, _ = services.identity.ensure_client(kind, filer or agency)
        client = services.identity.find_client(client_id)
        assert client is not None
        token: str = services.issuer.issue(client)["access_token"]
        return token

    return mint


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        yield http


@pytest.fixture
def filer_client(base_url: str, token_for: Callable[..., str]) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {token_for(filer='ABC')}"}
    with httpx.Client(base_url=base_url, timeout=30, headers=headers) as http:
        yield http
