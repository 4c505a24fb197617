"""200 MB through ``POST /api/v1/documents`` (raw body, streamed) to the filesystem store, on a
gateway run as a subprocess: the server's peak RSS growth (VmHWM minus the RSS before the
upload, from /proc/PID/status) and the upload throughput, as a ratio to writing the same bytes
straight to a file and to a direct boto3 ``upload_fileobj`` into a moto S3 server. Prints only;
asserts nothing."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.filings import sample_filing

CHUNK = 1 << 20
PDF_HEAD = b"%PDF-1.4\n% bench\n"


@dataclass
class Gateway:
    url: str
    process: subprocess.Popen[bytes]
    var_dir: Path

    def token(self, filer: str = "ABC") -> str:
        from gateway.auth.identity import IdentityStore
        from gateway.auth.tokens import TokenIssuer
        from gateway.config import Settings

        settings = Settings(var_dir=self.var_dir)
        store = IdentityStore.load_or_create(settings.effective_identity_file)
        client_id, _ = store.ensure_client("filer", filer)
        client = store.find_client(client_id)
        assert client is not None
        token: str = TokenIssuer(store, settings).issue(client)["access_token"]
        return token


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gateway_process(var_dir: Path, **env: str) -> Iterator[Gateway]:
    """``pga-gateway serve`` on a free port with its own var dir (SQLite, filesystem store)."""
    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PGA_GATEWAY_")}
    environ.update(
        PGA_GATEWAY_VAR_DIR=str(var_dir),
        PGA_GATEWAY_PORT=str(port),
        PGA_GATEWAY_DISPATCH_WORKERS="0",
        PGA_GATEWAY_LOG_LEVEL="WARNING",
        **env,
    )
    exe = Path(sys.executable).with_name("pga-gateway")
    process = subprocess.Popen([str(exe), "serve"], env=environ, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the gateway did not start")
            time.sleep(0.2)
        yield Gateway(url, process, var_dir)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def create_entry(gateway: Gateway, token: str, serial: int = 5500001) -> str:
    filing = sample_filing("fda-frozen-shrimp", serial=serial)
    response = httpx.post(
        f"{gateway.url}/api/v1/entries",
        json=filing,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    return str(filing["entry_number"])


def upload_headers(token: str, entry: str, document_id: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/pdf",
        "X-Entry-Number": entry,
        "X-Agencies": "FDA",
        "X-Label": "COMMERCIAL_INVOICE",
        "X-Document-Id": document_id,
        "X-File-Name": "big.pdf",
    }


def pdf_chunks(total: int) -> Iterator[bytes]:
    block = (PDF_HEAD + os.urandom(CHUNK - len(PDF_HEAD)))[:CHUNK]
    yield block
    sent = len(block)
    filler = os.urandom(CHUNK)
    while sent < total:
        piece = filler[: min(CHUNK, total - sent)]
        sent += len(piece)
        yield piece


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _direct_file(total: int, directory: Path) -> float:
    started = time.perf_counter()
    with (directory / "direct.bin").open("wb") as f:
        for chunk in pdf_chunks(total):
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    return time.perf_counter() - started


def _direct_s3(total: int) -> float | None:
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError:
        return None
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
        s3.create_bucket(Bucket="bench")
        data = b"".join(pdf_chunks(total))
        started = time.perf_counter()
        s3.upload_fileobj(io.BytesIO(data), "bench", "direct.bin")
        return time.perf_counter() - started
    finally:
        server.stop()


def run(total: int = 200 * 1024 * 1024) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp) / "var"
        env = {"PGA_GATEWAY_DOCUMENT_MAX_BYTES": str(total + CHUNK)}
        with gateway_process(var, **env) as gateway:
            token = gateway.token()
            entry = create_entry(gateway, token)
            pid = gateway.process.pid
            before_kb = _status_kb(pid, "VmRSS")
            started = time.perf_counter()
            response = httpx.post(
                f"{gateway.url}/api/v1/documents",
                content=pdf_chunks(total),
                headers=upload_headers(token, entry, "BENCH-1"),
                timeout=600,
            )
            elapsed = time.perf_counter() - started
            peak_kb = _status_kb(pid, "VmHWM")
            assert response.status_code == 201, response.text
        file_seconds = _direct_file(total, Path(tmp))
    s3_seconds = _direct_s3(total)
    mib = total / (1024 * 1024)
    return {
        "bytes": total,
        "server_rss_before_mib": round(before_kb / 1024, 1),
        "server_peak_rss_mib": round(peak_kb / 1024, 1),
        "server_peak_growth_mib": round((peak_kb - before_kb) / 1024, 1),
        "upload_mib_per_s": round(mib / elapsed, 1),
        "direct_file_mib_per_s": round(mib / file_seconds, 1),
        "ratio_to_direct_file": round(file_seconds / elapsed, 3),
        "direct_boto3_moto_mib_per_s": round(mib / s3_seconds, 1) if s3_seconds else None,
        "ratio_to_direct_boto3_moto": round(s3_seconds / elapsed, 3) if s3_seconds else None,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
