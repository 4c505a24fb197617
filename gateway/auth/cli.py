"""``pga-gateway token``: print a bearer token for an embedded client.

Mints directly with the identity file's private key, so it works whether or not the server is
running and never needs (or shows) a client secret. Only the token goes to stdout, so
``TOKEN=$(pga-gateway token --filer ABC)`` just works; everything else goes to stderr.
"""

from __future__ import annotations

import sys

from gateway.auth.identity import IdentityStore, client_id_for
from gateway.auth.principal import ClientKind
from gateway.auth.tokens import TokenIssuer
from gateway.config import load_settings
from gateway.errors import ConfigurationError, ValidationFailed

USAGE_ERROR = 2
FAILURE = 1


def token_command(filer: str | None, agency: str | None, admin: bool) -> int:
    chosen = [k for k, on in (("filer", filer), ("agency", agency), ("admin", admin)) if on]
    if len(chosen) != 1:
        return _fail("choose exactly one of --filer CODE, --agency CODE, --admin", USAGE_ERROR)
    kind: ClientKind = "filer" if filer else "agency" if agency else "admin"
    code = filer or agency or None
    try:
        client_id_for(kind, code)  # validate before touching any file
    except ValidationFailed as exc:
        return _fail(exc.detail, USAGE_ERROR)
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        return _fail(exc.detail, USAGE_ERROR)
    if settings.jwks_url:
        # The gateway then trusts only the external issuer; a local token would be refused.
        return _fail(
            "PGA_GATEWAY_JWKS_URL is set: tokens come from the external issuer", USAGE_ERROR
        )
    try:
        store = IdentityStore.load_or_create(settings.effective_identity_file)
        client_id, _secret = store.ensure_client(kind, code)
        # The new secret is deliberately dropped: this command never prints secrets.
        # Clients that need /oauth/token get one via IdentityStore.rotate_secret.
        client = store.find_client(client_id)
        assert client is not None
        token = TokenIssuer(store, settings).issue(client)["access_token"]
    except ConfigurationError as exc:
        return _fail(exc.detail, FAILURE)
    print(token)
    return 0


def _fail(message: str, code: int) -> int:
    print(f"pga-gateway token: {message}", file=sys.stderr)
    return code
