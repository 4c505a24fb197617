"""``/soap/gateway``: the WSDL (GET ``?wsdl``), its schema (GET ``?xsd``) and SOAP 1.1 calls (POST).

A call runs, in one worker thread: envelope check (``envelope.read_request``), caller
(``security.authenticate``), body schema check (``envelope.validate_body``), then the
operation (``operations``), which calls the services the REST handlers use. Any
``GatewayError`` becomes a SOAP Fault; anything else is logged and becomes a soap:Server
fault saying only "internal error". Faults use HTTP 500, as SOAP 1.1 over HTTP requires,
except a wrong Content-Type (415), which is refused before any SOAP processing.
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
from gateway.errors import (
    GatewayError,
    MalformedInput,
    PayloadTooLarge,
    ServerError,
    UnsupportedMediaType,
)
from gateway.services import Services
from gateway.soap import envelope, operations, security
from gateway.xmlsafe import parse_xml

log = logging.getLogger("gateway.soap")

XML_TYPE = "text/xml; charset=utf-8"
_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
_XS = "http://www.w3.org/2001/XMLSchema"
# Our own files; generous cap only so the shared parser can be used for them too.
_FILE_CAP = 4 * 1024 * 1024


async def soap_gateway(request: Request) -> Response:
    services: Services = request.scope[SERVICES_SCOPE_KEY]
    if request.method == "GET":
        return _describe(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "text/xml":
        soap12 = " (application/soap+xml is SOAP 1.2, which is not supported)"
        error = UnsupportedMediaType(
            f"SOAP 1.1 requests need Content-Type text/xml, got {media_type or 'none'}"
            + (soap12 if media_type == "application/soap+xml" else "")
        )
        return Response(envelope.fault(error), 415, media_type=XML_TYPE)
    try:
        data = await request.body()
    except PayloadTooLarge as exc:  # streamed past the limit without a Content-Length
        return Response(envelope.fault(exc), 500, media_type=XML_TYPE)
    authorization = request.headers.get("authorization")
    status, answer = await run_in_threadpool(handle, services, data, authorization)
    return Response(answer, status, media_type=XML_TYPE)


def handle(services: Services, data: bytes, authorization: str | None) -> tuple[int, bytes]:
    """One SOAP call, synchronously: (HTTP status, response envelope)."""
    try:
        call = envelope.read_request(data, max_bytes=services.settings.max_body_bytes)
        principal = security.authenticate(
            call.security,
            authorization,
            identity=services.identity,
            verifier=services.verifier,
            database=services.database,
        )
        envelope.validate_body(call)
        answer = operations.OPERATIONS[call.operation](services, call, principal)
        return 200, envelope.envelope(answer)
    except GatewayError as exc:
        if exc.http_status >= 500:
            log.error("soap call failed: %s", exc.detail)
        return 500, envelope.fault(exc)
    except Exception:
        # Never echo internals to the caller; the log has the traceback.
        log.exception("unhandled error in a SOAP call")
        return 500, envelope.fault(ServerError("internal error"))


def _describe(request: Request) -> Response:
    params = request.query_params
    if "wsdl" in params:
        address = str(request.url.replace(query="", fragment=""))
        return Response(_wsdl_for(address), 200, media_type=XML_TYPE)
    if "xsd" in params:
        return Response(envelope.xsd_path().read_bytes(), 200, media_type=XML_TYPE)
    error = MalformedInput("GET serves ?wsdl or ?xsd; SOAP calls are POSTed as text/xml")
    return Response(envelope.fault(error), 400, media_type=XML_TYPE)


def _wsdl_for(address: str) -> bytes:
    wsdl = copy.deepcopy(_wsdl_template())
    for node in wsdl.iter(f"{{{_WSDL_SOAP}}}address"):
        node.set("location", address)
    return bytes(etree.tostring(wsdl, xml_declaration=True, encoding="UTF-8"))


@cache
def _wsdl_template() -> etree._Element:
    """The WSDL with gateway.xsd inlined in wsdl:types.

    Inlining (instead of serving the file's relative xs:import) lets every client resolve the
    types from the one document, whatever it does with relative schema locations.
    """
    wsdl = parse_xml((envelope.wsdl_dir() / "gateway.wsdl").read_bytes(), max_bytes=_FILE_CAP)
    schema = parse_xml(envelope.xsd_path().read_bytes(), max_bytes=_FILE_CAP)
    types = wsdl.find(f"{{{_WSDL}}}types")
    assert types is not None, "wsdl/gateway.wsdl has no wsdl:types"
    for old in types.findall(f"{{{_XS}}}schema"):
        types.remove(old)
    types.append(schema)
    return wsdl
