"""The request dicts and agency-iws.xsd agree: zeep serialises them, lxml validates them."""

from __future__ import annotations

import json
import uuid

import pytest
import zeep
from lxml import etree

from agencies.iws_message import WSDL_PATH, XSD_PATH, build_document_notice, build_pga_data
from gateway.xmlsafe import load_schema, parse_xml, validate
from tests.agencies.simulator.support import agency_lines, vehicle_filing

SOAP_BODY = "{http://schemas.xmlsoap.org/soap/envelope/}Body"
IWS = "{urn:pga-gateway:agency-iws:v1}"


@pytest.fixture(scope="module")
def client() -> zeep.Client:
    # The shipped WSDL from disk: no network, same contract the gateway uses.
    return zeep.Client(str(WSDL_PATH), settings=zeep.Settings(strict=True, forbid_dtd=True))


def serialised_body(client: zeep.Client, operation: str, message: dict[str, object]) -> bytes:
    envelope = client.create_message(client.service, operation, **message)
    return bytes(etree.tostring(envelope.find(SOAP_BODY)[0]))


def test_pga_data_for_the_vehicle_sample_validates(client: zeep.Client) -> None:
    filing = vehicle_filing()
    message = build_pga_data(
        message_id=str(uuid.uuid4()),
        correlation_id="corr-42",
        agency_code="EPA",
        entry_version=3,
        filing=filing,
        lines=agency_lines(filing, "EPA"),
        annotations={"route": "embedded", "note": "first filing"},
    )
    json.dumps(message)  # JSON-safe: an outbox row can keep it verbatim
    element = parse_xml(serialised_body(client, "SubmitPGAData", message), max_bytes=10**6)
    assert validate(load_schema(XSD_PATH), element) == []

    line = element.find(f"{IWS}PGALine")
    assert line is not None
    records = line.findall(f"{IWS}Record")
    assert [r.get("Type") for r in records] == ["PG01", "PG07", "PG22", "PG19", "PG20"]
    pg01 = {f.get("Name"): f.text for f in records[0]}
    assert pg01["agency_code"] == "EPA" and pg01["program_code"] == "VNE"
    assert pg01["pga_line_number"] == "1"
    pg07 = {f.get("Name"): f.text for f in records[1]}
    assert pg07["item_identity_number"] == "1TMX4500XRA000451"
    catair = line.findtext(f"{IWS}CatairRecords")
    assert catair is not None
    assert catair.splitlines()[0].startswith("PG01001EPAVNE")
    assert all(len(record) == 80 for record in catair.splitlines())
    assert len(catair.splitlines()) == 5
    annotations = {a.get("Name"): a.text for a in element.findall(f"{IWS}Annotation")}
    assert annotations == {"route": "embedded", "note": "first filing"}
    assert element.findtext(f"{IWS}Entry/{IWS}EntryNumber") == "ABC12345675"


def test_every_pga_line_of_every_sample_agency_validates(client: zeep.Client) -> None:
    filing = vehicle_filing()
    schema = load_schema(XSD_PATH)
    for agency in ("EPA", "NHT"):
        message = build_pga_data(
            message_id=str(uuid.uuid4()),
            correlation_id="c",
            agency_code=agency,
            entry_version=1,
            filing=filing,
            lines=agency_lines(filing, agency),
            annotations={},
        )
        assert "Annotation" not in message
        body = serialised_body(client, "SubmitPGAData", message)
        assert validate(schema, parse_xml(body, max_bytes=10**6)) == []


def test_schema_catches_what_the_dict_gets_wrong(client: zeep.Client) -> None:
    filing = vehicle_filing()
    message = build_pga_data(
        message_id="nope",
        correlation_id="c",
        agency_code="EPAX",
        entry_version=1,
        filing=filing,
        lines=agency_lines(filing, "EPA"),
        annotations={},
    )
    body = serialised_body(client, "SubmitPGAData", message)
    problems = validate(load_schema(XSD_PATH), parse_xml(body, max_bytes=10**6))
    assert len(problems) == 2
    assert all(p.location == "line 1" for p in problems)


def test_document_notice_validates(client: zeep.Client) -> None:
    message = build_document_notice(
        message_id=str(uuid.uuid4()),
        correlation_id="corr-7",
        agency_code="NHT",
        entry_number="ABC12345675",
        document_id=str(uuid.uuid4()),
        label_code="HS7",
        file_name="hs7-declaration.pdf",
        media_type="application/pdf",
        size_bytes=20480,
        sha256="AB" * 32,
        cbp_line_numbers=[1, 2],
        retrieval_url="https://gateway.example/api/v1/documents/1/content",
    )
    assert message["SHA256"] == "ab" * 32
    element = parse_xml(serialised_body(client, "SubmitDocumentNotice", message), max_bytes=10**6)
    assert validate(load_schema(XSD_PATH), element) == []
    numbers = element.findall(f"{IWS}CBPLineNumbers/{IWS}CBPLineNumber")
    assert [n.text for n in numbers] == ["1", "2"]
