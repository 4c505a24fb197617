"""A real, minimal OpenID Connect provider for tests (authorization code flow, RS256).

Served on 127.0.0.1 by ``gateway.background_server.BackgroundServer``::

    with OidcProvider("gateway", "s3cret") as provider:
        provider.redirect_uris.add(gateway_url + "/review/oidc/callback")
        provider.user = {"sub": "u1", "preferred_username": "alice", "pga_agency": "FDA"}

Endpoints: ``/.well-known/openid-configuration`` (issuer = its own base URL), ``/authorize``
(checks client_id, redirect_uri, response_type=code and the ``openid`` scope, remembers state,
nonce and the PKCE challenge if any, then answers at once with a 302 to
``redirect_uri?code=...&state=...`` for ``provider.user`` -- there is no login form),
``/token`` (``authorization_code`` grant; the client authenticates with
``client_secret_basic`` or ``client_secret_post``; codes are single-use, expire, and are bound
to client and redirect URI; answers an access token and an RS256 ID token), ``/jwks`` and
``/userinfo`` (Bearer access token).

Knobs for negative tests, read when the token is issued: ``id_token_mode`` (``valid``,
``foreign_key`` = signed with another key under the published ``kid``, ``foreign_kid`` = another
key and ``kid``, ``tampered`` = a claim changed after signing, ``none`` = unsigned ``alg=none``,
``hs256`` = HMAC with the client secret), ``audience``, ``issuer``, ``nonce`` (override),
``id_token_lifetime`` (seconds; negative = already expired), ``issue_id_token`` and
``extra_claims`` (added to, or replacing, the ID token's claims).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from gateway.background_server import BackgroundServer

ID_TOKEN_MODES = ("valid", "foreign_key", "foreign_kid", "tampered", "none", "hs256")
CODE_TTL_SECONDS = 60


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    claims: dict[str, Any]
    code_challenge: str | None
    code_challenge_method: str | None
    issued: float
    used: bool = False


@dataclass
class AuthorizeRecord:
    """What one ``/authorize`` request asked for (for assertions)."""

    params: dict[str, str]


@dataclass
class TokenRecord:
    """One ``/token`` request: how the client authenticated and what was answered."""

    auth_method: str | None
    params: dict[str, str]
    status: int
    error: str | None = None
    id_token: str | None = None


@dataclass
class OidcProvider:
    client_id: str
    client_secret: str
    redirect_uris: set[str] = field(default_factory=set)
    user: dict[str, Any] = field(default_factory=dict)
    port: int = 0  # 0 = any free loopback port
    # Knobs (see the module docstring).
    id_token_mode: str = "valid"
    audience: str | None = None
    issuer_override: str | None = None
    nonce_override: str | None = None
    id_token_lifetime: int = 300
    issue_id_token: bool = True
    extra_claims: dict[str, Any] = field(default_factory=dict)
    # Records of what clients sent.
    authorize_requests: list[AuthorizeRecord] = field(default_factory=list)
    token_requests: list[TokenRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})
        self.issuer = ""
        self._grants: dict[str, _Grant] = {}
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server: BackgroundServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery, methods=["GET"]),
                Route("/authorize", self.authorize, methods=["GET"]),
                Route("/token", self.token, methods=["POST"]),
                Route("/jwks", self.jwks, methods=["GET"]),
                Route("/userinfo", self.userinfo, methods=["GET", "POST"]),
            ]
        )

    def __enter__(self) -> OidcProvider:
        self._server = BackgroundServer(self.app(), port=self.port)
        self.issuer = self._server.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    # -- endpoints ---------------------------------------------------------------------------

    async def discovery(self, request: Request) -> Response:
        base = self.issuer
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": base + "/authorize",
                "token_endpoint": base + "/token",
                "jwks_uri": base + "/jwks",
                "userinfo_endpoint": base + "/userinfo",
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "grant_types_supported": ["authorization_code"],
                "scopes_supported": ["openid", "profile", "email"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "code_challenge_methods_supported": ["S256", "plain"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        self.authorize_requests.append(AuthorizeRecord(params))
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        # Unknown client or unregistered redirect URI: never redirect (RFC 6749 4.1.2.1).
        if client_id != self.client_id:
            return _error(400, "invalid_client", "unknown client_id")
        if redirect_uri not in self.redirect_uris:
            return _error(400, "invalid_request", "redirect_uri is not registered")
        state = params.get("state")
        if params.get("response_type") != "code":
            return _redirect_error(redirect_uri, state, "unsupported_response_type")
        scope = params.get("scope", "")
        if "openid" not in scope.split():
            return _redirect_error(redirect_uri, state, "invalid_scope")
        method = params.get("code_challenge_method")
        if params.get("code_challenge") and method not in (None, "S256", "plain"):
            return _redirect_error(redirect_uri, state, "invalid_request")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(
                client_id=client_id,
                redirect_uri=redirect_uri,
                scope=scope,
                nonce=params.get("nonce"),
                claims=dict(self.user),
                code_challenge=params.get("code_challenge"),
                code_challenge_method=method or ("plain" if params.get("code_challenge") else None),
                issued=time.time(),
            )
        answer = {"code": code}
        if state is not None:
            answer["state"] = state
        return RedirectResponse(_with_query(redirect_uri, answer), status_code=302)

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        record = TokenRecord(auth_method=None, params=form, status=200)
        self.token_requests.append(record)
        response = self._token(request, form, record)
        record.status = response.status_code
        return response

    def _token(self, request: Request, form: dict[str, str], record: TokenRecord) -> Response:
        client_id, secret, method = _client_credentials(request, form)
        record.auth_method = method
        if (
            method is None
            or client_id != self.client_id
            or not secrets.compare_digest(secret or "", self.client_secret)
        ):
            record.error = "invalid_client"
            return _error(
                401,
                "invalid_client",
                "client authentication failed",
                {"WWW-Authenticate": 'Basic realm="token"'},
            )
        if form.get("grant_type") != "authorization_code":
            record.error = "unsupported_grant_type"
            return _error(400, "unsupported_grant_type", "only authorization_code")
        code = form.get("code", "")
        with self._lock:
            grant = self._grants.get(code)
            replayed = grant is not None and grant.used
            if grant is not None:
                grant.used = True  # single use, whatever happens next
            if replayed:
                # RFC 6749 4.1.2: a reused code revokes what was issued from it.
                self._access_tokens = {
                    token: info
                    for token, info in self._access_tokens.items()
                    if info.get("_code") != code
                }
        if grant is None or replayed:
            record.error = "invalid_grant"
            return _error(400, "invalid_grant", "unknown or already used code")
        if time.time() - grant.issued > CODE_TTL_SECONDS:
            record.error = "invalid_grant"
            return _error(400, "invalid_grant", "code expired")
        if grant.client_id != client_id or form.get("redirect_uri") != grant.redirect_uri:
            record.error = "invalid_grant"
            return _error(400, "invalid_grant", "code was issued to another client or URI")
        if grant.code_challenge is not None and not _pkce_ok(grant, form.get("code_verifier")):
            record.error = "invalid_grant"
            return _error(400, "invalid_grant", "PKCE verification failed")
        access_token = secrets.token_urlsafe(32)
        with self._lock:
            self._access_tokens[access_token] = {**grant.claims, "_code": code}
        body: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": grant.scope,
        }
        if self.issue_id_token:
            body["id_token"] = record.id_token = self.id_token(grant)
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def userinfo(self, request: Request) -> Response:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        with self._lock:
            info = self._access_tokens.get(token) if scheme.lower() == "bearer" else None
        if info is None:
            return _error(
                401, "invalid_token", "unknown access token", {"WWW-Authenticate": "Bearer"}
            )
        return JSONResponse({k: v for k, v in info.items() if not k.startswith("_")})

    # -- ID tokens ---------------------------------------------------------------------------

    def id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer_override or self.issuer,
            "aud": self.audience or grant.client_id,
            "iat": now if self.id_token_lifetime > 0 else now + 2 * self.id_token_lifetime,
            "exp": now + self.id_token_lifetime,
            "auth_time": now,
            **grant.claims,
            **self.extra_claims,
        }
        nonce = self.nonce_override or grant.nonce
        if nonce is not None:
            claims["nonce"] = nonce
        mode = self.id_token_mode
        if mode not in ID_TOKEN_MODES:
            raise ValueError(f"unknown id_token_mode {mode!r}")
        kid = str(self.key.kid)
        if mode == "valid":
            return jwt.encode({"alg": "RS256", "kid": kid}, claims, self.key)
        if mode in ("foreign_key", "foreign_kid"):
            other_kid = kid if mode == "foreign_key" else "someone-else"
            other = RSAKey.generate_key(2048, parameters={"kid": other_kid})
            return jwt.encode({"alg": "RS256", "kid": other_kid}, claims, other)
        if mode == "tampered":
            signed = jwt.encode({"alg": "RS256", "kid": kid}, claims, self.key)
            header, _, signature = signed.split(".")
            forged = {**claims, "pga_agency": "CBP", "preferred_username": "mallory"}
            return ".".join((header, _b64(json.dumps(forged).encode()), signature))
        if mode == "none":
            return ".".join(
                (_b64(b'{"alg":"none","typ":"JWT"}'), _b64(json.dumps(claims).encode()), "")
            )
        # hs256: the classic algorithm confusion, signed with the (shared) client secret.
        secret = OctKey.import_key(self.client_secret.encode())
        return jwt.encode({"alg": "HS256", "kid": kid}, claims, secret)


# -- helpers ----------------------------------------------------------------------------------


def _client_credentials(
    request: Request, form: dict[str, str]
) -> tuple[str | None, str | None, str | None]:
    """(client_id, secret, method) from HTTP Basic (form-urlencoded parts) or the form body."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        if "client_secret" in form:
            return None, None, None  # two methods at once is an error (RFC 6749 2.3)
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except ValueError:
            return None, None, None
        user, sep, password = decoded.partition(":")
        if not sep:
            return None, None, None
        return (
            urllib.parse.unquote_plus(user),
            urllib.parse.unquote_plus(password),
            "client_secret_basic",
        )
    if "client_id" in form and "client_secret" in form:
        return form["client_id"], form["client_secret"], "client_secret_post"
    return None, None, None


def _pkce_ok(grant: _Grant, verifier: str | None) -> bool:
    if not verifier:
        return False
    if grant.code_challenge_method == "S256":
        computed = _b64(hashlib.sha256(verifier.encode()).digest())
    else:
        computed = verifier
    return secrets.compare_digest(computed, grant.code_challenge or "")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urllib.parse.urlsplit(uri)
    query = urllib.parse.parse_qsl(parts.query) + list(params.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _error(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


def _redirect_error(redirect_uri: str, state: str | None, error: str) -> Response:
    params = {"error": error}
    if state is not None:
        params["state"] = state
    return RedirectResponse(_with_query(redirect_uri, params), status_code=302)
