"""An independent client: node-soap (npm ``soap``) parses our WSDL itself, submits an entry with
a PasswordDigest UsernameToken and reads the status back; it must match the REST view.

``make test`` installs the package (``npm ci --prefix tests/gateway/soap/node``). Skipped only
when ``node`` itself is absent; a missing ``node_modules`` is a failure, not a skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.soap.test_soap_zeep import entry_xml
from tests.support.filings import sample_filing

NODE_DIR = Path(__file__).resolve().parent / "node"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_soap_submits_and_reads_status(
    base_url: str,
    secret_for: Callable[..., tuple[str, str]],
    filer_client: httpx.Client,
) -> None:
    assert (NODE_DIR / "node_modules" / "soap").is_dir(), (
        "run `npm ci --prefix tests/gateway/soap/node` (make test does)"
    )
    client_id, secret = secret_for("filer", "ABC")
    filing = sample_filing("vehicle-epa-nhtsa")
    request = {
        "wsdl": f"{base_url}/soap/gateway?wsdl",
        "username": client_id,
        "password": secret,
        "entry": entry_xml(filing),
    }
    run = subprocess.run(
        ["node", str(NODE_DIR / "client.js")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    answer: dict[str, Any] = json.loads(run.stdout)

    receipt = answer["receipt"]["Receipt"]
    assert receipt["Status"] == "ACCEPTED"
    assert receipt["Agency"] == ["EPA", "NHT"]
    rest = filer_client.get(f"/api/v1/entries/{filing['entry_number']}").json()
    assert receipt["TransactionID"] == rest["transaction_id"]

    entry = answer["status"]["Entry"]
    assert entry["EntryNumber"] == rest["entry_number"]
    assert entry["Status"] == rest["status"]
    assert int(entry["Version"]) == rest["version"]
    assert entry["TransactionID"] == rest["transaction_id"]
    lines = entry["Line"] if isinstance(entry["Line"], list) else [entry["Line"]]
    assert [int(line["LineNumber"]) for line in lines] == [
        line["line_number"] for line in rest["lines"]
    ]
    dispatch = entry["Dispatch"] if isinstance(entry["Dispatch"], list) else [entry["Dispatch"]]
    assert [(d["AgencyCode"], d["State"]) for d in dispatch] == [
        (d["agency_code"], d["state"]) for d in rest["dispatch"]
    ]
    pga = [p for line in lines for p in _list(line["PGALine"])]
    assert [(p["AgencyCode"], p["ProgramCode"]) for p in pga] == [
        (p["agency_code"], p["program_code"]) for line in rest["lines"] for p in line["pga_lines"]
    ]

    refused = answer["refused"]
    assert refused["faultcode"] == "soap:Client"
    assert refused["faultstring"] == "authentication failed"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
