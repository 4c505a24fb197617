"""REST documents: upload (raw and multipart), isolation, content, review, versions, and
hostile uploads that must leave nothing in the store or the database."""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import httpx
from sqlalchemy import select

from gateway.db.models import EventRow, OutboxRow
from gateway.services import Services
from tests.pga_dis.api.conftest import PDF, TIFF, raw_headers
from tests.support.filings import sample_filing


def agency(base_url: str, token_for: Callable[..., str], code: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {token_for(agency=code)}"}
    )


def test_raw_upload_is_stored_routed_and_isolated(
    filer_client: httpx.Client,
    fda_entry: dict[str, Any],
    base_url: str,
    token_for: Callable[..., str],
    services: Services,
) -> None:
    number = fda_entry["entry_number"]
    response = filer_client.post("/api/v1/documents", content=PDF, headers=raw_headers(number))
    assert response.status_code == 201, response.text
    doc = response.json()
    assert doc["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert doc["size_bytes"] == len(PDF) and doc["media_type"] == "application/pdf"
    assert services.documents.store.list_keys("documents/") != []
    with services.database.read() as session:
        kinds = [(r.kind, r.agency_code) for r in session.scalars(select(OutboxRow))]
    assert ("document_notice", "FDA") in kinds
    with agency(base_url, token_for, "FDA") as fda, agency(base_url, token_for, "EPA") as epa:
        assert fda.get(f"/api/v1/documents/{doc['id']}").status_code == 200
        content = fda.get(f"/api/v1/documents/{doc['id']}/content")
        assert content.status_code == 200 and content.content == PDF
        assert epa.get(f"/api/v1/documents/{doc['id']}").status_code == 404
        assert epa.get(f"/api/v1/documents/{doc['id']}/content").status_code == 404
        assert epa.get("/api/v1/documents").json()["total"] == 0
        assert fda.get("/api/v1/documents").json()["total"] == 1
    xyz = {"Authorization": f"Bearer {token_for(filer='XYZ')}"}
    with httpx.Client(base_url=base_url, headers=xyz) as other:
        assert other.get(f"/api/v1/documents/{doc['id']}").status_code == 404
    # Same id, same bytes: replayed, nothing new stored.
    again = filer_client.post("/api/v1/documents", content=PDF, headers=raw_headers(number))
    assert again.status_code == 200 and again.json()["id"] == doc["id"]
    assert len(services.documents.store.list_keys("documents/")) == 1
    # Same id, other bytes: refused, nothing left behind.
    other_pdf = PDF + b"% changed\n"
    clash = filer_client.post("/api/v1/documents", content=other_pdf, headers=raw_headers(number))
    assert clash.status_code == 409, clash.text
    assert len(services.documents.store.list_keys("documents/")) == 1


def test_multipart_upload(
    filer_client: httpx.Client, fda_entry: dict[str, Any], services: Services
) -> None:
    meta = {
        "entry_number": fda_entry["entry_number"],
        "agencies": ["FDA"],
        "label": "COMMERCIAL_INVOICE",
        "document_id": "MP-1",
        "entry_line_numbers": [1],
    }
    response = filer_client.post(
        "/api/v1/documents",
        files=[
            ("metadata", (None, json.dumps(meta), "application/json")),
            ("file", ("invoice.pdf", PDF, "application/pdf")),
        ],
    )
    assert response.status_code == 201, response.text
    assert response.json()["entry_line_numbers"] == [1]
    assert response.json()["file_name"] == "invoice.pdf"


def test_review_flow_reaches_the_filer(
    filer_client: httpx.Client,
    fda_entry: dict[str, Any],
    base_url: str,
    token_for: Callable[..., str],
    services: Services,
) -> None:
    headers = raw_headers(fda_entry["entry_number"])
    doc = filer_client.post("/api/v1/documents", content=PDF, headers=headers).json()
    assert doc["review"]["DocumentReviewStatus"] == "PENDING"
    with agency(base_url, token_for, "FDA") as fda, agency(base_url, token_for, "EPA") as epa:
        bad = fda.post(f"/api/v1/documents/{doc['id']}/review", json={"status": "REJECTED"})
        assert bad.status_code == 422
        assert (
            epa.post(
                f"/api/v1/documents/{doc['id']}/review", json={"status": "ACCEPTED"}
            ).status_code
            == 404
        )
        ok = fda.post(
            f"/api/v1/documents/{doc['id']}/review",
            json={"status": "REJECTED", "reject_reason": "POOR_IMAGE_QUALITY", "comment": "blurry"},
        )
        assert ok.status_code == 200, ok.text
    assert (
        filer_client.post(
            f"/api/v1/documents/{doc['id']}/review", json={"status": "ACCEPTED"}
        ).status_code
        == 403
    )
    seen = filer_client.get(f"/api/v1/documents/{doc['id']}").json()["review"]
    assert seen["DocumentReviewStatus"] == "REJECTED"
    assert seen["DocumentRejectReason"] == "POOR_IMAGE_QUALITY"
    assert seen["DocumentReviewComment"] == "blurry"
    with services.database.read() as session:
        kinds = [e.kind for e in session.scalars(select(EventRow))]
    assert "document.reviewed" in kinds


def test_replace_keeps_old_version_and_delete_hides_from_agencies(
    filer_client: httpx.Client,
    fda_entry: dict[str, Any],
    base_url: str,
    token_for: Callable[..., str],
) -> None:
    number = fda_entry["entry_number"]
    first = filer_client.post("/api/v1/documents", content=PDF, headers=raw_headers(number)).json()
    v2_bytes = PDF + b"% v2\n"
    second = filer_client.post(
        "/api/v1/documents",
        content=v2_bytes,
        headers=raw_headers(number, **{"X-Action": "REPLACE"}),
    )
    assert second.status_code == 201, second.text
    assert second.json()["version"] == 2
    old = filer_client.get(f"/api/v1/documents/{first['id']}").json()
    assert old["state"] == "superseded" and len(old["versions"]) == 2
    listing = filer_client.get("/api/v1/documents").json()
    assert [d["version"] for d in listing["items"]] == [2]
    with agency(base_url, token_for, "FDA") as fda:
        assert fda.get(f"/api/v1/documents/{second.json()['id']}").status_code == 200
        assert filer_client.delete(f"/api/v1/documents/{second.json()['id']}").status_code == 200
        assert fda.get(f"/api/v1/documents/{second.json()['id']}").status_code == 404
        assert fda.get("/api/v1/documents").json()["total"] == 0
    kept = filer_client.get(f"/api/v1/documents/{second.json()['id']}").json()
    assert kept["state"] == "withdrawn"


def _problems(response: httpx.Response) -> str:
    return json.dumps(response.json())


def test_hostile_uploads_store_nothing(
    filer_client: httpx.Client,
    fda_entry: dict[str, Any],
    base_url: str,
    token_for: Callable[..., str],
    nothing_stored: Callable[[], None],
) -> None:
    number = fda_entry["entry_number"]
    cases = [
        (TIFF, raw_headers(number), 422, "the file name says PDF but the content is TIFF"),
        (b"", raw_headers(number), 422, "empty"),
        (PDF, raw_headers(number, **{"X-File-Name": "in&voice.pdf"}), 422, "forbids"),
        (PDF, raw_headers(number, **{"X-File-Name": "invoice  a.pdf"}), 422, "double spaces"),
        (PDF, raw_headers(number, **{"X-Agencies": "FDA,ZZZ"}), 422, "unknown agency code"),
        (PDF, raw_headers(number, **{"X-Label": "NOT_A_LABEL"}), 422, "not a label"),
        (PDF, raw_headers(number, **{"X-Entry-Line-Numbers": "9"}), 422, "has no line 9"),
        (b"hello world", raw_headers(number), 422, "not a recognised"),
    ]
    for body, headers, status, text in cases:
        response = filer_client.post("/api/v1/documents", content=body, headers=headers)
        assert response.status_code == status, (headers, response.text)
        assert text in _problems(response), response.text
    # Several problems at once.
    many = filer_client.post(
        "/api/v1/documents",
        content=TIFF,
        headers=raw_headers(number, **{"X-Agencies": "ZZZ", "X-File-Name": "a%b.pdf"}),
    )
    assert len(many.json()["errors"]) >= 3
    # Someone else's entry reads as a missing one.
    xyz = sample_filing("fda-frozen-shrimp", filer="XYZ", serial=4400002)
    xyz_token = token_for(filer="XYZ")
    assert (
        httpx.post(
            f"{base_url}/api/v1/entries", json=xyz, headers={"Authorization": f"Bearer {xyz_token}"}
        ).status_code
        == 202
    )
    theirs = filer_client.post(
        "/api/v1/documents", content=PDF, headers=raw_headers(xyz["entry_number"])
    )
    assert theirs.status_code == 422 and "does not exist for filer ABC" in theirs.text
    # An agency cannot upload.
    with agency(base_url, token_for, "FDA") as fda:
        assert (
            fda.post("/api/v1/documents", content=PDF, headers=raw_headers(number)).status_code
            == 403
        )
    nothing_stored()


def test_oversized_and_truncated_uploads_store_nothing(
    filer_client: httpx.Client,
    fda_entry: dict[str, Any],
    services: Services,
    base_url: str,
    token_for: Callable[..., str],
    nothing_stored: Callable[[], None],
) -> None:
    limit = services.settings.document_max_bytes
    number = fda_entry["entry_number"]
    big = PDF + b"0" * (limit + 100_000)
    declared = filer_client.post("/api/v1/documents", content=big, headers=raw_headers(number))
    assert declared.status_code == 413, declared.text

    def chunked() -> Any:  # no Content-Length: the limit is enforced while streaming
        yield PDF
        for _ in range(limit // 65536 + 4):
            yield b"0" * 65536

    streamed = filer_client.post(
        "/api/v1/documents", content=chunked(), headers=raw_headers(number)
    )
    assert streamed.status_code == 413, streamed.text
    # A multipart body cut off in the middle of the file part, then the client goes away.
    boundary = "XyZbOuNdArY"
    meta = json.dumps(
        {
            "entry_number": number,
            "agencies": ["FDA"],
            "label": "COMMERCIAL_INVOICE",
            "document_id": "CUT-1",
        }
    )
    head = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{meta}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + PDF
        + b"x" * 100_000
    )
    url = urlparse(base_url)
    token = token_for(filer="ABC")
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(
            (
                f"POST /api/v1/documents HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Authorization: Bearer {token}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {len(head) + 500_000}\r\n\r\n"
            ).encode()
            + head
        )
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(10)
        with contextlib.suppress(OSError):
            sock.recv(4096)
    # Truncated but complete HTTP body (no closing boundary).
    truncated = filer_client.post(
        "/api/v1/documents",
        content=head,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert truncated.status_code == 400 and "truncated" in truncated.text, truncated.text
    nothing_stored()


def test_presigned_urls_need_an_s3_store(
    filer_client: httpx.Client, fda_entry: dict[str, Any]
) -> None:
    doc = filer_client.post(
        "/api/v1/documents", content=PDF, headers=raw_headers(fda_entry["entry_number"])
    ).json()
    response = filer_client.get(
        f"/api/v1/documents/{doc['id']}/content", params={"presigned": "true"}
    )
    assert response.status_code == 400
    assert "only on an S3 object store" in response.json()["detail"]
