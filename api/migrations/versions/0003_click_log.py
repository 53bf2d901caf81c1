"""click log: how far each click-log segment has been folded into clicks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "click_log_segments",
        sa.Column("segment", sa.String(length=255), nullable=False),
        sa.Column("stored_bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("segment", name=op.f("pk_click_log_segments")),
    )


def downgrade() -> None:
    op.drop_table("click_log_segments")
