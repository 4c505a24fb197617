"""Who is signed in to the review pages: sessions, CSRF, sign-in throttling, OIDC.

Sessions: Starlette's ``SessionMiddleware`` keeps the session in one cookie (``pga_review``),
signed with HMAC (itsdangerous) under ``review_session_secret`` (a setting, else a random key
kept in the identity file). The cookie is HttpOnly, SameSite=Lax, Secure when
``PGA_GATEWAY_REVIEW_SECURE_COOKIES=1``, scoped to ``/review``. A forged or tampered cookie
unsigns to an empty session (signed out). Expiry is enforced by the server, not the browser:
the signature carries its time and is refused after the idle timeout; the session also
carries its sign-in time and is refused after the absolute lifetime; a local user's session
ends when the user is removed or gets a new password (the session holds a fingerprint of the
password hash).

CSRF: a random token per session, put in every form and compared (constant time) on every
POST; a POST whose Origin header names another site is refused too.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Container
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from starlette.requests import Request

from gateway.auth.principal import ADMIN, AGENCY, Principal, is_valid_code
from gateway.db.models import RevokedSessionRow
from gateway.services import Services

SESSION_COOKIE = "pga_review"
CSRF_FIELD = "csrf_token"
COORDINATOR_AGENCY = "CBP"


@dataclass(frozen=True, slots=True)
class StaffUser:
    username: str
    agency_code: str  # "CBP" for a coordinator
    coordinator: bool
    source: str  # local | oidc

    @property
    def principal(self) -> Principal:
        """The principal the shared services see: an agency client, or (coordinator) an
        administrator used for reading only; the review routes refuse its POSTs."""
        subject = f"staff:{self.username}"
        if self.coordinator:
            return Principal(subject, frozenset({ADMIN}), None, None, subject)
        return Principal(subject, frozenset({AGENCY}), None, self.agency_code, subject)

    @property
    def actor(self) -> str:
        return f"staff:{self.username}"


def current_user(request: Request, services: Services) -> StaffUser | None:
    """The signed-in staff user, or None (and the session is emptied if it expired)."""
    session = request.session
    raw = session.get("user")
    if not isinstance(raw, dict):
        return None
    settings = services.settings
    now = time.time()
    issued, seen = session.get("iat"), session.get("seen")
    if (
        not isinstance(issued, int | float)
        or not isinstance(seen, int | float)
        or now - issued > settings.review_session_max_seconds
        or now - seen > settings.review_session_idle_seconds
    ):
        session.clear()
        return None
    try:
        user = StaffUser(
            username=str(raw["username"]),
            agency_code=str(raw["agency_code"]),
            coordinator=bool(raw["coordinator"]),
            source=str(raw["source"]),
        )
    except (KeyError, TypeError):
        session.clear()
        return None
    if user.source == "local":
        record = services.identity.find_staff(user.username)
        if (
            record is None
            or record.fingerprint != raw.get("fingerprint")
            or record.agency_code != user.agency_code
            or record.is_coordinator != user.coordinator
        ):
            session.clear()
            return None
    if not is_valid_code(user.agency_code):
        session.clear()
        return None
    sid = session.get("sid")
    if not isinstance(sid, str) or _revoked(services, sid):
        session.clear()
        return None
    if now - seen > 60:
        session["seen"] = int(now)  # re-signed cookie: the idle clock restarts
    return user


def sign_in(request: Request, user: StaffUser, fingerprint: str | None) -> None:
    """Start a fresh session (nothing from the anonymous one survives but nothing else)."""
    now = int(time.time())
    request.session.clear()
    request.session.update(
        {
            "user": {
                "username": user.username,
                "agency_code": user.agency_code,
                "coordinator": user.coordinator,
                "source": user.source,
                "fingerprint": fingerprint,
            },
            "iat": now,
            "seen": now,
            "sid": secrets.token_hex(16),
            "csrf": secrets.token_urlsafe(32),
        }
    )


def sign_out(request: Request, services: Services) -> None:
    """End the session here and on the server: a kept copy of the cookie stops working."""
    sid, issued = request.session.get("sid"), request.session.get("iat")
    request.session.clear()
    if not isinstance(sid, str) or not isinstance(issued, int | float):
        return
    lifetime = services.settings.review_session_max_seconds
    expires = dt.datetime.fromtimestamp(issued + lifetime, dt.UTC)
    now = dt.datetime.now(dt.UTC)
    with services.database.transaction() as session:
        session.execute(delete(RevokedSessionRow).where(RevokedSessionRow.expires_at < now))
        if session.get(RevokedSessionRow, sid) is None:
            session.add(RevokedSessionRow(sid=sid, expires_at=expires))


def _revoked(services: Services, sid: str) -> bool:
    with services.database.read() as session:
        return session.get(RevokedSessionRow, sid) is not None


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, form: Any) -> bool:
    expected = request.session.get("csrf")
    sent = form.get(CSRF_FIELD)
    if not isinstance(expected, str) or not isinstance(sent, str) or not sent:
        return False
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        return False
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if origin.split("://", 1)[-1] != host:
            return False
    return True


class SignInThrottle:
    """Per-username exponential delay after failed sign-ins (per process).

    The first ``free`` failures cost nothing; then each further failure doubles the wait
    (1 s, 2 s, 4 s, ... up to ``max_delay``) during which that username cannot sign in, not
    even with the right password. Success clears the count.
    """

    def __init__(self, free: int = 3, max_delay: float = 900.0, size: int = 10_000) -> None:
        self._free, self._max, self._size = free, max_delay, size
        self._state: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_seconds(self, username: str) -> float:
        with self._lock:
            _, until = self._state.get(username, (0, 0.0))
        return max(0.0, until - time.monotonic())

    def failed(self, username: str) -> None:
        with self._lock:
            failures, _ = self._state.pop(username, (0, 0.0))
            failures += 1
            delay = 0.0
            if failures > self._free:
                delay = min(self._max, 2.0 ** (failures - self._free - 1))
            self._state[username] = (failures, time.monotonic() + delay)
            while len(self._state) > self._size:
                self._state.popitem(last=False)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._state.pop(username, None)


# -- OpenID Connect --------------------------------------------------------------------------


def oidc_client(services: Services) -> Any | None:
    """authlib's Starlette client for the configured provider, or None when not configured."""
    settings = services.settings
    if not settings.oidc_issuer:
        return None
    import authlib.deprecate  # noqa: F401  (its own "always" filter goes in first)

    with warnings.catch_warnings():
        # authlib >= 1.7 warns at import that it falls back from the httpx2 fork to httpx (our
        # dependency); harmless, but it would print on every start (and fail under -W error).
        warnings.filterwarnings(
            "ignore", message="The httpx module is deprecated", category=DeprecationWarning
        )
        from authlib.integrations.starlette_client import OAuth

    oauth = OAuth()
    oauth.register(
        "staff",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": settings.oidc_scopes},
    )
    return oauth.create_client("staff")


def user_from_claims(
    claims: Any, agency_claim: str, known_agencies: Container[str]
) -> StaffUser | None:
    """Map verified ID-token claims to a staff user; None if no usable agency is named.

    The agency must be one this gateway serves (``known_agencies``, the enabled plugins) or
    ``CBP`` (coordinator): a well-formed but unknown code from the provider is refused, not
    turned into a reviewer of an agency that does not exist here.
    """
    if not isinstance(claims, dict):
        return None
    name = claims.get("preferred_username") or claims.get("email") or claims.get("sub")
    agency = claims.get(agency_claim)
    if isinstance(agency, list):
        agency = agency[0] if len(agency) == 1 else None
    if not isinstance(name, str) or not name or not is_valid_code(agency):
        return None
    assert isinstance(agency, str)
    if agency != COORDINATOR_AGENCY and agency not in known_agencies:
        return None
    return StaffUser(
        username=name[:128],
        agency_code=agency,
        coordinator=agency == COORDINATOR_AGENCY,
        source="oidc",
    )
