from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import pad

CLI = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "pga-gateway"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    if not CLI.exists():
        pytest.skip(f"{CLI} not installed")
    return subprocess.run(
        [str(CLI), "catair", *args], input=stdin, capture_output=True, timeout=60, check=False
    )


def test_parse_then_render_reproduces_the_sample(samples_dir: Path, tmp_path: Path) -> None:
    sample = samples_dir / "vehicle-epa-nhtsa.txt"
    parsed = run("parse", str(sample))
    assert parsed.returncode == 0, parsed.stderr
    document = json.loads(parsed.stdout)
    assert [p["agency_code"] for p in document["lines"][0]["pga_lines"]] == ["EPA", "NHT"]
    json_file = tmp_path / "doc.json"
    json_file.write_bytes(parsed.stdout)
    rendered = run("render", str(json_file))
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stdout == sample.read_bytes()


def test_parse_from_stdin() -> None:
    result = run("parse", "-", stdin=pad("OI        X", "PG01001FDAFOO", "PG02PFDP").encode())
    assert result.returncode == 0
    assert json.loads(result.stdout)["lines"][0]["description"] == "X"


def test_invalid_catair_prints_errors_and_exits_1(samples_dir: Path) -> None:
    result = run("parse", str(samples_dir / "invalid-missing-pg01.txt"))
    assert result.returncode == 1
    assert result.stdout == b""
    errors = json.loads(result.stderr)["errors"]
    assert [(e["code"], e["record"]) for e in errors] == [("P03", 2)]
    assert set(errors[0]) == {"message", "code", "record", "positions", "field", "location"}


def test_non_ascii_and_missing_files_are_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(pad("OI        CAF").encode() + b"\xc3\xa9\n")
    result = run("parse", str(bad))
    assert result.returncode == 1
    assert json.loads(result.stderr)["errors"][0]["record"] == 2
    missing = run("parse", str(tmp_path / "nope.txt"))
    assert missing.returncode == 1
    assert "cannot read" in json.loads(missing.stderr)["errors"][0]["message"]
    assert b"Traceback" not in missing.stderr


def test_render_rejects_invalid_json(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = run("render", str(broken))
    assert result.returncode == 1
    assert "not valid JSON" in json.loads(result.stderr)["errors"][0]["message"]
    wrong = tmp_path / "wrong.json"
    wrong.write_text(
        json.dumps(
            {
                "lines": [
                    {
                        "line_number": 1,
                        "description": "X",
                        "pga_lines": [
                            {
                                "pga_line_number": 1,
                                "agency_code": "FDA",
                                "program_code": "FOO",
                                "records": [{"type": "PG99"}],
                            }
                        ],
                    }
                ]
            }
        )
    )
    result = run("render", str(wrong))
    assert result.returncode == 1
    assert json.loads(result.stderr)["errors"][0]["location"] == (
        "/lines/0/pga_lines/0/records/0/type"
    )
