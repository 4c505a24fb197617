"""Documents (DIS): document versions, agency reviews, and the outbox's document column.

Revision ID: 0005
Revises: 0004 (notifications)
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gateway.db.types import JSONDocument, UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("filer_code", sa.String(3), nullable=False),
        sa.Column("document_id", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("entry_number", sa.String(11), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("agencies", JSONDocument, nullable=False),
        sa.Column("cbp_line_numbers", JSONDocument, nullable=False),
        sa.Column("pga_line_refs", JSONDocument, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("file_name", sa.String(100), nullable=False),
        sa.Column("media_type", sa.String(128), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("object_key", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name="fk_documents_entry_id_entries", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "filer_code",
            "document_id",
            "version",
            name="uq_documents_filer_code_document_id_version",
        ),
        sa.UniqueConstraint("object_key", name="uq_documents_object_key"),
    )
    op.create_index("ix_documents_entry_id", "documents", ["entry_id"])
    op.create_index("ix_documents_created_at", "documents", ["created_at"])

    op.create_table(
        "document_reviews",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("document_row_id", sa.Uuid(), nullable=False),
        sa.Column("agency_code", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reject_reason", sa.String(64), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("reviewed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_document_reviews"),
        sa.ForeignKeyConstraint(
            ["document_row_id"],
            ["documents.id"],
            name="fk_document_reviews_document_row_id_documents",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_document_reviews_document_row_id", "document_reviews", ["document_row_id"])

    op.add_column("outbox", sa.Column("document_id", sa.Uuid(), nullable=True))
    op.create_index("ix_outbox_document_id", "outbox", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_document_id", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("document_id")
    op.drop_index("ix_document_reviews_document_row_id", table_name="document_reviews")
    op.drop_table("document_reviews")
    op.drop_index("ix_documents_created_at", table_name="documents")
    op.drop_index("ix_documents_entry_id", table_name="documents")
    op.drop_table("documents")
