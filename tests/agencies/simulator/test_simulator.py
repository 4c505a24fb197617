"""The agency simulator over real HTTP: WSDL, hostile input, callbacks, counters."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from zeep.wsse.username import UsernameToken

from agencies.simulator import soap
from agencies.simulator.faults import FaultConfig, FaultInjector
from gateway.agency_client import AgencyClient
from gateway.xmlsafe import parse_xml
from tests.agencies.simulator.support import pga_message, running_simulator
from tests.support.live_server import live_server

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def fault_of(response: httpx.Response) -> tuple[str, str, str]:
    root = parse_xml(response.content, max_bytes=10**6)
    fault = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert fault is not None
    return (
        fault.findtext("faultcode") or "",
        fault.findtext("faultstring") or "",
        response.text,
    )


def test_wsdl_address_follows_the_request_host() -> None:
    with running_simulator() as (base, _):
        direct = httpx.get(f"{base}/iws/EPA?wsdl")
        proxied = httpx.get(f"{base}/iws/NHT?wsdl", headers={"Host": "agency.example:8443"})
        xsd = httpx.get(f"{base}/iws/EPA?xsd")
        unknown = httpx.get(f"{base}/iws/XYZ?wsdl")
    assert direct.status_code == 200
    assert f'location="{base}/iws/EPA"' in direct.text
    assert f'schemaLocation="{base}/iws/EPA?xsd"' in direct.text
    assert 'location="http://agency.example:8443/iws/NHT"' in proxied.text
    assert "urn:pga-gateway:agency-iws:v1" in xsd.text
    assert unknown.status_code == 404


def test_hostile_xxe_request_is_a_client_fault_and_nothing_is_processed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body><r>&x;</r></soap:Body></soap:Envelope>'
    ).encode()
    with running_simulator() as (base, simulator):
        response = httpx.post(f"{base}/iws/EPA", content=body, headers={"Content-Type": "text/xml"})
        stats = simulator.state.stats()["agencies"]["EPA"]
    assert response.status_code == 500
    code, message, text = fault_of(response)
    assert code == "soap:Client"
    assert message == "XML document type declarations are not allowed"
    assert "TOP-SECRET" not in text
    assert stats["received"] == 1 and stats["processed"] == 0 and stats["rejected"] == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"x" * 3000, "XML body is larger than 2000 bytes"),
        (b"<not-soap/>", "The request is not a SOAP 1.1 Envelope"),
        (f'<s:Envelope xmlns:s="{SOAP}"><s:Body/></s:Envelope>'.encode(), "exactly one"),
    ],
    ids=["oversized", "not-soap", "empty-body"],
)
def test_bad_requests_are_client_faults(body: bytes, expected: str) -> None:
    with running_simulator(max_request_bytes=2000) as (base, simulator):
        response = httpx.post(f"{base}/iws/EPA", content=body)
        processed = simulator.state.stats()["total"]["processed"]
    code, message, _ = fault_of(response)
    assert code == "soap:Client"
    assert expected in message
    assert processed == 0


@contextmanager
def receiver(fail_first: int = 0) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A stand-in for the gateway's inbound dispositions endpoint that records each POST."""
    received: list[dict[str, Any]] = []
    attempts = {"n": 0}
    lock = threading.Lock()

    async def dispositions(request: Request) -> JSONResponse:
        with lock:
            attempts["n"] += 1
            if attempts["n"] <= fail_first:
                return JSONResponse({"detail": "busy"}, status_code=503)
        received.append(
            {
                "entry": request.path_params["entry"],
                "headers": dict(request.headers),
                "json": await request.json(),
            }
        )
        return JSONResponse({"accepted": True}, status_code=202)

    app = Starlette(
        routes=[Route("/api/v1/entries/{entry}/dispositions", dispositions, methods=["POST"])]
    )
    with live_server(app) as base:
        yield base, received


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_later_dispositions_are_posted_back_with_the_bearer_token() -> None:
    with receiver(fail_first=1) as (gateway_url, received):
        options: dict[str, Any] = {
            "gateway_url": gateway_url,
            "token_provider": lambda agency: f"token-for-{agency}",
            "delay_scale": 0.01,  # the plugin's 60 s review takes 0.6 s
            "callback_backoff_seconds": 0.05,
        }
        with running_simulator(**options) as (base, simulator):
            client = AgencyClient(
                f"{base}/iws/EPA?wsdl", None, timeout=5.0, username=None, password=None
            )
            ack = client.submit_pga_data(pga_message("EPA"))
            wait_for(lambda: simulator.state.stats()["total"]["callbacks_delivered"] == 1)
            stats = simulator.state.stats()["agencies"]["EPA"]
    assert [d["StatusCode"] for d in ack.dispositions] == ["01"]
    assert len(received) == 1  # the first attempt got a 503 and was retried
    post = received[0]
    assert post["entry"] == "ABC12345675"
    assert post["headers"]["authorization"] == "Bearer token-for-EPA"
    assert post["headers"]["x-correlation-id"] == "corr-1"
    assert post["headers"]["idempotency-key"]
    (disposition,) = post["json"]["dispositions"]
    assert disposition["cbp_line_number"] == 1
    assert disposition["pga_line_number"] == 1
    assert disposition["status_code"] == "07"
    assert disposition["reason_code"] == "A1"
    assert disposition["remark"] == "reviewed; may proceed"
    assert disposition["action_time"].endswith("Z")
    assert stats["callbacks_scheduled"] == 1 and stats["callbacks_failed"] == 0


def test_stats_and_reset_over_http() -> None:
    with running_simulator() as (base, _):
        client = AgencyClient(f"{base}/iws/NHT?wsdl", None, timeout=5, username=None, password=None)
        message = pga_message("NHT")
        client.submit_pga_data(message)
        stats = httpx.get(f"{base}/stats").json()
        reset = httpx.post(f"{base}/reset").json()
        again = client.submit_pga_data(message)  # forgotten by reset: processed anew
    assert stats["agencies"]["NHT"]["processed"] == 1
    assert stats["total"]["received"] == 1
    assert set(stats["total"]) >= {
        "received",
        "processed",
        "duplicates_received",
        "processed_twice",
    }
    assert reset == {"total": {k: 0 for k in stats["total"]}, "agencies": {}}
    assert again.duplicate is False


def test_password_digest_username_token_is_accepted() -> None:
    envelope = etree.fromstring(
        f'<s:Envelope xmlns:s="{SOAP}"><s:Header/><s:Body/></s:Envelope>'.encode()
    )
    envelope, _ = UsernameToken("user", "pw", use_digest=True).apply(envelope, {})
    header = envelope.find(f"{{{SOAP}}}Header")
    assert soap.username_token_ok(header, "user", "pw")
    assert not soap.username_token_ok(header, "user", "other")
    assert not soap.username_token_ok(None, "user", "pw")


def test_fault_decisions_are_reproducible_with_a_seed() -> None:
    config = FaultConfig(http_500_rate=0.3, soap_fault_rate=0.2, malformed_rate=0.1, seed=7)
    a, b = FaultInjector(config), FaultInjector(config)
    assert [a.before_processing() for _ in range(50)] == [b.before_processing() for _ in range(50)]
    assert {a.before_processing() for _ in range(200)} == {
        None,
        "http_500",
        "soap_fault",
        "malformed",
    }
    with pytest.raises(ValueError):
        FaultConfig(http_500_rate=0.8, malformed_rate=0.5)
    with pytest.raises(ValueError):
        FaultConfig(timeout_rate=1.5)
