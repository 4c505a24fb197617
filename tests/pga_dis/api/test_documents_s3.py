"""Documents on an S3 store (a real S3 HTTP server, moto): agencies get short-lived presigned
URLs for documents naming them, nobody else does."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from gateway.config import Settings
from tests.pga_dis.api.conftest import PDF, raw_headers
from tests.pga_dis.conftest import TEST_BUCKET


@pytest.fixture
def settings(settings: Settings, s3_endpoint: str) -> Settings:
    return replace(
        settings, storage_url=f"s3://{TEST_BUCKET}/docs-api", storage_endpoint_url=s3_endpoint
    )


def test_presigned_download_for_the_named_agency_only(
    filer_client: httpx.Client,
    fda_entry: dict[str, Any],
    base_url: str,
    token_for: Callable[..., str],
) -> None:
    uploaded = filer_client.post(
        "/api/v1/documents", content=PDF, headers=raw_headers(fda_entry["entry_number"])
    )
    assert uploaded.status_code == 201, uploaded.text
    doc = uploaded.json()
    fda = {"Authorization": f"Bearer {token_for(agency='FDA')}"}
    epa = {"Authorization": f"Bearer {token_for(agency='EPA')}"}
    url = f"{base_url}/api/v1/documents/{doc['id']}/content"
    signed = httpx.get(url, params={"presigned": "true"}, headers=fda)
    assert signed.status_code == 200, signed.text
    assert signed.json()["expires_in"] == 300
    fetched = httpx.get(signed.json()["url"])  # straight from S3, no gateway token
    assert fetched.status_code == 200
    assert hashlib.sha256(fetched.content).hexdigest() == doc["sha256"]
    assert httpx.get(url, params={"presigned": "true"}, headers=epa).status_code == 404
    streamed = httpx.get(url, headers=fda)
    assert streamed.status_code == 200 and streamed.content == PDF
