"""The embedded identity file: signing key, OAuth2 clients, staff users.

Used by the embedded default (``make serve``); production trusts an external issuer's JWKS
instead. The file is JSON, mode 0600, and looks like::

    {"version": 1,
     "signing_key": {"kid": "<RFC 7638 thumbprint>", "alg": "RS256", "private_key_pem": "..."},
     "clients": {"filer-ABC": {"secret_hash": "scrypt$...", "scopes": ["filer"],
                               "filer_code": "ABC", "agency_code": null,
                               "created_at": "2024-01-01T00:00:00+00:00"}},
     "staff_users": []}

Several processes may share one file (``serve`` plus ``pga-gateway token`` run by an operator),
so every change is read-modify-write under an exclusive ``flock`` on ``<file>.lock`` and lands
with write-temp + fsync + rename: readers never see half a file and no writer loses another's
client. Secrets are stored as scrypt hashes for every check that gets the secret itself
(OAuth2, WS-Security PasswordText).

WS-Security PasswordDigest (``Base64(SHA-1(nonce + created + secret))``) cannot be checked
against a one-way hash, so each client created or rotated also gets ``soap_secret``: the
secret encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under ``soap_kek``, a key-encryption
key kept in the same 0600 file. That keeps plain secrets out of the file (and out of any copy
of the ``clients`` section alone); it does not protect against someone holding the whole file,
who could equally mint tokens with the signing key. ``digest_secret`` is its only reader.
Clients created before this existed have no ``soap_secret`` until their secret is rotated;
they can use PasswordText or bearer tokens meanwhile.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from gateway.auth import secrets_hash
from gateway.auth.principal import ADMIN, AGENCY, FILER, ClientKind, is_valid_code
from gateway.errors import AuthenticationFailed, ConfigurationError, ValidationFailed

log = logging.getLogger(__name__)

FILE_VERSION = 1
SIGNING_ALG = "RS256"
_KEY_BITS = 2048
# Same words for "no such client" and "wrong secret": callers must not learn which it was.
_BAD_CLIENT = "client authentication failed"


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """An OAuth2 client as the rest of the gateway sees it (never carries the secret hash)."""

    client_id: str
    scopes: frozenset[str]
    filer_code: str | None
    agency_code: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StaffRecord:
    """A review-page user (never carries the password hash).

    ``role`` is ``agency`` (acts for ``agency_code``) or ``coordinator`` (CBP: sees every
    agency's work, read-only). ``fingerprint`` changes whenever the password does, so sessions
    opened with the old password end.
    """

    username: str
    agency_code: str
    role: str
    fingerprint: str
    created_at: datetime

    @property
    def is_coordinator(self) -> bool:
        return self.role == STAFF_COORDINATOR


STAFF_AGENCY = "agency"
STAFF_COORDINATOR = "coordinator"
_STAFF_NAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
_BAD_STAFF = "sign-in failed"


def valid_staff_username(name: object) -> bool:
    return isinstance(name, str) and _STAFF_NAME.fullmatch(name) is not None


def client_id_for(kind: ClientKind, code: str | None) -> str:
    """``filer-ABC``, ``agency-FDA`` or ``admin``; rejects codes that do not fit the kind."""
    if kind == ADMIN:
        if code is not None:
            raise ValidationFailed("the admin client takes no code")
        return ADMIN
    if kind not in (FILER, AGENCY):
        raise ValidationFailed(f"unknown client kind {kind!r} (filer, agency or admin)")
    if not is_valid_code(code):
        raise ValidationFailed(f"{kind} code must be 3 upper-case letters or digits, got {code!r}")
    return f"{kind}-{code}"


class IdentityStore:
    """The identity file, loaded in memory and re-read whenever another process changed it."""

    def __init__(self, path: Path, data: dict[str, Any], stamp: tuple[int, int, int]) -> None:
        # Use ``load_or_create``; this constructor trusts ``data`` to be validated already.
        self._path = path
        self._data = data
        self._stamp = stamp
        self._key = _import_private_key(path, data)

    # -- loading -------------------------------------------------------------------------

    @classmethod
    def load_or_create(cls, path: Path | str) -> IdentityStore:
        path = Path(path)
        if not path.exists():
            with _locked(path):
                # Re-check under the lock: a racing process may have created it meanwhile.
                if not path.exists():
                    _write_atomically(path, _new_identity())
        data, stamp = _read(path)
        return cls(path, data, stamp)

    @property
    def path(self) -> Path:
        return self._path

    def _refresh_if_changed(self) -> None:
        try:
            current = _stamp_of(self._path)
        except OSError as exc:
            raise ConfigurationError(f"{self._path}: identity file unreadable: {exc}") from None
        if current != self._stamp:
            data, stamp = _read(self._path)
            self._key = _import_private_key(self._path, data)
            self._data, self._stamp = data, stamp

    # -- keys ----------------------------------------------------------------------------

    @property
    def kid(self) -> str:
        return str(self._data["signing_key"]["kid"])

    @property
    def signing_key(self) -> RSAKey:
        """The private RS256 key (with ``kid``), for ``TokenIssuer`` only."""
        return self._key

    def public_key(self) -> RSAKey:
        return RSAKey.import_key(self._key.as_dict(private=False))

    def public_jwks(self) -> dict[str, Any]:
        """The JWKS document to publish: public parameters only."""
        jwk = self._key.as_dict(private=False)
        jwk.update({"kid": self.kid, "alg": SIGNING_ALG, "use": "sig"})
        return {"keys": [dict(jwk)]}

    # -- clients -------------------------------------------------------------------------

    def find_client(self, client_id: str) -> ClientRecord | None:
        self._refresh_if_changed()
        raw = self._data["clients"].get(client_id)
        return None if raw is None else _record(client_id, raw)

    def clients(self) -> list[ClientRecord]:
        self._refresh_if_changed()
        return [_record(cid, raw) for cid, raw in sorted(self._data["clients"].items())]

    def ensure_client(self, kind: ClientKind, code: str | None) -> tuple[str, str | None]:
        """Create the client if missing; the secret is returned only when just created."""
        client_id = client_id_for(kind, code)
        if self.find_client(client_id) is not None:
            return client_id, None
        secret: str | None = None
        with self._modify() as data:
            # Another process may have created it between our check and the lock.
            if client_id not in data["clients"]:
                secret = secrets_hash.new_secret()
                data["clients"][client_id] = {
                    "secret_hash": secrets_hash.hash_secret(secret),
                    "soap_secret": _seal(data, secret),
                    "scopes": [kind],
                    "filer_code": code if kind == FILER else None,
                    "agency_code": code if kind == AGENCY else None,
                    "created_at": datetime.now(UTC).isoformat(),
                }
        if secret is not None:
            log.info("identity: created client %s", client_id)
        return client_id, secret

    def rotate_secret(self, client_id: str) -> str:
        """Give an existing client a new secret (the old one stops working) and return it."""
        with self._modify() as data:
            if client_id not in data["clients"]:
                raise ValidationFailed(f"no client {client_id!r}")
            secret = secrets_hash.new_secret()
            data["clients"][client_id]["secret_hash"] = secrets_hash.hash_secret(secret)
            data["clients"][client_id]["soap_secret"] = _seal(data, secret)
        log.info("identity: rotated secret of client %s", client_id)
        return secret

    def verify_client(self, client_id: str, secret: str) -> ClientRecord:
        """Check a client's secret in constant time; any failure is one AuthenticationFailed."""
        self._refresh_if_changed()
        raw = self._data["clients"].get(client_id) if isinstance(client_id, str) else None
        if raw is None or not isinstance(secret, str):
            secrets_hash.burn_equivalent_time(secret if isinstance(secret, str) else "")
            raise AuthenticationFailed(_BAD_CLIENT)
        if not secrets_hash.verify_secret(secret, str(raw.get("secret_hash", ""))):
            raise AuthenticationFailed(_BAD_CLIENT)
        return _record(client_id, raw)

    def digest_secret(self, client_id: str) -> str | None:
        """The client's plain secret, for WS-Security PasswordDigest verification only.

        None when the client is unknown or has no ``soap_secret`` (created before it existed,
        or the file was edited by hand); callers answer that like a wrong password.
        """
        self._refresh_if_changed()
        raw = self._data["clients"].get(client_id)
        kek = self._data.get("soap_kek")
        sealed = raw.get("soap_secret") if isinstance(raw, dict) else None
        if not isinstance(sealed, str) or not isinstance(kek, str):
            return None
        try:
            return Fernet(kek.encode("ascii")).decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError, UnicodeError):
            log.warning("identity: soap_secret of client %s cannot be decrypted", client_id)
            return None

    # -- staff users (review pages) ---------------------------------------------------------

    def find_staff(self, username: str) -> StaffRecord | None:
        self._refresh_if_changed()
        raw = _staff_raw(self._data, username)
        return None if raw is None else _staff_record(raw)

    def staff_users(self) -> list[StaffRecord]:
        self._refresh_if_changed()
        users = [_staff_record(raw) for raw in self._data.get("staff_users", [])]
        return sorted(users, key=lambda u: u.username)

    def set_staff_user(
        self, username: str, password: str, *, agency_code: str, role: str = STAFF_AGENCY
    ) -> bool:
        """Create the staff user, or give an existing one a new password/agency/role.

        Returns True when the user was created. The password is stored as a scrypt hash.
        """
        if not valid_staff_username(username):
            raise ValidationFailed(
                "username must be 1-64 lower-case letters, digits or . _ @ - "
                f"(starting with a letter or digit), got {username!r}"
            )
        if role not in (STAFF_AGENCY, STAFF_COORDINATOR):
            raise ValidationFailed(f"unknown staff role {role!r} (agency or coordinator)")
        if role == STAFF_COORDINATOR:
            agency_code = "CBP"
        if not is_valid_code(agency_code):
            raise ValidationFailed(f"agency code must be 3 upper-case letters, got {agency_code!r}")
        if len(password) < 8:
            raise ValidationFailed("password must be at least 8 characters")
        record = {
            "username": username,
            "password_hash": secrets_hash.hash_secret(password),
            "agency_code": agency_code,
            "role": role,
            "created_at": datetime.now(UTC).isoformat(),
        }
        with self._modify() as data:
            users = data.setdefault("staff_users", [])
            existing = _staff_raw(data, username)
            if existing is not None:
                record["created_at"] = existing.get("created_at", record["created_at"])
                users.remove(existing)
            users.append(record)
        log.info("identity: %s staff user %s", "updated" if existing else "created", username)
        return existing is None

    def remove_staff_user(self, username: str) -> bool:
        with self._modify() as data:
            raw = _staff_raw(data, username)
            if raw is not None:
                data["staff_users"].remove(raw)
        return raw is not None

    def verify_staff(self, username: str, password: str) -> StaffRecord:
        """Check a staff password in constant time; any failure is one AuthenticationFailed."""
        self._refresh_if_changed()
        raw = _staff_raw(self._data, username) if isinstance(username, str) else None
        if raw is None or not isinstance(password, str):
            secrets_hash.burn_equivalent_time(password if isinstance(password, str) else "")
            raise AuthenticationFailed(_BAD_STAFF)
        if not secrets_hash.verify_secret(password, str(raw.get("password_hash", ""))):
            raise AuthenticationFailed(_BAD_STAFF)
        return _staff_record(raw)

    def review_session_secret(self) -> str:
        """The key signing review-page session cookies (created in the file on first use)."""
        self._refresh_if_changed()
        secret = self._data.get("review_session_secret")
        if isinstance(secret, str) and len(secret) >= 32:
            return secret
        with self._modify() as data:
            if not isinstance(data.get("review_session_secret"), str):
                data["review_session_secret"] = secrets.token_urlsafe(48)
            return str(data["review_session_secret"])

    @contextlib.contextmanager
    def _modify(self) -> Iterator[dict[str, Any]]:
        # Lock, re-read the newest file (another process may have written), let the caller
        # change it, write it back atomically. An exception inside leaves the file untouched.
        with _locked(self._path):
            data, _ = _read(self._path)
            yield data
            _write_atomically(self._path, data)
            self._data, self._stamp = data, _stamp_of(self._path)
            self._key = _import_private_key(self._path, data)


# -- file helpers ------------------------------------------------------------------------


def _seal(data: dict[str, Any], secret: str) -> str:
    """``secret`` encrypted under the file's key-encryption key (created on first use)."""
    kek = data.get("soap_kek")
    if not isinstance(kek, str):
        kek = Fernet.generate_key().decode("ascii")
        data["soap_kek"] = kek
    return Fernet(kek.encode("ascii")).encrypt(secret.encode("utf-8")).decode("ascii")


def _new_identity() -> dict[str, Any]:
    key = RSAKey.generate_key(_KEY_BITS, private=True)
    return {
        "version": FILE_VERSION,
        "signing_key": {
            "kid": key.thumbprint(),
            "alg": SIGNING_ALG,
            "private_key_pem": key.as_pem(private=True).decode("ascii"),
        },
        "clients": {},
        "staff_users": [],
    }


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Exclusive advisory lock on ``<path>.lock`` (kept on disk: deleting it would race)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot lock identity file: {exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _write_atomically(path: Path, data: Mapping[str, Any]) -> None:
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    try:
        # mkstemp creates the file 0600 in the same directory, so the rename is atomic and
        # the secret-bearing content is never readable by others, not even briefly.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot write identity file: {exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise ConfigurationError(f"{path}: cannot write identity file: {exc}") from None


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; some filesystems refuse O_RDONLY fsync on dirs.
    with contextlib.suppress(OSError):
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _stamp_of(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, st.st_size


def _read(path: Path) -> tuple[dict[str, Any], tuple[int, int, int]]:
    try:
        with path.open("rb") as fh:
            st = os.fstat(fh.fileno())
            raw = fh.read()
    except OSError as exc:
        raise ConfigurationError(f"{path}: identity file unreadable: {exc}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("identity: %s is accessible by group/others; chmod 600 it", path)
    try:
        data = json.loads(raw)
    except ValueError:
        raise ConfigurationError(f"{path}: identity file is not valid JSON") from None
    _check_shape(path, data)
    return data, (st.st_ino, st.st_mtime_ns, st.st_size)


def _check_shape(path: Path, data: Any) -> None:
    def bad(why: str) -> ConfigurationError:
        return ConfigurationError(f"{path}: identity file invalid: {why}")

    if not isinstance(data, dict) or data.get("version") != FILE_VERSION:
        raise bad(f"expected a JSON object with version {FILE_VERSION}")
    key = data.get("signing_key")
    if not isinstance(key, dict) or not all(
        isinstance(key.get(k), str) for k in ("kid", "private_key_pem")
    ):
        raise bad("signing_key needs kid and private_key_pem")
    if key.get("alg", SIGNING_ALG) != SIGNING_ALG:
        raise bad(f"signing_key alg must be {SIGNING_ALG}")
    clients = data.get("clients")
    if not isinstance(clients, dict):
        raise bad("clients must be an object")
    for cid, raw in clients.items():
        try:
            _record(cid, raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise bad(f"client {cid!r}: {exc}") from None
    staff = data.get("staff_users", [])
    if not isinstance(staff, list):
        raise bad("staff_users must be a list")
    for i, raw in enumerate(staff):
        try:
            _staff_record(raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise bad(f"staff_users[{i}]: {exc}") from None
    if not isinstance(data.get("soap_kek", ""), str):
        raise bad("soap_kek must be a string")


def _import_private_key(path: Path, data: Mapping[str, Any]) -> RSAKey:
    pem = data["signing_key"]["private_key_pem"]
    try:
        key = RSAKey.import_key(pem, parameters={"kid": data["signing_key"]["kid"]})
    except (JoseError, ValueError, TypeError):
        raise ConfigurationError(f"{path}: identity file signing key unreadable") from None
    if not key.is_private:
        raise ConfigurationError(f"{path}: identity file signing key is not a private key")
    return key


def _record(client_id: str, raw: Mapping[str, Any]) -> ClientRecord:
    scopes = raw["scopes"]
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ValueError("scopes must be a list of strings")
    filer_code, agency_code = raw.get("filer_code"), raw.get("agency_code")
    if FILER in scopes and not is_valid_code(filer_code):
        raise ValueError("a filer client needs a filer_code")
    if AGENCY in scopes and not is_valid_code(agency_code):
        raise ValueError("an agency client needs an agency_code")
    if not isinstance(raw["secret_hash"], str):
        raise ValueError("secret_hash must be a string")
    return ClientRecord(
        client_id=client_id,
        scopes=frozenset(scopes),
        filer_code=filer_code,
        agency_code=agency_code,
        created_at=datetime.fromisoformat(raw["created_at"]),
    )


def _staff_raw(data: Mapping[str, Any], username: str) -> dict[str, Any] | None:
    for raw in data.get("staff_users", []):
        if isinstance(raw, dict) and raw.get("username") == username:
            return raw
    return None


def _staff_record(raw: Mapping[str, Any]) -> StaffRecord:
    username, agency, role = raw["username"], raw["agency_code"], raw.get("role", STAFF_AGENCY)
    if not valid_staff_username(username):
        raise ValueError("staff username invalid")
    if not is_valid_code(agency) or role not in (STAFF_AGENCY, STAFF_COORDINATOR):
        raise ValueError("staff agency_code/role invalid")
    stored = raw["password_hash"]
    if not isinstance(stored, str):
        raise ValueError("password_hash must be a string")
    return StaffRecord(
        username=username,
        agency_code=agency,
        role=role,
        # A digest of the hash (which is salted): changes with every new password, reveals
        # nothing usable about it.
        fingerprint=hashlib.sha256(stored.encode("utf-8")).hexdigest()[:16],
        created_at=datetime.fromisoformat(raw["created_at"]),
    )
