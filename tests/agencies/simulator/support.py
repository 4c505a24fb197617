"""Helpers shared by the simulator and agency-client tests: a fake agency plugin and registry
(so these tests do not depend on the real plugins), the parsed vehicle sample, and a running
simulator."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agencies.contract import AgencyLine, Disposition, SimulatedAnswer
from agencies.iws_message import build_pga_data
from agencies.simulator import FaultConfig, SimulatorConfig, create_simulator_app
from agencies.simulator.app import Simulator
from gateway.errors import Problem
from gateway.pgams.catair import parse_catair
from gateway.pgams.model import Filing
from tests.support.live_server import live_server

SAMPLE = Path(__file__).resolve().parents[4] / "shared" / "samples" / "catair"


class FakePlugin:
    """Answers 01 at once and 07 after 60 s for every line (EPA); NHT: 07 at once."""

    def __init__(self, code: str, name: str, programs: frozenset[str]) -> None:
        self.code = code
        self.name = name
        self.programs = programs

    def validate(self, filing: Filing, line: AgencyLine) -> list[Problem]:
        return []

    def to_agency_message(
        self,
        filing: Filing,
        lines: Sequence[AgencyLine],
        *,
        message_id: str,
        correlation_id: str,
        entry_version: int,
    ) -> dict[str, Any]:
        return build_pga_data(
            message_id=message_id,
            correlation_id=correlation_id,
            agency_code=self.code,
            entry_version=entry_version,
            filing=filing,
            lines=lines,
            annotations={},
        )

    def parse_agency_answer(self, answer: Mapping[str, Any]) -> list[Disposition]:
        return []

    def simulate(self, filing: Filing, line: AgencyLine) -> list[SimulatedAnswer]:
        if self.code == "NHT":
            return [SimulatedAnswer("07", None, 0, "may proceed")]
        return [
            SimulatedAnswer("01", None, 0, "data under PGA review"),
            SimulatedAnswer("07", "A1", 60, "reviewed; may proceed"),
        ]


class FakeRegistry:
    def __init__(self, *plugins: FakePlugin) -> None:
        self._plugins = {p.code: p for p in plugins}

    def get(self, code: str) -> FakePlugin:
        return self._plugins[code]

    def codes(self) -> list[str]:
        return list(self._plugins)


REGISTRY = FakeRegistry(
    FakePlugin("EPA", "Environmental Protection Agency", frozenset({"VNE"})),
    FakePlugin("NHT", "National Highway Traffic Safety Administration", frozenset({"MVS"})),
)


def vehicle_filing() -> Filing:
    lines, problems = parse_catair((SAMPLE / "vehicle-epa-nhtsa.txt").read_text())
    assert problems == []
    for line in lines:
        line.hts_number = "8703101000"
        line.country_of_origin = "JP"
    return Filing("ABC12345675", "ABC", "01", "5301", "12-3456789AB", "11", None, lines)


def agency_lines(filing: Filing, agency: str) -> list[AgencyLine]:
    return [
        AgencyLine(t.line_number, p, t.description, t.hts_number, t.country_of_origin)
        for t in filing.lines
        for p in t.pga_lines
        if p.agency_code == agency
    ]


def pga_message(agency: str = "EPA", message_id: str | None = None) -> dict[str, Any]:
    filing = vehicle_filing()
    return build_pga_data(
        message_id=message_id or str(uuid.uuid4()),
        correlation_id="corr-1",
        agency_code=agency,
        entry_version=1,
        filing=filing,
        lines=agency_lines(filing, agency),
        annotations={"source": "test"},
    )


@contextmanager
def running_simulator(
    faults: FaultConfig | None = None, **options: Any
) -> Iterator[tuple[str, Simulator]]:
    """``(base URL, Simulator)`` of a simulator under real uvicorn."""
    options.setdefault("gateway_url", None)
    options.setdefault("token_provider", None)
    config = SimulatorConfig(faults=faults or FaultConfig(), registry=REGISTRY, **options)
    app = create_simulator_app(config)
    simulator: Simulator = app.state.simulator
    try:
        with live_server(app) as base:
            yield base, simulator
    finally:
        simulator.close()
