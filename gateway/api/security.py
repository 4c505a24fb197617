"""Bearer token check named by the spec's ``x-bearerInfoFunc``."""

from __future__ import annotations

from typing import Any

from gateway.api.context import SERVICES_SCOPE_KEY


def bearer_info(token: str, request: Any = None) -> dict[str, Any]:
    """Verify the JWT; ``AuthenticationFailed`` (401 problem+json) on any defect."""
    verifier = request.scope[SERVICES_SCOPE_KEY].verifier
    principal = verifier.verify(token)
    return {"sub": principal.subject, "scope": sorted(principal.scopes), "principal": principal}
