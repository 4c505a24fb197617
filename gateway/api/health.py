"""Liveness and readiness for orchestrators: ``/healthz`` and ``/readyz``."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.api.context import SERVICES_SCOPE_KEY


async def healthz(request: Request) -> JSONResponse:
    """The process is up and serving HTTP."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """The process can do its job: the database answers."""
    services = request.scope[SERVICES_SCOPE_KEY]
    database_ok = await run_in_threadpool(services.database.ping)
    checks = {"database": "ok" if database_ok else "unavailable"}
    status = 200 if database_ok else 503
    return JSONResponse(
        {"status": "ok" if status == 200 else "unavailable", "checks": checks}, status_code=status
    )
