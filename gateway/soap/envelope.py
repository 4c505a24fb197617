"""SOAP 1.1 envelopes: read a request (structure, headers, body schema), write answers and faults.

The request is parsed only by ``gateway.xmlsafe.parse_xml`` (no DTD, no entities, no network,
size cap). The envelope is checked here, element by element, because the checks need precise
fault strings (an XSD for the envelope would say "element X not expected" for all of them):
SOAP 1.1 namespace, optional Header then Body and nothing else, header blocks limited to
WS-Security and WS-Addressing MessageID/Action/To, exactly one body element, one of our
operations. The body element itself is validated with lxml ``XMLSchema`` against
``wsdl/gateway.xsd`` and every schema error is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from gateway.errors import ClientError, GatewayError, MalformedInput, Problem, ValidationFailed
from gateway.resources import resource_dir
from gateway.xmlsafe import load_schema, parse_xml, validate

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
GW = "urn:pga-gateway:gateway:v1"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
# WS-Addressing 1.0 (zeep, most stacks) and the 2004/08 member submission (older stacks).
WSA_NAMESPACES = (
    "http://www.w3.org/2005/08/addressing",
    "http://schemas.xmlsoap.org/ws/2004/08/addressing",
)


def wsdl_dir() -> Path:
    """``wsdl/`` of the checkout or the installed wheel (found on first use, not at import)."""
    return resource_dir("wsdl")


def xsd_path() -> Path:
    return wsdl_dir() / "gateway.xsd"


OPERATIONS = (
    "SubmitEntry",
    "ReplacePGAData",
    "GetEntryStatus",
    "ListEntries",
    "SubmitDispositions",
)
_REQUEST_ELEMENTS = {f"{{{GW}}}{op}Request": op for op in OPERATIONS}
_WSA_HEADERS = {"MessageID", "Action", "To"}
_MAX_MESSAGE_ID = 255


class MustUnderstand(ClientError):
    """A header block marked mustUnderstand="1" that this endpoint does not process."""

    soap_fault_code = "soap:MustUnderstand"
    title = "Header not understood"


@dataclass(frozen=True)
class SoapRequest:
    operation: str
    body: etree._Element
    security: etree._Element | None
    message_id: str | None  # from the WS-Addressing header


def read_request(data: bytes, *, max_bytes: int) -> SoapRequest:
    """Parse and check the envelope; the body element is not schema-checked yet (see
    ``validate_body``: that happens after authentication, so strangers learn nothing)."""
    root = parse_xml(data, max_bytes=max_bytes)
    name = etree.QName(root)
    if name.localname != "Envelope":
        raise MalformedInput(f"the document element must be a SOAP 1.1 Envelope, not {_show(root)}")
    if name.namespace != SOAP_ENV:
        raise MalformedInput(
            f"wrong namespace: the Envelope must be in the SOAP 1.1 namespace {SOAP_ENV} "
            f"(got {name.namespace or 'no namespace'}; SOAP 1.2 is not supported)"
        )
    _no_text(root, "Envelope")
    children = _elements(root)
    header = children[0] if children and children[0].tag == f"{{{SOAP_ENV}}}Header" else None
    rest = children[1:] if header is not None else children
    if len(rest) != 1 or rest[0].tag != f"{{{SOAP_ENV}}}Body":
        found = ", ".join(_show(c) for c in children) or "nothing"
        raise MalformedInput(
            f"the Envelope must hold an optional soap:Header then one soap:Body (found {found})"
        )
    body = rest[0]
    _no_text(body, "Body")
    security, message_id = _headers(header) if header is not None else (None, None)
    payload = _elements(body)
    if len(payload) != 1:
        raise MalformedInput(f"the SOAP Body must hold exactly one element (found {len(payload)})")
    element = payload[0]
    operation = _REQUEST_ELEMENTS.get(element.tag)
    if operation is None:
        qname = etree.QName(element)
        if qname.namespace != GW:
            raise MalformedInput(
                f"wrong namespace: body element {qname.localname} is in "
                f"{qname.namespace or 'no namespace'}, expected {GW}"
            )
        known = ", ".join(f"{op}Request" for op in OPERATIONS)
        raise MalformedInput(f"unknown operation {qname.localname} (known: {known})")
    return SoapRequest(operation, element, security, message_id)


def validate_body(request: SoapRequest) -> None:
    """Every schema error of the body element, as one ``ValidationFailed``."""
    problems = validate(load_schema(xsd_path()), request.body)
    if problems:
        n = len(problems)
        raise ValidationFailed(
            f"{n} schema error{'s' if n != 1 else ''} in {request.operation}Request", problems
        )


def _headers(header: etree._Element) -> tuple[etree._Element | None, str | None]:
    _no_text(header, "Header")
    security: etree._Element | None = None
    message_id: str | None = None
    for block in _elements(header):
        qname = etree.QName(block)
        if block.tag == f"{{{WSSE}}}Security":
            if security is not None:
                raise MalformedInput("more than one wsse:Security header")
            security = block
        elif qname.namespace in WSA_NAMESPACES and qname.localname in _WSA_HEADERS:
            if qname.localname == "MessageID":
                if message_id is not None:
                    raise MalformedInput("more than one wsa:MessageID header")
                message_id = checked_message_id(block.text, "wsa:MessageID")
        elif block.get(f"{{{SOAP_ENV}}}mustUnderstand") in ("1", "true"):
            raise MustUnderstand(f"header {_show(block)} is not understood by this endpoint")
        else:
            raise MalformedInput(
                f"header {_show(block)} is not allowed (only wsse:Security and "
                "wsa:MessageID, wsa:Action, wsa:To)"
            )
    return security, message_id


def checked_message_id(text: str | None, where: str) -> str:
    value = (text or "").strip()
    if not value or len(value) > _MAX_MESSAGE_ID or not value.isprintable():
        raise MalformedInput(f"{where} must be 1 to {_MAX_MESSAGE_ID} printable characters")
    return value


def _elements(parent: etree._Element) -> list[etree._Element]:
    # Comments and processing instructions are legal between elements; they carry nothing.
    return [child for child in parent if isinstance(child.tag, str)]


def _no_text(element: etree._Element, what: str) -> None:
    texts = [element.text, *(child.tail for child in element)]
    if any(t and t.strip() for t in texts):
        raise MalformedInput(f"soap:{what} must not contain character data")


def _show(element: etree._Element) -> str:
    qname = etree.QName(element)
    return f"{{{qname.namespace}}}{qname.localname}" if qname.namespace else qname.localname


# -- answers ---------------------------------------------------------------------------------


def envelope(payload: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "gw": GW})
    etree.SubElement(env, f"{{{SOAP_ENV}}}Body").append(payload)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="UTF-8"))


def fault(error: GatewayError) -> bytes:
    """A SOAP 1.1 Fault: faultcode soap:Client/soap:Server, faultstring the error's detail,
    detail a gw:GatewayFault with the REST problem's type/title/status and every Problem."""
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "gw": GW})
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    node = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    # faultcode/faultstring/detail are unqualified in SOAP 1.1.
    etree.SubElement(node, "faultcode").text = error.soap_fault_code
    etree.SubElement(node, "faultstring").text = xml_text(error.detail)
    detail = etree.SubElement(etree.SubElement(node, "detail"), f"{{{GW}}}GatewayFault")
    _text(detail, "Type", error.type_uri)
    _text(detail, "Title", error.title)
    _text(detail, "Status", str(error.http_status))
    _text(detail, "Detail", error.detail)
    for problem in error.problems:
        _problem(detail, problem)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="UTF-8"))


def _problem(parent: etree._Element, problem: Problem) -> None:
    item = etree.SubElement(parent, f"{{{GW}}}Error")
    for name, value in (
        ("Code", problem.code),
        ("Location", problem.location),
        ("Message", problem.message),
        ("Record", problem.record),
        ("Positions", problem.positions),
        ("Field", problem.field),
    ):
        if value is not None:
            _text(item, name, str(value))


def _text(parent: etree._Element, name: str, value: str) -> None:
    etree.SubElement(parent, f"{{{GW}}}{name}").text = xml_text(value)


# Characters XML 1.0 cannot carry at all; an error message quoting a caller's bad byte must
# still produce a well-formed fault.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)
