"""XML of ``wsdl/gateway.xsd`` <-> the canonical JSON dicts the shared services speak.

Requests become exactly the JSON a REST caller would send (``openapi/gateway.yaml``), so the
services validate them the same way and report the same problems with the same JSON
locations. The only typing done here is what XML cannot say by itself: a record field whose
PG layout kind is ``int`` becomes a JSON number when its text is an integer (anything else is
passed through as text, and the shared validation says what is wrong with it).

Answers are the REST JSON views written as XML in the schema's element order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from lxml import etree

from gateway.pgams.layouts import layout_for
from gateway.soap.envelope import GW, xml_text

_INTEGER = re.compile(r"-?\d{1,9}")

# (XML element, JSON key, converter from text) for simple children of a request element.
Simple = tuple[str, str, Callable[[str], Any]]


def _keep(text: str) -> str:
    return text


def _int(text: str) -> int:
    return int(text.strip())  # xs:int, already schema-checked


_ENTRY_FIELDS: tuple[Simple, ...] = (
    ("EntryNumber", "entry_number", _keep),
    ("FilerCode", "filer_code", _keep),
    ("EntryType", "entry_type", _keep),
    ("PortOfEntry", "port_of_entry", _keep),
    ("ImporterOfRecord", "importer_of_record", _keep),
    ("ModeOfTransport", "mode_of_transport", _keep),
    ("EstimatedArrival", "estimated_arrival", _keep),
)
_LINE_FIELDS: tuple[Simple, ...] = (
    ("LineNumber", "line_number", _int),
    ("Description", "description", _keep),
    ("HTSNumber", "hts_number", _keep),
    ("CountryOfOrigin", "country_of_origin", _keep),
    ("Value", "value", _keep),
    ("CatairRecords", "catair", _keep),
)
_PGA_FIELDS: tuple[Simple, ...] = (
    ("PGALineNumber", "pga_line_number", _int),
    ("AgencyCode", "agency_code", _keep),
    ("ProgramCode", "program_code", _keep),
    ("ProcessingCode", "processing_code", _keep),
    ("Disclaimer", "disclaimer", _keep),
    ("CorrectionIndicator", "correction_indicator", _keep),
)
_DISPOSITION_FIELDS: tuple[Simple, ...] = (
    ("CBPLineNumber", "cbp_line_number", _int),
    ("PGALineNumber", "pga_line_number", _int),
    ("StatusCode", "status_code", _keep),
    ("ReasonCode", "reason_code", _keep),
    ("ActionTime", "action_time", _keep),
    ("Remark", "remark", _keep),
)


def _q(name: str) -> str:
    return f"{{{GW}}}{name}"


def text_of(parent: etree._Element, name: str) -> str | None:
    child = parent.find(_q(name))
    return None if child is None else (child.text or "")


def _simple(element: etree._Element, fields: tuple[Simple, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for xml_name, key, convert in fields:
        text = text_of(element, xml_name)
        if text is not None:
            out[key] = convert(text)
    return out


# -- requests ---------------------------------------------------------------------------------


def filing_from_xml(entry: etree._Element) -> dict[str, Any]:
    """An ``Entry`` element -> the REST filing JSON."""
    filing = _simple(entry, _ENTRY_FIELDS)
    filing["lines"] = [_line(line) for line in entry.iterfind(_q("Line"))]
    return filing


def _line(line: etree._Element) -> dict[str, Any]:
    out = _simple(line, _LINE_FIELDS)
    leading = [_record(r) for r in line.iterfind(_q("LeadingRecord"))]
    if leading:
        out["leading_records"] = leading
    pga_lines = [_pga_line(p) for p in line.iterfind(_q("PGALine"))]
    if pga_lines:
        out["pga_lines"] = pga_lines
    return out


def _pga_line(pga: etree._Element) -> dict[str, Any]:
    out = _simple(pga, _PGA_FIELDS)
    header = pga.find(_q("Header"))
    if header is not None:
        out["header"] = _fields("PG01", header)
    out["records"] = [_record(r) for r in pga.iterfind(_q("Record"))]
    return out


def _record(record: etree._Element) -> dict[str, Any]:
    record_type = record.get("Type", "")
    return {"type": record_type, "fields": _fields(record_type, record)}


def _fields(record_type: str, parent: etree._Element) -> dict[str, Any]:
    layout = layout_for(record_type)
    specs = layout.by_name if layout is not None else {}
    out: dict[str, Any] = {}
    for field in parent.iterfind(_q("Field")):
        name, text = field.get("Name", ""), field.text or ""
        spec = specs.get(name)
        # A JSON object cannot repeat a key, so neither may a record: the suffix makes the
        # services report the repeat as a located "no field 'name#2'" problem.
        if name in out:
            name = f"{name}#{sum(k.split('#')[0] == name for k in out) + 1}"
        value: Any = text
        if spec is not None and spec.kind == "int" and _INTEGER.fullmatch(text.strip()):
            value = int(text.strip())
        out[name] = value
    return out


def dispositions_from_xml(request: etree._Element) -> dict[str, Any]:
    items = [_simple(d, _DISPOSITION_FIELDS) for d in request.iterfind(_q("Disposition"))]
    return {"dispositions": items}


# -- answers ----------------------------------------------------------------------------------


def receipt_xml(response_name: str, body: Mapping[str, Any], replayed: bool) -> etree._Element:
    root = etree.Element(_q(response_name), nsmap={"gw": GW})
    receipt = etree.SubElement(root, _q("Receipt"))
    _put(receipt, "TransactionID", body.get("transaction_id"))
    _put(receipt, "EntryNumber", body.get("entry_number"))
    _put(receipt, "Status", body.get("status"))
    _put(receipt, "StatusURL", body.get("status_url"))
    _put(receipt, "Version", body.get("version"))
    for agency in body.get("agencies") or []:
        _put(receipt, "Agency", agency)
    if replayed:
        _put(receipt, "Replayed", True)
    return root


_SUMMARY = (
    ("EntryNumber", "entry_number"),
    ("FilerCode", "filer_code"),
    ("EntryType", "entry_type"),
    ("PortOfEntry", "port_of_entry"),
    ("Status", "status"),
    ("Version", "version"),
    ("CreatedAt", "created_at"),
    ("UpdatedAt", "updated_at"),
    ("URL", "url"),
)
_STATUS_EXTRA = (
    ("ImporterOfRecord", "importer_of_record"),
    ("ModeOfTransport", "mode_of_transport"),
    ("EstimatedArrival", "estimated_arrival"),
    ("TransactionID", "transaction_id"),
)
_DISPATCH = (
    ("AgencyCode", "agency_code"),
    ("MessageID", "message_id"),
    ("EntryVersion", "entry_version"),
    ("State", "state"),
    ("Attempts", "attempts"),
    ("NextAttemptAt", "next_attempt_at"),
    ("LastError", "last_error"),
)
_ATTEMPT = (
    ("Attempt", "attempt"),
    ("Worker", "worker"),
    ("StartedAt", "started_at"),
    ("FinishedAt", "finished_at"),
    ("Outcome", "outcome"),
    ("Error", "error"),
)
_DISPOSITION = (
    ("AgencyCode", "agency_code"),
    ("ProgramCode", "program_code"),
    ("CBPLineNumber", "cbp_line_number"),
    ("PGALineNumber", "pga_line_number"),
    ("StatusCode", "status_code"),
    ("StatusText", "status_text"),
    ("ReasonCode", "reason_code"),
    ("ActionTime", "action_time"),
    ("ReceivedAt", "received_at"),
    ("Source", "source"),
    ("Remark", "remark"),
)
_LINE_OUT = (
    ("LineNumber", "line_number"),
    ("Description", "description"),
    ("HTSNumber", "hts_number"),
    ("CountryOfOrigin", "country_of_origin"),
    ("Value", "value"),
)
_PGA_OUT = tuple((xml, key) for xml, key, _ in _PGA_FIELDS)
_KNOWN_STATUS_KEYS = {key for _, key in _SUMMARY + _STATUS_EXTRA} | {
    "lines",
    "dispatch",
    "dispositions",
    "coordinated",
}


def status_xml(view: Mapping[str, Any]) -> etree._Element:
    """``EntryQueries.get``'s view -> GetEntryStatusResponse."""
    root = etree.Element(_q("GetEntryStatusResponse"), nsmap={"gw": GW})
    entry = etree.SubElement(root, _q("Entry"))
    _put_all(entry, view, _SUMMARY + _STATUS_EXTRA)
    for line in view.get("lines") or []:
        _entry_line(etree.SubElement(entry, _q("Line")), line)
    for row in view.get("dispatch") or []:
        dispatch = etree.SubElement(entry, _q("Dispatch"))
        _put_all(dispatch, row, _DISPATCH)
        for attempt in row.get("history") or []:
            _put_all(etree.SubElement(dispatch, _q("History")), attempt, _ATTEMPT)
    for row in view.get("dispositions") or []:
        _put_all(etree.SubElement(entry, _q("Disposition")), row, _DISPOSITION)
    if view.get("coordinated") is not None:
        _item(entry, "Coordinated", None, view["coordinated"])
    # Keys the REST view gained after this contract: carried generically, never dropped.
    for key in sorted(set(view) - _KNOWN_STATUS_KEYS):
        _item(entry, "Extension", key, view[key])
    return root


def list_xml(page: Mapping[str, Any]) -> etree._Element:
    root = etree.Element(_q("ListEntriesResponse"), nsmap={"gw": GW})
    _put_all(root, page, (("Total", "total"), ("Limit", "limit"), ("Offset", "offset")))
    _put(root, "Next", page.get("next"))
    for item in page.get("items") or []:
        _put_all(etree.SubElement(root, _q("Entry")), item, _SUMMARY)
    return root


def dispositions_result_xml(result: Mapping[str, Any]) -> etree._Element:
    root = etree.Element(_q("SubmitDispositionsResponse"), nsmap={"gw": GW})
    _put_all(root, result, (("Recorded", "recorded"), ("Duplicates", "duplicates")))
    return root


def _entry_line(parent: etree._Element, line: Mapping[str, Any]) -> None:
    _put_all(parent, line, _LINE_OUT)
    for record in line.get("leading_records") or []:
        _record_xml(parent, "LeadingRecord", record)
    for pga in line.get("pga_lines") or []:
        node = etree.SubElement(parent, _q("PGALine"))
        _put_all(node, pga, _PGA_OUT)
        if pga.get("header"):
            _fields_xml(etree.SubElement(node, _q("Header")), pga["header"])
        for record in pga.get("records") or []:
            _record_xml(node, "Record", record)


def _record_xml(parent: etree._Element, name: str, record: Mapping[str, Any]) -> None:
    node = etree.SubElement(parent, _q(name), Type=str(record.get("type", "")))
    _fields_xml(node, record.get("fields") or {})


def _fields_xml(parent: etree._Element, fields: Mapping[str, Any]) -> None:
    for name, value in fields.items():
        etree.SubElement(parent, _q("Field"), Name=name).text = xml_text(_scalar(value))


def _item(parent: etree._Element, element: str, name: str | None, value: Any) -> None:
    node = etree.SubElement(parent, _q(element))
    if name is not None:
        node.set("Name", name)
    if isinstance(value, Mapping):
        node.set("Kind", "object")
        for key, member in value.items():
            _item(node, "Item", str(key), member)
    elif isinstance(value, list | tuple):
        node.set("Kind", "array")
        for member in value:
            _item(node, "Item", None, member)
    elif value is None:
        node.set("Kind", "null")
    else:
        kind = "boolean" if isinstance(value, bool) else "number"
        node.set("Kind", "string" if isinstance(value, str) else kind)
        etree.SubElement(node, _q("Value")).text = xml_text(_scalar(value))


def _put_all(
    parent: etree._Element, obj: Mapping[str, Any], spec: tuple[tuple[str, str], ...]
) -> None:
    for xml_name, key in spec:
        _put(parent, xml_name, obj.get(key))


def _put(parent: etree._Element, name: str, value: Any) -> None:
    if value is not None:
        etree.SubElement(parent, _q(name)).text = xml_text(_scalar(value))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
