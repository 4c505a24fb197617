"""Intake: validate a filing, persist it with its dispatch rows in one transaction, answer.

Every channel (REST JSON, REST CATAIR, SOAP) calls this module, so validation, ownership,
idempotency and durability are decided in one place. Nothing is stored unless everything
is valid; a ``Receipt`` is returned only after the transaction committed.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from agencies.registry import AgencyRegistry
from gateway.auth.principal import Principal
from gateway.db import repository
from gateway.db.session import Database
from gateway.errors import (
    Conflict,
    IdempotencyConflict,
    NotFound,
    PermissionDenied,
    Problem,
    ValidationFailed,
)
from gateway.notify import emit
from gateway.pgams.catair import parse_catair
from gateway.pgams.entry_number import normalize_entry_number
from gateway.pgams.jsonmap import filing_from_json, filing_to_json, pga_line_to_json
from gateway.pgams.model import Filing


@dataclass(frozen=True)
class Receipt:
    """What the filer gets back: HTTP-style status, JSON body and headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def request_fingerprint(operation: str, payload: Any) -> str:
    """SHA-256 over the operation and a canonical form of the request body."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{operation}\n{canonical}".encode()).hexdigest()


def status_path(entry_number: str) -> str:
    return f"/api/v1/entries/{entry_number}"


class IntakeService:
    def __init__(self, database: Database, registry: AgencyRegistry) -> None:
        self._db = database
        self._registry = registry

    # -- validation -------------------------------------------------------------------------

    def check(self, body: Any, principal: Principal) -> Filing:
        """Validate a JSON filing for this principal; raise with every problem found."""
        _require_filer(principal)
        if not isinstance(body, dict):
            raise ValidationFailed(
                "the filing must be a JSON object",
                [Problem("expected a JSON object", location="")],
            )
        filing = self._validated(body, "in the filing")
        if not principal.can_see_filer(filing.filer_code):
            raise PermissionDenied(
                f"this token files for {principal.filer_code}, not for {filing.filer_code}"
            )
        return filing

    # -- submission -------------------------------------------------------------------------

    def submit(self, body: Any, principal: Principal, idempotency_key: str | None) -> Receipt:
        fingerprint = request_fingerprint("POST /entries", body)
        if idempotency_key:
            replay = self._replay(principal, idempotency_key, fingerprint)
            if replay is not None:
                return replay
        filing = self.check(body, principal)
        transaction_id = uuid.uuid4()
        try:
            with self._db.transaction() as session:
                entry = repository.insert_entry(
                    session,
                    filing,
                    document=filing_to_json(filing),
                    transaction_id=transaction_id,
                    pga_line_json=pga_line_to_json,
                )
                # A new entry has no answers yet: its status follows from its lines alone
                # (PENDING, or MAY_PROCEED when every line is disclaimed), no query needed.
                entry.status = _coordinate_for(entry, []).status
                receipt = _receipt(entry.entry_number, transaction_id, entry.version, filing)
                _remember(session, principal, idempotency_key, fingerprint, receipt)
        except Conflict:
            # A concurrent request with the same key may have won the race: replay its answer.
            if idempotency_key:
                replay = self._replay(principal, idempotency_key, fingerprint)
                if replay is not None:
                    return replay
            raise
        return receipt

    def replace_pga(
        self,
        entry_number: str,
        catair_text: str,
        principal: Principal,
        idempotency_key: str | None,
    ) -> Receipt:
        """Replace an entry's PGA data with CATAIR text; OI records map onto its lines in order."""
        _require_filer(principal)
        number = normalize_entry_number(entry_number)
        fingerprint = request_fingerprint(f"POST /entries/{number}/pga", catair_text)
        if idempotency_key:
            replay = self._replay(principal, idempotency_key, fingerprint)
            if replay is not None:
                return replay
        lines, problems = parse_catair(catair_text)
        if problems:
            raise ValidationFailed(_count(problems, "in the CATAIR records"), problems)
        transaction_id = uuid.uuid4()
        with self._db.transaction() as session:
            entry = repository.get_entry(session, number, filer_code=_owner_filter(principal))
            if entry is None:
                raise NotFound(f"no entry {number}")
            if entry.status == repository.STATUS_CANCELLED:
                raise Conflict(f"entry {number} was cancelled; its PGA data cannot change")
            document = dict(entry.document)
            old_lines = document["lines"]
            if len(lines) != len(old_lines):
                raise ValidationFailed(
                    f"{len(lines)} OI record(s) for {len(old_lines)} tariff line(s)",
                    [
                        Problem(
                            f"the entry has {len(old_lines)} tariff line(s); send one OI "
                            f"record for each, in order (got {len(lines)})",
                            code="P42" if len(lines) > len(old_lines) else None,
                        )
                    ],
                )
            new_lines = []
            for old, new in zip(old_lines, lines, strict=True):
                merged = {k: v for k, v in old.items() if k not in ("pga_lines", "catair")}
                merged["description"] = new.description
                merged["pga_lines"] = [pga_line_to_json(p) for p in new.pga_lines]
                new_lines.append(merged)
            document["lines"] = new_lines
            filing = self._validated(document, "in the replaced entry")
            updated = repository.replace_pga_data(
                session,
                entry,
                filing.lines,
                document=filing_to_json(filing),
                transaction_id=transaction_id,
                pga_line_json=pga_line_to_json,
            )
            _refresh_status(session, updated)
            version = updated.version
            receipt = _receipt(number, transaction_id, version, filing)
            _remember(session, principal, idempotency_key, fingerprint, receipt)
        return receipt

    def cancel(self, entry_number: str, principal: Principal) -> dict[str, Any]:
        """Cancel an entry: every agency that has its PGA lines is told to delete them."""
        _require_filer(principal)
        number = normalize_entry_number(entry_number)
        with self._db.transaction() as session:
            entry = repository.get_entry(session, number, filer_code=_owner_filter(principal))
            if entry is None:
                raise NotFound(f"no entry {number}")
            previous = entry.status
            entry, agencies = repository.cancel_entry(
                session, entry, actor=f"filer:{principal.client_id}"
            )
            emit(
                session,
                entry,
                "entry.status_changed",
                {
                    "previous": previous,
                    "status": entry.status,
                    "explanation": "cancelled by the filer",
                },
            )
            return {
                "entry_number": number,
                "status": entry.status,
                "version": entry.version,
                "agencies": agencies,
            }

    def _validated(self, document: dict[str, Any], where: str) -> Filing:
        """Structure and PGA Message Set rules first, then every agency plugin's own rules."""
        filing, problems = filing_from_json(document)
        if filing is not None and not problems:
            problems = self._registry.validate_filing(filing)
        if problems or filing is None:
            raise ValidationFailed(_count(problems, where), problems)
        return filing

    def _replay(self, principal: Principal, key: str, fingerprint: str) -> Receipt | None:
        with self._db.read() as session:
            row = repository.find_idempotent(session, principal.client_id, key)
            if row is None:
                return None
            if row.request_hash != fingerprint:
                raise IdempotencyConflict(
                    f"Idempotency-Key {key!r} was already used for a different request"
                )
            headers = dict(row.response_headers or {})
            headers["Idempotent-Replayed"] = "true"
            return Receipt(row.response_status, dict(row.response_body), headers)


def _receipt(entry_number: str, transaction_id: uuid.UUID, version: int, filing: Filing) -> Receipt:
    url = status_path(entry_number)
    body = {
        "transaction_id": str(transaction_id),
        "entry_number": entry_number,
        "status": "ACCEPTED",
        "status_url": url,
        "version": version,
        "agencies": filing.agencies(),
    }
    return Receipt(202, body, {"Location": url})


def _remember(
    session: Any, principal: Principal, key: str | None, fingerprint: str, receipt: Receipt
) -> None:
    """Store the answer under the Idempotency-Key (in the same transaction as the change)."""
    if key:
        repository.save_idempotent(
            session,
            principal.client_id,
            key,
            fingerprint,
            receipt.status,
            receipt.body,
            receipt.headers,
        )


def _coordinate_for(entry: Any, dispositions: list[Any]) -> Any:
    from gateway.queries import coordinate_for  # gateway.queries imports this module

    return coordinate_for(entry, dispositions)


def _refresh_status(session: Any, entry: Any) -> None:
    """Keep ``entries.status`` coordinated from the start (PENDING, or MAY_PROCEED when every
    line is disclaimed), so list filters are right before any agency answers."""
    from gateway.status import refresh_entry_status  # gateway.status -> queries -> intake

    refresh_entry_status(session, entry)


def _require_filer(principal: Principal) -> None:
    if not (principal.is_admin or "filer" in principal.scopes):
        raise PermissionDenied("submitting PGA data needs the 'filer' scope")


def _owner_filter(principal: Principal) -> str | None:
    return None if principal.is_admin else principal.filer_code


def _count(problems: list[Problem], where: str) -> str:
    n = len(problems)
    return f"{n} problem{'s' if n != 1 else ''} {where}"
