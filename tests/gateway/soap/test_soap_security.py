"""The secret store behind PasswordDigest: encrypted in the identity file, never in clear."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.auth.identity import IdentityStore


def test_digest_secret_is_stored_encrypted_and_follows_rotation(tmp_path: Path) -> None:
    path = tmp_path / "identity.json"
    store = IdentityStore.load_or_create(path)
    client_id, secret = store.ensure_client("filer", "ABC")
    assert secret is not None
    assert store.digest_secret(client_id) == secret
    text = path.read_text()
    assert secret not in text
    data = json.loads(text)
    assert data["clients"][client_id]["soap_secret"] and data["soap_kek"]

    rotated = store.rotate_secret(client_id)
    assert store.digest_secret(client_id) == rotated != secret
    # Another process reading the same file sees the same secret.
    assert IdentityStore.load_or_create(path).digest_secret(client_id) == rotated


def test_clients_without_a_soap_secret_or_unknown_get_none(tmp_path: Path) -> None:
    path = tmp_path / "identity.json"
    store = IdentityStore.load_or_create(path)
    client_id, _ = store.ensure_client("agency", "FDA")
    assert store.digest_secret("filer-ZZZ") is None
    data = json.loads(path.read_text())
    del data["clients"][client_id]["soap_secret"]  # a client from before this feature
    path.write_text(json.dumps(data))
    assert store.digest_secret(client_id) is None
    data["clients"][client_id]["soap_secret"] = "not-a-fernet-token"
    path.write_text(json.dumps(data) + " ")
    assert store.digest_secret(client_id) is None
