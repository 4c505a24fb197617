"""One typed settings object, read from ``PGA_GATEWAY_*`` environment variables.

Every setting has an embedded default so ``make serve`` needs nothing; a value that cannot be
understood fails start-up with a message naming the variable (``ConfigurationError``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from gateway.errors import ConfigurationError

PREFIX = "PGA_GATEWAY_"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    var_dir: Path = Path("var")
    # Empty means "SQLite file under var_dir".
    database_url: str = ""
    # Largest request body accepted on any endpoint (bytes). Default 5 MiB.
    max_body_bytes: int = 5 * 1024 * 1024
    # Documents (DIS): largest single file (bytes, default 50 MiB) and largest message (a DIS
    # SOAP envelope, or all files of one message together; default 100 MiB, CBP's MQ cap). The
    # document upload paths are exempt from max_body_bytes and enforce these instead.
    document_max_bytes: int = 50 * 1024 * 1024
    document_message_max_bytes: int = 100 * 1024 * 1024
    # Allowed document types per channel (comma-separated: pdf,jpeg,png,gif,tiff,docx,xlsx).
    document_types_rest: str = "pdf,jpeg,png,gif,tiff,docx,xlsx"
    document_types_soap: str = "pdf,jpeg,png,gif,tiff,docx,xlsx"
    # Embedded identity: clients, staff users and the RS256 signing key.
    identity_file: Path | None = None
    token_ttl_seconds: int = 900
    token_issuer: str = "urn:pga-gateway:embedded"
    token_audience: str = "pga-gateway"
    # Production identity: trust an external issuer's JWKS (RS256) instead of the local key.
    jwks_url: str = ""
    # Where the canonical base URL for Location headers comes from when behind a proxy.
    public_base_url: str = ""
    log_level: str = "INFO"
    # Agencies: an allow-list of agency codes to enable (comma-separated; empty = all plugins).
    agencies_enabled: str = ""
    # Production agency endpoints: a JSON file {"FDA": {"url": ..., "username": ...,
    # "password_env": ...}, ...}. Empty = every agency goes to the built-in simulator.
    agency_endpoints_file: Path | None = None
    # The built-in agency simulator started by `serve`: "embedded" or "off".
    agency_sim: str = "embedded"
    agency_sim_port: int = 0  # 0 = any free loopback port
    # Fault injection for the simulator, e.g. "http_500_rate=0.1,timeout_rate=0.05".
    agency_sim_faults: str = ""
    # Dispatch: worker threads inside `serve` (0 = none; run `pga-gateway worker` instead).
    dispatch_workers: int = 2
    dispatch_max_attempts: int = 8
    dispatch_backoff_base_ms: int = 500
    dispatch_backoff_max_ms: int = 300_000
    dispatch_timeout_ms: int = 10_000
    dispatch_poll_ms: int = 200
    # Object store for DIS documents (pga_dis.storage). Empty URL = file://{var_dir}/objects;
    # production: s3://bucket/prefix. Credentials come from boto3's normal chain
    # (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, instance role), never from here.
    storage_url: str = ""
    storage_endpoint_url: str = ""  # e.g. http://minio:9000; empty = AWS S3
    storage_region: str = "us-east-1"
    storage_path_style: int = 1  # 1 = path-style addressing (MinIO/Ceph), 0 = virtual-hosted
    storage_sse: str = ""  # "", "AES256" or "aws:kms"
    storage_kms_key_id: str = ""  # with storage_sse="aws:kms"; empty = the bucket's default key
    storage_multipart_threshold_bytes: int = 8 * 1024 * 1024  # also the part size (min 5 MiB)
    # Review pages (/review/): staff sessions. Empty secret = a random one kept in the identity
    # file. secure_cookies: 1 = Secure cookies (serve over https), 0 = plain http (embedded).
    review_session_secret: str = ""
    review_session_idle_seconds: int = 1800
    review_session_max_seconds: int = 12 * 3600
    review_secure_cookies: int = 0
    # Review sign-in through an external OpenID Connect provider (authlib). Set the issuer (its
    # /.well-known/openid-configuration is read) to turn it on; local staff sign-in is then off.
    # The agency claim names the staff member's agency code ("CBP" = coordinator, read-only).
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid profile email"
    oidc_agency_claim: str = "pga_agency"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'gateway.db').resolve()}"

    @property
    def effective_storage_url(self) -> str:
        return self.storage_url or f"file://{(self.var_dir / 'objects').resolve()}"

    @property
    def effective_identity_file(self) -> Path:
        return self.identity_file or self.var_dir / "identity.json"

    @property
    def enabled_agencies(self) -> list[str] | None:
        codes = [c.strip().upper() for c in self.agencies_enabled.split(",") if c.strip()]
        return codes or None

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build ``Settings`` from the environment; unknown ``PGA_GATEWAY_*`` names are an error."""
    env = os.environ if environ is None else environ
    known = {f.name: f for f in fields(Settings)}
    values: dict[str, Any] = {}
    for key, raw in env.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX) :].lower()
        if name not in known:
            raise ConfigurationError(
                f"{key}: unknown setting (known: "
                + ", ".join(PREFIX + n.upper() for n in sorted(known))
                + ")"
            )
        values[name] = _coerce(key, raw, known[name].type)
    settings = Settings(**values)
    if not 0 < settings.port < 65536:
        raise ConfigurationError(f"{PREFIX}PORT: {settings.port} is not a TCP port")
    if settings.max_body_bytes < 1024:
        raise ConfigurationError(f"{PREFIX}MAX_BODY_BYTES: must be at least 1024")
    if settings.agency_sim not in ("embedded", "off"):
        raise ConfigurationError(f"{PREFIX}AGENCY_SIM: use 'embedded' or 'off'")
    if settings.dispatch_max_attempts < 1 or settings.dispatch_timeout_ms < 100:
        raise ConfigurationError(
            f"{PREFIX}DISPATCH_MAX_ATTEMPTS must be >= 1 and {PREFIX}DISPATCH_TIMEOUT_MS >= 100"
        )
    if settings.token_ttl_seconds < 30:
        raise ConfigurationError(f"{PREFIX}TOKEN_TTL_SECONDS: must be at least 30")
    return settings


def _coerce(key: str, raw: str, annotation: Any) -> Any:
    kind = str(annotation)
    if "int" in kind:
        try:
            return int(raw)
        except ValueError:
            raise ConfigurationError(f"{key}: {raw!r} is not a whole number") from None
    if "Path" in kind:
        return Path(raw) if raw else None
    return raw
