"""Schema-valid IWS request elements -> the model objects agency plugins understand.

Each PGA line's ``CatairRecords`` is the canonical content (the same 80-column records the
gateway validated), so the line is rebuilt by decoding them rather than from the typed
``Field`` texts; the ``Entry`` and line elements supply the filing around it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lxml import etree

from agencies.contract import AgencyLine
from agencies.simulator.soap import IWS, SoapFault
from gateway.pgams import assemble
from gateway.pgams.catair import parse_records
from gateway.pgams.model import Filing, PGALine, Record, TariffLine


@dataclass(frozen=True, slots=True)
class PGADataRequest:
    message_id: str
    correlation_id: str
    agency_code: str
    filing: Filing
    lines: list[AgencyLine]


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find("/".join(f"{{{IWS}}}{part}" for part in path.split("/")))
    return None if found is None else (found.text or "")


def _required(element: etree._Element, path: str) -> str:
    value = _text(element, path)
    if value is None:  # schema-valid input always has it; guard against a schema drift
        raise SoapFault("Client", f"{path} is missing", [("SCHEMA", path, f"{path} is missing")])
    return value


def message_header(element: etree._Element) -> tuple[str, str, str]:
    """``(MessageID, CorrelationID, AgencyCode)`` of either request."""
    return (
        _required(element, "MessageID"),
        _required(element, "CorrelationID"),
        _required(element, "AgencyCode"),
    )


def _pga_line(element: etree._Element, index: int) -> PGALine:
    records, problems = parse_records(_required(element, "CatairRecords"))
    location = f"PGALine[{index}]/CatairRecords"
    if problems or not records or records[0].type != "PG01":
        described = [p.message for p in problems] or ["must start with a PG01 record"]
        raise SoapFault(
            "Client",
            "CatairRecords of a PGA line cannot be decoded",
            [("CATAIR", location, message) for message in described],
        )
    pga = assemble.pga_line_from_header(records[0].fields)
    pga.records = [Record(r.type, dict(r.fields)) for r in records[1:]]
    return pga


def decode_pga_data(element: etree._Element) -> PGADataRequest:
    message_id, correlation_id, agency_code = message_header(element)
    arrival = _text(element, "Entry/EstimatedArrival")
    filing = Filing(
        entry_number=_required(element, "Entry/EntryNumber"),
        filer_code=_required(element, "Entry/FilerCode"),
        entry_type=_required(element, "Entry/EntryType"),
        port_of_entry=_required(element, "Entry/PortOfEntry"),
        importer_of_record=_required(element, "Entry/ImporterOfRecord"),
        mode_of_transport=_text(element, "Entry/ModeOfTransport"),
        estimated_arrival=dt.date.fromisoformat(arrival) if arrival else None,
    )
    by_number: dict[int, TariffLine] = {}
    lines: list[AgencyLine] = []
    for index, node in enumerate(element.iterfind(f"{{{IWS}}}PGALine")):
        number = int(_required(node, "CBPLineNumber"))
        pga = _pga_line(node, index)
        description = _required(node, "Description")
        hts, origin = _text(node, "HTSNumber"), _text(node, "CountryOfOrigin")
        tariff = by_number.get(number)
        if tariff is None:
            tariff = TariffLine(number, description, hts, origin)
            by_number[number] = tariff
            filing.lines.append(tariff)
        tariff.pga_lines.append(pga)
        lines.append(
            AgencyLine(
                cbp_line_number=number,
                pga_line=pga,
                description=description,
                hts_number=hts,
                country_of_origin=origin,
                location=f"/PGALine/{index}",
            )
        )
    return PGADataRequest(message_id, correlation_id, agency_code, filing, lines)


def entry_number_of_notice(element: etree._Element) -> str:
    return _required(element, "EntryNumber")
