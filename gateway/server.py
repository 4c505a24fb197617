"""``serve``, ``worker``, ``agency-sim``, ``migrate`` and ``dispatch``: the process commands."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import uuid
from collections.abc import Callable

from gateway.config import Settings, load_settings
from gateway.errors import GatewayError
from gateway.logs import configure_logging

log = logging.getLogger("gateway.server")


def _guarded(run: Callable[[Settings], int]) -> int:
    """Load settings and run; a deliberate error becomes one clear line and exit code 2."""
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        return run(settings)
    except GatewayError as exc:
        print(f"pga-gateway: {exc.detail}", file=sys.stderr)
        return 2


def serve() -> int:
    return _guarded(_serve)


def _serve(settings: Settings) -> int:
    import uvicorn

    from gateway.app import create_app
    from gateway.runtime import embedded
    from gateway.services import build_services

    services = build_services(settings)
    callback_host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    try:
        with embedded(services, f"http://{callback_host}:{settings.port}") as runtime:
            log.info(
                "serving",
                extra={
                    "url": f"http://{settings.host}:{settings.port}",
                    "database": _redact(settings.effective_database_url),
                    "agency_simulator": runtime.simulator_url,
                    "dispatch_workers": settings.dispatch_workers,
                },
            )
            uvicorn.run(
                create_app(services),
                host=settings.host,
                port=settings.port,
                log_config=None,
                access_log=False,
            )
    finally:
        services.close()
    return 0


def worker(threads: int) -> int:
    def run(settings: Settings) -> int:
        from gateway.runtime import worker_pool
        from gateway.services import build_services

        services = build_services(settings)
        # Stand-alone workers reach agencies only through configured endpoints.
        pool = worker_pool(services, None, threads)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        pool.start()
        log.info("worker started", extra={"threads": threads})
        stop.wait()
        pool.stop()
        services.close()
        return 0

    return _guarded(run)


def agency_sim(host: str, port: int, gateway_url: str | None, faults: str) -> int:
    def run(settings: Settings) -> int:
        from agencies.simulator import run_simulator
        from gateway.runtime import parse_faults, simulator_config
        from gateway.services import build_services

        services = build_services(settings)
        config = simulator_config(services, gateway_url, parse_faults(faults))
        run_simulator(host, port, config)
        return 0

    return _guarded(run)


def migrate() -> int:
    def run(settings: Settings) -> int:
        from gateway.db.session import Database

        settings.var_dir.mkdir(parents=True, exist_ok=True)
        database = Database(settings.effective_database_url)
        database.migrate()
        database.dispose()
        print(f"database at {_redact(settings.effective_database_url)} is up to date")
        return 0

    return _guarded(run)


def dispatch_list(state: str | None) -> int:
    def run(settings: Settings) -> int:
        from gateway.db.session import Database
        from gateway.dispatch_admin import DispatchAdmin

        database = Database(settings.effective_database_url)
        try:
            for row in DispatchAdmin(database).list(state, limit=1000):
                print(json.dumps(row))
        finally:
            database.dispose()
        return 0

    return _guarded(run)


def dispatch_retry(message_id: str | None, all_dead: bool) -> int:
    def run(settings: Settings) -> int:
        from gateway.db.session import Database
        from gateway.dispatch_admin import DispatchAdmin

        database = Database(settings.effective_database_url)
        admin = DispatchAdmin(database)
        try:
            if all_dead:
                print(f"re-driven: {admin.retry_all_dead('cli')}")
            else:
                try:
                    parsed = uuid.UUID(message_id or "")
                except ValueError:
                    print(f"pga-gateway: {message_id!r} is not a message id", file=sys.stderr)
                    return 2
                print(json.dumps(admin.retry(parsed, "cli")))
        finally:
            database.dispose()
        return 0

    return _guarded(run)


def _redact(url: str) -> str:
    """Hide the password in a database URL before it reaches a log."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
