"""Shared fixtures for the auth tests: a real identity file, issuer and verifier."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from joserfc.jwk import RSAKey

from gateway.auth.identity import IdentityStore
from gateway.auth.tokens import LocalKeyVerifier, TokenIssuer
from gateway.config import Settings


@pytest.fixture(scope="session")
def shared_identity_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # RSA key generation is the slow part; most tests can share one identity file.
    return tmp_path_factory.mktemp("identity") / "identity.json"


@pytest.fixture
def store(shared_identity_path: Path) -> IdentityStore:
    return IdentityStore.load_or_create(shared_identity_path)


@pytest.fixture
def settings(shared_identity_path: Path) -> Settings:
    return Settings(identity_file=shared_identity_path)


@pytest.fixture
def issuer(store: IdentityStore, settings: Settings) -> TokenIssuer:
    return TokenIssuer(store, settings)


@pytest.fixture
def verifier(store: IdentityStore, settings: Settings) -> LocalKeyVerifier:
    return LocalKeyVerifier(store, issuer=settings.token_issuer, audience=settings.token_audience)


@pytest.fixture(scope="session")
def other_key() -> RSAKey:
    return RSAKey.generate_key(2048, private=True)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No PGA_GATEWAY_* from the developer's shell leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("PGA_GATEWAY_"):
            monkeypatch.delenv(name)
    yield
