"""A real local HTTP receiver for webhooks: records every POST (headers + raw body)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    status: int = 200  # what the receiver answers; tests flip it to simulate an outage
    calls: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.calls.append(Received(dict(request.headers), body))
                status = self.status
            return Response(status_code=status)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])
