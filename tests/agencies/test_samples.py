"""The shared CATAIR samples are valid under every agency's rules, and simulate as documented."""

from __future__ import annotations

import pytest

from agencies.base import BASE_DELAY_SECONDS
from agencies.registry import AgencyRegistry

from .conftest import VALID_SAMPLES, sample_filing

STEP = BASE_DELAY_SECONDS


@pytest.mark.parametrize("name", VALID_SAMPLES)
def test_sample_passes_every_agency(registry: AgencyRegistry, name: str) -> None:
    assert registry.validate_filing(sample_filing(name)) == []


# (sample, agency) -> [(status, reason, delay)], as agencies/README.md documents.
EXPECTED = {
    ("fda-frozen-shrimp", "FDA"): [[("01", None, 0.0), ("07", "22", STEP)]],
    ("two-lines-disclaimer", "FDA"): [[("01", None, 0.0), ("07", "22", STEP)]],
    ("aphis-lacey-oak", "APH"): [[("07", "22", 0.0)]],
    ("vehicle-epa-nhtsa", "EPA"): [[("01", None, 0.0), ("07", "22", STEP)]],
    ("vehicle-epa-nhtsa", "NHT"): [[("07", "22", 0.0)]],
}


@pytest.mark.parametrize(("name", "agency"), sorted(EXPECTED))
def test_sample_simulates_as_documented(registry: AgencyRegistry, name: str, agency: str) -> None:
    filing = sample_filing(name)
    plugin = registry.get(agency)
    assert plugin is not None
    answers = [
        [(a.status_code, a.reason_code, a.delay_seconds) for a in plugin.simulate(filing, line)]
        for line in registry.agency_lines(filing, agency)
    ]
    assert answers == EXPECTED[(name, agency)]


def test_every_sample_agency_is_covered(registry: AgencyRegistry) -> None:
    covered = {(n, a) for n in VALID_SAMPLES for a in sample_filing(n).agencies()}
    assert covered == set(EXPECTED)


def test_disclaimed_line_is_not_an_agency_line(registry: AgencyRegistry) -> None:
    lines = registry.agency_lines(sample_filing("two-lines-disclaimer"), "FDA")
    assert [(line.cbp_line_number, line.location) for line in lines] == [
        (2, "/lines/1/pga_lines/0")
    ]
