"""Initial schema: entries, tariff and PGA lines, outbox, idempotency keys, events.

Revision ID: 0001
Revises:
Create Date: 2024-06-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gateway.db.types import ExactDecimal, JSONDocument, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column[object]:
    return sa.Column("id", sa.Uuid(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "entries",
        _id(),
        sa.Column("entry_number", sa.String(11), nullable=False),
        sa.Column("filer_code", sa.String(3), nullable=False),
        sa.Column("entry_type", sa.String(2), nullable=False),
        sa.Column("port_of_entry", sa.String(4), nullable=False),
        sa.Column("importer_of_record", sa.String(32), nullable=False),
        sa.Column("mode_of_transport", sa.String(2), nullable=True),
        sa.Column("estimated_arrival", sa.Date(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("document", JSONDocument, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_entries"),
        sa.UniqueConstraint("entry_number", name="uq_entries_entry_number"),
    )
    op.create_index("ix_entries_filer_code", "entries", ["filer_code"])
    op.create_index("ix_entries_created_at", "entries", ["created_at"])
    op.create_index("ix_entries_updated_at", "entries", ["updated_at"])

    op.create_table(
        "tariff_lines",
        _id(),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("hts_number", sa.String(10), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("country_of_origin", sa.String(2), nullable=True),
        sa.Column("value", ExactDecimal(18, 2), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tariff_lines"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name="fk_tariff_lines_entry_id_entries",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("entry_id", "line_number", name="uq_tariff_lines_entry_id_line_number"),
    )

    op.create_table(
        "pga_lines",
        _id(),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("tariff_line_id", sa.Uuid(), nullable=False),
        sa.Column("cbp_line_number", sa.Integer(), nullable=False),
        sa.Column("agency_code", sa.String(3), nullable=False),
        sa.Column("program_code", sa.String(3), nullable=False),
        sa.Column("processing_code", sa.String(3), nullable=True),
        sa.Column("pga_line_number", sa.Integer(), nullable=False),
        sa.Column("disclaimer", sa.String(1), nullable=True),
        sa.Column("correction_indicator", sa.String(1), nullable=True),
        sa.Column("header", JSONDocument, nullable=False),
        sa.Column("records", JSONDocument, nullable=False),
        sa.Column("entry_version", sa.Integer(), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pga_lines"),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name="fk_pga_lines_entry_id_entries", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tariff_line_id"],
            ["tariff_lines.id"],
            name="fk_pga_lines_tariff_line_id_tariff_lines",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_pga_lines_agency_code", "pga_lines", ["agency_code"])
    op.create_index("ix_pga_lines_entry_id_agency_code", "pga_lines", ["entry_id", "agency_code"])

    op.create_table(
        "outbox",
        _id(),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("agency_code", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("entry_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name="fk_outbox_entry_id_entries", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("message_id", name="uq_outbox_message_id"),
        sa.CheckConstraint(
            "state IN ('pending', 'in_flight', 'delivered', 'dead')",
            name="ck_outbox_state_valid",
        ),
    )
    op.create_index("ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"])

    op.create_table(
        "idempotency_keys",
        _id(),
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("response_body", JSONDocument, nullable=True),
        sa.Column("response_headers", JSONDocument, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_keys"),
        sa.UniqueConstraint("principal", "key", name="uq_idempotency_keys_principal_key"),
    )

    op.create_table(
        "events",
        _id(),
        sa.Column("entry_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("payload", JSONDocument, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name="fk_events_entry_id_entries", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_events_entry_id", "events", ["entry_id"])
    op.create_index("ix_events_created_at", "events", ["created_at"])


def downgrade() -> None:
    for table in ("events", "idempotency_keys", "outbox", "pga_lines", "tariff_lines"):
        op.drop_table(table)
    op.drop_table("entries")
