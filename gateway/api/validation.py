"""Handler for ``/validate``: the dry run of ``POST /entries``; nothing is stored."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionResponse

from gateway.api.context import principal, services
from gateway.api.responses import json_response


def validate_filing(body: Any) -> ConnexionResponse:
    filing = services().intake.check(body, principal())
    report = {
        "valid": True,
        "entry_number": filing.entry_number,
        "agencies": filing.agencies(),
        "pga_line_count": sum(len(line.pga_lines) for line in filing.lines),
    }
    return json_response(200, report)
