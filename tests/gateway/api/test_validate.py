"""POST /api/v1/validate: the dry run stores nothing."""

from __future__ import annotations

import httpx

from tests.support.filings import sample_filing, sample_text


def test_valid_filing_reports_agencies_and_stores_nothing(filer_client: httpx.Client) -> None:
    filing = sample_filing("vehicle-epa-nhtsa")
    response = filer_client.post("/api/v1/validate", json=filing)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "valid": True,
        "entry_number": filing["entry_number"],
        "agencies": ["EPA", "NHT"],
        "pga_line_count": 2,
    }
    assert filer_client.get("/api/v1/entries").json()["total"] == 0
    assert filer_client.get(f"/api/v1/entries/{filing['entry_number']}").status_code == 404


def test_invalid_filing_is_422_like_submit(filer_client: httpx.Client) -> None:
    filing = sample_filing("fda-frozen-shrimp")
    filing["lines"][0]["catair"] = sample_text("invalid-missing-pg01")
    response = filer_client.post("/api/v1/validate", json=filing)
    assert response.status_code == 422
    assert [e["code"] for e in response.json()["errors"]].count("P03") >= 1
