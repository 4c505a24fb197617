"""POST /api/v1/entries/{entry_number}/pga: replace PGA data with CATAIR text."""

from __future__ import annotations

import httpx

from tests.support.filings import sample_filing, sample_text

TEXT = {"Content-Type": "text/plain"}


def _submit(client: httpx.Client, name: str) -> dict:
    filing = sample_filing(name)
    assert client.post("/api/v1/entries", json=filing).status_code == 202
    return filing


def test_replacement_creates_a_new_version(filer_client: httpx.Client) -> None:
    filing = _submit(filer_client, "fda-frozen-shrimp")
    url = f"/api/v1/entries/{filing['entry_number']}"
    replacement = sample_text("aphis-lacey-oak")
    response = filer_client.post(url + "/pga", content=replacement, headers=TEXT)
    assert response.status_code == 202, response.text
    assert response.json()["version"] == 2
    assert response.json()["agencies"] == ["APH"]
    entry = filer_client.get(url).json()
    assert entry["version"] == 2
    assert entry["lines"][0]["description"] == "WHITE OAK LUMBER, SAWN"
    assert entry["lines"][0]["hts_number"] == filing["lines"][0]["hts_number"]
    assert {p["agency_code"] for p in entry["lines"][0]["pga_lines"]} == {"APH"}
    versions = {(row["agency_code"], row["entry_version"]) for row in entry["dispatch"]}
    assert ("APH", 2) in versions


def test_oi_count_must_match_the_tariff_lines(filer_client: httpx.Client) -> None:
    filing = _submit(filer_client, "fda-frozen-shrimp")
    url = f"/api/v1/entries/{filing['entry_number']}"
    response = filer_client.post(
        url + "/pga", content=sample_text("two-lines-disclaimer"), headers=TEXT
    )
    assert response.status_code == 422
    assert "tariff line" in response.json()["errors"][0]["message"]
    assert filer_client.get(url).json()["version"] == 1


def test_non_ascii_and_bad_records_are_located(filer_client: httpx.Client) -> None:
    filing = _submit(filer_client, "fda-frozen-shrimp")
    url = f"/api/v1/entries/{filing['entry_number']}/pga"
    text = sample_text("aphis-lacey-oak").replace("WHITE", "WHÏTE")
    response = filer_client.post(url, content=text.encode("utf-8"), headers=TEXT)
    assert response.status_code == 422
    problem = response.json()["errors"][0]
    assert (problem["record"], problem["positions"]) == (1, "13")

    broken = sample_text("aphis-lacey-oak").replace("PG05", "PG03")
    response = filer_client.post(url, content=broken, headers=TEXT)
    assert response.status_code == 422
    assert any(e["record"] == 4 for e in response.json()["errors"])


def test_json_body_is_415_and_unknown_entry_404(filer_client: httpx.Client) -> None:
    filing = _submit(filer_client, "fda-frozen-shrimp")
    url = f"/api/v1/entries/{filing['entry_number']}/pga"
    assert filer_client.post(url, json={"catair": "x"}).status_code == 415
    missing = sample_filing("fda-frozen-shrimp", serial=9999999)["entry_number"]
    response = filer_client.post(
        f"/api/v1/entries/{missing}/pga", content=sample_text("aphis-lacey-oak"), headers=TEXT
    )
    assert response.status_code == 404
