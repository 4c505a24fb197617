"""The gateway's tables as SQLAlchemy 2 typed declarative classes.

``migrations/versions`` creates exactly these (a test compares the migrated schema with this
metadata on SQLite and PostgreSQL). Ids are UUIDs, times are aware UTC, money is ``Decimal``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from gateway.db.types import ExactDecimal, JSONDocument, UTCDateTime, utcnow

# Deterministic constraint names: the migration names them the same way, and PostgreSQL error
# diagnostics name the violated constraint (used to tell "duplicate entry" from other conflicts).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

OUTBOX_STATES = ("pending", "in_flight", "delivered", "dead")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class EntryRow(Base):
    """One customs entry and the canonical filing document as last accepted."""

    __tablename__ = "entries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    entry_number: Mapped[str] = mapped_column(String(11), unique=True)
    filer_code: Mapped[str] = mapped_column(String(3), index=True)
    entry_type: Mapped[str] = mapped_column(String(2))
    port_of_entry: Mapped[str] = mapped_column(String(4))
    importer_of_record: Mapped[str] = mapped_column(String(32))
    mode_of_transport: Mapped[str | None] = mapped_column(String(2))
    estimated_arrival: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)
    transaction_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, index=True
    )

    tariff_lines: Mapped[list[TariffLineRow]] = relationship(
        back_populates="entry",
        order_by="TariffLineRow.line_number",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    pga_lines: Mapped[list[PGALineRow]] = relationship(
        back_populates="entry",
        order_by="[PGALineRow.entry_version, PGALineRow.cbp_line_number, "
        "PGALineRow.pga_line_number]",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    outbox: Mapped[list[OutboxRow]] = relationship(
        back_populates="entry",
        order_by="[OutboxRow.entry_version, OutboxRow.agency_code]",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def current_pga_lines(self) -> list[PGALineRow]:
        """The PGA lines of the current version (superseded ones are history)."""
        return [line for line in self.pga_lines if not line.superseded]


class TariffLineRow(Base):
    """One CBP (HTS) line of an entry."""

    __tablename__ = "tariff_lines"
    __table_args__ = (UniqueConstraint("entry_id", "line_number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    line_number: Mapped[int] = mapped_column(Integer)
    hts_number: Mapped[str | None] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text)
    country_of_origin: Mapped[str | None] = mapped_column(String(2))
    value: Mapped[Decimal | None] = mapped_column(ExactDecimal(18, 2))

    entry: Mapped[EntryRow] = relationship(back_populates="tariff_lines")
    pga_lines: Mapped[list[PGALineRow]] = relationship(
        back_populates="tariff_line",
        order_by="[PGALineRow.entry_version, PGALineRow.pga_line_number]",
        passive_deletes=True,
    )


class PGALineRow(Base):
    """One PGA line (PG01 + its records) of one version of an entry's PGA data."""

    __tablename__ = "pga_lines"
    __table_args__ = (Index(None, "entry_id", "agency_code"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    tariff_line_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tariff_lines.id", ondelete="CASCADE")
    )
    cbp_line_number: Mapped[int] = mapped_column(Integer)
    agency_code: Mapped[str] = mapped_column(String(3), index=True)
    program_code: Mapped[str] = mapped_column(String(3))
    processing_code: Mapped[str | None] = mapped_column(String(3))
    pga_line_number: Mapped[int] = mapped_column(Integer)
    disclaimer: Mapped[str | None] = mapped_column(String(1))
    correction_indicator: Mapped[str | None] = mapped_column(String(1))
    header: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    records: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    entry_version: Mapped[int] = mapped_column(Integer)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)

    entry: Mapped[EntryRow] = relationship(back_populates="pga_lines")
    tariff_line: Mapped[TariffLineRow] = relationship(back_populates="pga_lines")


class OutboxRow(Base):
    """One message owed to one agency; workers deliver it at least once, same message_id."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index(None, "state", "next_attempt_at"),
        CheckConstraint(
            "state IN ('pending', 'in_flight', 'delivered', 'dead')", name="state_valid"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    agency_code: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(32))
    # kind "document_notice": the documents row announced (migration 0004); else None.
    document_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    message_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    entry_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    entry: Mapped[EntryRow] = relationship(back_populates="outbox")


class IdempotencyRow(Base):
    """The first answer given to (principal, Idempotency-Key), replayed on a retry."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    principal: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[Any] = mapped_column(JSONDocument, nullable=True)
    response_headers: Mapped[dict[str, str]] = mapped_column(JSONDocument)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventRow(Base):
    """Append-only audit/event log (acceptances, replacements, dispositions, ...)."""

    __tablename__ = "events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    entry_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class DeliveryAttemptRow(Base):
    """One try at delivering an outbox message: when, by which worker, how it ended."""

    __tablename__ = "delivery_attempts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    outbox_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outbox.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))  # delivered | retry | dead | superseded
    error: Mapped[str | None] = mapped_column(Text)


class DispositionRow(Base):
    """An agency's status for one PGA line (append-only; the latest action time counts)."""

    __tablename__ = "dispositions"
    __table_args__ = (
        Index(None, "entry_id", "agency_code"),
        # The same answer sent twice (a retried callback) is stored once.
        UniqueConstraint(
            "entry_id",
            "agency_code",
            "cbp_line_number",
            "pga_line_number",
            "status_code",
            "action_time",
            name="uq_dispositions_identity",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    entry_version: Mapped[int] = mapped_column(Integer)
    agency_code: Mapped[str] = mapped_column(String(3))
    program_code: Mapped[str | None] = mapped_column(String(3))
    cbp_line_number: Mapped[int] = mapped_column(Integer)
    pga_line_number: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[str] = mapped_column(String(2))
    reason_code: Mapped[str | None] = mapped_column(String(2))
    action_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(32))  # ack | callback | review | soap
    actor: Mapped[str] = mapped_column(String(255))
    remark: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class WsseNonceRow(Base):
    """A WS-Security UsernameToken nonce already seen (SOAP edge replay protection).

    Kept in the database, not in memory, so every API process behind a load balancer refuses
    a nonce any of them has accepted; rows are deleted once their ``Created`` window is over.
    """

    __tablename__ = "wsse_nonces"

    nonce_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 hex
    client_id: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class SubscriptionRow(Base):
    """A filer's webhook: where to POST its notifications and the secret that signs them."""

    __tablename__ = "subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    filer_code: Mapped[str] = mapped_column(String(3), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(128))  # HMAC key; never logged
    kinds: Mapped[list[str]] = mapped_column(JSONDocument)
    state: Mapped[str] = mapped_column(String(16))  # active | suspended
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    suspended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    deliveries: Mapped[list[WebhookDeliveryRow]] = relationship(
        back_populates="subscription", cascade="all, delete-orphan", passive_deletes=True
    )


class NotificationRow(Base):
    """One status change a filer is told about; the integer id is the event feed's cursor."""

    __tablename__ = "notifications"
    __table_args__ = (Index(None, "filer_code", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    filer_code: Mapped[str] = mapped_column(String(3))
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    entry_number: Mapped[str] = mapped_column(String(11))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDeliveryRow(Base):
    """One notification owed to one subscription (durable; delivered in order per entry)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "notification_id"),
        Index(None, "state", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE")
    )
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    state: Mapped[str] = mapped_column(String(16))  # pending | in_flight | delivered
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    subscription: Mapped[SubscriptionRow] = relationship(back_populates="deliveries")


class DocumentRow(Base):
    """One version of one DIS document image (metadata; the bytes are in the object store).

    ``document_id`` is the sender's id (unique per filer, the idempotency key); a REPLACE adds
    a version and marks the older one ``superseded``; a DELETE sets ``withdrawn_at`` on every
    version (hidden from agencies, kept for audit). A row is written only after its object is
    stored completely (``object_key``), so no row ever lacks its object.
    """

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("filer_code", "document_id", "version"),
        Index(None, "entry_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    filer_code: Mapped[str] = mapped_column(String(3))
    document_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    entry_number: Mapped[str] = mapped_column(String(11))
    label: Mapped[str] = mapped_column(String(100))
    agencies: Mapped[list[str]] = mapped_column(JSONDocument)
    cbp_line_numbers: Mapped[list[int]] = mapped_column(JSONDocument)
    pga_line_refs: Mapped[list[dict[str, int]]] = mapped_column(JSONDocument)
    description: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(String(100))
    media_type: Mapped[str] = mapped_column(String(128))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(255), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # rest | soap
    message_id: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class DocumentReviewRow(Base):
    """An agency's review of one document version: ACCEPTED or REJECTED (with CBP reason)."""

    __tablename__ = "document_reviews"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    document_row_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    agency_code: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    reject_reason: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(255))
    reviewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DocumentRequestRow(Base):
    """An agency's request for a document (a 10 DOCUMENTS REQUIRED answer), open until a
    matching document naming that agency arrives."""

    __tablename__ = "document_requests"
    __table_args__ = (Index(None, "entry_id", "agency_code", "state"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    agency_code: Mapped[str] = mapped_column(String(3))
    cbp_line_number: Mapped[int] = mapped_column(Integer)
    pga_line_number: Mapped[int] = mapped_column(Integer)
    label_code: Mapped[str | None] = mapped_column(String(100))  # None: any document
    remark: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # open | fulfilled
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    fulfilled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    document_row_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class RevokedSessionRow(Base):
    """A review-page session ended by sign-out: its cookie is refused even if someone kept a
    copy (rows are purged once the session would have expired anyway)."""

    __tablename__ = "revoked_sessions"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
