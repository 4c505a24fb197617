"""The agency registry: plugins discovered through the ``pga_gateway.agencies`` entry points.

``load_registry`` loads every entry point of the group (built-ins included: there is no list
of agencies in code), checks each plugin against the contract and raises one
``ConfigurationError`` naming every broken plugin. ``allow`` enables a subset: an entry point
is enabled when its name or its plugin's agency code is allowed (case-insensitive); the others
are ignored, even when broken, so a bad optional plugin can be switched off by configuration.

Optional plugin hook (beyond ``contract.AgencyPlugin``): ``validate_disclaimer(filing, line)
-> list[Problem]`` is called for the agency's *disclaimed* PGA lines when the plugin has it.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any

from agencies.contract import ENTRY_POINT_GROUP, AgencyLine, AgencyPlugin
from gateway.errors import ConfigurationError, Problem
from gateway.pgams.model import Filing

_AGENCY_CODE = re.compile(r"[A-Z0-9]{3}")
_PROGRAM_CODE = re.compile(r"[A-Z0-9]{1,3}")
_DUMMY = object()
# How each contract method must be callable: (positional args, keyword args).
_METHOD_CALLS: dict[str, tuple[int, tuple[str, ...]]] = {
    "validate": (2, ()),
    "to_agency_message": (2, ("message_id", "correlation_id", "entry_version")),
    "parse_agency_answer": (1, ()),
    "simulate": (2, ()),
}


class AgencyRegistry:
    """The enabled agency plugins, by agency code."""

    def __init__(self, plugins: Iterable[AgencyPlugin]) -> None:
        self._plugins: dict[str, AgencyPlugin] = {p.code: p for p in plugins}

    def get(self, code: str) -> AgencyPlugin | None:
        return self._plugins.get(code)

    def codes(self) -> list[str]:
        return sorted(self._plugins)

    def __iter__(self) -> Iterator[AgencyPlugin]:
        return (self._plugins[code] for code in self.codes())

    def __len__(self) -> int:
        return len(self._plugins)

    def __contains__(self, code: object) -> bool:
        return code in self._plugins

    def agency_lines(self, filing: Filing, agency_code: str) -> list[AgencyLine]:
        """The agency's non-disclaimed PGA lines, in filing order."""
        return [
            line
            for line in _all_lines(filing)
            if line.pga_line.agency_code == agency_code and line.pga_line.disclaimer is None
        ]

    def validate_filing(self, filing: Filing) -> list[Problem]:
        """Every agency rule for every PGA line; all problems, located."""
        problems: list[Problem] = []
        for line in _all_lines(filing):
            pga = line.pga_line
            plugin = self.get(pga.agency_code)
            if plugin is None:
                if pga.disclaimer is None:
                    problems.append(
                        Problem(
                            f"no enabled agency plugin for agency {pga.agency_code}",
                            field="agency_code",
                            location=line.location,
                        )
                    )
                continue
            if pga.program_code not in plugin.programs:
                problems.append(
                    Problem(
                        f"program {pga.program_code} is not a program of agency "
                        f"{plugin.code} ({', '.join(sorted(plugin.programs))})",
                        field="program_code",
                        location=line.location,
                    )
                )
                continue  # the agency's rules are per program; they cannot judge this line
            if pga.disclaimer is None:
                problems.extend(plugin.validate(filing, line))
            else:
                hook = getattr(plugin, "validate_disclaimer", None)
                if callable(hook):
                    problems.extend(hook(filing, line))
        return problems


def _all_lines(filing: Filing) -> Iterator[AgencyLine]:
    for i, tariff in enumerate(filing.lines):
        for j, pga in enumerate(tariff.pga_lines):
            yield AgencyLine(
                cbp_line_number=tariff.line_number,
                pga_line=pga,
                description=tariff.description,
                hts_number=tariff.hts_number,
                country_of_origin=tariff.country_of_origin,
                location=f"/lines/{i}/pga_lines/{j}",
            )


def load_registry(
    allow: Collection[str] | None = None,
    *,
    entry_points: Iterable[importlib.metadata.EntryPoint] | None = None,
) -> AgencyRegistry:
    """Discover, check and enable the agency plugins (see the module docstring)."""
    if entry_points is None:
        entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    allowed = None if allow is None else {a.upper() for a in allow}
    errors: list[str] = []
    enabled: list[tuple[str, AgencyPlugin]] = []
    seen: set[str] = set()  # entry-point names and codes of loaded plugins (for the allow list)
    failed: list[str] = []
    for ep in entry_points:
        label = f"agency plugin entry point {ep.name!r} ({ep.value})"
        by_name = allowed is None or ep.name.upper() in allowed
        try:
            plugin = _instantiate(ep)
        except _PluginError as exc:
            if by_name:
                errors.append(f"{label}: {exc}")
            else:
                failed.append(ep.name)
            continue
        code = _safe_code(plugin)
        seen.add(ep.name.upper())
        if code is not None:
            seen.add(code.upper())
        by_code = allowed is not None and code is not None and code.upper() in allowed
        if not (by_name or by_code):
            continue
        try:
            problems = _contract_problems(plugin)
        except Exception as exc:  # a property of third-party code that raises
            problems = [f"checking it raised {type(exc).__name__}: {exc}"]
        if problems:
            errors.append(f"{label}: {'; '.join(problems)}")
            continue
        enabled.append((label, plugin))
    errors.extend(_duplicates(enabled))
    if allowed is not None:
        unknown = sorted(allowed - seen)
        if unknown:
            hint = f" (entry points that failed to load: {', '.join(failed)})" if failed else ""
            errors.append(
                f"agency allow-list names unknown agency {', '.join(unknown)}; installed: "
                f"{', '.join(sorted(seen)) or 'none'}{hint}"
            )
    if errors:
        raise ConfigurationError(
            "invalid agency plugin configuration: " + " | ".join(errors),
            [Problem(e, field="agencies") for e in errors],
        )
    return AgencyRegistry(plugin for _, plugin in enabled)


class _PluginError(Exception):
    pass


def _instantiate(ep: importlib.metadata.EntryPoint) -> Any:
    try:
        factory = ep.load()
    except Exception as exc:  # any import-time failure of third-party code
        raise _PluginError(f"cannot be imported: {type(exc).__name__}: {exc}") from exc
    if not callable(factory):
        raise _PluginError("does not name a callable (a class or factory function)")
    try:
        return factory()
    except Exception as exc:
        raise _PluginError(f"factory failed: {type(exc).__name__}: {exc}") from exc


def _safe_code(plugin: Any) -> str | None:
    try:
        code = getattr(plugin, "code", None)
    except Exception:
        return None  # reported by the contract check
    return code if isinstance(code, str) else None


def _contract_problems(plugin: Any) -> list[str]:
    """What stops ``plugin`` from satisfying ``AgencyPlugin``; empty when it does."""
    problems: list[str] = []
    code = getattr(plugin, "code", _DUMMY)
    if code is _DUMMY:
        problems.append("missing attribute 'code'")
    elif not isinstance(code, str) or not _AGENCY_CODE.fullmatch(code):
        problems.append(f"code {code!r} is not 3 uppercase letters or digits")
    name = getattr(plugin, "name", _DUMMY)
    if name is _DUMMY:
        problems.append("missing attribute 'name'")
    elif not isinstance(name, str) or not name.strip():
        problems.append(f"name {name!r} is not a non-empty string")
    problems.extend(_program_problems(getattr(plugin, "programs", _DUMMY)))
    for method, (positional, keywords) in _METHOD_CALLS.items():
        problems.extend(_method_problems(plugin, method, positional, keywords))
    return problems


def _program_problems(programs: Any) -> list[str]:
    if programs is _DUMMY:
        return ["missing attribute 'programs'"]
    if not isinstance(programs, frozenset):
        return [f"programs must be a frozenset of program codes, not {type(programs).__name__}"]
    if not programs:
        return ["programs is empty"]
    bad = sorted(
        repr(p) for p in programs if not (isinstance(p, str) and _PROGRAM_CODE.fullmatch(p))
    )
    if bad:
        return [f"program code(s) {', '.join(bad)} are not 1-3 uppercase letters or digits"]
    return []


def _method_problems(
    plugin: Any, method: str, positional: int, keywords: tuple[str, ...]
) -> list[str]:
    func: Callable[..., Any] | None = getattr(plugin, method, None)
    if func is None:
        return [f"missing method {method}()"]
    if not callable(func):
        return [f"{method} is not a method"]
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return []  # no introspectable signature (e.g. a C callable): trust it
    try:
        signature.bind(*([_DUMMY] * positional), **{k: _DUMMY for k in keywords})
    except TypeError as exc:
        return [f"{method}() has the wrong signature {signature}: {exc}"]
    return []


def _duplicates(enabled: list[tuple[str, AgencyPlugin]]) -> list[str]:
    first: dict[str, str] = {}
    errors: list[str] = []
    for label, plugin in enabled:
        if plugin.code in first:
            errors.append(f"duplicate agency code {plugin.code}: {first[plugin.code]} and {label}")
        else:
            first[plugin.code] = label
    return errors
