"""partner postbacks: templates, signing secrets and the delivery outbox

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

Three new tables, nothing existing changes: ``postback_settings`` (a
partner's secret and global template), ``postback_campaign_templates``
(per campaign) and ``postback_outbox`` (one row per delivery, written in the
transaction that changes the conversion).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "postback_settings",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("url_template", sa.String(length=2048), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_postback_settings_partner_id_partners"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("partner_id", name=op.f("pk_postback_settings")),
    )
    op.create_table(
        "postback_campaign_templates",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("url_template", sa.String(length=2048), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_postback_campaign_templates_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_postback_campaign_templates_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", "campaign_id", name=op.f("pk_postback_campaign_templates")),
    )
    op.create_table(
        "postback_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("conversion_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=8192), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("event IN ('created', 'approved', 'reversed')", name=op.f("ck_postback_outbox_event")),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name=op.f("ck_postback_outbox_status")),
        sa.ForeignKeyConstraint(
            ["conversion_id"],
            ["conversions.id"],
            name=op.f("fk_postback_outbox_conversion_id_conversions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_postback_outbox_partner_id_partners"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postback_outbox")),
    )
    op.create_index("ix_postback_outbox_due", "postback_outbox", ["status", "next_attempt_at"], unique=False)
    op.create_index("ix_postback_outbox_conversion", "postback_outbox", ["conversion_id", "id"], unique=False)
    op.create_index("ix_postback_outbox_partner", "postback_outbox", ["partner_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_postback_outbox_partner", table_name="postback_outbox")
    op.drop_index("ix_postback_outbox_conversion", table_name="postback_outbox")
    op.drop_index("ix_postback_outbox_due", table_name="postback_outbox")
    op.drop_table("postback_outbox")
    op.drop_table("postback_campaign_templates")
    op.drop_table("postback_settings")
