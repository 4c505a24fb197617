"""Who is calling a SOAP operation: WS-Security UsernameToken, or an OAuth2 bearer token.

UsernameToken (OASIS UsernameToken Profile 1.0): Username is the OAuth2 client_id, the
password that client's secret, so SOAP callers have exactly the clients, scopes and
isolation of REST callers.

- PasswordText: checked against the scrypt hash, as the OAuth2 token endpoint does.
- PasswordDigest: ``Base64(SHA-1(nonce + created + secret))``; needs the plain secret, which
  the identity file keeps encrypted for this purpose only (``IdentityStore.digest_secret``).
- ``Created`` (UsernameToken or wsu:Timestamp) must be within ±5 minutes of our clock and a
  wsu:Timestamp's ``Expires`` must not have passed.
- A nonce is accepted once: after the credentials check out, its hash is inserted into the
  ``wsse_nonces`` table (primary key), so a replay is refused by every API process sharing
  the database. Rows outlive the Created window, after which the stale Created alone refuses
  the replay; they are purged then.

``Authorization: Bearer <jwt>`` is verified by the same verifier as REST.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac

from lxml import etree
from sqlalchemy import delete

from gateway.auth.identity import ClientRecord, IdentityStore
from gateway.auth.principal import AGENCY, FILER, KNOWN_SCOPES, Principal
from gateway.auth.tokens import TokenVerifier
from gateway.db.models import WsseNonceRow
from gateway.db.session import Database
from gateway.errors import AuthenticationFailed, Conflict
from gateway.soap.envelope import WSSE, WSU

_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
PASSWORD_TEXT = _PROFILE + "#PasswordText"
PASSWORD_DIGEST = _PROFILE + "#PasswordDigest"
MAX_SKEW = dt.timedelta(minutes=5)
# A nonce is remembered while a message carrying it could still pass the Created check.
NONCE_TTL = 2 * MAX_SKEW + dt.timedelta(minutes=1)

REQUIRED = "authentication required: send a WS-Security UsernameToken or a bearer token"
FAILED = "authentication failed"


def authenticate(
    security: etree._Element | None,
    authorization: str | None,
    *,
    identity: IdentityStore,
    verifier: TokenVerifier,
    database: Database,
    now: dt.datetime | None = None,
) -> Principal:
    now = now or dt.datetime.now(dt.UTC)
    token = security.find(f"{{{WSSE}}}UsernameToken") if security is not None else None
    if token is not None:
        if security is not None:
            _check_timestamp(security, now)
        return _username_token(token, identity, database, now)
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise AuthenticationFailed(f"{FAILED}: the Authorization header must be 'Bearer <jwt>'")
        return verifier.verify(credentials.strip())
    raise AuthenticationFailed(REQUIRED)


def _username_token(
    token: etree._Element, identity: IdentityStore, database: Database, now: dt.datetime
) -> Principal:
    username = _child_text(token, WSSE, "Username")
    password_el = token.find(f"{{{WSSE}}}Password")
    if not username or password_el is None:
        raise AuthenticationFailed(f"{REQUIRED} (UsernameToken needs Username and Password)")
    password = password_el.text or ""
    kind = password_el.get("Type", PASSWORD_TEXT)
    nonce_text = _child_text(token, WSSE, "Nonce")
    created_text = _child_text(token, WSU, "Created")
    nonce = _decode_nonce(nonce_text) if nonce_text is not None else None
    created = _instant(created_text, "Created") if created_text is not None else None
    if created is not None and abs(now - created) > MAX_SKEW:
        raise AuthenticationFailed(
            f"{FAILED}: UsernameToken Created {created_text} is more than "
            f"{int(MAX_SKEW.total_seconds() // 60)} minutes from the server clock"
        )
    if kind == PASSWORD_DIGEST:
        if nonce is None or created_text is None:
            raise AuthenticationFailed(f"{FAILED}: PasswordDigest needs Nonce and Created")
        client = _verify_digest(identity, username, password, nonce, created_text)
    elif kind == PASSWORD_TEXT:
        client = identity.verify_client(username, password)
    else:
        raise AuthenticationFailed(f"{FAILED}: unsupported password type {kind}")
    if nonce is not None:
        _remember_nonce(database, client.client_id, nonce, (created or now) + NONCE_TTL, now)
    scopes = client.scopes & KNOWN_SCOPES
    if not scopes:
        raise AuthenticationFailed(FAILED)
    # The same principal the client's bearer token would give (TokenIssuer's claims).
    return Principal(
        subject=client.client_id,
        scopes=scopes,
        filer_code=client.filer_code if FILER in scopes else None,
        agency_code=client.agency_code if AGENCY in scopes else None,
        client_id=client.client_id,
    )


def _verify_digest(
    identity: IdentityStore, username: str, digest: str, nonce: bytes, created: str
) -> ClientRecord:
    secret = identity.digest_secret(username)
    client = identity.find_client(username) if secret is not None else None
    # Compute even for unknown clients, so both failures cost the same.
    expected = base64.b64encode(
        hashlib.sha1(nonce + created.encode("utf-8") + (secret or "").encode("utf-8")).digest()
    ).decode("ascii")
    if not hmac.compare_digest(expected.encode(), digest.strip().encode()) or client is None:
        raise AuthenticationFailed(FAILED)
    return client


def _remember_nonce(
    database: Database, client_id: str, nonce: bytes, expires: dt.datetime, now: dt.datetime
) -> None:
    key = hashlib.sha256(client_id.encode("utf-8") + b"\0" + nonce).hexdigest()
    try:
        with database.transaction() as session:
            session.execute(delete(WsseNonceRow).where(WsseNonceRow.expires_at < now))
            session.add(WsseNonceRow(nonce_hash=key, client_id=client_id, expires_at=expires))
    except Conflict:
        raise AuthenticationFailed(f"{FAILED}: the nonce was already used (replay)") from None


def _check_timestamp(security: etree._Element, now: dt.datetime) -> None:
    stamp = security.find(f"{{{WSU}}}Timestamp")
    if stamp is None:
        return
    created = _child_text(stamp, WSU, "Created")
    expires = _child_text(stamp, WSU, "Expires")
    if created is not None and _instant(created, "Timestamp Created") - now > MAX_SKEW:
        raise AuthenticationFailed(f"{FAILED}: Timestamp Created {created} is in the future")
    if expires is not None and _instant(expires, "Timestamp Expires") + MAX_SKEW < now:
        raise AuthenticationFailed(f"{FAILED}: the message expired at {expires}")


def _child_text(parent: etree._Element, namespace: str, name: str) -> str | None:
    child = parent.find(f"{{{namespace}}}{name}")
    return None if child is None else (child.text or "").strip()


def _decode_nonce(text: str) -> bytes:
    try:
        nonce = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise AuthenticationFailed(f"{FAILED}: Nonce is not Base64") from None
    if not 8 <= len(nonce) <= 64:
        raise AuthenticationFailed(f"{FAILED}: Nonce must be 8 to 64 bytes")
    return nonce


def _instant(text: str, what: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AuthenticationFailed(f"{FAILED}: {what} {text!r} is not a dateTime") from None
    if value.tzinfo is None:
        raise AuthenticationFailed(f"{FAILED}: {what} {text!r} needs a time zone (Z)")
    return value.astimezone(dt.UTC)
