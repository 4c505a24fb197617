"""The documents-required loop: a 10 answer opens requests; a matching upload fulfils them,
the filer is told, and the entry view shows which requests are still open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.pga_dis.api.conftest import PDF, raw_headers


def _answer(status: str, reason: str, **extra: Any) -> dict[str, Any]:
    item = {
        "cbp_line_number": 1,
        "pga_line_number": 1,
        "status_code": status,
        "reason_code": reason,
        "action_time": "2026-11-21T10:00:00Z",
        **extra,
    }
    return {"dispositions": [item]}


def test_a_documents_required_answer_is_fulfilled_by_a_matching_upload(
    base_url: str,
    token_for: Callable[..., str],
    filer_client: httpx.Client,
    fda_entry: dict[str, Any],
) -> None:
    number = fda_entry["entry_number"]
    fda = {"Authorization": f"Bearer {token_for(agency='FDA')}"}
    asked = _answer(
        "10", "90", remark="send the commercial invoice", requested_documents=["COMMERCIAL_INVOICE"]
    )
    posted = httpx.post(f"{base_url}/api/v1/entries/{number}/dispositions", json=asked, headers=fda)
    assert posted.status_code == 200, posted.text
    [request] = filer_client.get(f"/api/v1/entries/{number}").json()["document_requests"]
    assert (request["agency_code"], request["label_code"], request["state"]) == (
        "FDA",
        "COMMERCIAL_INVOICE",
        "open",
    )
    assert request["remark"] == "send the commercial invoice"
    assert filer_client.get(f"/api/v1/entries/{number}/status").json()["status"] == "HOLD"

    uploaded = filer_client.post("/api/v1/documents", content=PDF, headers=raw_headers(number))
    assert uploaded.status_code == 201, uploaded.text
    [request] = filer_client.get(f"/api/v1/entries/{number}").json()["document_requests"]
    assert request["state"] == "fulfilled" and request["document"] == uploaded.json()["id"]
    kinds = [e["kind"] for e in filer_client.get("/api/v1/events").json()["items"]]
    assert "document.request_fulfilled" in kinds


def test_a_document_for_another_agency_or_label_leaves_the_request_open(
    base_url: str,
    token_for: Callable[..., str],
    filer_client: httpx.Client,
    fda_entry: dict[str, Any],
) -> None:
    number = fda_entry["entry_number"]
    fda = {"Authorization": f"Bearer {token_for(agency='FDA')}"}
    asked = _answer("10", "90", requested_documents=["CERTIFICATE_OF_ORIGIN"])
    assert (
        httpx.post(
            f"{base_url}/api/v1/entries/{number}/dispositions", json=asked, headers=fda
        ).status_code
        == 200
    )
    other_label = filer_client.post("/api/v1/documents", content=PDF, headers=raw_headers(number))
    assert other_label.status_code == 201, other_label.text
    [request] = filer_client.get(f"/api/v1/entries/{number}").json()["document_requests"]
    assert request["state"] == "open"


def test_only_a_documents_required_answer_may_request_documents(
    base_url: str, token_for: Callable[..., str], fda_entry: dict[str, Any]
) -> None:
    fda = {"Authorization": f"Bearer {token_for(agency='FDA')}"}
    url = f"{base_url}/api/v1/entries/{fda_entry['entry_number']}/dispositions"
    wrong = _answer("07", "22", requested_documents=["COMMERCIAL_INVOICE"])
    response = httpx.post(url, json=wrong, headers=fda)
    assert response.status_code == 422
    assert "only a 10 DOCUMENTS REQUIRED answer" in response.text
