"""``pga-gateway catair parse|render``: CATAIR file <-> canonical JSON, errors as JSON.

Both commands print the result on stdout and return 0, or print ``{"errors": [...]}`` on
stderr and return 1 — also for unreadable files and non-ASCII bytes, never a traceback.
"""

from __future__ import annotations

import json
import sys

from gateway.errors import Problem
from gateway.pgams.catair import parse_catair, render_catair
from gateway.pgams.jsonmap import catair_document, catair_document_from_json


def _read(path: str) -> tuple[str | None, list[Problem]]:
    try:
        data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()  # noqa: SIM115
    except OSError as exc:
        return None, [Problem(f"cannot read {path}: {exc.strerror or exc}")]
    try:
        return data.decode("ascii"), []
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start]
        line = prefix.count(b"\n") + 1
        column = exc.start - (prefix.rfind(b"\n") + 1) + 1
        return None, [
            Problem(
                f"byte 0x{data[exc.start]:02x} at line {line}, position {column} is not ASCII",
                record=line,
                positions=str(column),
            )
        ]


def _fail(problems: list[Problem]) -> int:
    json.dump({"errors": [p.to_dict() for p in problems]}, sys.stderr, indent=2)
    sys.stderr.write("\n")
    return 1


def parse_command(path: str) -> int:
    text, problems = _read(path)
    if text is None:
        return _fail(problems)
    lines, problems = parse_catair(text)
    if problems:
        return _fail(problems)
    json.dump(catair_document(lines), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def render_command(path: str) -> int:
    text, problems = _read(path)
    if text is None:
        return _fail(problems)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return _fail(
            [Problem(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]
        )
    lines, problems = catair_document_from_json(document)
    if problems:
        return _fail(problems)
    sys.stdout.write(render_catair(lines))
    return 0
