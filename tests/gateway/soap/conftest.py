"""SOAP tests run against the same live gateway as the REST tests (same fixtures), on the run's
database; helpers build real zeep clients from the served WSDL and raw envelopes for the
hostile cases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import zeep
from zeep.wsse.username import UsernameToken

from gateway.services import Services
from tests.gateway.api import conftest as rest_fixtures

# The REST suite's fixtures, one definition shared, so both channels are tested against the
# same kind of live server on the run's database.
settings = rest_fixtures.settings
services = rest_fixtures.services
base_url = rest_fixtures.base_url
token_for = rest_fixtures.token_for
client = rest_fixtures.client
filer_client = rest_fixtures.filer_client

GW = "urn:pga-gateway:gateway:v1"


@pytest.fixture
def secret_for(services: Services) -> Callable[..., tuple[str, str]]:
    """(client_id, secret) of an embedded client, created or given a fresh secret."""

    def get(kind: str, code: str | None) -> tuple[str, str]:
        client_id, secret = services.identity.ensure_client(kind, code)  # type: ignore[arg-type]
        if secret is None:
            secret = services.identity.rotate_secret(client_id)
        return client_id, secret

    return get


@pytest.fixture
def soap_client(
    base_url: str, secret_for: Callable[..., tuple[str, str]]
) -> Iterator[Callable[..., Any]]:
    """A zeep client built from ``{base_url}/soap/gateway?wsdl`` with a UsernameToken."""
    transports: list[zeep.Transport] = []

    def build(
        kind: str = "filer", code: str | None = "ABC", *, digest: bool = True, **token: Any
    ) -> Any:
        client_id, secret = secret_for(kind, code)
        transport = zeep.Transport(timeout=30, operation_timeout=30)
        transports.append(transport)
        wsse = UsernameToken(client_id, secret, use_digest=digest, **token)
        return zeep.Client(f"{base_url}/soap/gateway?wsdl", wsse=wsse, transport=transport)

    yield build
    for transport in transports:
        transport.session.close()


def envelope(body: str, header: str = "") -> bytes:
    """A SOAP 1.1 envelope around ``body`` (our namespace bound to ``gw``)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:gw="{GW}"><soap:Header>{header}</soap:Header>'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()
