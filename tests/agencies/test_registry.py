"""The registry: discovery through entry points, start-up checks, allow-list, routing."""

from __future__ import annotations

import importlib.metadata
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from agencies.contract import ENTRY_POINT_GROUP
from agencies.registry import AgencyRegistry, load_registry
from gateway.errors import ConfigurationError
from gateway.pgams.model import Filing, PGALine, TariffLine

BUILT_INS = ["APH", "CPS", "EPA", "FDA", "FSI", "FWS", "NHT", "NMF"]

GOOD_PLUGIN = """
class Plugin:
    code = "XYZ"
    name = "Test agency"
    programs = frozenset({"XY1"})

    def validate(self, filing, line):
        from gateway.errors import Problem
        return [Problem("xyz saw this line", location=line.location)]

    def to_agency_message(self, filing, lines, *, message_id, correlation_id, entry_version):
        return {}

    def parse_agency_answer(self, answer):
        return []

    def simulate(self, filing, line):
        return []
"""


def ep(name: str, value: str) -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def builtin_eps() -> list[importlib.metadata.EntryPoint]:
    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """Writes a throw-away plugin module (GOOD_PLUGIN + ``extra`` source); returns its name."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(extra: str = "") -> str:
        name = f"plugin_{uuid.uuid4().hex}"
        (tmp_path / f"{name}.py").write_text(GOOD_PLUGIN + textwrap.dedent(extra))
        return name

    return write


def config_error(**kwargs: object) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_registry(**kwargs)  # type: ignore[arg-type]
    return caught.value.detail


def test_built_ins_come_from_entry_points() -> None:
    assert {e.name for e in builtin_eps()} >= {c.lower() for c in BUILT_INS}
    registry = load_registry()
    assert registry.codes() == BUILT_INS
    assert [p.code for p in registry] == BUILT_INS
    assert len(registry) == 8
    assert "FDA" in registry
    assert registry.get("XXX") is None


def test_registry_holds_only_what_the_entry_points_give() -> None:
    assert load_registry(entry_points=[]).codes() == []
    assert load_registry(entry_points=[ep("fda", "agencies.fda:FDA")]).codes() == ["FDA"]


def test_allow_list_enables_a_subset() -> None:
    assert load_registry(["FDA", "epa"]).codes() == ["EPA", "FDA"]


def test_allow_list_matches_entry_point_names_too() -> None:
    assert load_registry(["nht"]).codes() == ["NHT"]


def test_allow_list_naming_an_unknown_agency_fails() -> None:
    message = config_error(allow=["FDA", "XXX"])
    assert "allow-list names unknown agency XXX" in message


def test_duplicate_codes_name_both_plugins() -> None:
    message = config_error(
        entry_points=[ep("fda", "agencies.fda:FDA"), ep("other_fda", "agencies.fda:FDA")]
    )
    assert "duplicate agency code FDA" in message
    assert "'fda'" in message and "'other_fda'" in message


def test_import_failure_names_the_entry_point() -> None:
    message = config_error(entry_points=[ep("broken", "no_such_module_pga:Plugin")])
    assert "entry point 'broken' (no_such_module_pga:Plugin): cannot be imported" in message
    assert "ModuleNotFoundError" in message


def test_factory_failure_names_the_entry_point(plugin_module: Callable[[str], str]) -> None:
    module = plugin_module(
        """
        class Failing(Plugin):
            def __init__(self):
                raise RuntimeError("no licence file")
        """
    )
    message = config_error(entry_points=[ep("failing", f"{module}:Failing")])
    assert "'failing'" in message and "factory failed: RuntimeError: no licence file" in message


def test_missing_method_names_the_plugin(plugin_module: Callable[[str], str]) -> None:
    module = plugin_module(
        """
        class NoSimulate:
            code = "XYZ"
            name = "x"
            programs = frozenset({"XY1"})
            validate = Plugin.validate
            to_agency_message = Plugin.to_agency_message
            parse_agency_answer = Plugin.parse_agency_answer
        """
    )
    message = config_error(entry_points=[ep("nosim", f"{module}:NoSimulate")])
    assert "'nosim'" in message and "missing method simulate()" in message


def test_wrong_signature_is_rejected(plugin_module: Callable[[str], str]) -> None:
    module = plugin_module(
        """
        class OneArg(Plugin):
            def validate(self, filing):
                return []
        """
    )
    message = config_error(entry_points=[ep("onearg", f"{module}:OneArg")])
    assert "'onearg'" in message and "validate() has the wrong signature" in message


@pytest.mark.parametrize(
    ("programs", "fragment"),
    [
        ("frozenset()", "programs is empty"),
        ('frozenset({"TOOLONG"})', "'TOOLONG' are not 1-3 uppercase letters or digits"),
        ('frozenset({"xy1"})', "'xy1' are not 1-3 uppercase letters or digits"),
        ('["XY1"]', "programs must be a frozenset of program codes, not list"),
    ],
)
def test_bad_program_list_is_rejected(
    plugin_module: Callable[[str], str], programs: str, fragment: str
) -> None:
    module = plugin_module(f"\nclass Bad(Plugin):\n    programs = {programs}\n")
    message = config_error(entry_points=[ep("badprog", f"{module}:Bad")])
    assert "'badprog'" in message and fragment in message


@pytest.mark.parametrize("code", ['"xyz"', '"XY"', '"XY-"', "123", None])
def test_bad_code_is_rejected(plugin_module: Callable[[str], str], code: str | None) -> None:
    body = "    code = property(lambda self: 1/0)\n" if code is None else f"    code = {code}\n"
    module = plugin_module("\nclass Bad(Plugin):\n" + body)
    if code is None:
        message = config_error(entry_points=[ep("badcode", f"{module}:Bad")])
        assert "'badcode'" in message and "checking it raised ZeroDivisionError" in message
        return
    message = config_error(entry_points=[ep("badcode", f"{module}:Bad")])
    assert "'badcode'" in message and "is not 3 uppercase letters or digits" in message


def test_every_broken_plugin_is_reported_at_once() -> None:
    message = config_error(entry_points=[ep("a", "nope_a:X"), ep("b", "nope_b:X")])
    assert "'a'" in message and "'b'" in message


def test_broken_plugin_outside_the_allow_list_is_ignored() -> None:
    eps = [*builtin_eps(), ep("broken", "no_such_module_pga:Plugin")]
    assert load_registry(["FDA"], entry_points=eps).codes() == ["FDA"]


def test_third_party_distribution_is_discovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package + dist-info on sys.path registers an agency; nothing in gateway/ changes."""
    package = tmp_path / "acme_agency"
    package.mkdir()
    (package / "__init__.py").write_text(GOOD_PLUGIN)
    dist_info = tmp_path / "acme_agency-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-agency\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nxyz = acme_agency:Plugin\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    registry = load_registry()
    assert registry.codes() == sorted([*BUILT_INS, "XYZ"])
    filing = _filing(PGALine(agency_code="XYZ", program_code="XY1", pga_line_number=1))
    problems = registry.validate_filing(filing)
    assert [(p.message, p.location) for p in problems] == [
        ("xyz saw this line", "/lines/0/pga_lines/0")
    ]


def _filing(*pga_lines: PGALine) -> Filing:
    return Filing(
        entry_number="ABC12345670",
        filer_code="ABC",
        entry_type="01",
        port_of_entry="5301",
        importer_of_record="X",
        lines=[TariffLine(line_number=1, description="GOODS", pga_lines=list(pga_lines))],
    )


def test_line_of_an_agency_without_plugin_is_a_problem() -> None:
    registry = AgencyRegistry([])
    problems = registry.validate_filing(
        _filing(
            PGALine(agency_code="FDA", program_code="FOO", pga_line_number=1),
            PGALine(agency_code="EPA", program_code="ODS", pga_line_number=1, disclaimer="A"),
        )
    )
    assert [(p.message, p.location, p.field) for p in problems] == [
        ("no enabled agency plugin for agency FDA", "/lines/0/pga_lines/0", "agency_code")
    ]


def test_program_outside_the_plugin_is_a_problem(registry: AgencyRegistry) -> None:
    problems = registry.validate_filing(
        _filing(PGALine(agency_code="EPA", program_code="FOO", pga_line_number=1))
    )
    assert len(problems) == 1
    assert problems[0].message.startswith("program FOO is not a program of agency EPA (")
    assert problems[0].location == "/lines/0/pga_lines/0"


def test_agency_lines_keep_filing_order(registry: AgencyRegistry) -> None:
    filing = _filing(
        PGALine(agency_code="FDA", program_code="FOO", pga_line_number=1),
        PGALine(agency_code="EPA", program_code="ODS", pga_line_number=1),
        PGALine(agency_code="FDA", program_code="FOO", pga_line_number=2, disclaimer="A"),
        PGALine(agency_code="FDA", program_code="DEV", pga_line_number=3),
    )
    lines = registry.agency_lines(filing, "FDA")
    assert [(x.pga_line.pga_line_number, x.location) for x in lines] == [
        (1, "/lines/0/pga_lines/0"),
        (3, "/lines/0/pga_lines/3"),
    ]
    assert lines[0].description == "GOODS" and lines[0].cbp_line_number == 1
