"""GET /entries/{n}/status (JSON and SO70 lines) and /history over real HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from gateway import so70
from tests.support.filings import sample_filing, sample_text

T1 = "2026-03-01T08:00:00Z"
T2 = "2026-03-01T09:30:00Z"
T3 = "2026-03-01T11:45:00Z"
TEXT = {"Content-Type": "text/plain"}


def _submit(client: httpx.Client, serial: int = 1234567) -> str:
    filing = sample_filing("vehicle-epa-nhtsa", serial=serial)
    response = client.post("/api/v1/entries", json=filing)
    assert response.status_code == 202, response.text
    number: str = filing["entry_number"]
    return number


@pytest.fixture
def vehicle_entry(filer_client: httpx.Client) -> str:
    return _submit(filer_client)


@pytest.fixture
def agency(base_url: str, token_for: Callable[..., str]) -> Iterator[Callable[[str], httpx.Client]]:
    opened: list[httpx.Client] = []

    def open_client(code: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token_for(agency=code)}"}
        client = httpx.Client(base_url=base_url, headers=headers, timeout=30)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()


def _answer(client: httpx.Client, number: str, status: str, reason: str | None, when: str) -> None:
    item = {
        "cbp_line_number": 1,
        "pga_line_number": 1,
        "status_code": status,
        "reason_code": reason,
        "action_time": when,
    }
    response = client.post(f"/api/v1/entries/{number}/dispositions", json={"dispositions": [item]})
    assert response.status_code == 200, response.text
    assert response.json()["recorded"] == 1


def _status(client: httpx.Client, number: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/entries/{number}/status")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def _listed(client: httpx.Client, status: str) -> list[str]:
    page = client.get("/api/v1/entries", params={"status": status}).json()
    return [item["entry_number"] for item in page["items"]]


def test_status_goes_pending_hold_may_proceed(
    filer_client: httpx.Client, vehicle_entry: str, agency: Callable[[str], httpx.Client]
) -> None:
    epa, nht = agency("EPA"), agency("NHT")
    first = _status(filer_client, vehicle_entry)
    assert (first["status"], first["scope"], first["version"]) == ("PENDING", "entry", 1)
    assert {(r["agency_code"], r["status_code"]) for r in first["reasons"]} == {
        ("EPA", None),
        ("NHT", None),
    }
    assert first["links"]["catair"].endswith("/status?format=catair")

    _answer(epa, vehicle_entry, "07", "22", T1)
    after_epa = _status(filer_client, vehicle_entry)
    assert after_epa["status"] == "PENDING"
    assert {a["agency_code"]: a["status"] for a in after_epa["agencies"]} == {
        "EPA": "MAY_PROCEED",
        "NHT": "PENDING",
    }
    assert _listed(filer_client, "PENDING") == [vehicle_entry]

    _answer(nht, vehicle_entry, "02", "25", T2)
    held = _status(filer_client, vehicle_entry)
    assert held["status"] == "HOLD"
    [reason] = held["reasons"]
    assert (reason["agency_code"], reason["program_code"]) == ("NHT", "MVS")
    assert (reason["status_code"], reason["status_text"]) == ("02", "HOLD INTACT")
    assert (reason["reason_code"], reason["reason_text"]) == (
        "25",
        "Additional verification needed",
    )
    assert reason["action_time"].startswith("2026-03-01T09:30:00")
    assert held["explanation"] == "On hold: NHT holds 1 PGA line (02 HOLD INTACT)."
    assert _listed(filer_client, "HOLD") == [vehicle_entry]

    _answer(nht, vehicle_entry, "07", "23", T3)
    released = _status(filer_client, vehicle_entry)
    assert released["status"] == "MAY_PROCEED"
    assert released["reasons"] and {r["status_code"] for r in released["reasons"]} == {"07"}
    assert _listed(filer_client, "MAY_PROCEED") == [vehicle_entry]
    assert _listed(filer_client, "HOLD") == []

    entry = filer_client.get(f"/api/v1/entries/{vehicle_entry}").json()
    assert entry["status"] == "MAY_PROCEED"
    assert entry["coordinated"]["status"] == "MAY_PROCEED"
    assert [line["status"] for line in entry["coordinated"]["lines"]] == [
        "MAY_PROCEED",
        "MAY_PROCEED",
    ]


def test_out_of_order_arrival_never_changes_the_outcome(
    filer_client: httpx.Client, agency: Callable[[str], httpx.Client]
) -> None:
    in_order, out_of_order = _submit(filer_client, 2000001), _submit(filer_client, 2000002)
    epa, nht = agency("EPA"), agency("NHT")
    for number in (in_order, out_of_order):
        _answer(epa, number, "07", "22", T1)
    # in order: the release (T1), then the newer hold (T3)
    _answer(nht, in_order, "07", "22", T1)
    _answer(nht, in_order, "02", "11", T3)
    # out of order: the newer hold first, then the older release arrives late
    _answer(nht, out_of_order, "02", "11", T3)
    _answer(nht, out_of_order, "07", "22", T1)

    first, second = _status(filer_client, in_order), _status(filer_client, out_of_order)
    assert first["status"] == second["status"] == "HOLD"
    for key in ("explanation", "reasons", "agencies", "lines"):
        assert first[key] == second[key]
    assert _listed(filer_client, "HOLD") == [out_of_order, in_order]
    texts = [
        filer_client.get(f"/api/v1/entries/{n}/status", params={"format": "catair"}).text
        for n in (in_order, out_of_order)
    ]
    assert texts[0] == texts[1]


def test_catair_format_gives_so70_lines(
    filer_client: httpx.Client, vehicle_entry: str, agency: Callable[[str], httpx.Client]
) -> None:
    _answer(agency("NHT"), vehicle_entry, "02", "25", T2)
    _answer(agency("EPA"), vehicle_entry, "07", "22", T1)
    response = filer_client.get(
        f"/api/v1/entries/{vehicle_entry}/status", params={"format": "catair"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    rows = response.text.splitlines()
    assert [len(row) for row in rows] == [80, 80, 80]
    assert rows[0].startswith("SO70EPAVNE030126080007MAY PROCEED")
    assert rows[1].startswith("SO70NHTMVS030126093002HOLD INTACT")
    assert rows[1][50:56] == "020125"  # entry-line 02, PGA-line 01, reason 25
    assert rows[1][56:72] == "0010100100101001"
    assert rows[1][77] == "Y"
    summary = so70.parse_record(rows[2])
    assert (summary.agency_code, summary.entry_status, summary.text) == ("", "02", "HOLD INTACT")
    bad = filer_client.get(f"/api/v1/entries/{vehicle_entry}/status", params={"format": "xml"})
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")


def test_history_lists_who_what_when(
    filer_client: httpx.Client, vehicle_entry: str, agency: Callable[[str], httpx.Client]
) -> None:
    _answer(agency("EPA"), vehicle_entry, "07", "22", T1)
    _answer(agency("NHT"), vehicle_entry, "02", "25", T2)
    response = filer_client.get(f"/api/v1/entries/{vehicle_entry}/history")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    kinds = [item["kind"] for item in items]
    assert kinds[0] == "entry.accepted"
    assert kinds.count("disposition.received") == 2
    assert kinds.count("dispositions.recorded") == 2
    moments = [dt.datetime.fromisoformat(item["at"]) for item in items]
    assert moments == sorted(moments)
    received = [item for item in items if item["kind"] == "disposition.received"]
    nht = next(item for item in received if item["agency_code"] == "NHT")
    assert nht["actor"].startswith("agency:")
    assert nht["details"]["status_code"] == "02"
    assert nht["details"]["reason_text"] == "Additional verification needed"
    assert nht["details"]["action_time"].startswith("2026-03-01T09:30:00")
    assert nht["details"]["received_at"] is not None
    assert "NHT 02 HOLD INTACT on CBP line 1 PGA line 1" in nht["summary"]
    accepted = items[0]
    assert accepted["actor"] == "filer:ABC" and accepted["details"]["agencies"] == ["EPA", "NHT"]


def test_invisible_entries_are_not_found(
    base_url: str,
    token_for: Callable[..., str],
    vehicle_entry: str,
    agency: Callable[[str], httpx.Client],
) -> None:
    headers = {"Authorization": f"Bearer {token_for(filer='XYZ')}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as other:
        for path in ("status", "status?format=catair", "history"):
            response = other.get(f"/api/v1/entries/{vehicle_entry}/{path}")
            assert response.status_code == 404, path
            assert response.headers["content-type"].startswith("application/problem+json")
    assert agency("FDA").get(f"/api/v1/entries/{vehicle_entry}/status").status_code == 404
    with httpx.Client(base_url=base_url, timeout=30) as anonymous:
        assert anonymous.get(f"/api/v1/entries/{vehicle_entry}/status").status_code == 401


def test_an_agency_sees_only_its_own_lines(
    filer_client: httpx.Client,
    vehicle_entry: str,
    agency: Callable[[str], httpx.Client],
    token_for: Callable[..., str],
    base_url: str,
) -> None:
    epa, nht = agency("EPA"), agency("NHT")
    _answer(epa, vehicle_entry, "07", "22", T1)
    _answer(nht, vehicle_entry, "02", "25", T2)
    mine = _status(epa, vehicle_entry)
    assert (mine["status"], mine["scope"]) == ("MAY_PROCEED", "agency:EPA")
    assert {line["agency_code"] for line in mine["lines"]} == {"EPA"}
    assert [a["agency_code"] for a in mine["agencies"]] == ["EPA"]
    catair = epa.get(f"/api/v1/entries/{vehicle_entry}/status", params={"format": "catair"})
    assert all(row[4:7] in ("EPA", "   ") for row in catair.text.splitlines())
    history = epa.get(f"/api/v1/entries/{vehicle_entry}/history").json()["items"]
    assert {item["agency_code"] for item in history} <= {"EPA", None}
    accepted = next(item for item in history if item["kind"] == "entry.accepted")
    assert accepted["details"]["agencies"] == ["EPA"]
    entry = epa.get(f"/api/v1/entries/{vehicle_entry}").json()
    assert entry["coordinated"]["status"] == "MAY_PROCEED"
    # the filer and an administrator see the whole entry
    assert _status(filer_client, vehicle_entry)["status"] == "HOLD"
    headers = {"Authorization": f"Bearer {token_for(admin=True)}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as admin:
        assert _status(admin, vehicle_entry)["status"] == "HOLD"


def test_an_amended_line_awaits_a_new_answer(
    filer_client: httpx.Client, vehicle_entry: str, agency: Callable[[str], httpx.Client]
) -> None:
    epa, nht = agency("EPA"), agency("NHT")
    _answer(epa, vehicle_entry, "07", "22", T1)
    _answer(nht, vehicle_entry, "07", "22", T1)
    assert _status(filer_client, vehicle_entry)["status"] == "MAY_PROCEED"
    # Change the importer's name in EPA's PG19 only; NHTSA's line stays as it was.
    text = sample_text("vehicle-epa-nhtsa").replace("POWERSPORTS LLC", "POWERSPORTS INC", 1)
    assert text != sample_text("vehicle-epa-nhtsa")
    url = f"/api/v1/entries/{vehicle_entry}/pga"
    response = filer_client.post(url, content=text, headers=TEXT)
    assert response.status_code == 202, response.text
    amended = _status(filer_client, vehicle_entry)
    assert amended["version"] == 2
    assert amended["status"] == "PENDING"
    lines = {line["agency_code"]: line for line in amended["lines"]}
    assert (lines["EPA"]["status"], lines["EPA"]["reset_answers"]) == ("PENDING", 1)
    assert lines["EPA"]["changed_in_version"] == 2
    assert (lines["NHT"]["status"], lines["NHT"]["changed_in_version"]) == ("MAY_PROCEED", 1)
    _answer(epa, vehicle_entry, "07", "22", T2)
    assert _status(filer_client, vehicle_entry)["status"] == "MAY_PROCEED"


def test_concurrent_answers_leave_the_stored_status_right(
    filer_client: httpx.Client, agency: Callable[[str], httpx.Client]
) -> None:
    # EPA and NHTSA answer the same entries at the same moment; each store re-reads the
    # other's committed answers under the entry lock, so the list filter sees MAY_PROCEED.
    numbers = [_submit(filer_client, 3000000 + i) for i in range(6)]
    epa, nht = agency("EPA"), agency("NHT")
    with ThreadPoolExecutor(max_workers=2) as pool:
        for number in numbers:
            futures = [
                pool.submit(_answer, client, number, "07", "22", T1) for client in (epa, nht)
            ]
            for future in futures:
                future.result()
    assert sorted(_listed(filer_client, "MAY_PROCEED")) == sorted(numbers)


def test_an_agencys_list_shows_its_own_status_not_another_agencys_hold(
    base_url: str, token_for: Callable[..., str], filer_client: httpx.Client
) -> None:
    filing = sample_filing("vehicle-epa-nhtsa", serial=8800001)
    assert filer_client.post("/api/v1/entries", json=filing).status_code == 202
    url = f"{base_url}/api/v1/entries/{filing['entry_number']}/dispositions"
    answers = {"EPA": ("07", "22"), "NHT": ("02", "11")}
    clients = {}
    for agency, (status, reason) in answers.items():
        headers = {"Authorization": f"Bearer {token_for(agency=agency)}"}
        clients[agency] = headers
        body = {
            "dispositions": [
                {
                    "cbp_line_number": 1,
                    "pga_line_number": 1,
                    "status_code": status,
                    "reason_code": reason,
                    "action_time": "2026-11-21T10:00:00Z",
                }
            ]
        }
        assert httpx.post(url, json=body, headers=headers).status_code == 200
    listing = f"{base_url}/api/v1/entries"
    epa = httpx.get(listing, headers=clients["EPA"]).json()
    assert [(i["entry_number"], i["status"]) for i in epa["items"]] == [
        (filing["entry_number"], "MAY_PROCEED")
    ]
    assert httpx.get(listing, params={"status": "HOLD"}, headers=clients["EPA"]).json() == {
        "items": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
        "next": None,
    }
    nht = httpx.get(listing, params={"status": "HOLD"}, headers=clients["NHT"]).json()
    assert [i["status"] for i in nht["items"]] == ["HOLD"] and nht["total"] == 1
    assert filer_client.get("/api/v1/entries").json()["items"][0]["status"] == "HOLD"
