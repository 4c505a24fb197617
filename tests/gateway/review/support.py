"""Helpers for the review-page tests: staff users, a filed FDA entry with a PDF, sign-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from gateway.services import Services
from tests.pga_dis.api.conftest import PDF, raw_headers
from tests.support.filings import sample_filing

PASSWORD = "correct horse battery"
FDA_USER, EPA_USER, CBP_USER = "fda.alice", "epa.bob", "cbp.carol"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Scenario:
    fda_entry: str
    epa_entry: str
    fda_document: str


def add_staff(services: Services) -> None:
    services.identity.set_staff_user(FDA_USER, PASSWORD, agency_code="FDA")
    services.identity.set_staff_user(EPA_USER, PASSWORD, agency_code="EPA")
    services.identity.set_staff_user(CBP_USER, PASSWORD, agency_code="CBP", role="coordinator")


def file_entries(filer: httpx.Client) -> Scenario:
    """As filer ABC: the FDA frozen-shrimp entry with a PDF for FDA, and an EPA/NHTSA entry."""
    fda = sample_filing("fda-frozen-shrimp", serial=7000001)
    epa = sample_filing("vehicle-epa-nhtsa", serial=7000002)
    for filing in (fda, epa):
        response = filer.post("/api/v1/entries", json=filing)
        assert response.status_code == 202, response.text
    upload = filer.post(
        "/api/v1/documents",
        content=PDF,
        headers=raw_headers(fda["entry_number"], **{"X-File-Name": "shrimp-invoice.pdf"}),
    )
    assert upload.status_code == 201, upload.text
    return Scenario(fda["entry_number"], epa["entry_number"], upload.json()["id"])


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "page has no CSRF field"
    return found.group(1)


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/review/login")
    return client.post(
        "/review/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
    )


@contextmanager
def staff_client(base_url: str, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = sign_in(client, username)
        assert response.status_code == 303, response.text
        yield client
