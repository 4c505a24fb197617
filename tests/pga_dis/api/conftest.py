"""Live-gateway fixtures for the document tests (the REST suite's, reused), plus helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from gateway.db.models import DocumentRow
from gateway.services import Services
from tests.gateway.api.conftest import (  # noqa: F401
    base_url,
    client,
    filer_client,
    services,
    settings,
    token_for,
)
from tests.support.filings import sample_filing

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TIFF = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 64


@pytest.fixture
def fda_entry(filer_client: httpx.Client) -> dict[str, Any]:  # noqa: F811
    """An accepted entry of filer ABC with FDA lines (the frozen-shrimp sample)."""
    filing = sample_filing("fda-frozen-shrimp", serial=4400001)
    response = filer_client.post("/api/v1/entries", json=filing)
    assert response.status_code == 202, response.text
    return filing


@pytest.fixture
def nothing_stored(services: Services) -> Callable[[], None]:  # noqa: F811
    def check() -> None:
        assert services.documents.store.list_keys("documents/") == []
        with services.database.read() as session:
            assert session.scalar(select(func.count()).select_from(DocumentRow)) == 0

    return check


def raw_headers(entry_number: str, **extra: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/pdf",
        "X-Entry-Number": entry_number,
        "X-Agencies": "FDA",
        "X-Label": "COMMERCIAL_INVOICE",
        "X-Document-Id": "DOC-1",
        "X-File-Name": "invoice.pdf",
    }
    headers.update(extra)
    return headers
