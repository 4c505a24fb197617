"""SOAP intake throughput: ``SubmitEntry`` (envelope checks, PasswordDigest UsernameToken with a
nonce stored per call, body schema validation, XML -> JSON mapping, then the same intake as
REST) against REST ``POST /api/v1/entries`` of the same entries, same server, same run.

Both sides are plain httpx posts of pre-built bodies, so the client's own cost (zeep would
build each envelope) does not count against the server.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import tempfile
import time
from html import escape
from pathlib import Path
from typing import Any

import httpx

from gateway.app import create_app
from gateway.config import Settings
from gateway.services import build_services
from tests.support.filings import sample_filing
from tests.support.live_server import live_server

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DIGEST = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordDigest"
)


def _security(username: str, secret: str) -> str:
    nonce = os.urandom(16)
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + secret.encode()).digest())
    return (
        f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>'
        f"<wsse:Username>{username}</wsse:Username>"
        f'<wsse:Password Type="{DIGEST}">{digest.decode()}</wsse:Password>'
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>"
    )


def _entry(filing: dict[str, Any]) -> str:
    lines = "".join(
        f"<gw:Line><gw:LineNumber>{line['line_number']}</gw:LineNumber>"
        f"<gw:HTSNumber>{line['hts_number']}</gw:HTSNumber>"
        f"<gw:CountryOfOrigin>{line['country_of_origin']}</gw:CountryOfOrigin>"
        f"<gw:Value>{line['value']}</gw:Value>"
        f"<gw:CatairRecords>{escape(line['catair'])}</gw:CatairRecords></gw:Line>"
        for line in filing["lines"]
    )
    return (
        f"<gw:SubmitEntryRequest><gw:Entry><gw:EntryNumber>{filing['entry_number']}"
        f"</gw:EntryNumber><gw:FilerCode>{filing['filer_code']}</gw:FilerCode>"
        f"<gw:EntryType>{filing['entry_type']}</gw:EntryType>"
        f"<gw:PortOfEntry>{filing['port_of_entry']}</gw:PortOfEntry>"
        f"<gw:ImporterOfRecord>{filing['importer_of_record']}</gw:ImporterOfRecord>"
        f"<gw:ModeOfTransport>{filing['mode_of_transport']}</gw:ModeOfTransport>"
        f"<gw:EstimatedArrival>{filing['estimated_arrival']}</gw:EstimatedArrival>"
        f"{lines}</gw:Entry></gw:SubmitEntryRequest>"
    )


def _envelope(filing: dict[str, Any], username: str, secret: str) -> bytes:
    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:gw="urn:pga-gateway:gateway:v1">'
        f"<soap:Header>{_security(username, secret)}</soap:Header>"
        f"<soap:Body>{_entry(filing)}</soap:Body></soap:Envelope>"
    ).encode()


def _rate(client: httpx.Client, send: Any, bodies: list[Any]) -> float:
    send(client, bodies[0])  # warm up
    started = time.perf_counter()
    for body in bodies[1:]:
        send(client, body)
    return (len(bodies) - 1) / (time.perf_counter() - started)


def _rest(client: httpx.Client, body: dict[str, Any]) -> None:
    response = client.post("/api/v1/entries", json=body)
    assert response.status_code == 202, response.text


def run(count: int = 200) -> dict[str, Any]:
    rest_bodies = [sample_filing("fda-frozen-shrimp", serial=3000000 + i) for i in range(count + 1)]
    soap_filings = [
        sample_filing("fda-frozen-shrimp", serial=4000000 + i) for i in range(count + 1)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        services = build_services(Settings(var_dir=Path(tmp)))
        try:
            client_id, secret = services.identity.ensure_client("filer", "ABC")
            assert secret is not None
            record = services.identity.find_client(client_id)
            assert record is not None
            token = services.issuer.issue(record)["access_token"]
            # Envelopes are built just before sending: Created must be within 5 minutes.
            with (
                live_server(create_app(services)) as url,
                httpx.Client(base_url=url, timeout=60) as client,
            ):
                client.headers["Authorization"] = f"Bearer {token}"
                rest = _rate(client, _rest, rest_bodies)
                del client.headers["Authorization"]

                def soap(http: httpx.Client, filing: dict[str, Any]) -> None:
                    response = http.post(
                        "/soap/gateway",
                        content=_envelope(filing, client_id, secret),
                        headers={"Content-Type": "text/xml; charset=utf-8"},
                    )
                    assert response.status_code == 200, response.text

                soap_rate = _rate(client, soap, soap_filings)
        finally:
            services.close()
    return {
        "requests": count,
        "soap_submit_requests_per_second": round(soap_rate, 1),
        "rest_submit_requests_per_second": round(rest, 1),
        "soap_to_rest_ratio": round(soap_rate / rest, 4),
    }
