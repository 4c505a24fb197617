"""The embedded runtime end to end: gateway API + agency simulator + dispatch workers, all
over real HTTP and SOAP on loopback, on the run's real database."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from gateway.config import Settings
from gateway.db.models import DispositionRow, OutboxRow
from gateway.errors import ConfigurationError
from gateway.runtime import Embedded, parse_faults
from gateway.services import Services
from tests.support.embedded import fast_settings, running_gateway, wait_for
from tests.support.filings import VALID_SAMPLES, sample_filing

AGENCIES = {
    "aphis-lacey-oak": {"APH"},
    "fda-frozen-shrimp": {"FDA"},
    "two-lines-disclaimer": {"FDA"},
    "vehicle-epa-nhtsa": {"EPA", "NHT"},
}


def _outbox_states(services: Services) -> dict[str, int]:
    with services.database.read() as session:
        rows = session.execute(select(OutboxRow.state, func.count()).group_by(OutboxRow.state))
        return {state: count for state, count in rows}


def _stats(runtime: Embedded) -> dict[str, Any]:
    assert runtime.simulator_url
    stats: dict[str, Any] = httpx.get(f"{runtime.simulator_url}/stats").json()["total"]
    return stats


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return fast_settings(tmp_path, database_url)


def test_each_sample_reaches_each_agency_exactly_once(settings: Settings) -> None:
    with running_gateway(settings) as (services, client, runtime):
        numbers = {}
        for serial, name in enumerate(VALID_SAMPLES, start=3000001):
            filing = sample_filing(name, serial=serial)
            assert client.post("/api/v1/entries", json=filing).status_code == 202
            numbers[name] = filing["entry_number"]
        total = sum(len(AGENCIES[name]) for name in VALID_SAMPLES)
        wait_for(lambda: _outbox_states(services) == {"delivered": total}, 30, "delivery")
        for name, number in numbers.items():
            entry = client.get(f"/api/v1/entries/{number}").json()
            assert {row["agency_code"] for row in entry["dispatch"]} == AGENCIES[name]
            assert all(
                row["state"] == "delivered"
                and [h["outcome"] for h in row["history"]] == ["delivered"]
                for row in entry["dispatch"]
            )
        # Later answers come back through the inbound REST interface (source "callback").
        wait_for(lambda: _dispositions(services, "callback") >= 1, 30, "callback dispositions")
        vehicle = client.get(f"/api/v1/entries/{numbers['vehicle-epa-nhtsa']}").json()
        assert {(d["agency_code"], d["status_code"]) for d in vehicle["dispositions"]} >= {
            ("EPA", "01"),
            ("NHT", "07"),
        }
        stats = _stats(runtime)
        assert stats["processed"] == total
        assert stats["processed_twice"] == 0


def _dispositions(services: Services, source: str) -> int:
    with services.database.read() as session:
        query = select(func.count()).select_from(DispositionRow)
        count: int = session.scalar(query.where(DispositionRow.source == source)) or 0
        return count


@pytest.mark.slow
def test_500_entries_all_delivered_despite_30_percent_faults(settings: Settings) -> None:
    faulty = replace(
        settings,
        dispatch_workers=4,
        dispatch_timeout_ms=400,
        dispatch_max_attempts=40,
        agency_sim_faults=(
            "http_500_rate=0.1,soap_fault_rate=0.05,malformed_rate=0.05,"
            "timeout_rate=0.1,timeout_seconds=1.0,seed=42"
        ),
    )
    with running_gateway(faulty) as (services, client, runtime):
        expected = 0
        for i in range(500):
            name = VALID_SAMPLES[i % len(VALID_SAMPLES)]
            filing = sample_filing(name, serial=4000000 + i)
            assert client.post("/api/v1/entries", json=filing).status_code == 202
            expected += len(AGENCIES[name])
        wait_for(lambda: _outbox_states(services) == {"delivered": expected}, 300, "all delivered")
        stats = _stats(runtime)
        assert stats["processed"] == expected  # every message processed exactly once...
        assert stats["processed_twice"] == 0
        assert stats["faults_injected"] > 0.2 * expected  # ...although ~30% of calls failed
        assert stats["duplicates_received"] > 0  # timeouts made us resend processed messages
        with services.database.read() as session:
            retried = session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.attempts > 1)
            )
        assert retried and retried > 0.1 * expected  # retries visible per message


def test_fault_spec_is_checked() -> None:
    assert parse_faults("http_500_rate=0.5,seed=3").http_500_rate == 0.5
    with pytest.raises(ConfigurationError, match="colour"):
        parse_faults("colour=red")
    with pytest.raises(ConfigurationError, match="not a number"):
        parse_faults("timeout_rate=lots")
    with pytest.raises(ConfigurationError):
        parse_faults("http_500_rate=2")


def test_samples_reach_the_simulators_outcomes_in_json_soap_and_so70(settings: Settings) -> None:
    import zeep

    from gateway.so70 import parse_record
    from tests.support.embedded import filer_token

    held = sample_filing("fda-frozen-shrimp", serial=3100009)
    for line in held["lines"]:  # FDA's simulator holds product codes listed in fda.json
        line["catair"] = line["catair"].replace("16AGT99", "16AGH01")
    expected = {held["entry_number"]: "HOLD"}
    with running_gateway(settings) as (services, client, _):
        for serial, name in enumerate(VALID_SAMPLES, start=3100001):
            filing = sample_filing(name, serial=serial)
            assert client.post("/api/v1/entries", json=filing).status_code == 202
            expected[filing["entry_number"]] = "MAY_PROCEED"
        assert client.post("/api/v1/entries", json=held).status_code == 202

        def settled() -> bool:
            return all(
                client.get(f"/api/v1/entries/{n}/status").json()["status"] == status
                for n, status in expected.items()
            )

        wait_for(settled, 30, "the simulator's final answers")
        transport = zeep.Transport(timeout=30)
        transport.session.headers["Authorization"] = f"Bearer {filer_token(services)}"
        try:
            wsdl = str(client.base_url.join("/soap/gateway")) + "?wsdl"
            soap = zeep.Client(wsdl, transport=transport)
            for number, status in expected.items():
                assert soap.service.GetEntryStatus(EntryNumber=number).Status == status
        finally:
            transport.session.close()
        for number, status in expected.items():
            text = client.get(f"/api/v1/entries/{number}/status", params={"format": "catair"})
            records = [parse_record(line) for line in text.text.splitlines()]
            assert all(len(line) == 80 for line in text.text.splitlines())
            summary = records[-1]
            assert summary.agency_code == ""  # the entry-level line
            assert summary.entry_status == ("02" if status == "HOLD" else "07"), summary
            assert summary.hold == (status == "HOLD")
            assert {r.agency_code for r in records[:-1]} <= {"APH", "FDA", "EPA", "NHT"}
        reasons = client.get(f"/api/v1/entries/{held['entry_number']}/status").json()["reasons"]
        assert [(r["agency_code"], r["status_code"], r["reason_code"]) for r in reasons] == [
            ("FDA", "02", "11")
        ]
