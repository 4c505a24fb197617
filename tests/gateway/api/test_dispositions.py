"""POST /api/v1/entries/{entry_number}/dispositions: agencies answer for their own lines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support.filings import sample_filing

NOW = "2026-11-21T10:00:00Z"


@pytest.fixture
def vehicle_entry(filer_client: httpx.Client) -> str:
    filing = sample_filing("vehicle-epa-nhtsa")
    assert filer_client.post("/api/v1/entries", json=filing).status_code == 202
    number: str = filing["entry_number"]
    return number


def _agency(base_url: str, token_for: Callable[..., str], code: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token_for(agency=code)}"}
    return httpx.Client(base_url=base_url, headers=headers, timeout=30)


def _item(**changes: Any) -> dict[str, Any]:
    item = {
        "cbp_line_number": 1,
        "pga_line_number": 1,
        "status_code": "07",
        "reason_code": "22",
        "action_time": NOW,
        "remark": "ok",
    }
    item.update(changes)
    return item


def test_agency_records_a_disposition_visible_in_the_entry(
    base_url: str, token_for: Callable[..., str], vehicle_entry: str, filer_client: httpx.Client
) -> None:
    url = f"/api/v1/entries/{vehicle_entry}/dispositions"
    with _agency(base_url, token_for, "EPA") as epa:
        response = epa.post(url, json={"dispositions": [_item()]})
        assert response.status_code == 200, response.text
        assert response.json() == {"recorded": 1, "duplicates": 0}
        again = epa.post(url, json={"dispositions": [_item()]})
        assert again.json() == {"recorded": 0, "duplicates": 1}
    entry = filer_client.get(f"/api/v1/entries/{vehicle_entry}").json()
    [disposition] = entry["dispositions"]
    assert disposition["agency_code"] == "EPA"
    assert disposition["program_code"] == "VNE"
    assert (disposition["status_code"], disposition["status_text"]) == ("07", "MAY PROCEED")
    assert disposition["action_time"].startswith("2026-11-21T10:00:00")
    assert disposition["source"] == "callback"


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        (_item(status_code="55"), "unknown PGA status code"),
        (_item(reason_code="14"), "goes with status 04"),
        (_item(reason_code="98"), "unknown PGA reason code"),
        (_item(pga_line_number=2), "has no PGA line 2"),
        (_item(cbp_line_number=9), "no PGA line 1 of EPA on CBP line 9"),
        (_item(action_time="2026-11-21T10:00:00"), "action_time"),
        (_item(action_time="2999-01-01T00:00:00Z"), "future"),
    ],
)
def test_bad_dispositions_are_refused_and_change_nothing(
    base_url: str,
    token_for: Callable[..., str],
    vehicle_entry: str,
    filer_client: httpx.Client,
    item: dict[str, Any],
    fragment: str,
) -> None:
    with _agency(base_url, token_for, "EPA") as epa:
        batch = {"dispositions": [_item(status_code="01", reason_code=None), item]}
        response = epa.post(f"/api/v1/entries/{vehicle_entry}/dispositions", json=batch)
    assert response.status_code == 422, response.text
    assert fragment in response.text
    assert filer_client.get(f"/api/v1/entries/{vehicle_entry}").json()["dispositions"] == []


def test_an_agency_cannot_answer_for_another_agencys_line(
    base_url: str, token_for: Callable[..., str], vehicle_entry: str
) -> None:
    # NHTSA owns CBP line 1 / PGA line 1 of NHT; EPA's token cannot speak for it, and FDA
    # (no lines on this entry) cannot even see the entry.
    with _agency(base_url, token_for, "NHT") as nht:
        ok = nht.post(
            f"/api/v1/entries/{vehicle_entry}/dispositions", json={"dispositions": [_item()]}
        )
        assert ok.status_code == 200
    with _agency(base_url, token_for, "FDA") as fda:
        response = fda.post(
            f"/api/v1/entries/{vehicle_entry}/dispositions", json={"dispositions": [_item()]}
        )
        assert response.status_code == 404


def test_filers_cannot_send_dispositions(filer_client: httpx.Client, vehicle_entry: str) -> None:
    response = filer_client.post(
        f"/api/v1/entries/{vehicle_entry}/dispositions", json={"dispositions": [_item()]}
    )
    assert response.status_code == 403


def test_schema_violations_are_listed(
    base_url: str, token_for: Callable[..., str], vehicle_entry: str
) -> None:
    with _agency(base_url, token_for, "EPA") as epa:
        response = epa.post(
            f"/api/v1/entries/{vehicle_entry}/dispositions",
            json={"dispositions": [{"cbp_line_number": "one", "status_code": 7, "x": 1}]},
        )
    assert response.status_code == 422
    locations = {e["location"] for e in response.json()["errors"]}
    assert {"/dispositions/0/cbp_line_number", "/dispositions/0/status_code"} <= locations
