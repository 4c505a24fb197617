"""``pga-gateway upload`` against a live gateway: progress on stderr, ids on stdout."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.cli import main
from tests.pga_dis.api.conftest import PDF


def test_upload_command(
    tmp_path: Path,
    base_url: str,
    fda_entry: dict[str, Any],
    token_for: Callable[..., str],
    filer_client: httpx.Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    first.write_bytes(PDF)
    second.write_bytes(PDF + b"% b\n")
    code = main(
        [
            "upload",
            str(first),
            str(second),
            "--entry",
            fda_entry["entry_number"],
            "--agency",
            "FDA",
            "--label",
            "COMMERCIAL_INVOICE",
            "--url",
            base_url,
            "--token",
            token_for(filer="ABC"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    ids = [json.loads(line)["id"] for line in out.splitlines()]
    assert len(ids) == 2 and "100%" in err
    for doc_id in ids:
        assert filer_client.get(f"/api/v1/documents/{doc_id}").status_code == 200
