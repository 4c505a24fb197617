"""The gateway's SOAP client for partner agencies' IWS endpoints — the ONLY module using zeep.

One ``AgencyClient`` per agency per process (``AgencyClients`` caches them): the WSDL is loaded
and compiled once, on first use (so a process can start while an agency is down), and the
client is then reused by every worker thread. Every zeep/requests/lxml failure is translated
here into one of two errors, so callers never see a third-party type:

- ``AgencyUnavailable`` (a ``ServerError``; retry later with the same MessageID): connection
  refused, timeout, HTTP 5xx/408/429 without a SOAP fault, a response that is not well-formed
  XML or does not match the contract, a SOAP ``Server`` fault, an unloadable WSDL.
- ``AgencyRejected`` (a ``ClientError``; retrying cannot help): a SOAP ``Client`` fault
  (schema-invalid message, authentication failure), another HTTP 4xx, ``ReturnCode`` FAILURE,
  or a message the WSDL's schema refuses before it is even sent.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import zeep
import zeep.exceptions
import zeep.helpers
from lxml import etree
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from gateway.errors import ClientError, Problem, ServerError

__all__ = [
    "Acknowledgement",
    "AgencyClient",
    "AgencyClients",
    "AgencyEndpoint",
    "AgencyRejected",
    "AgencyUnavailable",
]

NAMESPACE = "urn:pga-gateway:agency-iws:v1"
_BINDING = f"{{{NAMESPACE}}}AgencyIWSBinding"
_RETRYABLE_HTTP = frozenset({408, 429})


class AgencyUnavailable(ServerError):
    """The agency could not be reached or answered garbage; retry with the same MessageID."""

    http_status = 503
    title = "Agency unavailable"
    retryable = True

    def __init__(self, agency_code: str, detail: str, problems: list[Problem] | None = None):
        super().__init__(f"Agency {agency_code or '?'} unavailable: {detail}", problems)
        self.agency_code = agency_code


class AgencyRejected(ClientError):
    """The agency refused the message; sending it again cannot succeed."""

    http_status = 422
    title = "Agency rejected the message"
    retryable = False

    def __init__(
        self,
        agency_code: str,
        detail: str,
        problems: list[Problem] | None = None,
        acknowledgement: Acknowledgement | None = None,
    ) -> None:
        super().__init__(f"Agency {agency_code or '?'} rejected the message: {detail}", problems)
        self.agency_code = agency_code
        self.acknowledgement = acknowledgement


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """An agency's synchronous answer (agency-iws.xsd ``Acknowledgement``), zeep-free."""

    return_code: str  # "SUCCESS" | "FAILURE"
    remark: str | None
    errors: list[tuple[str, str | None, str]]  # (code, location, description)
    duplicate: bool
    # {"CBPLineNumber", "PGALineNumber", "StatusCode", "ReasonCode", "ActionTime", "Remark"}
    dispositions: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class AgencyEndpoint:
    """Where and how to reach one agency (from configuration)."""

    wsdl: str
    endpoint_url: str | None
    timeout: float = 30.0
    username: str | None = None
    password: str | None = None


class AgencyClient:
    """A reusable, thread-safe SOAP client for one agency's IWS endpoint."""

    def __init__(
        self,
        wsdl_url_or_path: str | Path,
        endpoint_url: str | None,
        *,
        timeout: float,
        username: str | None,
        password: str | None,
        agency_code: str = "",
    ) -> None:
        self.wsdl = str(wsdl_url_or_path)
        self.endpoint_url = endpoint_url
        self.timeout = timeout
        self.agency_code = agency_code
        self._wsse = UsernameToken(username, password) if username and password else None
        self._lock = threading.Lock()
        self._service: Any = None

    def submit_pga_data(self, message: Mapping[str, Any]) -> Acknowledgement:
        return self._call("SubmitPGAData", message)

    def submit_document_notice(self, message: Mapping[str, Any]) -> Acknowledgement:
        return self._call("SubmitDocumentNotice", message)

    # -- internals ---------------------------------------------------------------------------

    def _service_proxy(self, agency: str) -> Any:
        with self._lock:  # build once; a failed load is retried on the next call
            if self._service is None:
                self._service = self._build(agency)
            return self._service

    def _build(self, agency: str) -> Any:
        # Loading the WSDL may take longer than one operation; sends use ``timeout``.
        transport = Transport(timeout=max(self.timeout, 10.0), operation_timeout=self.timeout)
        # No DTDs and no entities in anything zeep parses (WSDL, XSD, responses). External
        # references stay allowed only because that switch also covers the WSDL's xs:import;
        # with DTDs and entities forbidden there is nothing else external left to follow.
        settings = zeep.Settings(
            strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=False
        )
        try:
            client = zeep.Client(self.wsdl, transport=transport, wsse=self._wsse, settings=settings)
            if self.endpoint_url:
                return client.create_service(_BINDING, self.endpoint_url)
            return client.service
        except (requests.RequestException, zeep.exceptions.Error, etree.LxmlError, OSError) as exc:
            raise AgencyUnavailable(
                agency, f"cannot load WSDL {self.wsdl}: {_short(exc)}"
            ) from None

    def _call(self, operation: str, message: Mapping[str, Any]) -> Acknowledgement:
        agency = str(message.get("AgencyCode") or self.agency_code)
        service = self._service_proxy(agency)
        try:
            result = getattr(service, operation)(**message)
        except zeep.exceptions.Fault as fault:
            raise _from_fault(agency, fault) from None
        except requests.Timeout:
            raise AgencyUnavailable(agency, f"no answer within {self.timeout:g} s") from None
        except requests.ConnectionError as exc:
            raise AgencyUnavailable(agency, f"connection failed: {_short(exc)}") from None
        except requests.RequestException as exc:
            raise AgencyUnavailable(agency, f"HTTP request failed: {_short(exc)}") from None
        except zeep.exceptions.TransportError as exc:
            raise _from_transport(agency, exc) from None
        except zeep.exceptions.ValidationError as exc:
            # Our own message does not fit the contract: sending it again cannot help.
            raise AgencyRejected(agency, f"message does not match the IWS schema: {exc}") from None
        except TypeError as exc:  # zeep's answer to an element name the schema lacks
            raise AgencyRejected(agency, f"message does not match the IWS schema: {exc}") from None
        except (zeep.exceptions.Error, etree.LxmlError, ValueError) as exc:
            # DTDForbidden, XMLParseError, UnexpectedElementError, a bad date in the answer...
            raise AgencyUnavailable(agency, f"unusable response: {_short(exc)}") from None
        try:
            ack = _acknowledgement(result)
        except (KeyError, TypeError, ValueError) as exc:
            raise AgencyUnavailable(agency, f"unusable acknowledgement: {_short(exc)}") from None
        if ack.return_code != "SUCCESS":
            problems = [Problem(d, code=c, location=loc) for c, loc, d in ack.errors]
            remark = ack.remark or "ReturnCode FAILURE"
            raise AgencyRejected(agency, remark, problems, acknowledgement=ack)
        return ack


class AgencyClients:
    """One ``AgencyClient`` per agency code per process, built on first request."""

    def __init__(
        self, endpoints: Mapping[str, AgencyEndpoint] | Callable[[str], AgencyEndpoint]
    ) -> None:
        self._resolve = endpoints.__getitem__ if isinstance(endpoints, Mapping) else endpoints
        self._clients: dict[str, AgencyClient] = {}
        self._lock = threading.Lock()

    def get(self, agency_code: str) -> AgencyClient:
        with self._lock:
            client = self._clients.get(agency_code)
            if client is None:
                endpoint = self._resolve(agency_code)
                client = AgencyClient(
                    endpoint.wsdl,
                    endpoint.endpoint_url,
                    timeout=endpoint.timeout,
                    username=endpoint.username,
                    password=endpoint.password,
                    agency_code=agency_code,
                )
                self._clients[agency_code] = client
            return client


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:300]


def _from_transport(
    agency: str, exc: zeep.exceptions.TransportError
) -> AgencyUnavailable | AgencyRejected:
    status = exc.status_code or 0
    if status == 200:
        return AgencyUnavailable(agency, "response is not well-formed XML")
    if status >= 500 or status in _RETRYABLE_HTTP:
        return AgencyUnavailable(agency, f"HTTP {status} without a SOAP answer")
    return AgencyRejected(agency, f"HTTP {status} without a SOAP answer")


def _from_fault(agency: str, fault: zeep.exceptions.Fault) -> AgencyUnavailable | AgencyRejected:
    code = (fault.code or "").rpartition(":")[2]  # "soap-env:Client" -> "Client"
    problems = _fault_problems(fault.detail)
    message = f"SOAP {code or 'unknown'} fault: {fault.message}"
    if code.startswith("Client"):
        return AgencyRejected(agency, message, problems)
    return AgencyUnavailable(agency, message, problems)


def _fault_problems(detail: Any) -> list[Problem]:
    if not isinstance(detail, etree._Element):
        return []
    problems = []
    for item in detail.iter(f"{{{NAMESPACE}}}ErrorDetails"):
        problems.append(
            Problem(
                item.findtext(f"{{{NAMESPACE}}}ErrorDescription") or "",
                code=item.findtext(f"{{{NAMESPACE}}}ErrorCode"),
                location=item.findtext(f"{{{NAMESPACE}}}ErrorLocation"),
            )
        )
    return problems


def _plain(value: Any) -> Any:
    """zeep's OrderedDicts/lists into plain dicts/lists (values like datetime kept)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _aware(value: Any) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ValueError(f"ActionTime {value!r} is not a dateTime")
    # The XSD requires an explicit zone; a naive value would be a broken agency: assume UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _acknowledgement(result: Any) -> Acknowledgement:
    raw = _plain(zeep.helpers.serialize_object(result, dict))
    if not isinstance(raw, dict) or "ReturnCode" not in raw:
        raise ValueError("the response carries no Acknowledgement")
    errors_list = (raw.get("ErrorDetailsList") or {}).get("ErrorDetails") or []
    errors = [
        (str(e["ErrorCode"]), e.get("ErrorLocation"), str(e["ErrorDescription"]))
        for e in errors_list
    ]
    dispositions = [
        {
            "CBPLineNumber": int(d["CBPLineNumber"]),
            "PGALineNumber": int(d["PGALineNumber"]),
            "StatusCode": d["StatusCode"],
            "ReasonCode": d.get("ReasonCode"),
            "ActionTime": _aware(d["ActionTime"]),
            "Remark": d.get("Remark"),
        }
        for d in (raw.get("Dispositions") or {}).get("Disposition") or []
    ]
    return Acknowledgement(
        return_code=str(raw["ReturnCode"]),
        remark=raw.get("ReturnRemark"),
        errors=errors,
        duplicate=bool(raw.get("Duplicate")),
        dispositions=dispositions,
        raw=raw,
    )
