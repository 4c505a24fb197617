"""The agency simulator's HTTP surface (Starlette).

    GET  /iws/{AGENCY}?wsdl   agency-iws.wsdl, soap:address = this host + /iws/{AGENCY}
    GET  /iws/{AGENCY}?xsd    agency-iws.xsd (the WSDL's schemaLocation points here)
    POST /iws/{AGENCY}        SOAP 1.1 SubmitPGAData / SubmitDocumentNotice
    GET  /stats               counters, per agency and total
    POST /reset               forget processed MessageIDs and counters (tests)

Injected faults (faults.py) wrap the SOAP handling: latency, then 500 / SOAP Server fault /
malformed XML before processing; a timeout (answer held back) after processing.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import uvicorn
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from agencies.iws_message import WSDL_PATH, XSD_PATH
from agencies.simulator import soap
from agencies.simulator.config import SimulatorConfig
from agencies.simulator.faults import FaultInjector
from agencies.simulator.service import SimulatorService
from agencies.simulator.state import SimulatorState
from gateway.errors import MalformedInput
from gateway.xmlsafe import parse_xml

XML = "text/xml; charset=utf-8"
_WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
_XS = "http://www.w3.org/2001/XMLSchema"
_MALFORMED = b'<?xml version="1.0"?><soap:Envelope xmlns:soap="oops"><soap:Body><Ack'


class Simulator:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.state = SimulatorState()
        self.faults = FaultInjector(config.faults)
        self.service = SimulatorService(config, self.state)
        self._wsdl = parse_xml(WSDL_PATH.read_bytes(), max_bytes=1_000_000)
        self._xsd = XSD_PATH.read_bytes()

    def known(self, agency: str) -> bool:
        return agency in set(self.config.registry.codes())

    def wsdl_for(self, base_url: str, agency: str) -> bytes:
        wsdl = copy.deepcopy(self._wsdl)
        endpoint = f"{base_url.rstrip('/')}/iws/{agency}"
        for address in wsdl.iter(f"{{{_WSDL_SOAP}}}address"):
            address.set("location", endpoint)
        for schema_import in wsdl.iter(f"{{{_XS}}}import"):
            schema_import.set("schemaLocation", f"{endpoint}?xsd")
        return bytes(etree.tostring(wsdl, xml_declaration=True, encoding="utf-8"))

    async def iws(self, request: Request) -> Response:
        agency = request.path_params["agency"]
        if not self.known(agency):
            return PlainTextResponse(f"no agency {agency!r} here\n", status_code=404)
        if request.method == "GET":
            if "wsdl" in request.query_params:
                return Response(self.wsdl_for(str(request.base_url), agency), media_type=XML)
            if "xsd" in request.query_params:
                return Response(self._xsd, media_type=XML)
            return PlainTextResponse("GET ?wsdl or ?xsd; POST SOAP 1.1\n", status_code=404)
        return await self.soap(request, agency)

    async def soap(self, request: Request, agency: str) -> Response:
        self.state.count(agency, "received")
        faults = self.config.faults
        if faults.latency_seconds:
            await asyncio.sleep(faults.latency_seconds)
        injected = self.faults.before_processing()
        if injected is not None:
            self.state.count(agency, "faults_injected")
            if injected == "http_500":
                return PlainTextResponse("Internal Server Error (injected)\n", status_code=500)
            if injected == "soap_fault":
                error = soap.SoapFault("Server", "Agency system temporarily unavailable")
                return Response(soap.fault(error), status_code=500, media_type=XML)
            return Response(_MALFORMED, media_type=XML)
        try:
            body = await _read_capped(request, self.config.max_request_bytes)
        except MalformedInput as exc:
            error = soap.SoapFault("Client", exc.detail, [("XML", None, exc.detail)])
            return Response(soap.fault(error), status_code=500, media_type=XML)
        status, payload = self.service.handle(agency, body)
        if status == 200 and self.faults.timeout_after_processing():
            self.state.count(agency, "faults_injected")
            await asyncio.sleep(faults.timeout_seconds)
        return Response(payload, status_code=status, media_type=XML)

    async def stats(self, request: Request) -> Response:
        return JSONResponse(self.state.stats())

    async def reset(self, request: Request) -> Response:
        self.state.reset()
        return JSONResponse(self.state.stats())

    def close(self) -> None:
        self.service.close()


async def _read_capped(request: Request, max_bytes: int) -> bytes:
    # Stop reading as soon as the cap is passed instead of buffering an unbounded body.
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise MalformedInput(f"XML body is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _lifespan(simulator: Simulator) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        simulator.close()  # stop the callback thread on server shutdown

    return lifespan


def create_simulator_app(config: SimulatorConfig) -> Starlette:
    simulator = Simulator(config)
    app = Starlette(
        routes=[
            Route("/iws/{agency}", simulator.iws, methods=["GET", "POST"]),
            Route("/stats", simulator.stats, methods=["GET"]),
            Route("/reset", simulator.reset, methods=["POST"]),
        ],
        lifespan=_lifespan(simulator),
    )
    app.state.simulator = simulator
    return app


def run_simulator(host: str, port: int, config: SimulatorConfig) -> None:
    """Serve the simulator until interrupted (``pga-gateway agency-sim``)."""
    uvicorn.run(create_simulator_app(config), host=host, port=port)
