"""Strict JSON request bodies: every schema violation reported at once, located.

connexion's stock validator stops at the first schema error and answers 400; a filer fixing a
filing wants all of them, so this one collects every violation into one ``ValidationFailed``
(422) and keeps 400 for bodies that are not JSON at all (bad UTF-8, syntax, duplicate keys,
NaN/Infinity, absurd nesting).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

from connexion.validators import JSONRequestBodyValidator
from starlette.datastructures import Headers
from starlette.types import Receive, Scope

from gateway.errors import MalformedInput, Problem, ValidationFailed

MAX_PROBLEMS = 200


def _reject_constant(name: str) -> Any:
    raise MalformedInput(f"JSON body: {name} is not a valid JSON number")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise MalformedInput(f"JSON body: key {key!r} appears twice in one object")
        obj[key] = value
    return obj


def parse_json_bytes(raw: bytes) -> Any:
    """Decode a JSON document strictly; ``MalformedInput`` with the position on any defect."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedInput(f"JSON body: byte {exc.start} is not valid UTF-8") from None
    try:
        return json.loads(
            text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys
        )
    except json.JSONDecodeError as exc:
        raise MalformedInput(
            f"JSON body: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise MalformedInput("JSON body: nested too deeply") from None


def schema_problems(validator: Any, body: Any) -> list[Problem]:
    problems = []
    for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.path))):
        location = "".join(f"/{part}" for part in error.absolute_path)
        problems.append(Problem(f"{error.message}", location=location or "/"))
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems


class AllErrorsJSONBodyValidator(JSONRequestBodyValidator):
    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        if Headers(scope=scope).get("content-length") == "0":
            raise MalformedInput("the request body is empty; send a JSON document")
        return await super().wrap_receive(receive, scope=scope)

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw.strip():
            return None
        return parse_json_bytes(raw)

    def _validate(self, body: Any) -> dict[Any, Any] | None:
        if body is None:
            raise MalformedInput("the request body is empty; send a JSON document")
        problems = schema_problems(self._validator, body)
        if problems:
            n = len(problems)
            raise ValidationFailed(f"{n} schema problem{'s' if n != 1 else ''}", problems)
        return None
