"""POST/GET /api/v1/entries through a real HTTP server and the run's real database."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support.filings import VALID_SAMPLES, sample_filing, sample_text, with_changes

EXPECTED_AGENCIES = {
    "aphis-lacey-oak": ["APH"],
    "fda-frozen-shrimp": ["FDA"],
    "two-lines-disclaimer": ["FDA"],
    "vehicle-epa-nhtsa": ["EPA", "NHT"],
}


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def _stored_count(client: httpx.Client) -> int:
    total: int = client.get("/api/v1/entries").json()["total"]
    return total


@pytest.mark.parametrize("name", VALID_SAMPLES)
def test_each_sample_is_accepted_durably_with_one_dispatch_row_per_agency(
    filer_client: httpx.Client, name: str
) -> None:
    filing = sample_filing(name)
    response = filer_client.post("/api/v1/entries", json=filing)
    assert response.status_code == 202, response.text
    receipt = response.json()
    assert receipt["entry_number"] == filing["entry_number"]
    assert receipt["status"] == "ACCEPTED"
    assert receipt["version"] == 1
    assert receipt["agencies"] == EXPECTED_AGENCIES[name]
    assert response.headers["location"] == receipt["status_url"]

    entry = filer_client.get(receipt["status_url"]).json()
    assert entry["entry_number"] == filing["entry_number"]
    assert entry["transaction_id"] == receipt["transaction_id"]
    assert sorted(row["agency_code"] for row in entry["dispatch"]) == sorted(
        EXPECTED_AGENCIES[name]
    )
    assert all(row["state"] == "pending" and row["attempts"] == 0 for row in entry["dispatch"])
    assert len(entry["lines"]) == len(filing["lines"])
    assert all(line["pga_lines"] for line in entry["lines"])


def test_stored_pga_data_keeps_the_typed_record_values(filer_client: httpx.Client) -> None:
    filing = sample_filing("fda-frozen-shrimp")
    assert filer_client.post("/api/v1/entries", json=filing).status_code == 202
    entry = filer_client.get(f"/api/v1/entries/{filing['entry_number']}").json()
    pga = entry["lines"][0]["pga_lines"][0]
    assert (pga["agency_code"], pga["program_code"], pga["pga_line_number"]) == ("FDA", "FOO", 1)
    pg02 = next(r for r in pga["records"] if r["type"] == "PG02")
    assert pg02["fields"]["item_type"] == "P"
    assert "16AGT99" in pg02["fields"].values()
    pg26 = [r for r in pga["records"] if r["type"] == "PG26"]
    assert [r["fields"]["packaging_qualifier"] for r in pg26] == [1, 2]


def test_structured_pga_lines_are_accepted_like_catair(filer_client: httpx.Client) -> None:
    catair_filing = sample_filing("aphis-lacey-oak", serial=1000001)
    assert filer_client.post("/api/v1/entries", json=catair_filing).status_code == 202
    stored = filer_client.get(f"/api/v1/entries/{catair_filing['entry_number']}").json()

    structured = sample_filing("aphis-lacey-oak", serial=1000002)
    line = structured["lines"][0]
    del line["catair"]
    line["description"] = stored["lines"][0]["description"]
    line["pga_lines"] = stored["lines"][0]["pga_lines"]
    response = filer_client.post("/api/v1/entries", json=structured)
    assert response.status_code == 202, response.text
    again = filer_client.get(f"/api/v1/entries/{structured['entry_number']}").json()
    assert again["lines"][0]["pga_lines"] == stored["lines"][0]["pga_lines"]


def test_invalid_catair_is_422_with_located_p_codes_and_nothing_stored(
    filer_client: httpx.Client,
) -> None:
    filing = sample_filing("fda-frozen-shrimp")
    filing["lines"][0]["catair"] = sample_text("invalid-missing-pg01")
    body = _problem(filer_client.post("/api/v1/entries", json=filing), 422)
    p03 = [e for e in body["errors"] if e["code"] == "P03"]
    assert p03, body
    assert p03[0]["record"] == 2
    assert p03[0]["location"].startswith("/lines/0/catair")
    assert _stored_count(filer_client) == 0


def test_every_schema_problem_is_listed_at_once(filer_client: httpx.Client) -> None:
    filing = with_changes(
        sample_filing("fda-frozen-shrimp"),
        entry_type="1",
        port_of_entry="53A1",
        surprise="field",
    )
    body = _problem(filer_client.post("/api/v1/entries", json=filing), 422)
    locations = {e["location"] for e in body["errors"]}
    assert {"/entry_type", "/port_of_entry"} <= locations
    assert any("surprise" in e["message"] for e in body["errors"])
    assert _stored_count(filer_client) == 0


def test_semantic_problems_are_located(filer_client: httpx.Client) -> None:
    filing = sample_filing("fda-frozen-shrimp")
    filing["entry_number"] = "XYZ" + filing["entry_number"][3:]  # not the filer's code
    filing["lines"][0]["catair"] = filing["lines"][0]["catair"].replace(
        "PG30A12012026", "PG30A13402026"
    )
    body = _problem(filer_client.post("/api/v1/entries", json=filing), 422)
    assert any("XYZ" in e["message"] and e["location"] for e in body["errors"]), body
    bad_date = [e for e in body["errors"] if e.get("positions") == "6-13"]
    assert bad_date and bad_date[0]["record"] is not None, body


@pytest.mark.parametrize(
    ("payload", "content_type", "status", "fragment"),
    [
        (b'{"entry_number": ', "application/json", 400, "line 1"),
        (b'{"a": 1, "a": 2}', "application/json", 400, "twice"),
        (b'{"a": NaN}', "application/json", 400, "NaN"),
        (b'{"a": "\xff"}', "application/json", 400, "UTF-8"),
        (b"", "application/json", 400, "empty"),
        (b"[1, 2]", "application/json", 422, "object"),
        (b"OI        X", "text/plain", 415, "Content-type"),
        (b"<entry/>", "application/xml", 415, "Content-type"),
    ],
)
def test_unreadable_bodies_get_a_precise_4xx(
    filer_client: httpx.Client, payload: bytes, content_type: str, status: int, fragment: str
) -> None:
    response = filer_client.post(
        "/api/v1/entries", content=payload, headers={"Content-Type": content_type}
    )
    body = _problem(response, status)
    assert fragment in json.dumps(body), body
    assert _stored_count(filer_client) == 0


def test_oversized_body_is_413_before_it_is_read(filer_client: httpx.Client) -> None:
    filing = sample_filing("fda-frozen-shrimp")
    filing["importer_of_record"] = "x" * (300 * 1024)
    body = _problem(filer_client.post("/api/v1/entries", json=filing), 413)
    assert "limit" in body["detail"]
    assert _stored_count(filer_client) == 0


def test_oversized_chunked_body_is_413(filer_client: httpx.Client) -> None:
    def chunks() -> Any:
        yield b'{"entry_number": "'
        for _ in range(300):
            yield b"x" * 1024
        yield b'"}'

    response = filer_client.post(
        "/api/v1/entries", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 413), response.text
    assert _stored_count(filer_client) == 0


def test_idempotency_key_replays_the_first_answer(filer_client: httpx.Client) -> None:
    filing = sample_filing("vehicle-epa-nhtsa")
    headers = {"Idempotency-Key": "order-42"}
    first = filer_client.post("/api/v1/entries", json=filing, headers=headers)
    second = filer_client.post("/api/v1/entries", json=filing, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert _stored_count(filer_client) == 1

    other = with_changes(filing, importer_of_record="99-9999999ZZ")
    body = _problem(filer_client.post("/api/v1/entries", json=other, headers=headers), 409)
    assert "Idempotency-Key" in body["detail"]


def test_same_entry_twice_without_key_is_409(filer_client: httpx.Client) -> None:
    filing = sample_filing("fda-frozen-shrimp")
    assert filer_client.post("/api/v1/entries", json=filing).status_code == 202
    body = _problem(filer_client.post("/api/v1/entries", json=filing), 409)
    assert filing["entry_number"] in body["detail"]


def test_calls_without_a_valid_token_are_401(client: httpx.Client) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic eDp5"}):
        response = client.get("/api/v1/entries", headers=headers)
        body = _problem(response, 401)
        assert "not-a-jwt" not in json.dumps(body)
    response = client.post("/api/v1/entries", json=sample_filing("fda-frozen-shrimp"))
    _problem(response, 401)


def test_a_filer_never_sees_another_filers_entries(
    base_url: str, token_for: Callable[..., str]
) -> None:
    abc = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token_for('ABC')}"})
    xyz = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token_for('XYZ')}"})
    with abc, xyz:
        filing = sample_filing("fda-frozen-shrimp")
        assert abc.post("/api/v1/entries", json=filing).status_code == 202
        _problem(xyz.get(f"/api/v1/entries/{filing['entry_number']}"), 404)
        assert xyz.get("/api/v1/entries").json()["total"] == 0
        assert abc.get("/api/v1/entries").json()["total"] == 1
        # Filing in someone else's name is refused outright.
        _problem(xyz.post("/api/v1/entries", json=sample_filing("aphis-lacey-oak")), 403)
        pga = sample_text("aphis-lacey-oak")
        response = xyz.post(
            f"/api/v1/entries/{filing['entry_number']}/pga",
            content=pga,
            headers={"Content-Type": "text/plain"},
        )
        _problem(response, 404)


def test_an_agency_sees_only_its_own_pga_lines(
    base_url: str, token_for: Callable[..., str], filer_client: httpx.Client
) -> None:
    filing = sample_filing("vehicle-epa-nhtsa")
    assert filer_client.post("/api/v1/entries", json=filing).status_code == 202
    other = sample_filing("fda-frozen-shrimp", serial=7654321)
    assert filer_client.post("/api/v1/entries", json=other).status_code == 202
    headers = {"Authorization": f"Bearer {token_for(agency='EPA')}"}
    with httpx.Client(base_url=base_url, headers=headers) as epa:
        page = epa.get("/api/v1/entries").json()
        assert [item["entry_number"] for item in page["items"]] == [filing["entry_number"]]
        entry = epa.get(f"/api/v1/entries/{filing['entry_number']}").json()
        agencies = {p["agency_code"] for line in entry["lines"] for p in line["pga_lines"]}
        assert agencies == {"EPA"}
        assert [row["agency_code"] for row in entry["dispatch"]] == ["EPA"]
        _problem(epa.get(f"/api/v1/entries/{other['entry_number']}"), 404)
        _problem(epa.post("/api/v1/entries", json=sample_filing("aphis-lacey-oak")), 403)


def test_list_is_paged_and_filtered(filer_client: httpx.Client) -> None:
    numbers = []
    for serial in range(1000010, 1000015):
        filing = sample_filing("aphis-lacey-oak", serial=serial)
        assert filer_client.post("/api/v1/entries", json=filing).status_code == 202
        numbers.append(filing["entry_number"])
    page = filer_client.get("/api/v1/entries", params={"limit": 2}).json()
    assert page["total"] == 5
    assert [i["entry_number"] for i in page["items"]] == numbers[::-1][:2]
    assert page["next"].endswith("limit=2&offset=2")
    last = filer_client.get("/api/v1/entries", params={"limit": 2, "offset": 4}).json()
    assert [i["entry_number"] for i in last["items"]] == [numbers[0]] and last["next"] is None
    assert filer_client.get("/api/v1/entries", params={"status": "REJECTED"}).json()["total"] == 0
    future = filer_client.get(
        "/api/v1/entries", params={"created_from": "2999-01-01T00:00:00Z"}
    ).json()
    assert future["total"] == 0
    past = filer_client.get("/api/v1/entries", params={"created_to": "2999-01-01T00:00:00Z"})
    assert past.json()["total"] == 5
    _problem(filer_client.get("/api/v1/entries", params={"created_from": "yesterday"}), 400)
    _problem(filer_client.get("/api/v1/entries", params={"limit": 0}), 400)
    _problem(filer_client.get("/api/v1/entries", params={"colour": "red"}), 400)
