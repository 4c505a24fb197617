"""Client-secret hashing with scrypt from ``hashlib`` (memory-hard; no extra dependency).

Stored form: ``scrypt$<n>$<r>$<p>$<salt b64url>$<hash b64url>``. The parameters live in the
string so they can be raised later without invalidating existing secrets.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

# 2**14 / 8 / 1 costs ~16 MiB and tens of milliseconds: fine per token request, expensive
# for anyone brute-forcing a stolen identity file.
_N, _R, _P = 2**14, 8, 1
_DKLEN = 32
_MAXMEM = 64 * 1024 * 1024
# Refuse parameters a tampered file could use to make every login burn CPU/memory.
_MAX_N = 2**20


def new_secret() -> str:
    """A fresh client secret: 256 bits, URL-safe so it survives Basic auth and forms."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(secret, salt, _N, _R, _P)
    return "$".join(["scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(digest)])


def verify_secret(secret: str, stored: str) -> bool:
    """Constant-time check of ``secret`` against a stored hash; malformed hashes never match."""
    try:
        scheme, n_s, r_s, p_s, salt_s, digest_s = stored.split("$")
        n, r, p = int(n_s), int(r_s), int(p_s)
        salt, expected = _unb64(salt_s), _unb64(digest_s)
    except ValueError:
        return False
    if scheme != "scrypt" or not (1 < n <= _MAX_N and 0 < r <= 32 and 0 < p <= 16):
        return False
    actual = _scrypt(secret, salt, n, r, p, dklen=len(expected) or _DKLEN)
    return hmac.compare_digest(actual, expected)


def burn_equivalent_time(secret: str) -> None:
    """Do the same work as a real check so unknown clients cost as much as known ones."""
    hmac.compare_digest(_scrypt(secret, b"\0" * 16, _N, _R, _P), b"\0" * _DKLEN)


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int, dklen: int = _DKLEN) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=_MAXMEM,
        dklen=dklen,
    )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError("bad base64") from exc
