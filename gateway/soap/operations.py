"""One function per SOAP operation, each a thin call into the services the REST handlers use.

Nothing here decides anything about a filing: the XML is mapped to the REST JSON and the
shared service validates, authorises, stores and answers. The MessageID (WS-Addressing
header or the payload's element) is the idempotency key, in the same key space as REST's
``Idempotency-Key`` for the same client.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from lxml import etree

from gateway.auth.principal import Principal
from gateway.errors import MalformedInput
from gateway.services import Services
from gateway.soap import mapping
from gateway.soap.envelope import GW, SoapRequest, checked_message_id

Operation = Callable[[Services, SoapRequest, Principal], etree._Element]


def submit_entry(services: Services, request: SoapRequest, who: Principal) -> etree._Element:
    entry = request.body.find(f"{{{GW}}}Entry")
    assert entry is not None  # schema-checked
    filing = mapping.filing_from_xml(entry)
    receipt = services.intake.submit(filing, who, _message_id(request))
    replayed = receipt.headers.get("Idempotent-Replayed") == "true"
    return mapping.receipt_xml("SubmitEntryResponse", receipt.body, replayed)


def replace_pga_data(services: Services, request: SoapRequest, who: Principal) -> etree._Element:
    number = mapping.text_of(request.body, "EntryNumber") or ""
    catair = mapping.text_of(request.body, "CatairRecords") or ""
    receipt = services.intake.replace_pga(number, catair, who, _message_id(request))
    replayed = receipt.headers.get("Idempotent-Replayed") == "true"
    return mapping.receipt_xml("ReplacePGADataResponse", receipt.body, replayed)


def get_entry_status(services: Services, request: SoapRequest, who: Principal) -> etree._Element:
    number = mapping.text_of(request.body, "EntryNumber") or ""
    return mapping.status_xml(services.queries.get(number, who))


def list_entries(services: Services, request: SoapRequest, who: Principal) -> etree._Element:
    body = request.body
    limit = mapping.text_of(body, "Limit")
    offset = mapping.text_of(body, "Offset")
    page = services.queries.list(
        who,
        status=mapping.text_of(body, "Status"),
        created_from=_instant(mapping.text_of(body, "CreatedFrom")),
        created_to=_instant(mapping.text_of(body, "CreatedTo")),
        # Same defaults as REST (openapi/gateway.yaml); the schema bounds them the same way.
        limit=int(limit) if limit is not None else 50,
        offset=int(offset) if offset is not None else 0,
    )
    return mapping.list_xml(page)


def submit_dispositions(services: Services, request: SoapRequest, who: Principal) -> etree._Element:
    number = mapping.text_of(request.body, "EntryNumber") or ""
    batch = mapping.dispositions_from_xml(request.body)
    result = services.dispositions.submit(number, batch, who, source="soap")
    return mapping.dispositions_result_xml(result)


OPERATIONS: dict[str, Operation] = {
    "SubmitEntry": submit_entry,
    "ReplacePGAData": replace_pga_data,
    "GetEntryStatus": get_entry_status,
    "ListEntries": list_entries,
    "SubmitDispositions": submit_dispositions,
}


def _message_id(request: SoapRequest) -> str | None:
    text = mapping.text_of(request.body, "MessageID")
    payload = checked_message_id(text, "MessageID") if text is not None else None
    if payload and request.message_id and payload != request.message_id:
        raise MalformedInput(
            "the wsa:MessageID header and the MessageID element differ; send one, or the same"
        )
    return request.message_id or payload


def _instant(text: str | None) -> dt.datetime | None:
    # The schema's AwareDateTime already demands a zone; fromisoformat takes the rest.
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00")).astimezone(dt.UTC)
    except ValueError:
        raise MalformedInput(f"{text!r} is not an RFC 3339 date-time") from None
