"""Handler for ``/entries/{entry_number}/pga``: replace PGA data with CATAIR text."""

from __future__ import annotations

from connexion import request
from connexion.lifecycle import ConnexionResponse
from starlette.concurrency import run_in_threadpool

from gateway.api.context import idempotency_key, principal, services
from gateway.api.responses import receipt_response
from gateway.errors import Problem, ValidationFailed


async def replace_pga_data(entry_number: str) -> ConnexionResponse:
    # Read the raw bytes ourselves: CATAIR is ASCII, and a bad byte deserves a located error,
    # not a decoding exception.
    text = decode_catair_bytes(await request.body())
    who = principal()
    intake = services().intake
    key = idempotency_key()
    receipt = await run_in_threadpool(intake.replace_pga, entry_number, text, who, key)
    return receipt_response(receipt)


def decode_catair_bytes(raw: bytes) -> str:
    """CATAIR is 7-bit ASCII; name the record and column of the first byte that is not."""
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as exc:
        record = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        problem = Problem(
            f"byte 0x{raw[exc.start]:02X} at record {record}, column {column} is not ASCII",
            record=record,
            positions=str(column),
        )
        raise ValidationFailed("CATAIR records must be ASCII", [problem]) from None
