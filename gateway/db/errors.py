"""Translate SQLAlchemy/driver errors into the gateway's error tree (the only place that does).

Messages name the database by its password-free URL and never echo SQL parameters: a
``StorageUnavailable`` may reach an operator's log or a 503 body.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

from gateway.errors import (
    Conflict,
    GatewayError,
    ServerError,
    StorageUnavailable,
    ValidationFailed,
)


def safe_url(url: URL) -> str:
    """The URL as text with any password masked."""
    return url.render_as_string(hide_password=True)


def _first_line(exc: BaseException, url: URL) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    if url.password:
        text = text.replace(str(url.password), "***")
    return text


def translate(exc: sa_exc.SQLAlchemyError, url: URL) -> GatewayError:
    """The gateway error for a SQLAlchemy error raised while talking to ``url``."""
    if isinstance(exc, sa_exc.IntegrityError):
        return Conflict(f"conflicting write: {_first_line(exc, url)}")
    if isinstance(exc, sa_exc.DataError):
        # e.g. a value longer than its column: the input's fault, not the database's.
        return ValidationFailed(f"value rejected by the database: {_first_line(exc, url)}")
    unavailable = (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.DisconnectionError,
        sa_exc.TimeoutError,
    )
    if isinstance(exc, unavailable) or (
        isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated
    ):
        return StorageUnavailable(f"database {safe_url(url)} unavailable: {_first_line(exc, url)}")
    return ServerError(f"database error ({type(exc).__name__}): {_first_line(exc, url)}")


def unique_violation(exc: sa_exc.IntegrityError, constraint: str, column: str) -> bool:
    """Whether ``exc`` is a unique violation of ``constraint`` (PostgreSQL names it in its
    diagnostics; SQLite only says ``UNIQUE constraint failed: table.column``)."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return bool(name == constraint)
    text = str(orig)
    return "UNIQUE" in text.upper() and column in text
