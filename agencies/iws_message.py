"""Build the agency IWS request bodies (wsdl/agency-iws.xsd) as plain, zeep-ready dicts.

The dicts hold only ``str``, ``int``, lists and dicts, so they are JSON-serialisable (an outbox
row can keep the exact message and every retry sends the same bytes' worth of content) and zeep
serialises them directly: ``client.service.SubmitPGAData(**message)``. Element names are the
XSD's; an element with text content and attributes (``Field``, ``Annotation``) carries its
text under zeep's ``_value_1`` key. Optional elements are left out rather than set to ``None``.

PG record field values travel as their canonical JSON text (``jsonvalues.value_to_json``:
decimals "1200.00", dates "2026-11-10", integers "1"), keyed by layout field name, with PG01
sent as the line's first ``Record`` so every header field travels too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from agencies.contract import AgencyLine
from gateway.pgams import assemble
from gateway.pgams.catair import render_records
from gateway.pgams.jsonvalues import value_to_json
from gateway.pgams.model import FieldValue, Filing
from gateway.resources import resource_dir

__all__ = [
    "NAMESPACE",
    "WSDL_PATH",
    "XSD_PATH",
    "build_document_notice",
    "build_pga_data",
]

NAMESPACE = "urn:pga-gateway:agency-iws:v1"
WSDL_DIR = resource_dir("wsdl")
WSDL_PATH = WSDL_DIR / "agency-iws.wsdl"
XSD_PATH = WSDL_DIR / "agency-iws.xsd"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _fields(fields: Mapping[str, FieldValue]) -> list[dict[str, str]]:
    return [{"Name": name, "_value_1": str(value_to_json(value))} for name, value in fields.items()]


def _optional(out: dict[str, Any], **values: Any) -> None:
    for key, value in values.items():
        if value is not None:
            out[key] = value


def _pga_line(line: AgencyLine) -> dict[str, Any]:
    pga = line.pga_line
    records = assemble.pga_line_records(pga)
    out: dict[str, Any] = {"CBPLineNumber": line.cbp_line_number}
    _optional(out, HTSNumber=line.hts_number)
    out["Description"] = line.description
    _optional(out, CountryOfOrigin=line.country_of_origin)
    out["ProgramCode"] = pga.program_code
    _optional(out, ProcessingCode=pga.processing_code)
    out["PGALineNumber"] = pga.pga_line_number
    _optional(out, Disclaimer=pga.disclaimer, CorrectionIndicator=pga.correction_indicator)
    out["Record"] = [{"Type": kind, "Field": _fields(fields)} for kind, fields in records]
    out["CatairRecords"] = render_records(records)
    return out


def build_pga_data(
    *,
    message_id: str,
    correlation_id: str,
    agency_code: str,
    entry_version: int,
    filing: Filing,
    lines: Sequence[AgencyLine],
    annotations: Mapping[str, str],
) -> dict[str, Any]:
    """The ``SubmitPGADataRequest`` content for ``agency_code``'s ``lines`` of ``filing``."""
    entry: dict[str, Any] = {
        "EntryNumber": filing.entry_number,
        "FilerCode": filing.filer_code,
        "EntryType": filing.entry_type,
        "PortOfEntry": filing.port_of_entry,
        "ImporterOfRecord": filing.importer_of_record,
    }
    _optional(
        entry,
        ModeOfTransport=filing.mode_of_transport,
        EstimatedArrival=filing.estimated_arrival.isoformat() if filing.estimated_arrival else None,
    )
    message: dict[str, Any] = {
        "MessageID": message_id,
        "CorrelationID": correlation_id,
        "SentAt": _now(),
        "AgencyCode": agency_code,
        "EntryVersion": entry_version,
        "Entry": entry,
        "PGALine": [_pga_line(line) for line in lines],
    }
    if annotations:
        message["Annotation"] = [{"Name": k, "_value_1": v} for k, v in annotations.items()]
    return message


def build_document_notice(
    *,
    message_id: str,
    correlation_id: str,
    agency_code: str,
    entry_number: str,
    document_id: str,
    label_code: str,
    file_name: str,
    media_type: str,
    size_bytes: int,
    sha256: str,
    cbp_line_numbers: Sequence[int] = (),
    retrieval_url: str | None = None,
) -> dict[str, Any]:
    """The ``SubmitDocumentNoticeRequest`` content: a stored document concerns the agency.

    ``cbp_line_numbers`` empty means the document concerns the whole entry; ``retrieval_url``
    is where agency systems fetch the image (left out when the agency reviews in our UI).
    """
    message: dict[str, Any] = {
        "MessageID": message_id,
        "CorrelationID": correlation_id,
        "SentAt": _now(),
        "AgencyCode": agency_code,
        "EntryNumber": entry_number,
        "DocumentID": document_id,
        "LabelCode": label_code,
        "FileName": file_name,
        "MediaType": media_type,
        "SizeBytes": size_bytes,
        "SHA256": sha256.lower(),
    }
    if cbp_line_numbers:
        message["CBPLineNumbers"] = {"CBPLineNumber": list(cbp_line_numbers)}
    _optional(message, RetrievalURL=retrieval_url)
    return message
