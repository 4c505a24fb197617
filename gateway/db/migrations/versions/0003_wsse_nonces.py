"""SOAP edge: WS-Security UsernameToken nonces already seen (replay protection).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gateway.db.types import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wsse_nonces",
        sa.Column("nonce_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nonce_hash", name="pk_wsse_nonces"),
    )
    op.create_index("ix_wsse_nonces_expires_at", "wsse_nonces", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_wsse_nonces_expires_at", table_name="wsse_nonces")
    op.drop_table("wsse_nonces")
