"""AgencyClient against the agency simulator over real HTTP (zeep client from ?wsdl)."""

from __future__ import annotations

import datetime as dt
import socket
import uuid

import pytest

from agencies.iws_message import WSDL_PATH, build_document_notice
from agencies.simulator import FaultConfig
from gateway.agency_client import (
    Acknowledgement,
    AgencyClient,
    AgencyClients,
    AgencyEndpoint,
    AgencyRejected,
    AgencyUnavailable,
)
from gateway.errors import ClientError, ServerError
from tests.agencies.simulator.support import pga_message, running_simulator


def client_for(base: str, agency: str = "EPA", **kw: object) -> AgencyClient:
    options: dict[str, object] = {"timeout": 5.0, "username": None, "password": None}
    options.update(kw)
    return AgencyClient(f"{base}/iws/{agency}?wsdl", None, agency_code=agency, **options)  # type: ignore[arg-type]


def test_submit_is_acknowledged_with_immediate_dispositions() -> None:
    with running_simulator() as (base, _):
        message = pga_message("EPA")
        ack = client_for(base).submit_pga_data(message)
    assert isinstance(ack, Acknowledgement)
    assert ack.return_code == "SUCCESS"
    assert ack.duplicate is False
    assert ack.errors == []
    assert len(ack.dispositions) == 1
    disposition = ack.dispositions[0]
    assert disposition["CBPLineNumber"] == 1
    assert disposition["PGALineNumber"] == 1
    assert disposition["StatusCode"] == "01"
    assert disposition["ReasonCode"] is None
    assert disposition["Remark"] == "data under PGA review"
    action_time = disposition["ActionTime"]
    assert action_time.tzinfo is not None
    assert abs(action_time - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert ack.raw["MessageID"] == message["MessageID"]
    assert type(ack.raw) is dict


def test_same_message_id_twice_is_a_duplicate_processed_once() -> None:
    with running_simulator() as (base, simulator):
        client = client_for(base)
        message = pga_message("EPA")
        first = client.submit_pga_data(message)
        second = client.submit_pga_data(message)
        stats = simulator.state.stats()["agencies"]["EPA"]
    assert first.duplicate is False
    assert second.duplicate is True
    assert second.return_code == "SUCCESS"
    # The original answer is repeated, so a gateway whose first call timed out loses nothing.
    assert second.dispositions == first.dispositions
    assert stats["received"] == 2
    assert stats["processed"] == 1
    assert stats["duplicates_received"] == 1
    assert stats["processed_twice"] == 0


@pytest.mark.parametrize(
    ("faults", "expected"),
    [
        (FaultConfig(http_500_rate=1.0), "HTTP 500"),
        (FaultConfig(soap_fault_rate=1.0), "SOAP Server fault"),
        (FaultConfig(malformed_rate=1.0), "not well-formed XML"),
    ],
    ids=["http-500", "soap-server-fault", "malformed-xml"],
)
def test_faults_before_processing_are_unavailable(faults: FaultConfig, expected: str) -> None:
    with running_simulator(faults) as (base, simulator):
        with pytest.raises(AgencyUnavailable) as caught:
            client_for(base).submit_pga_data(pga_message("EPA"))
        stats = simulator.state.stats()["total"]
    assert expected in caught.value.detail
    assert "Agency EPA unavailable" in caught.value.detail
    assert isinstance(caught.value, ServerError)
    assert caught.value.retryable is True
    assert stats["processed"] == 0
    assert stats["faults_injected"] == 1


def test_timeout_after_processing_then_retry_is_a_duplicate() -> None:
    faults = FaultConfig(timeout_rate=1.0, timeout_seconds=1.5)
    with running_simulator(faults) as (base, simulator):
        message = pga_message("EPA")
        with pytest.raises(AgencyUnavailable, match=r"no answer within 0.3 s"):
            client_for(base, timeout=0.3).submit_pga_data(message)
        # The agency did process it; the gateway's retry (same MessageID) is a duplicate.
        retried = client_for(base, timeout=5.0).submit_pga_data(message)
        stats = simulator.state.stats()["agencies"]["EPA"]
    assert retried.duplicate is True
    assert [d["StatusCode"] for d in retried.dispositions] == ["01"]
    assert (stats["processed"], stats["duplicates_received"], stats["processed_twice"]) == (
        1,
        1,
        0,
    )


def test_schema_invalid_request_is_rejected_by_a_client_fault() -> None:
    with running_simulator() as (base, simulator):
        message = pga_message("EPA")
        message["MessageID"] = "not-a-uuid"
        message["Entry"]["PortOfEntry"] = "53"
        with pytest.raises(AgencyRejected) as caught:
            client_for(base).submit_pga_data(message)
        stats = simulator.state.stats()["total"]
    error = caught.value
    assert isinstance(error, ClientError)
    assert error.retryable is False
    assert "SOAP Client fault" in error.detail
    assert {p.code for p in error.problems} == {"SCHEMA"}
    assert any("MessageID" in p.message for p in error.problems)
    assert any("PortOfEntry" in p.message for p in error.problems)
    assert all((p.location or "").startswith("line ") for p in error.problems)
    assert stats["processed"] == 0


def test_ws_security_username_token() -> None:
    credentials = {"EPA": ("epa-gateway", "s3cret")}
    with running_simulator(credentials=credentials) as (base, simulator):
        wrong = client_for(base, username="epa-gateway", password="wrong")
        with pytest.raises(AgencyRejected) as caught:
            wrong.submit_pga_data(pga_message("EPA"))
        anonymous = client_for(base)
        with pytest.raises(AgencyRejected):
            anonymous.submit_pga_data(pga_message("EPA"))
        right = client_for(base, username="epa-gateway", password="s3cret")
        ack = right.submit_pga_data(pga_message("EPA"))
        stats = simulator.state.stats()["agencies"]["EPA"]
    assert "Authentication failed" in caught.value.detail
    assert [p.code for p in caught.value.problems] == ["1010"]
    assert "s3cret" not in caught.value.detail
    assert ack.return_code == "SUCCESS"
    assert stats["processed"] == 1


def test_connection_refused_is_unavailable_and_wsdl_load_is_retried() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = AgencyClient(
        WSDL_PATH, f"http://127.0.0.1:{port}/iws/EPA", timeout=2.0, username=None, password=None
    )
    with pytest.raises(AgencyUnavailable, match="Agency EPA unavailable: connection failed"):
        client.submit_pga_data(pga_message("EPA"))
    unreachable_wsdl = client_for(f"http://127.0.0.1:{port}")
    with pytest.raises(AgencyUnavailable, match="cannot load WSDL"):
        unreachable_wsdl.submit_pga_data(pga_message("EPA"))


def test_local_wsdl_with_endpoint_and_document_notice() -> None:
    with running_simulator() as (base, simulator):
        clients = AgencyClients(
            {"NHT": AgencyEndpoint(str(WSDL_PATH), f"{base}/iws/NHT", timeout=5.0)}
        )
        client = clients.get("NHT")
        assert clients.get("NHT") is client  # built once per process
        ack = client.submit_pga_data(pga_message("NHT"))
        notice = build_document_notice(
            message_id=str(uuid.uuid4()),
            correlation_id="corr-2",
            agency_code="NHT",
            entry_number="ABC12345675",
            document_id=str(uuid.uuid4()),
            label_code="HS7",
            file_name="hs7.pdf",
            media_type="application/pdf",
            size_bytes=1234,
            sha256="ab" * 32,
            cbp_line_numbers=[1],
        )
        notice_ack = client.submit_document_notice(notice)
        stats = simulator.state.stats()["agencies"]["NHT"]
    assert [d["StatusCode"] for d in ack.dispositions] == ["07"]
    assert notice_ack.return_code == "SUCCESS"
    assert notice_ack.dispositions == []
    assert stats["processed"] == 2


def test_message_for_another_agency_is_rejected() -> None:
    expected = "AgencyCode NHT was sent to the endpoint of EPA"
    with running_simulator() as (base, _), pytest.raises(AgencyRejected, match=expected):
        client_for(base, "EPA").submit_pga_data(pga_message("NHT"))
