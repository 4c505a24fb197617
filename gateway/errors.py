"""One exception tree for the whole gateway.

Every error the gateway raises on purpose is a ``GatewayError``. Each class carries its wire
codes, so every edge renders it the same way: REST as ``application/problem+json``, SOAP as a
Fault whose detail lists each ``Problem``. Third-party exceptions (SQLAlchemy, botocore, zeep)
are translated into this tree at the module that calls the library; they never reach a handler.

::

    GatewayError                     500  soap:Server
    ├── ClientError                  400  soap:Client   the caller's mistake
    │   ├── MalformedInput           400                not parseable (JSON, XML, CATAIR framing)
    │   ├── ValidationFailed         422                parseable but wrong; lists every Problem
    │   ├── UnsupportedMediaType     415
    │   ├── PayloadTooLarge          413
    │   ├── AuthenticationFailed     401                no/invalid credentials or token
    │   ├── PermissionDenied         403                authenticated, not allowed
    │   ├── NotFound                 404                (also: exists but belongs to someone else)
    │   ├── MethodNotAllowed         405
    │   └── Conflict                 409
    │       └── IdempotencyConflict  409                same key, different request
    └── ServerError                  500  soap:Server   ours or a dependency's fault
        ├── StorageUnavailable       503                database or object store unreachable
        └── ConfigurationError       500                settings invalid; raised at start-up

A ``Problem`` is one located finding: CBP P-code where one applies (``code``), a message, and
where it is — ``record`` (1-based CATAIR record index), ``positions`` ("10-28"), ``field``
(layout field name) and ``location`` (JSON-pointer-like path into the request).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Problem:
    """One located validation finding."""

    message: str
    code: str | None = None
    record: int | None = None
    positions: str | None = None
    field: str | None = None
    location: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def at(self, location_prefix: str, record_offset: int = 0) -> Problem:
        """The same problem seen from an enclosing document (prefix its location)."""
        location = location_prefix + (self.location or "")
        record = self.record + record_offset if self.record is not None else None
        return Problem(self.message, self.code, record, self.positions, self.field, location)


class GatewayError(Exception):
    """Base of every deliberate gateway error."""

    http_status: ClassVar[int] = 500
    soap_fault_code: ClassVar[str] = "soap:Server"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, problems: list[Problem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems: list[Problem] = list(problems or [])

    @property
    def type_uri(self) -> str:
        return "urn:pga-gateway:error:" + _kebab(type(self).__name__)

    def to_problem_json(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.http_status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.problems:
            body["errors"] = [p.to_dict() for p in self.problems]
        return body


class ClientError(GatewayError):
    http_status = 400
    soap_fault_code = "soap:Client"
    title = "Bad request"


class MalformedInput(ClientError):
    title = "Malformed input"


class ValidationFailed(ClientError):
    http_status = 422
    title = "Validation failed"


class UnsupportedMediaType(ClientError):
    http_status = 415
    title = "Unsupported media type"


class PayloadTooLarge(ClientError):
    http_status = 413
    title = "Payload too large"


class AuthenticationFailed(ClientError):
    http_status = 401
    title = "Authentication failed"


class PermissionDenied(ClientError):
    http_status = 403
    title = "Forbidden"


class NotFound(ClientError):
    http_status = 404
    title = "Not found"


class MethodNotAllowed(ClientError):
    http_status = 405
    title = "Method not allowed"


class Conflict(ClientError):
    http_status = 409
    title = "Conflict"


class IdempotencyConflict(Conflict):
    title = "Idempotency key reused with a different request"


class ServerError(GatewayError):
    pass


class StorageUnavailable(ServerError):
    http_status = 503
    title = "Storage unavailable"


class ConfigurationError(ServerError):
    title = "Configuration error"


def _kebab(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i:
            out.append("-")
        out.append(ch.lower())
    return "".join(out)
