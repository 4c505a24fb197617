"""``StandardAgency``: the shared body of the built-in agency plugins.

A built-in agency subclasses it, sets ``code`` and ``data_file`` and overrides ``validate``
(its rules) and, where its simulator differs, ``simulate_valid``. Name and programs come from
the gateway's code table (``gateway/data/pga_codes.json``) so they are never listed twice.

Hooks a subclass may override:

- ``validate(filing, line)``: the agency's rules (default: none).
- ``validate_disclaimer(filing, line)``: called by the registry for *disclaimed* lines; the
  default accepts the general disclaimers (``agencies/data/common.json``) and the agency's own
  ones (its data file's ``disclaimers``, optionally limited to ``programs``/``entry_types``).
- ``annotations(filing, lines)``: extra key/value pairs for the agency message (default ``{}``).
- ``simulate_valid(filing, line)``: simulator answers for a line that passes ``validate``
  (default: 01 in the acknowledgement, then 07/22 after one delay step).

``simulate`` answers 01 then 10/90 (documents required) for a line failing ``validate`` (only
reachable when validation was bypassed) and otherwise defers to ``simulate_valid``. Delays are
multiples of ``simulated_delay`` (``BASE_DELAY_SECONDS`` unless set on the class or instance).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any, ClassVar

from agencies.contract import AgencyLine, Disposition, SimulatedAnswer
from gateway.errors import Problem, ServerError
from gateway.pgams import codes
from gateway.pgams.model import Filing, Record

BASE_DELAY_SECONDS = 0.2


@functools.cache
def agency_data(name: str) -> dict[str, Any]:
    """``agencies/data/{name}.json``, parsed once per process."""
    text = resources.files("agencies").joinpath(f"data/{name}.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def records_of(line: AgencyLine, *types: str) -> list[tuple[int, Record]]:
    """(index in ``pga_line.records``, record) for every record of the given types."""
    return [(k, r) for k, r in enumerate(line.pga_line.records) if r.type in types]


def text_field(record: Record, name: str) -> str | None:
    """A field as stripped text; ``None`` when blank or absent."""
    value = record.fields.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def status_text(status_code: str) -> str:
    entry = codes.code_tables()["pga_status"]["entry_level"].get(status_code, {})
    return str(entry.get("text", status_code))


class StandardAgency:
    """Default implementation of the ``AgencyPlugin`` protocol; see the module docstring."""

    code: ClassVar[str]
    data_file: ClassVar[str]
    simulated_delay: float = BASE_DELAY_SECONDS

    def __init__(self) -> None:
        table = codes.code_tables()["agencies"][self.code]
        self.name: str = str(table["name"])
        self.programs: frozenset[str] = frozenset(table["programs"])
        self.data: dict[str, Any] = agency_data(self.data_file)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code}>"

    # -- validation -------------------------------------------------------------------------

    def validate(self, filing: Filing, line: AgencyLine) -> list[Problem]:
        return []

    def validate_disclaimer(self, filing: Filing, line: AgencyLine) -> list[Problem]:
        disclaimer = line.pga_line.disclaimer
        if disclaimer is None or disclaimer in agency_data("common")["general_disclaimers"]:
            return []
        own: dict[str, Any] = self.data.get("disclaimers", {})
        rule = own.get(disclaimer)
        if rule is None:
            return [
                self.problem(
                    line,
                    f"disclaimer {disclaimer} is not accepted by {self.code}; it accepts "
                    f"{', '.join(self.accepted_disclaimers())}",
                    field="disclaimer",
                )
            ]
        programs = rule.get("programs")
        if programs and line.pga_line.program_code not in programs:
            return [
                self.problem(
                    line,
                    f"disclaimer {disclaimer} is only for {self.code} program(s) "
                    f"{', '.join(programs)}, not {line.pga_line.program_code}",
                    field="disclaimer",
                )
            ]
        entry_types = rule.get("entry_types")
        if entry_types and filing.entry_type not in entry_types:
            return [
                self.problem(
                    line,
                    f"disclaimer {disclaimer} is only for entry type(s) {', '.join(entry_types)}, "
                    f"not {filing.entry_type}",
                    field="disclaimer",
                )
            ]
        return []

    def accepted_disclaimers(self) -> list[str]:
        general: list[str] = agency_data("common")["general_disclaimers"]
        return sorted({*general, *self.data.get("disclaimers", {})})

    def problem(
        self,
        line: AgencyLine,
        message: str,
        *,
        record: int | None = None,
        field: str | None = None,
        code: str | None = None,
    ) -> Problem:
        """A Problem at the line, or at its ``record``-th record (index in ``records``)."""
        location = line.location if record is None else f"{line.location}/records/{record}"
        return Problem(message, code=code, field=field, location=location)

    def scientific_name_problems(self, line: AgencyLine, program: str) -> list[Problem]:
        """PG05 genus and species, which FWS and APHIS Lacey lines both require."""
        problems: list[Problem] = []
        names = records_of(line, "PG05")
        if not names:
            problems.append(
                self.problem(
                    line,
                    f"{program} line needs a PG05 with the scientific name (genus and species)",
                )
            )
        for k, record in names:
            missing = [f for f in ("genus", "species") if text_field(record, f) is None]
            if missing:
                problems.append(
                    self.problem(
                        line,
                        f"{program} PG05 scientific name lacks the {' and '.join(missing)}",
                        record=k,
                        field=missing[0],
                    )
                )
        return problems

    # -- agency message ---------------------------------------------------------------------

    def annotations(self, filing: Filing, lines: Sequence[AgencyLine]) -> dict[str, str]:
        return {}

    def to_agency_message(
        self,
        filing: Filing,
        lines: Sequence[AgencyLine],
        *,
        message_id: str,
        correlation_id: str,
        entry_version: int,
    ) -> dict[str, Any]:
        # Imported here: the IWS message module is owned elsewhere and must not be needed to
        # load, validate or simulate an agency.
        from agencies.iws_message import build_pga_data  # type: ignore[import-not-found,unused-ignore]

        message: dict[str, Any] = build_pga_data(
            message_id=message_id,
            correlation_id=correlation_id,
            agency_code=self.code,
            entry_version=entry_version,
            filing=filing,
            lines=lines,
            annotations=self.annotations(filing, lines),
        )
        return message

    def parse_agency_answer(self, answer: Mapping[str, Any]) -> list[Disposition]:
        items = answer.get("Dispositions") or []
        return [self._disposition(i, item) for i, item in enumerate(items)]

    def _disposition(self, index: int, item: Mapping[str, Any]) -> Disposition:
        where = f"{self.code} answer Dispositions[{index}]"
        try:
            status = str(item["StatusCode"])
            cbp_line = int(item["CBPLineNumber"])
            pga_line = int(item["PGALineNumber"])
            action_time = item["ActionTime"]
        except KeyError as exc:
            raise ServerError(f"{where} lacks {exc.args[0]}") from None
        except (TypeError, ValueError) as exc:
            raise ServerError(f"{where}: {exc}") from None
        if status not in codes.code_tables()["pga_status"]["entry_level"]:
            raise ServerError(f"{where}: unknown PGA status code {status!r}")
        if isinstance(action_time, str):
            action_time = dt.datetime.fromisoformat(action_time)
        if not isinstance(action_time, dt.datetime):
            raise ServerError(f"{where}: ActionTime is not a date-time")
        # Agencies may send local-less times; the gateway keeps every time in UTC.
        if action_time.tzinfo is None:
            action_time = action_time.replace(tzinfo=dt.UTC)
        reason = item.get("ReasonCode")
        remark = item.get("Remark")
        return Disposition(
            cbp_line_number=cbp_line,
            pga_line_number=pga_line,
            status_code=status,
            action_time=action_time.astimezone(dt.UTC),
            reason_code=str(reason) if reason else None,
            remark=str(remark) if remark else None,
        )

    # -- simulator --------------------------------------------------------------------------

    def simulate(self, filing: Filing, line: AgencyLine) -> list[SimulatedAnswer]:
        problems = self.validate(filing, line)
        if problems:
            return [
                self.answer("01", None, 0),
                self.answer("10", "90", 1, f"DOCUMENTS REQUIRED: {problems[0].message}"),
            ]
        return self.simulate_valid(filing, line)

    def simulate_valid(self, filing: Filing, line: AgencyLine) -> list[SimulatedAnswer]:
        return [self.answer("01", None, 0), self.answer("07", "22", 1)]

    def answer(
        self, status: str, reason: str | None, steps: int, remark: str | None = None
    ) -> SimulatedAnswer:
        """A simulated answer ``steps`` delay steps after submission (0 = acknowledgement)."""
        return SimulatedAnswer(
            status_code=status,
            reason_code=reason,
            delay_seconds=steps * self.simulated_delay,
            remark=remark or status_text(status),
        )
