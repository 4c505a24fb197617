"""Two `pga-gateway worker` processes share one PostgreSQL backlog of 1,000 entries.

Workers coordinate only through the database (FOR UPDATE SKIP LOCKED), so every message must
be delivered exactly once although both processes race for the same rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from agencies.registry import load_registry
from agencies.simulator import FaultConfig, SimulatorConfig, create_simulator_app
from gateway.auth.principal import Principal
from gateway.background_server import BackgroundServer
from gateway.db.models import DeliveryAttemptRow, OutboxRow
from gateway.db.session import Database
from gateway.intake import IntakeService
from tests.support.filings import sample_filing

ENTRIES = 1000
FILER = Principal("filer-ABC", frozenset({"filer"}), "ABC", None, "filer-ABC")
WORKER = Path(sys.executable).with_name("pga-gateway")


@pytest.mark.slow
def test_two_worker_processes_share_a_backlog_without_double_delivery(
    test_database_kind: str, database: Database, database_url: str, tmp_path: Path
) -> None:
    if test_database_kind != "postgres":
        pytest.skip("cross-process claiming (SKIP LOCKED) is a PostgreSQL feature")
    registry = load_registry()
    intake = IntakeService(database, registry)
    for i in range(ENTRIES):
        intake.submit(sample_filing("aphis-lacey-oak", serial=5000000 + i), FILER, None)

    simulator = create_simulator_app(
        SimulatorConfig(
            gateway_url=None, token_provider=None, faults=FaultConfig(), registry=registry
        )
    )
    with BackgroundServer(simulator) as server:
        endpoints = tmp_path / "agencies.json"
        endpoints.write_text(
            json.dumps(
                {
                    code: {
                        "url": f"{server.url}/iws/{code}",
                        "wsdl": f"{server.url}/iws/{code}?wsdl",
                    }
                    for code in registry.codes()
                }
            )
        )
        env = {
            **os.environ,
            "PGA_GATEWAY_DATABASE_URL": database_url,
            "PGA_GATEWAY_VAR_DIR": str(tmp_path / "var"),
            "PGA_GATEWAY_AGENCY_ENDPOINTS_FILE": str(endpoints),
            "PGA_GATEWAY_DISPATCH_POLL_MS": "20",
            "PGA_GATEWAY_LOG_LEVEL": "WARNING",
        }
        logs = [tmp_path / f"worker-{i}.log" for i in range(2)]
        workers = []
        for log in logs:
            with log.open("wb") as sink:  # a file, not a pipe: a full pipe would block a worker
                workers.append(
                    subprocess.Popen(
                        [str(WORKER), "worker", "--threads", "2"],
                        env=env,
                        cwd=tmp_path,
                        stdout=subprocess.DEVNULL,
                        stderr=sink,
                    )
                )
        try:
            deadline = time.monotonic() + 240
            while _delivered(database) < ENTRIES:
                assert all(w.poll() is None for w in workers), _logs(logs)
                assert time.monotonic() < deadline, f"only {_delivered(database)} delivered"
                time.sleep(0.2)
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(30)
        stats = httpx.get(f"{server.url}/stats").json()["total"]
        simulator.state.simulator.close()

    assert stats["processed"] == ENTRIES
    assert stats["duplicates_received"] == 0  # no message was even sent twice
    assert stats["processed_twice"] == 0
    with database.read() as session:
        per_message = session.execute(
            select(DeliveryAttemptRow.outbox_id, func.count())
            .where(DeliveryAttemptRow.outcome == "delivered")
            .group_by(DeliveryAttemptRow.outbox_id)
        ).all()
        workers_seen = {
            worker.split(":")[1]  # host:pid:random -> pid
            for worker in session.scalars(select(DeliveryAttemptRow.worker).distinct())
        }
    assert len(per_message) == ENTRIES and {count for _, count in per_message} == {1}
    assert len(workers_seen) == 2, workers_seen  # both processes took a share


def _delivered(database: Database) -> int:
    with database.read() as session:
        query = select(func.count()).select_from(OutboxRow).where(OutboxRow.state == "delivered")
        return session.scalar(query) or 0


def _logs(logs: list[Path]) -> str:
    return "\n".join(log.read_text(errors="replace")[-2000:] for log in logs)
