"""The agency plugin contract.

An agency is a plugin found through the entry-point group ``pga_gateway.agencies``; the
built-in agencies register through the same entry points as third-party ones. Each entry
point names a zero-argument callable (usually the class) returning an ``AgencyPlugin``.
Nothing in ``gateway/`` knows any agency by name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from gateway.errors import Problem
from gateway.pgams.model import Filing, PGALine

ENTRY_POINT_GROUP = "pga_gateway.agencies"


@dataclass(frozen=True, slots=True)
class AgencyLine:
    """One PGA line as an agency sees it: the line plus its place in the entry."""

    cbp_line_number: int
    pga_line: PGALine
    description: str
    hts_number: str | None = None
    country_of_origin: str | None = None
    # JSON pointer of this PGA line in the filing (for Problem.location), e.g.
    # "/lines/0/pga_lines/1".
    location: str = ""


@dataclass(frozen=True, slots=True)
class Disposition:
    """An agency's status for one PGA line at one moment (CBP PGA status/reason codes)."""

    cbp_line_number: int
    pga_line_number: int
    status_code: str  # "01", "02", "04", "06", "07", "08", "10", "11", "13"
    action_time: dt.datetime  # timezone-aware
    reason_code: str | None = None
    remark: str | None = None


@dataclass(frozen=True, slots=True)
class SimulatedAnswer:
    """What the agency simulator answers for a line: a status after a delay."""

    status_code: str
    reason_code: str | None
    delay_seconds: float  # 0 = in the synchronous acknowledgement
    remark: str


@runtime_checkable
class AgencyPlugin(Protocol):
    code: str  # PG01 agency code (positions 8-10), e.g. "FDA", "APH", "EPA", "NHT"
    name: str
    programs: frozenset[str]  # PG01 program codes it handles

    def validate(self, filing: Filing, line: AgencyLine) -> list[Problem]:
        """Agency rules for one of its (non-disclaimed) PGA lines; problems located."""
        ...

    def to_agency_message(
        self,
        filing: Filing,
        lines: Sequence[AgencyLine],
        *,
        message_id: str,
        correlation_id: str,
        entry_version: int,
    ) -> dict[str, Any]:
        """The SubmitPGAData request body (agency-iws.xsd) for this agency's lines."""
        ...

    def parse_agency_answer(self, answer: Mapping[str, Any]) -> list[Disposition]:
        """Dispositions carried in a synchronous SubmitPGAData response (as a plain dict)."""
        ...

    def simulate(self, filing: Filing, line: AgencyLine) -> list[SimulatedAnswer]:
        """What the built-in simulator answers for this line (deterministic, documented)."""
        ...
