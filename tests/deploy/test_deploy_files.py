"""The deployment files stay true to the code: every setting they name exists, every command
they run is a real sub-command, and the example endpoints file loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from agencies.registry import load_registry
from gateway.agency_endpoints import endpoints_from_file
from gateway.cli import _build_parser
from gateway.config import PREFIX, load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SETTING = re.compile(r"\b(PGA_GATEWAY_[A-Z0-9_]+)")


def _deploy_texts() -> dict[str, str]:
    return {p.name: p.read_text() for p in DEPLOY.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", sorted(_deploy_texts()))
def test_every_setting_named_in_deploy_files_exists(name: str) -> None:
    text = _deploy_texts()[name]
    for setting in set(SETTING.findall(text)):
        load_settings({setting: _plausible(setting)})  # raises on an unknown name


def _plausible(setting: str) -> str:
    name = setting[len(PREFIX) :]
    if name.endswith(("_MS", "_BYTES", "_PORT", "_ATTEMPTS", "_WORKERS", "_SECONDS")) or name in {
        "PORT"
    }:
        return "2048"
    if name == "AGENCY_SIM":
        return "off"
    return "x"


def test_compose_and_k8s_commands_are_real_subcommands() -> None:
    parser = _build_parser()
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    commands = [svc["command"] for svc in compose["services"].values() if "build" in svc]
    for doc in yaml.safe_load_all((DEPLOY / "k8s" / "gateway.yaml").read_text()):
        for container in (
            doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
        ):
            commands.append(container["args"])
    assert len(commands) >= 5
    for args in commands:
        parser.parse_args(args)  # SystemExit on anything argparse does not know


def test_example_agency_endpoints_cover_every_builtin_agency() -> None:
    codes = load_registry().codes()
    env = {"FDA_IWS_PASSWORD": "x", "APHIS_IWS_PASSWORD": "y"}
    endpoints = endpoints_from_file(DEPLOY / "agency-endpoints.example.json", codes, 5.0, env)
    assert set(endpoints) == set(codes)
    assert endpoints["FDA"].username == "pga-gateway" and endpoints["FDA"].password == "x"
