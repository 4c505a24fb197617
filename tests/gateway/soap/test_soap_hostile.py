"""Broken and hostile SOAP requests: each gets the right fault, and nothing is stored."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from lxml import etree

from tests.gateway.soap.conftest import GW, envelope
from tests.support.filings import sample_filing

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"


def submit_body(serial: int = 1234567, message_id: str | None = None) -> str:
    filing = sample_filing("fda-frozen-shrimp", serial=serial)
    line = filing["lines"][0]
    mid = f"<gw:MessageID>{message_id}</gw:MessageID>" if message_id else ""
    return (
        f"<gw:SubmitEntryRequest>{mid}<gw:Entry>"
        f"<gw:EntryNumber>{filing['entry_number']}</gw:EntryNumber>"
        "<gw:FilerCode>ABC</gw:FilerCode><gw:EntryType>01</gw:EntryType>"
        "<gw:PortOfEntry>5301</gw:PortOfEntry>"
        "<gw:ImporterOfRecord>12-3456789AB</gw:ImporterOfRecord>"
        "<gw:Line><gw:LineNumber>1</gw:LineNumber>"
        f"<gw:CatairRecords>{line['catair']}</gw:CatairRecords></gw:Line>"
        "</gw:Entry></gw:SubmitEntryRequest>"
    )


def digest_token(
    username: str,
    secret: str,
    *,
    nonce: bytes | None = None,
    created: dt.datetime | None = None,
    wrong: bool = False,
) -> str:
    nonce = nonce or os.urandom(16)
    stamp = (created or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    password = secret + ("x" if wrong else "")
    digest = base64.b64encode(
        hashlib.sha1(nonce + stamp.encode() + password.encode()).digest()
    ).decode()
    return (
        f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><wsse:UsernameToken>'
        f"<wsse:Username>{username}</wsse:Username>"
        f'<wsse:Password Type="{PROFILE}#PasswordDigest">{digest}</wsse:Password>'
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{stamp}</wsu:Created>"
        "</wsse:UsernameToken></wsse:Security>"
    )


def text_token(username: str, password: str) -> str:
    return (
        f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
        f"<wsse:Username>{username}</wsse:Username>"
        f'<wsse:Password Type="{PROFILE}#PasswordText">{password}</wsse:Password>'
        "</wsse:UsernameToken></wsse:Security>"
    )


@pytest.fixture
def post(base_url: str) -> Any:
    with httpx.Client(base_url=base_url, timeout=30) as http:

        def send(data: bytes, content_type: str = "text/xml; charset=utf-8") -> httpx.Response:
            return http.post("/soap/gateway", content=data, headers={"Content-Type": content_type})

        yield send


@pytest.fixture
def auth(secret_for: Callable[..., tuple[str, str]]) -> Callable[[], str]:
    client_id, secret = secret_for("filer", "ABC")
    return lambda: digest_token(client_id, secret)


def fault_of(response: httpx.Response, status: int = 500) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/xml")
    root = etree.fromstring(response.content)
    fault = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert fault is not None, response.text
    detail = fault.find(f"detail/{{{GW}}}GatewayFault")
    assert detail is not None
    return {
        "code": fault.findtext("faultcode"),
        "string": fault.findtext("faultstring"),
        "status": detail.findtext(f"{{{GW}}}Status"),
        "errors": [
            {child.tag.split("}")[1]: child.text for child in error}
            for error in detail.iterfind(f"{{{GW}}}Error")
        ],
    }


def nothing_stored(filer_client: httpx.Client) -> None:
    assert filer_client.get("/api/v1/entries").json()["total"] == 0


XXE = (
    b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<gw:GetEntryStatusRequest xmlns:gw="urn:pga-gateway:gateway:v1"><gw:EntryNumber>&xxe;'
    b"</gw:EntryNumber></gw:GetEntryStatusRequest></soap:Body></soap:Envelope>"
)
BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b"<x>&lol9;</x></soap:Body></soap:Envelope>"
)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"<soap:Envelope", "XML is not well-formed"),
        (b"", "the body is empty"),
        (XXE, "document type declarations are not allowed"),
        (BOMB, "document type declarations are not allowed"),
        (
            envelope(submit_body()).replace(
                b"http://schemas.xmlsoap.org/soap/envelope/",
                b"http://www.w3.org/2003/05/soap-envelope",
            ),
            "wrong namespace: the Envelope must be in the SOAP 1.1 namespace",
        ),
        (
            envelope(submit_body()).replace(b"urn:pga-gateway:gateway:v1", b"urn:other:v9"),
            "wrong namespace: body element SubmitEntryRequest is in urn:other:v9",
        ),
        (envelope("<gw:DeleteEverythingRequest/>"), "unknown operation DeleteEverythingRequest"),
        (envelope(""), "exactly one element (found 0)"),
        (envelope(submit_body() + submit_body()), "exactly one element (found 2)"),
        (b"<Envelope/>", "must be in the SOAP 1.1 namespace"),
        (b"<order/>", "must be a SOAP 1.1 Envelope"),
        (envelope(submit_body(), "<x:Spy xmlns:x='urn:x'/>"), "header {urn:x}Spy is not allowed"),
    ],
    ids=[
        "malformed",
        "empty",
        "xxe",
        "entity-bomb",
        "soap12-namespace",
        "wrong-body-namespace",
        "unknown-operation",
        "empty-body",
        "two-body-elements",
        "no-namespace",
        "not-an-envelope",
        "unknown-header",
    ],
)
def test_unusable_envelopes_are_client_faults(
    post: Any, filer_client: httpx.Client, data: bytes, fragment: str
) -> None:
    fault = fault_of(post(data))
    assert fault["code"] == "soap:Client"
    assert fragment in fault["string"], fault
    nothing_stored(filer_client)


def test_must_understand_header_gets_a_must_understand_fault(
    post: Any, filer_client: httpx.Client
) -> None:
    header = "<x:Spy xmlns:x='urn:x' soap:mustUnderstand='1'/>"
    fault = fault_of(post(envelope(submit_body(), header)))
    assert fault["code"] == "soap:MustUnderstand"
    nothing_stored(filer_client)


def test_schema_invalid_body_lists_every_schema_error(
    post: Any, auth: Callable[[], str], filer_client: httpx.Client
) -> None:
    body = (
        submit_body()
        .replace(
            "</gw:ImporterOfRecord>",
            "</gw:ImporterOfRecord><gw:EstimatedArrival>someday</gw:EstimatedArrival>",
        )
        .replace("<gw:LineNumber>1</gw:LineNumber>", "<gw:LineNumber>one</gw:LineNumber>")
    )
    fault = fault_of(post(envelope(body, auth())))
    assert fault["code"] == "soap:Client" and fault["status"] == "422"
    assert fault["string"] == "2 schema errors in SubmitEntryRequest"
    messages = " | ".join(e["Message"] for e in fault["errors"])
    assert "EstimatedArrival" in messages and "'one'" in messages, messages
    assert all(e["Location"].startswith("line ") for e in fault["errors"])
    missing = submit_body().replace("<gw:FilerCode>ABC</gw:FilerCode>", "")
    fault = fault_of(post(envelope(missing, auth())))
    assert "FilerCode" in fault["errors"][0]["Message"]
    nothing_stored(filer_client)


def test_missing_credentials(post: Any, filer_client: httpx.Client) -> None:
    fault = fault_of(post(envelope(submit_body())))
    assert fault["code"] == "soap:Client" and fault["status"] == "401"
    assert fault["string"].startswith("authentication required")
    nothing_stored(filer_client)


@pytest.mark.parametrize("who", ["wrong-secret", "unknown-client", "wrong-text"])
def test_incorrect_credentials_get_one_answer(
    post: Any,
    secret_for: Callable[..., tuple[str, str]],
    filer_client: httpx.Client,
    who: str,
) -> None:
    client_id, secret = secret_for("filer", "ABC")
    header = {
        "wrong-secret": digest_token(client_id, secret, wrong=True),
        "unknown-client": digest_token("filer-ZZZ", secret),
        "wrong-text": text_token(client_id, secret + "x"),
    }[who]
    fault = fault_of(post(envelope(submit_body(), header)))
    assert fault["code"] == "soap:Client" and fault["status"] == "401"
    assert fault["string"] in ("authentication failed", "client authentication failed")
    nothing_stored(filer_client)


def test_replayed_nonce_is_refused(
    post: Any, secret_for: Callable[..., tuple[str, str]], filer_client: httpx.Client
) -> None:
    client_id, secret = secret_for("filer", "ABC")
    header = digest_token(client_id, secret, nonce=b"0123456789abcdef")
    status = envelope("<gw:ListEntriesRequest/>", header)  # harmless first use of the nonce
    assert post(status).status_code == 200
    fault = fault_of(post(envelope(submit_body(), header)))
    assert fault["code"] == "soap:Client"
    assert "nonce was already used" in fault["string"]
    nothing_stored(filer_client)


@pytest.mark.parametrize("minutes", [-6, 6])
def test_stale_or_future_created_is_refused(
    post: Any,
    secret_for: Callable[..., tuple[str, str]],
    filer_client: httpx.Client,
    minutes: int,
) -> None:
    client_id, secret = secret_for("filer", "ABC")
    created = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    fault = fault_of(
        post(envelope(submit_body(), digest_token(client_id, secret, created=created)))
    )
    assert fault["code"] == "soap:Client"
    assert "more than 5 minutes from the server clock" in fault["string"]
    nothing_stored(filer_client)


def test_expired_timestamp_is_refused(
    post: Any, secret_for: Callable[..., tuple[str, str]], filer_client: httpx.Client
) -> None:
    client_id, secret = secret_for("filer", "ABC")
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    stamp = (
        f'<wsu:Timestamp xmlns:wsu="{WSU}"><wsu:Created>{old:%Y-%m-%dT%H:%M:%SZ}</wsu:Created>'
        f"<wsu:Expires>{old + dt.timedelta(minutes=5):%Y-%m-%dT%H:%M:%SZ}</wsu:Expires>"
        "</wsu:Timestamp>"
    )
    header = digest_token(client_id, secret).replace(
        "<wsse:UsernameToken>", stamp + "<wsse:UsernameToken>"
    )
    fault = fault_of(post(envelope(submit_body(), header)))
    assert "the message expired" in fault["string"]
    nothing_stored(filer_client)


def test_bad_bearer_token(base_url: str, filer_client: httpx.Client) -> None:
    response = httpx.post(
        f"{base_url}/soap/gateway",
        content=envelope(submit_body()),
        headers={"Content-Type": "text/xml", "Authorization": "Bearer not-a-jwt"},
        timeout=30,
    )
    fault = fault_of(response)
    assert fault["code"] == "soap:Client" and fault["status"] == "401"
    nothing_stored(filer_client)


@pytest.mark.parametrize("content_type", ["application/json", "application/soap+xml", ""])
def test_wrong_content_type_is_415(
    post: Any, auth: Callable[[], str], filer_client: httpx.Client, content_type: str
) -> None:
    fault = fault_of(post(envelope(submit_body(), auth()), content_type), status=415)
    assert fault["code"] == "soap:Client" and "text/xml" in fault["string"]
    nothing_stored(filer_client)


def test_oversized_body_is_refused_before_parsing(
    post: Any, settings: Any, filer_client: httpx.Client
) -> None:
    big = envelope("<gw:ListEntriesRequest/>" + "<!--" + "x" * settings.max_body_bytes + "-->")
    response = post(big)
    assert response.status_code == 413
    nothing_stored(filer_client)


def test_conflicting_message_ids_are_refused(
    post: Any, auth: Callable[[], str], filer_client: httpx.Client
) -> None:
    wsa = '<wsa:MessageID xmlns:wsa="http://www.w3.org/2005/08/addressing">a-1</wsa:MessageID>'
    fault = fault_of(post(envelope(submit_body(message_id="b-2"), auth() + wsa)))
    assert "differ" in fault["string"]
    nothing_stored(filer_client)


def test_wsa_message_id_header_is_the_idempotency_key(
    post: Any, auth: Callable[[], str], filer_client: httpx.Client
) -> None:
    wsa = '<wsa:MessageID xmlns:wsa="http://www.w3.org/2005/08/addressing">m-1</wsa:MessageID>'
    first = post(envelope(submit_body(), auth() + wsa))
    assert first.status_code == 200, first.text
    again = post(envelope(submit_body(), auth() + wsa))
    assert b"<gw:Replayed>true</gw:Replayed>" in again.content
    assert filer_client.get("/api/v1/entries").json()["total"] == 1
    other = fault_of(post(envelope(submit_body(serial=7654321), auth() + wsa)))
    assert other["status"] == "409" and "already used" in other["string"]
    assert filer_client.get("/api/v1/entries").json()["total"] == 1


def test_unexpected_errors_are_server_faults_without_internals(
    services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.soap import endpoint, operations

    def boom(*args: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setitem(operations.OPERATIONS, "ListEntries", boom)
    client_id, secret = services.identity.ensure_client("admin", None)
    secret = secret or services.identity.rotate_secret(client_id)
    status, answer = endpoint.handle(
        services, envelope("<gw:ListEntriesRequest/>", text_token(client_id, secret)), None
    )
    assert status == 500
    assert b"<faultcode>soap:Server</faultcode>" in answer and b"secret internals" not in answer
