"""``/soap/dis``: WSDL (GET ``?wsdl``), schema (GET ``?xsd``) and ``SubmitDocument`` (POST).

Reuses the gateway's SOAP edge: the hardened parser (``gateway.xmlsafe``), the envelope
checks and faults of ``gateway.soap.envelope`` and WS-Security/bearer authentication of
``gateway.soap.security``. The body element must be a CBP ``DIS:MessageEnvelope``, validated
against ``wsdl/dis.xsd`` (CBP's schema). Business validation failures are answered in CBP's
``MessageValidationResponse`` shape (HTTP 200, FAILED, a reason per document); only what
cannot be answered that way is a SOAP Fault.
"""

from __future__ import annotations

import copy
import logging
from functools import cache

from lxml import etree
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from gateway.api.context import SERVICES_SCOPE_KEY
from gateway.auth.principal import Principal
from gateway.errors import (
    Conflict,
    GatewayError,
    MalformedInput,
    NotFound,
    PayloadTooLarge,
    ServerError,
    UnsupportedMediaType,
    ValidationFailed,
)
from gateway.services import Services
from gateway.soap import envelope as soap_envelope
from gateway.soap import security
from gateway.xmlsafe import load_schema, parse_xml, validate
from pga_dis import envelope
from pga_dis.service import UploadRequest

log = logging.getLogger("pga_dis.soap")

XML_TYPE = "text/xml; charset=utf-8"
SOAP_ENV = soap_envelope.SOAP_ENV
_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
_XS = "http://www.w3.org/2001/XMLSchema"
_FILE_CAP = 8 * 1024 * 1024


def message_limit(services: Services) -> int:
    return int(services.settings.document_message_max_bytes)


async def soap_dis(request: Request) -> Response:
    services: Services = request.scope[SERVICES_SCOPE_KEY]
    if request.method == "GET":
        return _describe(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "text/xml":
        unsupported = UnsupportedMediaType(
            f"SOAP 1.1 requests need Content-Type text/xml, got {media_type or 'none'}"
        )
        return Response(soap_envelope.fault(unsupported), 415, media_type=XML_TYPE)
    limit = message_limit(services)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        error = PayloadTooLarge(f"the message is {declared} bytes; the limit is {limit} bytes")
        return Response(soap_envelope.fault(error), 500, media_type=XML_TYPE)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            error = PayloadTooLarge(f"the message is over the limit of {limit} bytes")
            return Response(soap_envelope.fault(error), 500, media_type=XML_TYPE)
    authorization = request.headers.get("authorization")
    status, answer = await run_in_threadpool(handle, services, bytes(data), authorization)
    return Response(answer, status, media_type=XML_TYPE)


def handle(services: Services, data: bytes, authorization: str | None) -> tuple[int, bytes]:
    try:
        body_element, security_header = read_request(data, max_bytes=message_limit(services))
        principal = security.authenticate(
            security_header,
            authorization,
            identity=services.identity,
            verifier=services.verifier,
            database=services.database,
        )
        problems = validate(load_schema(envelope.XSD_PATH), body_element)
        if problems:
            raise ValidationFailed(
                f"{len(problems)} schema error(s) in the DIS MessageEnvelope", problems
            )
        answer = submit(services, principal, envelope.read_message(body_element))
        return 200, _soap(answer)
    except GatewayError as exc:
        if exc.http_status >= 500:
            log.error("dis soap call failed: %s", exc.detail)
        return 500, soap_envelope.fault(exc)
    except Exception:
        log.exception("unhandled error in a DIS SOAP call")
        return 500, soap_envelope.fault(ServerError("internal error"))


def read_request(data: bytes, *, max_bytes: int) -> tuple[etree._Element, etree._Element | None]:
    """(the DIS:MessageEnvelope, the wsse:Security header or None) of a SOAP 1.1 request."""
    root = parse_xml(data, max_bytes=max_bytes)
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise MalformedInput(f"the document element must be a SOAP 1.1 Envelope ({SOAP_ENV})")
    children = [c for c in root if isinstance(c.tag, str)]
    header = children[0] if children and children[0].tag == f"{{{SOAP_ENV}}}Header" else None
    rest = children[1:] if header is not None else children
    if len(rest) != 1 or rest[0].tag != f"{{{SOAP_ENV}}}Body":
        raise MalformedInput("the Envelope must hold an optional soap:Header then one soap:Body")
    sec = None
    if header is not None:
        sec, _ = soap_envelope._headers(header)
    payload = [c for c in rest[0] if isinstance(c.tag, str)]
    if len(payload) != 1:
        raise MalformedInput(f"the SOAP Body must hold exactly one element (found {len(payload)})")
    if payload[0].tag != envelope.q("MessageEnvelope"):
        raise MalformedInput(
            f"SubmitDocument takes a DIS:MessageEnvelope ({envelope.DIS}), "
            f"not {etree.QName(payload[0]).localname}"
        )
    return payload[0], sec


def _entry_number(message: envelope.DisMessage, principal: Principal) -> tuple[str, list[str]]:
    texts = []
    if not message.entries:
        return "", ["TradeTransaction must name the Entry (EntryNumber and Filer)"]
    number, filer = message.entries[0]
    if len(message.entries) > 1:
        texts.append("only one Entry per message is supported")
    if filer and filer.upper() != principal.filer_code:
        texts.append(f"Filer {filer} is not the authenticated filer {principal.filer_code}")
    full = number if len(number) >= 11 else f"{filer.upper()}{number}"
    return full, texts


def submit(
    services: Services, principal: Principal, message: envelope.DisMessage
) -> etree._Element:
    documents = services.documents
    entry_number, message_texts = _entry_number(message, principal)
    results: list[envelope.DocumentResult] = []
    if message.action not in ("ADD", "REPLACE", "DELETE"):
        message_texts.append(f"ActionCode {message.action!r}: use ADD, REPLACE or DELETE")
    if message_texts or not message.documents:
        return envelope.validation_response(
            message.header,
            [envelope.DocumentResult(d.header, "FAILED", []) for d in message.documents],
            message_texts=message_texts or ["no DocumentData"],
            trade_transaction=message.trade_transaction,
        )
    if message.action == "DELETE":
        for doc in message.documents:
            try:
                documents.withdraw_by_document_id(principal, doc.document_id)
                results.append(
                    envelope.DocumentResult(doc.header, "PASSED", ["Document withdrawn"])
                )
            except NotFound as exc:
                results.append(envelope.DocumentResult(doc.header, "FAILED", [exc.detail]))
        return envelope.validation_response(
            message.header, results, trade_transaction=message.trade_transaction
        )
    items: list[tuple[UploadRequest, bytes]] = []
    decode_errors: list[list[str]] = []
    for doc in message.documents:
        errors: list[str] = []
        content = b""
        if doc.content_b64 is None:
            errors.append("DocumentObject is missing")
        else:
            try:
                content = doc.content()
            except ValueError as exc:
                errors.append(str(exc))
        decode_errors.append(errors)
        items.append(
            (
                UploadRequest(
                    entry_number=entry_number,
                    agencies=doc.agencies,
                    label=doc.label,
                    document_id=doc.document_id,
                    file_name=doc.file_name,
                    description=doc.description,
                    cbp_line_numbers=sorted(set(doc.cbp_line_numbers + message.entry_line_numbers)),
                    action=message.action,
                    declared_extension=doc.extension,
                    channel="soap",
                    message_id=message.message_id,
                ),
                content,
            )
        )
    try:
        per_doc, _ = documents.submit_message(principal, items)
        texts = [
            dec + [_reason(p.code, p.message) for p in problems]
            for dec, problems in zip(decode_errors, per_doc, strict=True)
        ]
    except (Conflict, NotFound, PayloadTooLarge) as exc:
        texts = [[exc.detail] for _ in message.documents]
    for doc, doc_texts in zip(message.documents, texts, strict=True):
        status = "FAILED" if doc_texts else "PASSED"
        results.append(envelope.DocumentResult(doc.header, status, doc_texts))
    if any(r.status == "FAILED" for r in results):
        # All or nothing: a passed sibling of a failed document was not stored either.
        for r in results:
            if r.status == "PASSED":
                r.status = "FAILED"
                r.texts = ["not stored: another document of this message failed"]
    return envelope.validation_response(
        message.header, results, trade_transaction=message.trade_transaction
    )


def _reason(code: str | None, message: str) -> str:
    return f"{code}: {message}" if code else message


def _soap(payload: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    etree.SubElement(env, f"{{{SOAP_ENV}}}Body").append(payload)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="UTF-8"))


def _describe(request: Request) -> Response:
    params = request.query_params
    if "wsdl" in params:
        address = str(request.url.replace(query="", fragment=""))
        wsdl = copy.deepcopy(_wsdl_template())
        for node in wsdl.iter(f"{{{_WSDL_SOAP}}}address"):
            node.set("location", address)
        body = bytes(etree.tostring(wsdl, xml_declaration=True, encoding="UTF-8"))
        return Response(body, 200, media_type=XML_TYPE)
    if "xsd" in params:
        return Response(envelope.XSD_PATH.read_bytes(), 200, media_type=XML_TYPE)
    error = MalformedInput("GET serves ?wsdl or ?xsd; SOAP calls are POSTed as text/xml")
    return Response(soap_envelope.fault(error), 400, media_type=XML_TYPE)


@cache
def _wsdl_template() -> etree._Element:
    wsdl = parse_xml(envelope.WSDL_PATH.read_bytes(), max_bytes=_FILE_CAP)
    schema = parse_xml(envelope.XSD_PATH.read_bytes(), max_bytes=_FILE_CAP)
    types = wsdl.find(f"{{{_WSDL}}}types")
    assert types is not None
    for old in types.findall(f"{{{_XS}}}schema"):
        types.remove(old)
    types.append(schema)
    return wsdl
