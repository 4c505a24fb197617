"""/soap/dis through zeep with CBP's own sample envelope, validated against CBP's XSD; hostile
envelopes (XXE, entity bomb) are faults that store nothing."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import zeep
from lxml import etree
from zeep.wsse.username import UsernameToken

from gateway.services import Services
from tests.pga_dis.api.conftest import TIFF

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
SAMPLE = SHARED / "samples" / "dis" / "submission-invoice.xml"
CBP_XSD = SHARED / "reference" / "cbp-dis-schema" / "MessageEnvelope.xsd"
DIS = "http://cbp.dhs.gov/DIS"


def sample_for(entry_number: str, *, document_id: str = "DOC-2026-000001") -> etree._Element:
    root = etree.parse(str(SAMPLE)).getroot()
    root.find(f".//{{{DIS}}}EntryNumber").text = entry_number[3:]
    root.find(f".//{{{DIS}}}Filer").text = entry_number[:3]
    root.find(f".//{{{DIS}}}DocumentID").text = document_id
    return root


@pytest.fixture
def dis_client(base_url: str, services: Services) -> Iterator[Callable[[], Any]]:
    transports: list[zeep.Transport] = []

    def build() -> Any:
        client_id, secret = services.identity.ensure_client("filer", "ABC")
        if secret is None:
            secret = services.identity.rotate_secret(client_id)
        transport = zeep.Transport(timeout=30)
        transports.append(transport)
        wsse = UsernameToken(client_id, secret, use_digest=True)
        return zeep.Client(f"{base_url}/soap/dis?wsdl", wsse=wsse, transport=transport)

    yield build
    for transport in transports:
        transport.session.close()


def submit(client: Any, root: etree._Element) -> tuple[Any, etree._Element]:
    element = client.get_element(f"{{{DIS}}}MessageEnvelope")
    value = element.parse(root, client.wsdl.types)
    with client.settings(raw_response=True):
        raw = client.service.SubmitDocument(
            MessageHeader=value.MessageHeader, MessageBody=value.MessageBody
        )
    assert raw.status_code == 200, raw.text
    envelope = etree.fromstring(raw.content).find(".//{http://cbp.dhs.gov/DIS}MessageEnvelope")
    return raw, envelope


def test_sample_submission_passes_and_is_visible_to_fda_only(
    dis_client: Callable[[], Any],
    fda_entry: dict[str, Any],
    base_url: str,
    token_for: Callable[..., str],
    services: Services,
) -> None:
    root = sample_for(fda_entry["entry_number"])
    expected = hashlib.sha256(
        base64.b64decode("".join(root.findtext(f".//{{{DIS}}}DocumentObject").split()))
    ).hexdigest()
    _, answer = submit(dis_client(), root)
    schema = etree.XMLSchema(etree.parse(str(CBP_XSD)))
    assert schema.validate(answer), schema.error_log
    status = answer.findtext(f".//{{{DIS}}}MessageProcessingResult/{{{DIS}}}ProcessingStatus")
    assert status == "PASSED", etree.tostring(answer)
    assert answer.findtext(f".//{{{DIS}}}ProcessedDocumentHeader/{{{DIS}}}DocumentID") == (
        "DOC-2026-000001"
    )
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token_for(agency='FDA')}"}
    ) as fda:
        docs = fda.get("/api/v1/documents").json()["items"]
        assert [d["sha256"] for d in docs] == [expected]
        content = fda.get(f"/api/v1/documents/{docs[0]['id']}/content").content
        assert hashlib.sha256(content).hexdigest() == expected
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token_for(agency='EPA')}"}
    ) as epa:
        assert epa.get("/api/v1/documents").json()["total"] == 0
        assert epa.get(f"/api/v1/documents/{docs[0]['id']}").status_code == 404


def test_failed_submission_answers_failed_with_reasons_and_stores_nothing(
    dis_client: Callable[[], Any],
    fda_entry: dict[str, Any],
    nothing_stored: Callable[[], None],
) -> None:
    root = sample_for(fda_entry["entry_number"])
    root.find(f".//{{{DIS}}}DocumentObject").text = base64.b64encode(TIFF).decode()
    root.find(f".//{{{DIS}}}GovtAgency").text = "ZZZ"
    _, answer = submit(dis_client(), root)
    schema = etree.XMLSchema(etree.parse(str(CBP_XSD)))
    assert schema.validate(answer), schema.error_log
    assert answer.findtext(f".//{{{DIS}}}ProcessingStatus") == "FAILED"
    logs = [t.text for t in answer.iter(f"{{{DIS}}}ProcessingLogText")]
    assert any("TIFF" in t for t in logs) and any("ZZZ" in t for t in logs), logs
    nothing_stored()


@pytest.mark.parametrize(
    "prologue",
    [
        '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    ],
)
def test_hostile_envelopes_are_faults(
    base_url: str, prologue: str, nothing_stored: Callable[[], None]
) -> None:
    body = (
        f'<?xml version="1.0"?>{prologue}<soap:Envelope '
        'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<DIS:MessageEnvelope xmlns:DIS="{DIS}"/></soap:Body></soap:Envelope>'
    )
    response = httpx.post(
        f"{base_url}/soap/dis", content=body, headers={"Content-Type": "text/xml"}
    )
    assert response.status_code == 500
    assert "document type declarations are not allowed" in response.text
    nothing_stored()
