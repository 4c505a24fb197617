"""Where each agency's IWS endpoint is, and with which credentials.

Embedded default: every agency is served by the built-in simulator. Production: a JSON file
(``PGA_GATEWAY_AGENCY_ENDPOINTS_FILE``) names each enabled agency's endpoint; passwords are
never in the file, only the name of the environment variable that holds them::

    {"FDA": {"url": "https://fda.example/iws", "username": "gw", "password_env": "FDA_IWS_PW"}}
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from agencies.iws_message import WSDL_PATH
from gateway.agency_client import AgencyClients, AgencyEndpoint
from gateway.config import Settings
from gateway.errors import ConfigurationError


def simulator_endpoints(
    codes: Iterable[str], simulator_url: str, timeout: float
) -> dict[str, AgencyEndpoint]:
    base = simulator_url.rstrip("/")
    return {
        code: AgencyEndpoint(f"{base}/iws/{code}?wsdl", f"{base}/iws/{code}", timeout)
        for code in codes
    }


def endpoints_from_file(
    path: Path, codes: Iterable[str], timeout: float, environ: Mapping[str, str] | None = None
) -> dict[str, AgencyEndpoint]:
    env = os.environ if environ is None else environ
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"agency endpoints file {path}: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigurationError(f"agency endpoints file {path}: expected a JSON object")
    return {code: _endpoint(path, code, raw.get(code), timeout, env) for code in codes}


def _endpoint(
    path: Path, code: str, spec: Any, timeout: float, env: Mapping[str, str]
) -> AgencyEndpoint:
    if not isinstance(spec, dict) or not isinstance(spec.get("url"), str):
        raise ConfigurationError(f"agency endpoints file {path}: no 'url' for agency {code}")
    password = None
    if spec.get("password_env"):
        password = env.get(spec["password_env"])
        if password is None:
            raise ConfigurationError(
                f"agency {code}: environment variable {spec['password_env']} is not set"
            )
    return AgencyEndpoint(
        spec.get("wsdl") or str(WSDL_PATH),
        spec["url"],
        timeout,
        username=spec.get("username"),
        password=password,
    )


def configured_endpoints(
    settings: Settings, codes: Iterable[str], simulator_url: str | None
) -> dict[str, AgencyEndpoint]:
    timeout = settings.dispatch_timeout_ms / 1000
    if settings.agency_endpoints_file:
        return endpoints_from_file(settings.agency_endpoints_file, codes, timeout)
    if simulator_url:
        return simulator_endpoints(codes, simulator_url, timeout)
    raise ConfigurationError(
        "no agency endpoints: set PGA_GATEWAY_AGENCY_ENDPOINTS_FILE, "
        "or PGA_GATEWAY_AGENCY_SIM=embedded for the built-in simulator"
    )


class ZeepAgencyTransport:
    """The dispatcher's transport: one reusable zeep client per agency."""

    def __init__(self, endpoints: Mapping[str, AgencyEndpoint]) -> None:
        self._endpoints = dict(endpoints)
        self._clients = AgencyClients(self._endpoints)

    def submit_pga_data(self, agency_code: str, message: Mapping[str, Any]) -> Mapping[str, Any]:
        if agency_code not in self._endpoints:
            raise ConfigurationError(f"no endpoint configured for agency {agency_code}")
        ack = self._clients.get(agency_code).submit_pga_data(message)
        return {
            "ReturnCode": ack.return_code,
            "ReturnRemark": ack.remark,
            "Duplicate": ack.duplicate,
            "Dispositions": ack.dispositions,
        }

    def submit_document_notice(
        self, agency_code: str, message: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        if agency_code not in self._endpoints:
            raise ConfigurationError(f"no endpoint configured for agency {agency_code}")
        ack = self._clients.get(agency_code).submit_document_notice(message)
        return {
            "ReturnCode": ack.return_code,
            "ReturnRemark": ack.remark,
            "Duplicate": ack.duplicate,
            "Dispositions": [],
        }
