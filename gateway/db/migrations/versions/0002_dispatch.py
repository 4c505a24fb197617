"""Dispatch: delivery attempts per outbox message, and agency dispositions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gateway.db.types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("outbox_id", sa.Uuid(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(128), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_attempts"),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name="fk_delivery_attempts_outbox_id_outbox",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_delivery_attempts_outbox_id", "delivery_attempts", ["outbox_id"])

    op.create_table(
        "dispositions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("entry_version", sa.Integer(), nullable=False),
        sa.Column("agency_code", sa.String(3), nullable=False),
        sa.Column("program_code", sa.String(3), nullable=True),
        sa.Column("cbp_line_number", sa.Integer(), nullable=False),
        sa.Column("pga_line_number", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.String(2), nullable=False),
        sa.Column("reason_code", sa.String(2), nullable=True),
        sa.Column("action_time", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("remark", sa.Text(), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dispositions"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name="fk_dispositions_entry_id_entries",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "entry_id",
            "agency_code",
            "cbp_line_number",
            "pga_line_number",
            "status_code",
            "action_time",
            name="uq_dispositions_identity",
        ),
    )
    op.create_index(
        "ix_dispositions_entry_id_agency_code", "dispositions", ["entry_id", "agency_code"]
    )


def downgrade() -> None:
    op.drop_table("dispositions")
    op.drop_table("delivery_attempts")
