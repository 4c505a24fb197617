"""Jinja2 environment and helpers that turn PGA data into readable pieces for the templates."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from gateway.pgams.codes import code_tables, pga_status_codes

RECORD_TITLES = {
    "PG02": "Product",
    "PG10": "Characteristic",
    "PG13": "LPCO (licence, permit, certificate)",
    "PG14": "LPCO detail",
    "PG19": "Entity",
    "PG23": "Affirmation of compliance",
    "PG25": "Lot and temperature",
    "PG26": "Packaging",
    "PG29": "Quantity",
    "PG30": "Anticipated arrival",
}
ENTITY_CONTINUATIONS = ("PG20", "PG21")
# Acronyms kept upper-case when a snake_case field name becomes a label.
_ACRONYMS = {"aoc", "lpco", "uom", "pga", "cbp", "id", "hts", "pn", "url"}


def label(name: str) -> str:
    """``entity_id_code`` -> ``Entity ID code``."""
    words = [w.upper() if w in _ACRONYMS else w for w in name.split("_") if w]
    if not words:
        return name
    first = words[0] if words[0].isupper() else words[0].capitalize()
    return " ".join([first, *words[1:]])


def record_groups(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records grouped for display: an entity (PG19) with its address/contact records, LPCOs,
    products, remarks...; each group is ``{"title", "type", "fields": [(label, value)]}``."""
    groups: list[dict[str, Any]] = []
    for record in records:
        kind = str(record.get("type", ""))
        fields = [(label(k), v) for k, v in (record.get("fields") or {}).items() if v != ""]
        if kind in ENTITY_CONTINUATIONS and groups and groups[-1]["type"] == "PG19":
            groups[-1]["fields"].extend(fields)
            continue
        groups.append({"title": RECORD_TITLES.get(kind, kind), "type": kind, "fields": fields})
    return groups


@functools.cache
def reason_codes() -> list[dict[str, str]]:
    reasons = code_tables()["pga_status"]["reason_codes"]
    return [
        {"code": code, "status": r["status"], "text": r["text"]}
        for code, r in sorted(reasons.items(), key=lambda kv: (kv[1]["status"], kv[0]))
    ]


def status_options() -> list[tuple[str, str]]:
    return sorted(pga_status_codes().items())


def when(value: Any) -> str:
    """ISO text or datetime -> ``2026-12-01 14:30 UTC``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("gateway.review", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["label"] = label
    env.filters["when"] = when
    env.globals["record_groups"] = record_groups
    return env
