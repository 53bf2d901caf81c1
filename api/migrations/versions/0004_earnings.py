"""earnings integrity: billable + reason per click, visitor by address, daily cap, who disabled a link

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

- clicks: ``is_unique`` becomes ``billable`` (it already meant "unique and not
  a bot" in every report) and ``reason`` names why a click is not billable;
  existing rows get ``bot`` or ``duplicate``. The visitor of the duplicate rule
  becomes the address alone: for the rows already stored that is their
  ``ip_hash`` (exact for IPv4; for IPv6 the whole address rather than its /64,
  which only matters for the 24 hours after the upgrade).
- click_rollups are derived data: rebuilt with a ``reason`` key column
  (the next report folds the clicks again).
- campaigns: ``daily_click_cap`` (default 5) and ``paused_pays``;
  links: ``disabled_by``; conversions: ``payout_reason``.
- change_counter: one version number that triggers move with every change
  the redirect reads (links and tasks updated or deleted, campaigns,
  memberships, landing pages, allowed domains), so a redirect worker can keep links in
  memory and ask one cheap question a second instead of re-reading each.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every change here is one SQLite can make in place (RENAME/ADD COLUMN,
    # indexes). A batch "move and copy" would drop the old table, and with
    # foreign keys on, dropping links or campaigns cascades: every click and
    # conversion would go with it (tests/test_db.py upgrades a database with
    # traffic to make sure nothing is lost).
    op.execute("ALTER TABLE clicks RENAME COLUMN is_unique TO billable")
    op.add_column("clicks", sa.Column("reason", sa.String(length=16), nullable=True))
    op.drop_index("ix_clicks_link_visitor_created", table_name="clicks")
    op.execute(
        "UPDATE clicks SET billable = (billable AND NOT is_bot), visitor_hash = ip_hash, "
        "reason = CASE WHEN is_bot THEN 'bot' WHEN NOT billable THEN 'duplicate' END"
    )
    op.create_index(
        "ix_clicks_billable_link",
        "clicks",
        ["link_id", "visitor_hash", "created_at"],
        unique=False,
        sqlite_where=sa.text("billable"),
        postgresql_where=sa.text("billable"),
    )
    op.create_index(
        "ix_clicks_billable_campaign",
        "clicks",
        ["campaign_id", "visitor_hash", "created_at"],
        unique=False,
        sqlite_where=sa.text("billable"),
        postgresql_where=sa.text("billable"),
    )

    # Rollups hold nothing that the clicks do not: rebuild them with the new key.
    op.drop_table("click_rollups")
    create_rollups(with_reason=True)
    op.execute("DELETE FROM click_rollup_state")

    # Columns with their CHECK in the ADD COLUMN itself: both databases take it in place.
    op.execute(
        "ALTER TABLE campaigns ADD COLUMN daily_click_cap INTEGER DEFAULT 5 NOT NULL "
        "CONSTRAINT ck_campaigns_daily_click_cap CHECK (daily_click_cap BETWEEN 1 AND 100000)"
    )
    op.add_column("campaigns", sa.Column("paused_pays", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.execute(
        "ALTER TABLE links ADD COLUMN disabled_by VARCHAR(16) "
        "CONSTRAINT ck_links_disabled_by CHECK (disabled_by IN ('partner', 'advertiser'))"
    )
    op.execute("UPDATE links SET disabled_by = 'partner' WHERE disabled")
    op.add_column("conversions", sa.Column("payout_reason", sa.String(length=16), nullable=True))

    op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_counter")),
    )
    op.execute("INSERT INTO change_counter (id, version) VALUES (1, 1)")
    create_change_triggers()
    op.execute(
        "UPDATE conversions SET payout_reason = 'bot' WHERE payout_minor = 0 AND click_pk IN "
        "(SELECT id FROM clicks WHERE is_bot)"
    )


def create_rollups(with_reason: bool) -> None:
    """The click_rollups table: keyed by reason from this revision on, with unique_clicks before it."""
    counters = [sa.Column("reason", sa.String(length=16), server_default="", nullable=False)] if with_reason else []
    key = ("day", "link_id", "sub_id1", "shared_id", *(("reason",) if with_reason else ()))
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
        *counters,
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        *([] if with_reason else [sa.Column("unique_clicks", sa.BigInteger(), nullable=False)]),
        sa.Column("bot_clicks", sa.BigInteger(), nullable=False),
        sa.Column("payout_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_click_rollups")),
        sa.UniqueConstraint(*key, name="uq_click_rollups_key"),
    )
    op.create_index("ix_click_rollups_campaign_day", "click_rollups", ["campaign_id", "day"], unique=False)
    op.create_index("ix_click_rollups_partner_day", "click_rollups", ["partner_id", "day"], unique=False)


#: Tables whose changes the redirect must see, and the statements that change them.
WATCHED = {
    "links": ("UPDATE", "DELETE"),  # a new link is never cached, so INSERT needs no bump
    "campaigns": ("INSERT", "UPDATE", "DELETE"),
    "tasks": ("UPDATE", "DELETE"),  # a task's own landing page is a destination in default mode
    "memberships": ("INSERT", "UPDATE", "DELETE"),
    "landing_pages": ("INSERT", "UPDATE", "DELETE"),
    "campaign_domains": ("INSERT", "UPDATE", "DELETE"),
}
BUMP = (
    "INSERT INTO change_counter (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = change_counter.version + 1"
)


def create_change_triggers() -> None:
    """One trigger per watched table and statement kind (per statement on PostgreSQL, per row on SQLite)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE OR REPLACE FUNCTION tasklink_bump_changes() RETURNS trigger AS $$ "
            f"BEGIN {BUMP}; RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        for table, events in WATCHED.items():
            op.execute(
                f"CREATE TRIGGER tasklink_changes_{table} AFTER {' OR '.join(events)} ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION tasklink_bump_changes()"
            )
    else:
        for table, events in WATCHED.items():
            for event in events:
                op.execute(
                    f"CREATE TRIGGER tasklink_changes_{table}_{event.lower()} AFTER {event} ON {table} "
                    f"BEGIN {BUMP}; END"
                )


def drop_change_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS tasklink_changes_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS tasklink_bump_changes()")
    else:
        for table, events in WATCHED.items():
            for event in events:
                op.execute(f"DROP TRIGGER IF EXISTS tasklink_changes_{table}_{event.lower()}")


def downgrade() -> None:
    drop_change_triggers()
    op.drop_table("change_counter")
    # Dropping a column with a CHECK needs a table copy on SQLite, and with
    # foreign keys on, dropping the old links table would cascade to clicks:
    # on SQLite, downgrade a copy of the database opened with foreign keys off.
    with op.batch_alter_table("conversions", schema=None) as batch_op:
        batch_op.drop_column("payout_reason")
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_constraint("ck_links_disabled_by", type_="check")
        batch_op.drop_column("disabled_by")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_constraint("ck_campaigns_daily_click_cap", type_="check")
        batch_op.drop_column("paused_pays")
        batch_op.drop_column("daily_click_cap")
    op.drop_index("ix_clicks_billable_campaign", table_name="clicks")
    op.drop_index("ix_clicks_billable_link", table_name="clicks")
    op.drop_column("clicks", "reason")
    op.create_index("ix_clicks_link_visitor_created", "clicks", ["link_id", "visitor_hash", "created_at"], unique=False)
    op.execute("ALTER TABLE clicks RENAME COLUMN billable TO is_unique")
    op.drop_table("click_rollups")
    create_rollups(with_reason=False)
    op.execute("DELETE FROM click_rollup_state")
