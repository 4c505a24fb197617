from __future__ import annotations

import pytest

from gateway.auth.principal import Principal
from gateway.errors import AuthenticationFailed, PermissionDenied


def _filer(code: str = "ABC") -> Principal:
    return Principal("filer-" + code, frozenset({"filer"}), code, None, "filer-" + code)


def test_filer_sees_only_itself() -> None:
    p = _filer()
    assert p.can_see_filer("ABC")
    assert not p.can_see_filer("XYZ")
    assert not p.is_admin
    assert not p.can_see_agency("FDA")


def test_admin_sees_everyone() -> None:
    p = Principal("admin", frozenset({"admin"}), None, None, "admin")
    assert p.is_admin
    assert p.can_see_filer("ABC") and p.can_see_agency("FDA")
    p.require_scope("filer", "admin")
    with pytest.raises(PermissionDenied, match="requires scope 'filer'"):
        p.require_scope("filer")


def test_agency_scope() -> None:
    p = Principal("agency-FDA", frozenset({"agency"}), None, "FDA", "agency-FDA")
    assert p.can_see_agency("FDA") and not p.can_see_agency("EPA")
    assert not p.can_see_filer("ABC")
    p.require_scope("agency")
    with pytest.raises(PermissionDenied):
        p.require_scope("admin")


def test_principal_is_frozen() -> None:
    p = _filer()
    with pytest.raises(AttributeError):
        p.filer_code = "XYZ"  # type: ignore[misc]


def test_constructor_guards_missing_codes() -> None:
    with pytest.raises(ValueError, match="filer_code"):
        Principal("x", frozenset({"filer"}), None, None, "x")
    with pytest.raises(ValueError, match="agency_code"):
        Principal("x", frozenset({"agency"}), None, None, "x")


def test_from_claims_ignores_foreign_scopes_and_prefers_client_id() -> None:
    p = Principal.from_claims(
        {"sub": "user-1", "scope": "openid filer", "filer_code": "ABC", "azp": "app-7"}
    )
    assert p.scopes == frozenset({"filer"})
    assert p.client_id == "app-7" and p.subject == "user-1"


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"sub": "a", "scope": "openid"}, "token carries no gateway scope"),
        ({"sub": "a", "scope": "filer"}, "token missing filer_code claim for filer scope"),
        ({"sub": "a", "scope": "agency"}, "token missing agency_code claim for agency scope"),
        ({"sub": "a", "scope": "filer", "filer_code": "abc"}, "token claim 'filer_code' invalid"),
        ({"sub": "", "scope": "admin"}, "token claim 'sub' invalid"),
        ({"sub": "a", "scope": ["admin"]}, "token claim 'scope' invalid"),
    ],
)
def test_from_claims_rejects(claims: dict[str, object], message: str) -> None:
    with pytest.raises(AuthenticationFailed) as info:
        Principal.from_claims(claims)
    assert info.value.detail == message
