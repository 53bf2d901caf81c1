"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "advertisers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("api_key_hash", sa.String(length=64), nullable=False),
        sa.Column("api_key_hint", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advertisers")),
        sa.UniqueConstraint("api_key_hash", name=op.f("uq_advertisers_api_key_hash")),
        sa.UniqueConstraint("email", name=op.f("uq_advertisers_email")),
    )
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("token_version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("email", name=op.f("uq_partners_email")),
    )
    op.create_table(
        "programs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advertiser_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advertiser_id"],
            ["advertisers.id"],
            name=op.f("fk_programs_advertiser_id_advertisers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs")),
        sa.UniqueConstraint("advertiser_id", "name", name="uq_programs_advertiser_name"),
    )
    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programs_advertiser_id"), ["advertiser_id"], unique=False)

    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("click_tracking", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("conversion_tracking", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("pay_for_performance", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("payout_model", sa.String(length=16), server_default="cpa", nullable=False),
        sa.Column("payout_value", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("landing_mode", sa.String(length=16), server_default="manual", nullable=False),
        sa.Column("attribution_window_days", sa.Integer(), server_default=sa.text("(30)"), nullable=False),
        sa.Column("click_id_param", sa.String(length=64), server_default="clickid", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("landing_mode IN ('manual', 'choose', 'default')", name=op.f("ck_campaigns_landing_mode")),
        sa.CheckConstraint("payout_model IN ('cpc', 'cpa', 'revshare')", name=op.f("ck_campaigns_payout_model")),
        sa.CheckConstraint("status IN ('active', 'paused', 'ended')", name=op.f("ck_campaigns_status")),
        sa.CheckConstraint("attribution_window_days BETWEEN 1 AND 3650", name=op.f("ck_campaigns_attribution_window")),
        sa.CheckConstraint("payout_value >= 0", name=op.f("ck_campaigns_payout_value")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_campaigns_program_id_programs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("program_id", "name", name="uq_campaigns_program_name"),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaigns_program_id"), ["program_id"], unique=False)

    op.create_table(
        "campaign_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_domains_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_domains")),
        sa.UniqueConstraint("campaign_id", "domain", name="uq_campaign_domains_campaign_domain"),
    )
    op.create_table(
        "landing_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_landing_pages_campaign_id_campaigns"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_landing_pages")),
    )
    with op.batch_alter_table("landing_pages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_landing_pages_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(
            "uq_landing_pages_one_default",
            ["campaign_id"],
            unique=True,
            sqlite_where=sa.text("is_default"),
            postgresql_where=sa.text("is_default"),
        )

    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'pending', 'declined', 'ended')", name=op.f("ck_memberships_status")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_memberships_campaign_id_campaigns"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_memberships_partner_id_partners"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint("partner_id", "campaign_id", name="uq_memberships_partner_campaign"),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memberships_campaign_id"), ["campaign_id"], unique=False)

    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("landing_page_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_tasks_campaign_id_campaigns"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["landing_page_id"],
            ["landing_pages.id"],
            name=op.f("fk_tasks_landing_page_id_landing_pages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_tasks_partner_id_partners"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("landing_url", sa.String(length=2048), nullable=False),
        sa.Column("sub_id1", sa.String(length=255), nullable=True),
        sa.Column("sub_id2", sa.String(length=255), nullable=True),
        sa.Column("sub_id3", sa.String(length=255), nullable=True),
        sa.Column("shared_id", sa.String(length=255), nullable=True),
        sa.Column("disabled", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("(kind = 'short') = (code IS NOT NULL)", name=op.f("ck_links_code_iff_short")),
        sa.CheckConstraint("kind IN ('short', 'regular')", name=op.f("ck_links_kind")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_links_campaign_id_campaigns"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_links_partner_id_partners"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_links_task_id_tasks"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_links")),
        sa.UniqueConstraint("code", name=op.f("uq_links_code")),
    )
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_links_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index("ix_links_partner_created", ["partner_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_links_task_id"), ["task_id"], unique=False)

    op.create_table(
        "clicks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("click_id", sa.String(length=32), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sub_id1", sa.String(length=255), nullable=True),
        sa.Column("sub_id2", sa.String(length=255), nullable=True),
        sa.Column("sub_id3", sa.String(length=255), nullable=True),
        sa.Column("shared_id", sa.String(length=255), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("referrer", sa.String(length=1024), nullable=True),
        sa.Column("ip_hash", sa.String(length=64), nullable=False),
        sa.Column("visitor_hash", sa.String(length=64), nullable=False),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("is_unique", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["links.id"], name=op.f("fk_clicks_link_id_links"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clicks")),
        sa.UniqueConstraint("click_id", name=op.f("uq_clicks_click_id")),
    )
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.create_index("ix_clicks_campaign_created", ["campaign_id", "created_at"], unique=False)
        batch_op.create_index("ix_clicks_link_visitor_created", ["link_id", "visitor_hash", "created_at"], unique=False)
        batch_op.create_index("ix_clicks_partner_created", ["partner_id", "created_at"], unique=False)

    op.create_table(
        "conversions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("click_pk", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=255), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payout_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'approved', 'reversed')", name=op.f("ck_conversions_status")),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_conversions_amount")),
        sa.CheckConstraint("payout_minor >= 0", name=op.f("ck_conversions_payout")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_conversions_campaign_id_campaigns"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["click_pk"], ["clicks.id"], name=op.f("fk_conversions_click_pk_clicks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversions")),
        sa.UniqueConstraint("campaign_id", "order_id", name="uq_conversions_campaign_order"),
    )
    with op.batch_alter_table("conversions", schema=None) as batch_op:
        batch_op.create_index("ix_conversions_campaign_created", ["campaign_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_conversions_click_pk"), ["click_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_conversions_link_id"), ["link_id"], unique=False)
        batch_op.create_index("ix_conversions_partner_created", ["partner_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conversions", schema=None) as batch_op:
        batch_op.drop_index("ix_conversions_partner_created")
        batch_op.drop_index(batch_op.f("ix_conversions_link_id"))
        batch_op.drop_index(batch_op.f("ix_conversions_click_pk"))
        batch_op.drop_index("ix_conversions_campaign_created")

    op.drop_table("conversions")
    with op.batch_alter_table("clicks", schema=None) as batch_op:
        batch_op.drop_index("ix_clicks_partner_created")
        batch_op.drop_index("ix_clicks_link_visitor_created")
        batch_op.drop_index("ix_clicks_campaign_created")

    op.drop_table("clicks")
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_links_task_id"))
        batch_op.drop_index("ix_links_partner_created")
        batch_op.drop_index(batch_op.f("ix_links_campaign_id"))

    op.drop_table("links")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_partner_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_campaign_id"))

    op.drop_table("tasks")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_campaign_id"))

    op.drop_table("memberships")
    with op.batch_alter_table("landing_pages", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_landing_pages_one_default", sqlite_where=sa.text("is_default"), postgresql_where=sa.text("is_default")
        )
        batch_op.drop_index(batch_op.f("ix_landing_pages_campaign_id"))

    op.drop_table("landing_pages")
    op.drop_table("campaign_domains")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaigns_program_id"))

    op.drop_table("campaigns")
    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programs_advertiser_id"))

    op.drop_table("programs")
    op.drop_table("partners")
    op.drop_table("advertisers")
