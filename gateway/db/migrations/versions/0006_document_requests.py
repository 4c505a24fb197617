"""Document requests: what a 10 DOCUMENTS REQUIRED answer asks for, until it arrives.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gateway.db.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("agency_code", sa.String(3), nullable=False),
        sa.Column("cbp_line_number", sa.Integer(), nullable=False),
        sa.Column("pga_line_number", sa.Integer(), nullable=False),
        sa.Column("label_code", sa.String(100), nullable=True),
        sa.Column("remark", sa.Text(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("fulfilled_at", UTCDateTime(), nullable=True),
        sa.Column("document_row_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_document_requests"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name="fk_document_requests_entry_id_entries",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_document_requests_entry_id_agency_code_state",
        "document_requests",
        ["entry_id", "agency_code", "state"],
    )


def downgrade() -> None:
    op.drop_table("document_requests")
