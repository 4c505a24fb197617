"""The operator commands through the real `pga-gateway` executable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from agencies.registry import load_registry
from gateway.agency_client import AgencyRejected
from gateway.auth.principal import Principal
from gateway.db.session import Database
from gateway.dispatch import Dispatcher, RetryPolicy
from gateway.intake import IntakeService
from tests.support.filings import sample_filing

CLI = Path(sys.executable).with_name("pga-gateway")
FILER = Principal("filer-ABC", frozenset({"filer"}), "ABC", None, "filer-ABC")


class Refusing:
    def submit_pga_data(self, agency_code: str, message: object) -> object:
        raise AgencyRejected(agency_code, "schema invalid")


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_dispatch_list_and_retry(database: Database, database_url: str, tmp_path: Path) -> None:
    registry = load_registry()
    IntakeService(database, registry).submit(sample_filing("aphis-lacey-oak"), FILER, None)
    Dispatcher(database, registry, Refusing(), RetryPolicy()).run_once()
    env = {**os.environ, "PGA_GATEWAY_DATABASE_URL": database_url}

    listed = _run(["dispatch", "list", "--state", "dead"], env, tmp_path)
    assert listed.returncode == 0, listed.stderr
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (row["agency_code"], row["state"]) == ("APH", "dead")

    bad = _run(["dispatch", "retry", "not-a-uuid"], env, tmp_path)
    assert bad.returncode == 2 and "not a message id" in bad.stderr
    retried = _run(["dispatch", "retry", "--all-dead"], env, tmp_path)
    assert retried.returncode == 0 and "re-driven: 1" in retried.stdout
    assert _run(["dispatch", "list", "--state", "dead"], env, tmp_path).stdout == ""


def test_unknown_setting_fails_with_its_name(tmp_path: Path) -> None:
    env = {**os.environ, "PGA_GATEWAY_COLOUR": "red"}
    result = _run(["dispatch", "list"], env, tmp_path)
    assert result.returncode == 2
    assert "PGA_GATEWAY_COLOUR: unknown setting" in result.stderr


def test_agency_sim_serves_every_agency_wsdl(tmp_path: Path) -> None:
    env = {**os.environ, "PGA_GATEWAY_VAR_DIR": str(tmp_path)}
    port = _free_port()
    process = subprocess.Popen(
        [str(CLI), "agency-sim", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/iws/FDA?wsdl"
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(url)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        assert response.status_code == 200
        assert f"127.0.0.1:{port}/iws/FDA" in response.text
        for code in load_registry().codes():
            assert httpx.get(f"http://127.0.0.1:{port}/iws/{code}?wsdl").status_code == 200
    finally:
        process.terminate()
        process.wait(30)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
