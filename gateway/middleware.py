"""ASGI middleware around the whole app: services, correlation ids, body size limit."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import GatewayError, MalformedInput, PayloadTooLarge
from gateway.metrics import STATS_SCOPE_KEY, RequestStats

log = logging.getLogger("gateway.access")

CORRELATION_HEADER = b"x-correlation-id"
_SAFE_CORRELATION = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")


class ServicesMiddleware:
    """Put the process services into each request's scope (read by handlers)."""

    def __init__(self, app: ASGIApp, key: str, services: Any) -> None:
        self.app, self.key, self.services = app, key, services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope[self.key] = self.services
        await self.app(scope, receive, send)


class CorrelationMiddleware:
    """Give every request a correlation id (the caller's if sane), echo it, log the request."""

    def __init__(self, app: ASGIApp, stats: RequestStats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(CORRELATION_HEADER, b"")
        cid = incoming if _SAFE_CORRELATION.match(incoming) else uuid.uuid4().hex.encode()
        scope["correlation_id"] = cid.decode()
        scope[STATS_SCOPE_KEY] = self.stats
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (CORRELATION_HEADER, cid)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.stats.record(
                scope.get("method", ""),
                scope.get("path", ""),
                status,
                time.perf_counter() - started,
            )
            log.info(
                "request",
                extra={
                    "correlation_id": cid.decode(),
                    "method": scope.get("method"),
                    "path": scope.get("path"),  # never the query string: it may carry secrets
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )


# Paths whose handlers stream large bodies and enforce their own, larger limits
# (PGA_GATEWAY_DOCUMENT_MAX_BYTES / _DOCUMENT_MESSAGE_MAX_BYTES): DIS document uploads.
OWN_LIMIT_PATHS = frozenset({"/api/v1/documents", "/soap/dis"})


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes: by Content-Length up front, else while streaming.

    ``OWN_LIMIT_PATHS`` are exempt: their handlers enforce their own limits.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in OWN_LIMIT_PATHS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = -1
            if size < 0:
                await _problem(send, MalformedInput("Content-Length is not a number"))
                return
            if size > self.limit:
                await _problem(send, PayloadTooLarge(self._message(size)))
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise PayloadTooLarge(self._message(received, streaming=True))
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except PayloadTooLarge as exc:
            if started:
                raise
            await _problem(send, exc)

    def _message(self, size: int, streaming: bool = False) -> str:
        amount = f"over {self.limit}" if streaming else str(size)
        return (
            f"the body is {amount} bytes; the limit is {self.limit} bytes "
            "(PGA_GATEWAY_MAX_BODY_BYTES)"
        )


async def _problem(send: Send, error: GatewayError) -> None:
    """Answer before the app runs (the body was never read), rendered like every other error."""
    body = json.dumps(error.to_problem_json()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.http_status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
