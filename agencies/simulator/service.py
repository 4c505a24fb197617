"""The simulator's SOAP request handling, free of HTTP and timing concerns.

``handle`` turns request bytes into ``(HTTP status, response bytes)``: hardened parse, SOAP
envelope, WS-Security, schema validation, then exactly-once processing by MessageID. Answers
come from the agency plugin's ``simulate()``: delay 0 goes in the acknowledgement, later ones
are scheduled as callbacks to the gateway.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from lxml import etree

from agencies.contract import Disposition
from agencies.iws_message import XSD_PATH
from agencies.simulator import soap
from agencies.simulator.callbacks import CallbackSender
from agencies.simulator.config import SimulatorConfig
from agencies.simulator.messages import (
    PGADataRequest,
    decode_pga_data,
    entry_number_of_notice,
    message_header,
)
from agencies.simulator.soap import IWS, SoapFault
from agencies.simulator.state import SimulatorState
from gateway.errors import MalformedInput
from gateway.xmlsafe import load_schema, parse_xml, validate

log = logging.getLogger(__name__)

PGA_DATA = f"{{{IWS}}}SubmitPGADataRequest"
DOCUMENT_NOTICE = f"{{{IWS}}}SubmitDocumentNoticeRequest"
AUTH_FAILED = "1010"  # CBP IWS ErrorCode for an authentication failure


class SimulatorService:
    def __init__(self, config: SimulatorConfig, state: SimulatorState) -> None:
        self.config = config
        self.state = state
        self.schema = load_schema(XSD_PATH)
        self.callbacks: CallbackSender | None = None
        if config.gateway_url:
            self.callbacks = CallbackSender(
                config.gateway_url,
                config.token_provider,
                self._callback_outcome,
                max_attempts=config.callback_max_attempts,
                backoff_seconds=config.callback_backoff_seconds,
            )

    def _callback_outcome(self, agency: str, delivered: bool) -> None:
        self.state.count(agency, "callbacks_delivered" if delivered else "callbacks_failed")

    def handle(self, agency: str, body: bytes) -> tuple[int, bytes]:
        try:
            return 200, soap.envelope(self._handle(agency, body))
        except SoapFault as error:
            self.state.count(agency, "rejected")
            return 500, soap.fault(error)

    def _handle(self, agency: str, body: bytes) -> etree._Element:
        try:
            root = parse_xml(body, max_bytes=self.config.max_request_bytes)
        except MalformedInput as exc:
            raise SoapFault("Client", exc.detail, [("XML", None, exc.detail)]) from None
        header, request = soap.split_envelope(root)
        self._authenticate(agency, header)
        problems = validate(self.schema, request)
        if problems:
            raise SoapFault(
                "Client",
                "The request does not match agency-iws.xsd",
                [("SCHEMA", p.location, p.message) for p in problems],
            )
        message_id, _, message_agency = message_header(request)
        if message_agency != agency:
            detail = f"AgencyCode {message_agency} was sent to the endpoint of {agency}"
            raise SoapFault("Client", detail, [("AGENCY", "AgencyCode", detail)])
        if request.tag == PGA_DATA:
            decoded = decode_pga_data(request)  # before dedup: a bad message is not "processed"
            answer, duplicate = self.state.process_once(
                agency, message_id, lambda: self._process_pga_data(decoded)
            )
        elif request.tag == DOCUMENT_NOTICE:
            entry = entry_number_of_notice(request)
            answer, duplicate = self.state.process_once(
                agency, message_id, lambda: self._process_notice(agency, entry)
            )
        else:
            raise SoapFault("Client", f"Unknown operation element {request.tag}")
        remark = (
            "Duplicate MessageID: already processed; original answer repeated"
            if (duplicate)
            else "Received"
        )
        return soap.acknowledgement(
            message_id, duplicate=duplicate, dispositions=answer, remark=remark
        )

    def _authenticate(self, agency: str, header: etree._Element | None) -> None:
        expected = (self.config.credentials or {}).get(agency)
        if expected is None:
            return
        if not soap.username_token_ok(header, *expected):
            detail = "Authentication failed: missing or invalid WS-Security UsernameToken"
            raise SoapFault("Client", detail, [(AUTH_FAILED, "Header/Security", detail)])

    def _process_pga_data(self, request: PGADataRequest) -> list[Disposition]:
        plugin = self.config.registry.get(request.agency_code)
        now = dt.datetime.now(dt.UTC)
        immediate: list[Disposition] = []
        later: dict[float, list[Disposition]] = defaultdict(list)
        for line in request.lines:
            try:
                answers = plugin.simulate(request.filing, line)
            except Exception as exc:  # a plugin bug is the agency's (Server) problem
                log.exception("simulate() failed for %s", request.agency_code)
                raise SoapFault("Server", f"Agency simulation failed: {exc}") from None
            for answer in answers:
                delay = max(0.0, answer.delay_seconds * self.config.delay_scale)
                disposition = Disposition(
                    cbp_line_number=line.cbp_line_number,
                    pga_line_number=line.pga_line.pga_line_number,
                    status_code=answer.status_code,
                    action_time=now + dt.timedelta(seconds=delay),
                    reason_code=answer.reason_code,
                    remark=answer.remark,
                )
                (immediate if answer.delay_seconds <= 0 else later[delay]).append(disposition)
        for delay, dispositions in sorted(later.items()):
            self._schedule(request, dispositions, delay)
        return immediate

    def _schedule(self, request: PGADataRequest, items: list[Disposition], delay: float) -> None:
        if self.callbacks is None:
            log.info("no gateway_url: %d later disposition(s) not sent", len(items))
            return
        self.state.count(request.agency_code, "callbacks_scheduled")
        self.callbacks.schedule(
            request.agency_code,
            request.filing.entry_number,
            request.correlation_id,
            items,
            delay,
        )

    def _process_notice(self, agency: str, entry_number: str) -> list[Disposition]:
        log.info("document notice for %s received by %s", entry_number, agency)
        return []

    def close(self) -> None:
        if self.callbacks is not None:
            self.callbacks.close()
