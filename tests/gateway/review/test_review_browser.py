"""The review pages in headless Chromium (Debian's, driven by Playwright): the "done when" flow.

One gateway and one browser serve the whole module. The screenshots in docs/screenshots/ (shown
in the README) are written here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.services import Services, build_services
from tests.gateway.review.support import (
    EPA_USER,
    FDA_USER,
    PASSWORD,
    Scenario,
    add_staff,
    file_entries,
)
from tests.support.databases import fresh_database_url
from tests.support.live_server import live_server

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")


@pytest.fixture(scope="module")
def gateway(
    test_database_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Services, str]]:
    directory = tmp_path_factory.mktemp("review-browser")
    with fresh_database_url(directory) as url:
        settings = Settings(
            var_dir=directory, database_url=url, identity_file=directory / "identity.json"
        )
        services = build_services(settings)
        try:
            with live_server(create_app(services)) as base:
                yield services, base
        finally:
            services.close()


@pytest.fixture(scope="module")
def filer(gateway: tuple[Services, str]) -> Iterator[httpx.Client]:
    services, base = gateway
    client_id, _ = services.identity.ensure_client("filer", "ABC")
    record = services.identity.find_client(client_id)
    assert record is not None
    token = services.issuer.issue(record)["access_token"]
    with httpx.Client(
        base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


@pytest.fixture(scope="module")
def scenario(gateway: tuple[Services, str], filer: httpx.Client) -> Scenario:
    add_staff(gateway[0])
    return file_entries(filer)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _signed_in(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base)
    page = context.new_page()
    page.goto("/review/queue")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/review/queue")
    return page


def test_fda_user_holds_a_line_and_the_filer_sees_it(
    browser: Any, gateway: tuple[Services, str], scenario: Scenario, filer: httpx.Client
) -> None:
    _, base = gateway
    page = _signed_in(browser, base, FDA_USER)
    try:
        sync_api.expect(page.get_by_role("link", name=scenario.fda_entry)).to_be_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "review-queue.png"))

        page.get_by_role("link", name="Documents").click()
        page.get_by_role("link", name="shrimp-invoice.pdf").click()
        sync_api.expect(page.locator("#doc-view")).to_be_attached()
        content = page.request.get(f"/review/documents/{scenario.fda_document}/content")
        assert content.status == 200
        assert content.headers["content-type"] == "application/pdf"
        assert content.body().startswith(b"%PDF")

        page.get_by_role("link", name=f"Entry {scenario.fda_entry}").click()
        page.get_by_label("PGA line", exact=True).first.select_option("1-1")
        page.get_by_label("Status", exact=True).select_option("02")
        page.get_by_label("Reason").select_option("11")
        page.get_by_label("Remarks").fill("Hold intact: sample for lab analysis")
        page.get_by_role("button", name="Record disposition").click()
        sync_api.expect(page.get_by_role("status")).to_contain_text("Recorded status 02")
        sync_api.expect(page.locator("#h-coord")).to_contain_text("HOLD")
        page.screenshot(path=str(SCREENSHOTS / "review-entry.png"))
    finally:
        page.context.close()

    status = filer.get(f"/api/v1/entries/{scenario.fda_entry}/status").json()
    assert status["status"] == "HOLD"
    fda_line = next(line for line in status["lines"] if line["agency_code"] == "FDA")
    assert (fda_line["status_code"], fda_line["reason_code"]) == ("02", "11")


def test_epa_user_cannot_see_fda_work(
    browser: Any, gateway: tuple[Services, str], scenario: Scenario
) -> None:
    _, base = gateway
    page = _signed_in(browser, base, EPA_USER)
    try:
        sync_api.expect(page.get_by_role("link", name=scenario.epa_entry)).to_be_visible()
        assert page.get_by_role("link", name=scenario.fda_entry).count() == 0
        page.get_by_role("link", name="Documents").click()
        assert page.get_by_role("link", name="shrimp-invoice.pdf").count() == 0
        response = page.goto(f"/review/entries/{scenario.fda_entry}")
        assert response is not None and response.status == 404
        response = page.goto(f"/review/documents/{scenario.fda_document}")
        assert response is not None and response.status == 404
        content = page.request.get(f"/review/documents/{scenario.fda_document}/content")
        assert content.status == 404
    finally:
        page.context.close()
