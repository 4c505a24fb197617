"""The embedded identity file: creation, permissions, hashing, concurrency."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.auth import secrets_hash
from gateway.auth.identity import IdentityStore, client_id_for
from gateway.errors import AuthenticationFailed, ConfigurationError, ValidationFailed


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_created_on_first_use_with_0600(tmp_path: Path) -> None:
    path = tmp_path / "var" / "identity.json"  # the directory does not exist yet
    store = IdentityStore.load_or_create(path)
    assert path.exists() and _mode(path) == 0o600
    data = json.loads(path.read_text())
    assert data["version"] == 1
    assert data["clients"] == {} and data["staff_users"] == []
    assert data["signing_key"]["kid"] == store.kid
    assert "PRIVATE KEY" in data["signing_key"]["private_key_pem"]
    assert store.signing_key.raw_value.key_size == 2048
    # No temp files left next to it.
    assert sorted(p.name for p in path.parent.iterdir()) == ["identity.json", "identity.json.lock"]


def test_second_load_reuses_the_key(tmp_path: Path) -> None:
    path = tmp_path / "identity.json"
    first = IdentityStore.load_or_create(path)
    assert IdentityStore.load_or_create(path).kid == first.kid


def test_public_jwks_has_no_private_members(store: IdentityStore) -> None:
    jwks = store.public_jwks()
    (key,) = jwks["keys"]
    assert key["kid"] == store.kid and key["alg"] == "RS256" and key["use"] == "sig"
    assert set(key) == {"kty", "n", "e", "kid", "alg", "use"}


def test_ensure_client_returns_secret_once_and_stores_only_a_hash(tmp_path: Path) -> None:
    path = tmp_path / "identity.json"
    store = IdentityStore.load_or_create(path)
    client_id, secret = store.ensure_client("filer", "ABC")
    assert client_id == "filer-ABC" and secret
    assert store.ensure_client("filer", "ABC") == ("filer-ABC", None)
    text = path.read_text()
    assert secret not in text
    raw = json.loads(text)["clients"]["filer-ABC"]
    assert raw["secret_hash"].startswith("scrypt$")
    assert raw["scopes"] == ["filer"] and raw["filer_code"] == "ABC"
    assert raw["agency_code"] is None
    assert _mode(path) == 0o600
    record = store.verify_client("filer-ABC", secret)
    assert record.filer_code == "ABC" and record.scopes == frozenset({"filer"})


def test_agency_and_admin_clients(tmp_path: Path) -> None:
    store = IdentityStore.load_or_create(tmp_path / "identity.json")
    assert store.ensure_client("agency", "FDA")[0] == "agency-FDA"
    assert store.ensure_client("admin", None)[0] == "admin"
    agency = store.find_client("agency-FDA")
    assert agency is not None and agency.agency_code == "FDA" and agency.filer_code is None
    assert [c.client_id for c in store.clients()] == ["admin", "agency-FDA"]


def test_verify_client_same_message_for_unknown_and_wrong(tmp_path: Path) -> None:
    store = IdentityStore.load_or_create(tmp_path / "identity.json")
    _, secret = store.ensure_client("filer", "ABC")
    assert secret is not None
    with pytest.raises(AuthenticationFailed) as wrong:
        store.verify_client("filer-ABC", secret + "x")
    with pytest.raises(AuthenticationFailed) as unknown:
        store.verify_client("filer-ZZZ", secret)
    assert wrong.value.detail == unknown.value.detail == "client authentication failed"
    assert secret not in wrong.value.detail


def test_rotate_secret(tmp_path: Path) -> None:
    store = IdentityStore.load_or_create(tmp_path / "identity.json")
    _, old = store.ensure_client("filer", "ABC")
    new = store.rotate_secret("filer-ABC")
    store.verify_client("filer-ABC", new)
    with pytest.raises(AuthenticationFailed):
        store.verify_client("filer-ABC", old or "")
    with pytest.raises(ValidationFailed):
        store.rotate_secret("filer-NOP")


def test_sees_clients_added_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "identity.json"
    server_view = IdentityStore.load_or_create(path)
    operator_view = IdentityStore.load_or_create(path)
    _, secret = operator_view.ensure_client("filer", "NEW")
    assert secret is not None
    assert server_view.verify_client("filer-NEW", secret).filer_code == "NEW"


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("filer", "ab"),
        ("filer", "abc"),
        ("filer", "ABCD"),
        ("filer", ""),
        ("filer", "A-B"),
        ("filer", None),
        ("agency", "fda"),
        ("agency", None),
        ("admin", "ABC"),
        ("root", "ABC"),
    ],
)
def test_bad_codes_are_rejected_clearly(kind: str, code: str | None) -> None:
    with pytest.raises(ValidationFailed) as info:
        client_id_for(kind, code)  # type: ignore[arg-type]
    assert info.value.detail


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"version": 2}', '{"version": 1, "signing_key": {"kid": "k"}}'],
)
def test_corrupt_file_is_a_configuration_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "identity.json"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match=r"identity file"):
        IdentityStore.load_or_create(path)


def test_bad_private_key_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "identity.json"
    IdentityStore.load_or_create(path)
    data = json.loads(path.read_text())
    data["signing_key"]["private_key_pem"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigurationError, match="signing key unreadable"):
        IdentityStore.load_or_create(path)


def test_secret_hash_roundtrip_and_malformed_hashes() -> None:
    stored = secrets_hash.hash_secret("s3cret")
    assert "s3cret" not in stored
    assert secrets_hash.verify_secret("s3cret", stored)
    assert not secrets_hash.verify_secret("s3cret!", stored)
    assert stored != secrets_hash.hash_secret("s3cret")  # salted
    for bad in ["", "plain", "scrypt$1$1$1$x$y", "md5$16384$8$1$AA$AA", "scrypt$a$b$c$d$e"]:
        assert not secrets_hash.verify_secret("s3cret", bad)


_RACER = """
import sys, time
from gateway.auth.identity import IdentityStore
path, start, code = sys.argv[1], float(sys.argv[2]), sys.argv[3]
while time.time() < start:
    pass
store = IdentityStore.load_or_create(path)
client_id, secret = store.ensure_client("filer", code)
print(store.kid, client_id, secret is not None)
"""


def test_concurrent_processes_end_with_one_consistent_file(tmp_path: Path) -> None:
    """Six processes race to create the file and add clients (two of them the same one)."""
    script = tmp_path / "racer.py"
    script.write_text(_RACER)
    path = tmp_path / "var" / "identity.json"
    start = time.time() + 2.0  # all interpreters are up and importing before the gun
    codes = ["AAA", "BBB", "CCC", "DDD", "SAM", "SAM"]
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), repr(start), code],
            cwd=tmp_path,  # not the repo root: its top-level 'dis' package shadows stdlib dis
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for code in codes
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outputs.append(out.split())
    kids = {kid for kid, _, _ in outputs}
    assert len(kids) == 1, "every process must see the same signing key"
    created = [cid for _, cid, was_created in outputs if was_created == "True"]
    assert sorted(created) == ["filer-AAA", "filer-BBB", "filer-CCC", "filer-DDD", "filer-SAM"]

    final = IdentityStore.load_or_create(path)
    assert final.kid in kids
    assert {c.client_id for c in final.clients()} == set(created)  # no lost update
    assert _mode(path) == 0o600
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
