"""Who is calling: the ``Principal`` every authenticated request carries.

A principal is built only from a verified token (``Principal.from_claims``) and is immutable,
so handlers can pass it around without anyone widening its rights on the way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from gateway.errors import AuthenticationFailed, PermissionDenied

FILER: Final = "filer"
AGENCY: Final = "agency"
ADMIN: Final = "admin"
#: The gateway's scope vocabulary; anything else in a token's ``scope`` is ignored.
KNOWN_SCOPES: Final = frozenset({FILER, AGENCY, ADMIN})

ClientKind = Literal["filer", "agency", "admin"]

# Filer codes and PG01 agency codes are both three upper-case letters or digits.
_CODE = re.compile(r"[A-Z0-9]{3}")


def is_valid_code(code: object) -> bool:
    return isinstance(code, str) and _CODE.fullmatch(code) is not None


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    scopes: frozenset[str]
    filer_code: str | None
    agency_code: str | None
    client_id: str

    def __post_init__(self) -> None:
        # A programming error, not a caller's: the verifier checks the same rules first and
        # answers 401, so these only fire when code builds a Principal by hand.
        if FILER in self.scopes and not is_valid_code(self.filer_code):
            raise ValueError("a filer principal needs a valid filer_code")
        if AGENCY in self.scopes and not is_valid_code(self.agency_code):
            raise ValueError("an agency principal needs a valid agency_code")

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.scopes

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def require_scope(self, scope: str, *alternatives: str) -> None:
        """Raise ``PermissionDenied`` unless the principal holds one of the given scopes.

        ``admin`` does not silently imply ``filer``/``agency``: an admin has no filer code, so
        an endpoint that admins may use lists ``"admin"`` as an alternative explicitly.
        """
        wanted = (scope, *alternatives)
        if not any(s in self.scopes for s in wanted):
            raise PermissionDenied("requires scope " + " or ".join(repr(s) for s in wanted))

    def can_see_filer(self, code: str) -> bool:
        """Admins see every filer; a filer sees only its own filings."""
        if self.is_admin:
            return True
        return FILER in self.scopes and self.filer_code == code

    def can_see_agency(self, code: str) -> bool:
        """Admins see every agency's work; an agency client sees only its own."""
        if self.is_admin:
            return True
        return AGENCY in self.scopes and self.agency_code == code

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Principal:
        """Build a principal from already signature- and time-checked JWT claims."""
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthenticationFailed("token claim 'sub' invalid")
        raw_scope = claims.get("scope")
        if not isinstance(raw_scope, str):
            raise AuthenticationFailed("token claim 'scope' invalid")
        scopes = frozenset(raw_scope.split()) & KNOWN_SCOPES
        if not scopes:
            raise AuthenticationFailed("token carries no gateway scope")
        filer_code = _code_claim(claims, "filer_code", required=FILER in scopes)
        agency_code = _code_claim(claims, "agency_code", required=AGENCY in scopes)
        # External issuers name the OAuth client in ``client_id`` (RFC 9068) or ``azp`` (OIDC);
        # the embedded issuer uses ``sub``.
        client_id = claims.get("client_id") or claims.get("azp") or subject
        if not isinstance(client_id, str):
            raise AuthenticationFailed("token claim 'client_id' invalid")
        return cls(subject, scopes, filer_code, agency_code, client_id)


def _code_claim(claims: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = claims.get(name)
    if value is None:
        if required:
            scope = name.removesuffix("_code")
            raise AuthenticationFailed(f"token missing {name} claim for {scope} scope")
        return None
    if not is_valid_code(value):
        raise AuthenticationFailed(f"token claim '{name}' invalid")
    assert isinstance(value, str)
    return value
