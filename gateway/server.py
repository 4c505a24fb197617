"""``pga-gateway serve`` and ``pga-gateway migrate``."""

from __future__ import annotations

import logging
import sys

from gateway.config import load_settings
from gateway.errors import GatewayError
from gateway.logs import configure_logging

log = logging.getLogger("gateway.server")


def serve() -> int:
    import uvicorn

    from gateway.app import create_app
    from gateway.services import build_services

    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        services = build_services(settings)
    except GatewayError as exc:
        print(f"pga-gateway: {exc.detail}", file=sys.stderr)
        return 2
    log.info(
        "serving",
        extra={
            "url": f"http://{settings.host}:{settings.port}",
            "database": _redact(settings.effective_database_url),
        },
    )
    try:
        uvicorn.run(
            create_app(services),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            proxy_headers=False,
        )
    finally:
        services.close()
    return 0


def migrate() -> int:
    from gateway.db.session import Database

    try:
        settings = load_settings()
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        database = Database(settings.effective_database_url)
        database.migrate()
        database.dispose()
    except GatewayError as exc:
        print(f"pga-gateway: {exc.detail}", file=sys.stderr)
        return 2
    print(f"database at {_redact(settings.effective_database_url)} is up to date")
    return 0


def _redact(url: str) -> str:
    """Hide the password in a database URL before it reaches a log."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
