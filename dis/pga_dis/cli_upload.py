"""``pga-gateway upload FILE... --entry N --agency FDA --label L``: stream files to the REST
upload endpoint (raw body, metadata in headers) with a plain-text progress line on stderr;
prints one JSON line per stored document on stdout. Exit 0 when every file was stored, 1
otherwise (the problem+json answer goes to stderr)."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from pga_dis.validation import TYPES, extension_of

CHUNK = 1 << 20
_MEDIA = {ext: t.media_type for t in TYPES.values() for ext in t.extensions}


def _chunks(path: Path, size: int, name: str) -> Iterator[bytes]:
    sent = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            sent += len(chunk)
            pct = 100 * sent // size if size else 100
            print(f"\r{name}: {pct:3d}% ({sent}/{size} bytes)", end="", file=sys.stderr)
            yield chunk
    print(file=sys.stderr)


def upload_command(
    files: list[str],
    *,
    entry: str,
    agencies: list[str],
    label: str,
    url: str,
    token: str | None,
    filer: str | None,
    document_id: str | None = None,
) -> int:
    if token is None:
        if filer is None:
            print("pga-gateway upload: give --token or --filer", file=sys.stderr)
            return 2
        token = _embedded_token(filer)
    failures = 0
    with httpx.Client(base_url=url.rstrip("/"), timeout=300) as client:
        for name in files:
            path = Path(name)
            size = path.stat().st_size
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": _MEDIA.get(extension_of(path.name), "application/octet-stream"),
                "Content-Length": str(size),
                "X-Entry-Number": entry,
                "X-Agencies": ",".join(agencies),
                "X-Label": label,
                "X-Document-Id": document_id or f"CLI-{uuid.uuid4().hex}",
                "X-File-Name": path.name,
            }
            response = client.post(
                "/api/v1/documents", content=_chunks(path, size, path.name), headers=headers
            )
            if response.status_code in (200, 201):
                body = response.json()
                print(json.dumps({"file": name, "id": body["id"], "sha256": body["sha256"]}))
            else:
                failures += 1
                print(f"{name}: HTTP {response.status_code} {response.text}", file=sys.stderr)
    return 1 if failures else 0


def _embedded_token(filer: str) -> str:
    """A filer token minted from the embedded identity file (as ``pga-gateway token``)."""
    from gateway.auth.identity import IdentityStore
    from gateway.auth.tokens import TokenIssuer
    from gateway.config import load_settings

    settings = load_settings()
    store = IdentityStore.load_or_create(settings.effective_identity_file)
    client_id, _ = store.ensure_client("filer", filer)
    client = store.find_client(client_id)
    assert client is not None
    token: str = TokenIssuer(store, settings).issue(client)["access_token"]
    return token
