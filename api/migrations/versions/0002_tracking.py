"""tracking: cpc payout on clicks, daily click rollups for reports, leaner clicks indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payout_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
        # Reports read click_rollups now; these only slowed every redirect down.
        batch_op.drop_index("ix_clicks_campaign_created")
        batch_op.drop_index("ix_clicks_partner_created")

    op.create_table(
        "click_rollups",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("sub_id1", sa.String(length=255), server_default="", nullable=False),
        sa.Column("shared_id", sa.String(length=255), server_default="", nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("unique_clicks", sa.BigInteger(), nullable=False),
        sa.Column("bot_clicks", sa.BigInteger(), nullable=False),
        sa.Column("payout_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_click_rollups")),
        sa.UniqueConstraint("day", "link_id", "sub_id1", "shared_id", name="uq_click_rollups_key"),
    )
    with op.batch_alter_table("click_rollups", schema=None) as batch_op:
        batch_op.create_index("ix_click_rollups_campaign_day", ["campaign_id", "day"], unique=False)
        batch_op.create_index("ix_click_rollups_partner_day", ["partner_id", "day"], unique=False)

    op.create_table(
        "click_rollup_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("folded_through", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_click_rollup_state")),
    )


def downgrade() -> None:
    op.drop_table("click_rollup_state")
    with op.batch_alter_table("click_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_click_rollups_partner_day")
        batch_op.drop_index("ix_click_rollups_campaign_day")
    op.drop_table("click_rollups")
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.create_index("ix_clicks_partner_created", ["partner_id", "created_at"], unique=False)
        batch_op.create_index("ix_clicks_campaign_created", ["campaign_id", "created_at"], unique=False)
        batch_op.drop_column("payout_minor")
