"""The SOAP interface through zeep, a real client built from the served WSDL, over HTTP.

Every answer is compared with what the REST API shows for the same entry, field by field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import zeep
from lxml import etree
from zeep.exceptions import Fault
from zeep.helpers import serialize_object

from tests.support.filings import VALID_SAMPLES, sample_filing, sample_text

GW = "urn:pga-gateway:gateway:v1"
EXPECTED_AGENCIES = {
    "aphis-lacey-oak": ["APH"],
    "fda-frozen-shrimp": ["FDA"],
    "two-lines-disclaimer": ["FDA"],
    "vehicle-epa-nhtsa": ["EPA", "NHT"],
}


def entry_xml(filing: dict[str, Any]) -> dict[str, Any]:
    """The REST filing as zeep input for gw:Entry (CATAIR text per tariff line)."""
    return {
        "EntryNumber": filing["entry_number"],
        "FilerCode": filing["filer_code"],
        "EntryType": filing["entry_type"],
        "PortOfEntry": filing["port_of_entry"],
        "ImporterOfRecord": filing["importer_of_record"],
        "ModeOfTransport": filing["mode_of_transport"],
        "EstimatedArrival": filing["estimated_arrival"],
        "Line": [
            {
                "LineNumber": line["line_number"],
                "HTSNumber": line["hts_number"],
                "CountryOfOrigin": line["country_of_origin"],
                "Value": line["value"],
                "CatairRecords": line["catair"],
            }
            for line in filing["lines"]
        ],
    }


def _text(value: Any) -> str | None:
    # XML carries text; REST carries numbers as numbers and omits blanks.
    if value is None or value == "":
        return None
    return str(value)


def _fields(fields: list[Any]) -> dict[str, str | None]:
    return {f["Name"]: _text(f["_value_1"]) for f in fields}


def _rest_fields(fields: dict[str, Any]) -> dict[str, str | None]:
    return {name: _text(value) for name, value in fields.items()}


def item_to_json(item: Any) -> Any:
    """gw:Item (generic JSON carrier) -> JSON, numbers as text."""
    kind = item["Kind"]
    if kind == "object":
        return {member["Name"]: item_to_json(member) for member in item["Item"]}
    if kind == "array":
        return [item_to_json(member) for member in item["Item"]]
    return None if kind == "null" else _text(item["Value"])


def json_as_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: json_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_as_text(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return _text(value)


def assert_same_as_rest(soap_entry: Any, rest: dict[str, Any]) -> None:
    entry = serialize_object(soap_entry, dict)
    pairs = {
        "EntryNumber": "entry_number",
        "FilerCode": "filer_code",
        "EntryType": "entry_type",
        "PortOfEntry": "port_of_entry",
        "Status": "status",
        "Version": "version",
        "CreatedAt": "created_at",
        "UpdatedAt": "updated_at",
        "URL": "url",
        "ImporterOfRecord": "importer_of_record",
        "ModeOfTransport": "mode_of_transport",
        "EstimatedArrival": "estimated_arrival",
        "TransactionID": "transaction_id",
    }
    for xml_name, key in pairs.items():
        assert _text(entry[xml_name]) == _text(rest.get(key)), xml_name
    assert len(entry["Line"]) == len(rest["lines"])
    for line, rest_line in zip(entry["Line"], rest["lines"], strict=True):
        assert line["LineNumber"] == rest_line["line_number"]
        assert _text(line["Description"]) == _text(rest_line.get("description"))
        assert _text(line["HTSNumber"]) == _text(rest_line.get("hts_number"))
        assert _text(line["CountryOfOrigin"]) == _text(rest_line.get("country_of_origin"))
        assert _text(line["Value"]) == _text(rest_line.get("value"))
        assert len(line["PGALine"]) == len(rest_line["pga_lines"])
        for pga, rest_pga in zip(line["PGALine"], rest_line["pga_lines"], strict=True):
            assert pga["PGALineNumber"] == rest_pga["pga_line_number"]
            assert pga["AgencyCode"] == rest_pga["agency_code"]
            assert pga["ProgramCode"] == rest_pga["program_code"]
            assert _text(pga["ProcessingCode"]) == _text(rest_pga.get("processing_code"))
            assert _text(pga["Disclaimer"]) == _text(rest_pga.get("disclaimer"))
            header = _fields(pga["Header"]["Field"]) if pga["Header"] else {}
            assert header == _rest_fields(rest_pga.get("header", {}))
            records = [(r["Type"], _fields(r["Field"])) for r in pga["Record"]]
            assert records == [(r["type"], _rest_fields(r["fields"])) for r in rest_pga["records"]]
    dispatch = [
        (d["AgencyCode"], d["MessageID"], d["EntryVersion"], d["State"], d["Attempts"])
        for d in entry["Dispatch"]
    ]
    assert dispatch == [
        (d["agency_code"], d["message_id"], d["entry_version"], d["state"], d["attempts"])
        for d in rest["dispatch"]
    ]
    dispositions = [{k: _text(v) for k, v in d.items()} for d in entry["Disposition"]]
    assert dispositions == [
        {
            "AgencyCode": d["agency_code"],
            "ProgramCode": _text(d["program_code"]),
            "CBPLineNumber": _text(d["cbp_line_number"]),
            "PGALineNumber": _text(d["pga_line_number"]),
            "StatusCode": d["status_code"],
            "StatusText": _text(d["status_text"]),
            "ReasonCode": _text(d["reason_code"]),
            "ActionTime": d["action_time"],
            "ReceivedAt": d["received_at"],
            "Source": d["source"],
            "Remark": _text(d["remark"]),
        }
        for d in rest["dispositions"]
    ]
    if "coordinated" in rest:
        assert item_to_json(entry["Coordinated"]) == json_as_text(rest["coordinated"])
    else:
        assert entry["Coordinated"] is None


@pytest.mark.parametrize("name", VALID_SAMPLES)
@pytest.mark.parametrize("digest", [True, False], ids=["PasswordDigest", "PasswordText"])
def test_each_sample_submitted_over_soap_reads_back_as_rest_shows_it(
    soap_client: Callable[..., Any], filer_client: httpx.Client, name: str, digest: bool
) -> None:
    soap = soap_client(digest=digest)
    filing = sample_filing(name)
    receipt = soap.service.SubmitEntry(Entry=entry_xml(filing))
    assert receipt.EntryNumber == filing["entry_number"]
    assert receipt.Status == "ACCEPTED" and receipt.Version == 1
    assert list(receipt.Agency) == EXPECTED_AGENCIES[name]
    assert receipt.StatusURL == f"/api/v1/entries/{filing['entry_number']}"

    rest = filer_client.get(receipt.StatusURL).json()
    assert rest["transaction_id"] == receipt.TransactionID
    assert_same_as_rest(soap.service.GetEntryStatus(EntryNumber=filing["entry_number"]), rest)


def test_structured_pga_lines_are_stored_like_catair(
    soap_client: Callable[..., Any], filer_client: httpx.Client
) -> None:
    soap = soap_client()
    catair = sample_filing("fda-frozen-shrimp", serial=1000001)
    soap.service.SubmitEntry(Entry=entry_xml(catair))
    stored = filer_client.get(f"/api/v1/entries/{catair['entry_number']}").json()
    rest_line = stored["lines"][0]

    structured = sample_filing("fda-frozen-shrimp", serial=1000002)
    entry = entry_xml(structured)
    line = entry["Line"][0]
    del line["CatairRecords"]
    line["Description"] = rest_line["description"]
    line["PGALine"] = [
        {
            "PGALineNumber": pga["pga_line_number"],
            "AgencyCode": pga["agency_code"],
            "ProgramCode": pga["program_code"],
            "ProcessingCode": pga.get("processing_code"),
            "Disclaimer": pga.get("disclaimer"),
            "Header": {
                "Field": [{"Name": k, "_value_1": str(v)} for k, v in pga["header"].items()]
            },
            "Record": [
                {
                    "Type": r["type"],
                    "Field": [{"Name": k, "_value_1": str(v)} for k, v in r["fields"].items()],
                }
                for r in pga["records"]
            ],
        }
        for pga in rest_line["pga_lines"]
    ]
    receipt = soap.service.SubmitEntry(Entry=entry)
    assert receipt.Agency == ["FDA"]
    again = filer_client.get(f"/api/v1/entries/{structured['entry_number']}").json()
    assert again["lines"][0]["pga_lines"] == rest_line["pga_lines"]


def test_message_id_replays_the_first_answer_and_refuses_a_different_body(
    soap_client: Callable[..., Any], filer_client: httpx.Client
) -> None:
    soap = soap_client()
    filing = sample_filing("aphis-lacey-oak")
    first = soap.service.SubmitEntry(MessageID="order-42", Entry=entry_xml(filing))
    assert not first.Replayed
    again = soap.service.SubmitEntry(MessageID="order-42", Entry=entry_xml(filing))
    assert again.Replayed is True
    assert again.TransactionID == first.TransactionID
    other = sample_filing("aphis-lacey-oak", serial=7654321)
    with pytest.raises(Fault) as caught:
        soap.service.SubmitEntry(MessageID="order-42", Entry=entry_xml(other))
    assert caught.value.code.endswith("Client")
    assert "already used for a different request" in caught.value.message
    assert filer_client.get("/api/v1/entries").json()["total"] == 1


def test_rest_and_soap_share_the_idempotency_key_space(
    soap_client: Callable[..., Any], filer_client: httpx.Client
) -> None:
    filing = sample_filing("fda-frozen-shrimp")
    rest = filer_client.post("/api/v1/entries", json=filing, headers={"Idempotency-Key": "k-1"})
    assert rest.status_code == 202
    replay = soap_client().service.SubmitEntry(MessageID="k-1", Entry=entry_xml(filing))
    assert replay.Replayed and replay.TransactionID == rest.json()["transaction_id"]


def test_replace_pga_data_with_catair(
    soap_client: Callable[..., Any], filer_client: httpx.Client
) -> None:
    soap = soap_client()
    filing = sample_filing("fda-frozen-shrimp")
    soap.service.SubmitEntry(Entry=entry_xml(filing))
    text = sample_text("fda-frozen-shrimp").replace("16AGT99", "16AGT98")
    receipt = soap.service.ReplacePGAData(EntryNumber=filing["entry_number"], CatairRecords=text)
    assert receipt.Version == 2
    rest = filer_client.get(f"/api/v1/entries/{filing['entry_number']}").json()
    assert rest["version"] == 2 and "16AGT98" in str(rest["lines"])
    assert_same_as_rest(soap.service.GetEntryStatus(EntryNumber=filing["entry_number"]), rest)


def test_validation_faults_list_every_problem_with_rest_codes(
    soap_client: Callable[..., Any], filer_client: httpx.Client
) -> None:
    filing = sample_filing("fda-frozen-shrimp")
    filing["lines"][0]["catair"] = sample_text("invalid-missing-pg01")
    rest = filer_client.post("/api/v1/validate", json=filing).json()
    with pytest.raises(Fault) as caught:
        soap_client().service.SubmitEntry(Entry=entry_xml(filing))
    fault = caught.value
    assert fault.code.endswith("Client")
    detail = fault.detail.find(f"{{{GW}}}GatewayFault")
    assert detail.findtext(f"{{{GW}}}Status") == "422"
    errors = [
        (
            e.findtext(f"{{{GW}}}Code"),
            e.findtext(f"{{{GW}}}Location"),
            e.findtext(f"{{{GW}}}Message"),
        )
        for e in detail.iterfind(f"{{{GW}}}Error")
    ]
    assert errors == [(e["code"], e["location"], e["message"]) for e in rest["errors"]]
    assert any(code == "P03" for code, _, _ in errors)
    assert filer_client.get("/api/v1/entries").json()["total"] == 0


def test_isolation_is_the_same_as_rest(
    soap_client: Callable[..., Any], filer_client: httpx.Client
) -> None:
    filing = sample_filing("vehicle-epa-nhtsa")
    soap_client().service.SubmitEntry(Entry=entry_xml(filing))
    number = filing["entry_number"]
    with pytest.raises(Fault) as caught:
        soap_client("filer", "XYZ").service.GetEntryStatus(EntryNumber=number)
    assert caught.value.code.endswith("Client") and f"no entry {number}" in caught.value.message
    assert soap_client("filer", "XYZ").service.ListEntries().Total == 0
    with pytest.raises(Fault) as foreign:
        soap_client("filer", "XYZ").service.SubmitEntry(Entry=entry_xml(filing))
    assert "files for XYZ" in foreign.value.message

    epa = soap_client("agency", "EPA").service.GetEntryStatus(EntryNumber=number)
    agencies = {p.AgencyCode for line in epa.Line for p in line.PGALine}
    assert agencies == {"EPA"}
    assert [d.AgencyCode for d in epa.Dispatch] == ["EPA"]
    with pytest.raises(Fault):
        soap_client("agency", "FDA").service.GetEntryStatus(EntryNumber=number)


def test_agency_submits_dispositions_seen_by_the_filer(
    soap_client: Callable[..., Any], filer_client: httpx.Client
) -> None:
    filing = sample_filing("vehicle-epa-nhtsa")
    filer = soap_client()
    filer.service.SubmitEntry(Entry=entry_xml(filing))
    number = filing["entry_number"]
    item = {
        "CBPLineNumber": 1,
        "PGALineNumber": 1,
        "StatusCode": "07",
        "ReasonCode": "22",
        "ActionTime": "2026-11-21T10:00:00Z",
        "Remark": "ok",
    }
    epa = soap_client("agency", "EPA")
    result = epa.service.SubmitDispositions(EntryNumber=number, Disposition=[item])
    assert (result.Recorded, result.Duplicates) == (1, 0)
    again = epa.service.SubmitDispositions(EntryNumber=number, Disposition=[item])
    assert (again.Recorded, again.Duplicates) == (0, 1)
    rest = filer_client.get(f"/api/v1/entries/{number}").json()
    [disposition] = rest["dispositions"]
    assert disposition["source"] == "soap" and disposition["status_code"] == "07"
    assert_same_as_rest(filer.service.GetEntryStatus(EntryNumber=number), rest)
    with pytest.raises(Fault) as caught:
        filer.service.SubmitDispositions(EntryNumber=number, Disposition=[item])
    assert "agency token" in caught.value.message
    with pytest.raises(Fault) as bad:
        epa.service.SubmitDispositions(
            EntryNumber=number, Disposition=[{**item, "StatusCode": "55"}]
        )
    assert "unknown PGA status code" in etree.tostring(bad.value.detail, encoding="unicode")


def test_list_entries_pages_like_rest(
    soap_client: Callable[..., Any], filer_client: httpx.Client
) -> None:
    soap = soap_client()
    for serial in (1000001, 1000002, 1000003):
        soap.service.SubmitEntry(Entry=entry_xml(sample_filing("fda-frozen-shrimp", serial=serial)))
    page = soap.service.ListEntries(Limit=2, Offset=0)
    rest = filer_client.get("/api/v1/entries", params={"limit": 2, "offset": 0}).json()
    assert (page.Total, page.Limit, page.Offset, page.Next) == (3, 2, 0, rest["next"])
    assert [e.EntryNumber for e in page.Entry] == [i["entry_number"] for i in rest["items"]]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert soap.service.ListEntries(CreatedFrom=later).Total == 0
    accepted = filer_client.get("/api/v1/entries", params={"status": "ACCEPTED"}).json()
    assert soap.service.ListEntries(Status="ACCEPTED").Total == accepted["total"]


def test_bearer_token_is_accepted_instead_of_ws_security(
    base_url: str, token_for: Callable[..., str], filer_client: httpx.Client
) -> None:
    transport = zeep.Transport(timeout=30)
    transport.session.headers["Authorization"] = f"Bearer {token_for(filer='ABC')}"
    try:
        soap = zeep.Client(f"{base_url}/soap/gateway?wsdl", transport=transport)
        filing = sample_filing("fda-frozen-shrimp")
        receipt = soap.service.SubmitEntry(Entry=entry_xml(filing))
        assert receipt.Status == "ACCEPTED"
    finally:
        transport.session.close()
    assert filer_client.get("/api/v1/entries").json()["total"] == 1


def test_wsdl_address_follows_the_host_header(base_url: str) -> None:
    response = httpx.get(
        f"{base_url}/soap/gateway?wsdl", headers={"Host": "gateway.example:8443"}, timeout=30
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert 'location="http://gateway.example:8443/soap/gateway"' in response.text
    assert "schemaLocation" not in response.text  # the schema is inlined
    local = httpx.get(f"{base_url}/soap/gateway?wsdl", timeout=30).text
    assert f'location="{base_url}/soap/gateway"' in local
    xsd = httpx.get(f"{base_url}/soap/gateway?xsd", timeout=30)
    assert xsd.status_code == 200 and 'targetNamespace="urn:pga-gateway:gateway:v1"' in xsd.text
