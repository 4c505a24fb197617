"""The dispatcher against the run's real database, the real agency plugins, and a scripted
agency transport (the agency system is the one part outside our control)."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from agencies.registry import AgencyRegistry, load_registry
from gateway.agency_client import AgencyRejected, AgencyUnavailable
from gateway.auth.principal import Principal
from gateway.db.models import DeliveryAttemptRow, DispositionRow, OutboxRow
from gateway.db.session import Database
from gateway.dispatch import Dispatcher, RetryPolicy
from gateway.dispatch_admin import DispatchAdmin
from gateway.intake import IntakeService
from tests.support.filings import sample_filing, sample_text

FILER = Principal("filer-ABC", frozenset({"filer"}), "ABC", None, "filer-ABC")
FAST = RetryPolicy(max_attempts=5, base_seconds=0.001, cap_seconds=0.002)


class ScriptedAgency:
    """Answers each call with the next scripted step (an exception to raise, or an ack)."""

    def __init__(self, *steps: Exception | Mapping[str, Any]) -> None:
        self.steps = list(steps)
        self.calls: list[tuple[str, str]] = []

    def submit_pga_data(self, agency_code: str, message: Mapping[str, Any]) -> Mapping[str, Any]:
        self.calls.append((agency_code, message["MessageID"]))
        step = self.steps.pop(0) if self.steps else ack()
        if isinstance(step, Exception):
            raise step
        return step


def ack(*dispositions: dict[str, Any]) -> dict[str, Any]:
    return {"ReturnCode": "SUCCESS", "Duplicate": False, "Dispositions": list(dispositions)}


def review(status: str = "01", reason: str | None = None) -> dict[str, Any]:
    return {
        "CBPLineNumber": 1,
        "PGALineNumber": 1,
        "StatusCode": status,
        "ReasonCode": reason,
        "ActionTime": dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC),
        "Remark": None,
    }


@pytest.fixture(scope="module")
def registry() -> AgencyRegistry:
    return load_registry()


@pytest.fixture
def intake(database: Database, registry: AgencyRegistry) -> IntakeService:
    return IntakeService(database, registry)


def _dispatcher(
    database: Database, registry: AgencyRegistry, transport: Any, **kwargs: Any
) -> Dispatcher:
    kwargs.setdefault("seed", 7)
    return Dispatcher(database, registry, transport, kwargs.pop("policy", FAST), **kwargs)


def _outbox(database: Database) -> list[OutboxRow]:
    with database.read() as session:
        return list(session.scalars(select(OutboxRow).order_by(OutboxRow.agency_code)))


def _history(database: Database) -> list[str]:
    with database.read() as session:
        rows = session.scalars(select(DeliveryAttemptRow).order_by(DeliveryAttemptRow.attempt))
        return [row.outcome for row in rows]


def _drain(dispatcher: Dispatcher, rounds: int = 50) -> None:
    for _ in range(rounds):
        if not dispatcher.run_once() and not any(
            row.state in ("pending", "in_flight") for row in _outbox(dispatcher._db)
        ):
            return
        time.sleep(0.005)


def test_each_agency_gets_one_message_and_its_ack_dispositions_are_stored(
    database: Database, registry: AgencyRegistry, intake: IntakeService
) -> None:
    intake.submit(sample_filing("vehicle-epa-nhtsa"), FILER, None)
    agency = ScriptedAgency(ack(review("01")), ack(review("07", "22")))
    assert _dispatcher(database, registry, agency).run_once() == 2
    rows = _outbox(database)
    assert [(r.agency_code, r.state, r.attempts) for r in rows] == [
        ("EPA", "delivered", 1),
        ("NHT", "delivered", 1),
    ]
    assert sorted(agency.calls) == sorted((r.agency_code, str(r.message_id)) for r in rows)
    with database.read() as session:
        stored = {
            (d.agency_code, d.status_code, d.source)
            for d in session.scalars(select(DispositionRow))
        }
    assert len(stored) == 2 and all(source == "ack" for _, _, source in stored)
    assert _dispatcher(database, registry, agency).run_once() == 0  # nothing left to send


def test_failures_retry_with_backoff_under_the_same_message_id(
    database: Database, registry: AgencyRegistry, intake: IntakeService
) -> None:
    intake.submit(sample_filing("aphis-lacey-oak"), FILER, None)
    down = AgencyUnavailable("APH", "connection refused")
    agency = ScriptedAgency(down, down)
    slow = RetryPolicy(max_attempts=5, base_seconds=30, cap_seconds=60)
    dispatcher = _dispatcher(database, registry, agency, policy=slow)
    before = dt.datetime.now(dt.UTC)
    dispatcher.run_once()
    [row] = _outbox(database)
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, down.detail)
    assert row.next_attempt_at >= before + dt.timedelta(seconds=15)  # at least half a step
    assert dispatcher.run_once() == 0  # not due yet

    with database.transaction() as session:  # let the clock "pass" the backoff
        session.get(OutboxRow, row.id).next_attempt_at = dt.datetime.now(dt.UTC)  # type: ignore[union-attr]
    _drain(_dispatcher(database, registry, agency))
    [row] = _outbox(database)
    assert (row.state, row.attempts) == ("delivered", 3)
    assert _history(database) == ["retry", "retry", "delivered"]
    assert len({message_id for _, message_id in agency.calls}) == 1


def test_dead_letter_after_max_attempts_then_redrive(
    database: Database, registry: AgencyRegistry, intake: IntakeService
) -> None:
    intake.submit(sample_filing("aphis-lacey-oak"), FILER, None)
    down = AgencyUnavailable("APH", "HTTP 500")
    policy = RetryPolicy(max_attempts=2, base_seconds=0.001, cap_seconds=0.001)
    _drain(_dispatcher(database, registry, ScriptedAgency(down, down, down), policy=policy))
    [row] = _outbox(database)
    assert (row.state, row.attempts) == ("dead", 2)
    assert "gave up after 2 attempts" in (row.last_error or "")

    admin = DispatchAdmin(database)
    [dead] = admin.list("dead")
    assert dead["message_id"] == str(row.message_id)
    assert [h["outcome"] for h in dead["history"]] == ["retry", "dead"]
    admin.retry(row.message_id, "test")
    _drain(_dispatcher(database, registry, ScriptedAgency()))
    [row] = _outbox(database)
    assert (row.state, row.attempts) == ("delivered", 1)


def test_a_refusal_is_dead_at_once(
    database: Database, registry: AgencyRegistry, intake: IntakeService
) -> None:
    intake.submit(sample_filing("aphis-lacey-oak"), FILER, None)
    refusal = AgencyRejected("APH", "schema invalid")
    _dispatcher(database, registry, ScriptedAgency(refusal)).run_once()
    [row] = _outbox(database)
    assert (row.state, row.attempts) == ("dead", 1)
    assert "refused by APH" in (row.last_error or "")


def test_a_crash_while_sending_is_retried_not_lost(
    database: Database, registry: AgencyRegistry, intake: IntakeService
) -> None:
    intake.submit(sample_filing("aphis-lacey-oak"), FILER, None)
    _drain(_dispatcher(database, registry, ScriptedAgency(RuntimeError("bug"))))
    [row] = _outbox(database)
    assert (row.state, row.attempts) == ("delivered", 2)
    assert _history(database) == ["retry", "delivered"]


def test_an_expired_lease_is_claimed_again_and_the_late_worker_changes_nothing(
    database: Database, registry: AgencyRegistry, intake: IntakeService
) -> None:
    intake.submit(sample_filing("aphis-lacey-oak"), FILER, None)
    agency = ScriptedAgency()
    crashed = _dispatcher(database, registry, agency, lease_seconds=0.05, worker_id="a")
    [claim] = crashed.claim()  # worker "a" claims, then stalls past its lease
    time.sleep(0.1)
    assert _dispatcher(database, registry, agency, worker_id="b").run_once() == 1
    crashed.deliver(claim)  # "a" wakes up and sends the same message id again
    [row] = _outbox(database)
    assert row.state == "delivered"
    assert [call[1] for call in agency.calls] == [str(row.message_id)] * 2
    assert sorted(_history(database)) == ["delivered", "delivered"]


def test_an_outdated_version_is_not_sent_and_versions_go_in_order(
    database: Database, registry: AgencyRegistry, intake: IntakeService
) -> None:
    filing = sample_filing("aphis-lacey-oak")
    intake.submit(filing, FILER, None)
    intake.replace_pga(filing["entry_number"], _amended_lacey(), FILER, None)
    agency = ScriptedAgency()
    _drain(_dispatcher(database, registry, agency))
    rows = sorted(_outbox(database), key=lambda r: r.entry_version)
    assert [(r.entry_version, r.state) for r in rows] == [(1, "delivered"), (2, "delivered")]
    assert rows[0].last_error == "superseded by version 2"
    assert agency.calls == [("APH", str(rows[1].message_id))]


def test_a_newer_version_waits_while_the_older_one_is_pending(
    database: Database, registry: AgencyRegistry, intake: IntakeService
) -> None:
    filing = sample_filing("aphis-lacey-oak")
    intake.submit(filing, FILER, None)
    slow = RetryPolicy(max_attempts=5, base_seconds=60, cap_seconds=60)
    down = AgencyUnavailable("APH", "down")
    _dispatcher(database, registry, ScriptedAgency(down), policy=slow).run_once()
    intake.replace_pga(filing["entry_number"], _amended_lacey(), FILER, None)
    assert _dispatcher(database, registry, ScriptedAgency()).claim() == []


def _amended_lacey() -> str:
    """The Lacey sample with another quantity: a real change, so APHIS is sent version 2."""
    text = sample_text("aphis-lacey-oak")
    assert "000000250000" in text
    return text.replace("000000250000", "000000260000")


@given(attempt=st.integers(1, 40), base=st.floats(0.001, 10), cap=st.floats(0.01, 600))
def test_backoff_grows_exponentially_with_jitter_and_a_cap(
    attempt: int, base: float, cap: float
) -> None:
    policy = RetryPolicy(max_attempts=50, base_seconds=base, cap_seconds=cap)
    step = min(cap, base * 2 ** (attempt - 1))
    delay = policy.delay(attempt, random.Random(attempt))
    assert step / 2 <= delay <= step
