"""``pga-gateway token`` as a user runs it: a real process, no server running."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.auth.cli import token_command
from gateway.auth.identity import IdentityStore
from gateway.auth.tokens import LocalKeyVerifier
from gateway.config import Settings

EXE = Path(sys.executable).with_name("pga-gateway")


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PGA_GATEWAY_")}
    return subprocess.run(
        [str(EXE), "token", *args],
        env={**clean, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _verifier(identity: Path) -> LocalKeyVerifier:
    defaults = Settings()
    return LocalKeyVerifier(
        IdentityStore.load_or_create(identity),
        issuer=defaults.token_issuer,
        audience=defaults.token_audience,
    )


def test_filer_token_with_identity_file(tmp_path: Path) -> None:
    identity = tmp_path / "secrets" / "identity.json"
    result = _run(tmp_path, "--filer", "ABC", PGA_GATEWAY_IDENTITY_FILE=str(identity))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, "stdout carries the token and nothing else"
    principal = _verifier(identity).verify(lines[0])
    assert principal.filer_code == "ABC" and principal.client_id == "filer-ABC"
    # Running again reuses the client and key.
    again = _run(tmp_path, "--filer", "ABC", PGA_GATEWAY_IDENTITY_FILE=str(identity))
    assert again.returncode == 0 and _verifier(identity).verify(again.stdout.strip())


def test_agency_and_admin_tokens_with_var_dir(tmp_path: Path) -> None:
    var = tmp_path / "var"
    agency = _run(tmp_path, "--agency", "FDA", PGA_GATEWAY_VAR_DIR=str(var))
    admin = _run(tmp_path, "--admin", PGA_GATEWAY_VAR_DIR=str(var))
    assert agency.returncode == admin.returncode == 0, agency.stderr + admin.stderr
    verifier = _verifier(var / "identity.json")
    assert verifier.verify(agency.stdout.strip()).agency_code == "FDA"
    assert verifier.verify(admin.stdout.strip()).is_admin


@pytest.mark.parametrize("code", ["ab", "abc", "ABCD", "A B"])
def test_bad_code_exits_2_with_message(tmp_path: Path, code: str) -> None:
    result = _run(tmp_path, "--filer", code, PGA_GATEWAY_VAR_DIR=str(tmp_path / "var"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "filer code must be 3 upper-case letters or digits" in result.stderr
    assert not (tmp_path / "var" / "identity.json").exists()


def test_in_process_refuses_when_external_issuer_configured(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clean_env: None,
) -> None:
    monkeypatch.setenv("PGA_GATEWAY_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PGA_GATEWAY_JWKS_URL", "https://idp.example/jwks")
    assert token_command(filer="ABC", agency=None, admin=False) == 2
    out = capsys.readouterr()
    assert out.out == "" and "external issuer" in out.err


def test_in_process_bad_settings_and_no_choice(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clean_env: None,
) -> None:
    assert token_command(filer=None, agency=None, admin=False) == 2
    monkeypatch.setenv("PGA_GATEWAY_TOKEN_TTL_SECONDS", "soon")
    assert token_command(filer="ABC", agency=None, admin=False) == 2
    assert "PGA_GATEWAY_TOKEN_TTL_SECONDS" in capsys.readouterr().err


def test_in_process_mints(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clean_env: None,
) -> None:
    monkeypatch.setenv("PGA_GATEWAY_IDENTITY_FILE", str(tmp_path / "identity.json"))
    assert token_command(filer=None, agency="EPA", admin=False) == 0
    token = capsys.readouterr().out.strip()
    assert _verifier(tmp_path / "identity.json").verify(token).agency_code == "EPA"
