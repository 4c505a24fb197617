"""Live-gateway fixtures (the REST suite's, reused) for the review-page tests."""

from __future__ import annotations

import httpx
import pytest

from gateway.services import Services
from tests.gateway.api.conftest import (  # noqa: F401
    base_url,
    client,
    filer_client,
    services,
    settings,
    token_for,
)
from tests.gateway.review.support import Scenario, add_staff, file_entries


@pytest.fixture
def scenario(services: Services, filer_client: httpx.Client) -> Scenario:  # noqa: F811
    add_staff(services)
    return file_entries(filer_client)
