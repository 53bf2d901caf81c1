"""The tables (SQLAlchemy Core), for SQLite and PostgreSQL alike.

Money is stored as whole minor units (cents) in ``BigInteger`` columns so sums
are exact on both backends; :mod:`api.money` converts to and from ``Decimal``.
Revenue share is stored in basis points (1/100 of a percent). Times are UTC.
Alembic migrations in ``api/migrations`` create these tables; this module is
the reference they are checked against.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime in Python, a naive UTC timestamp in the database.

    SQLite keeps no zone and PostgreSQL's ``timestamptz`` returns the session's;
    storing naive UTC on both and re-attaching UTC on the way out makes every
    backend answer the same values and compare the same way in SQL.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


# Stable constraint names so migrations can refer to them on both backends.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BigInteger is INTEGER PRIMARY KEY (rowid) on SQLite only through this variant.
BigId = BigInteger().with_variant(Integer(), "sqlite")

SUB_ID_MAX = 255
CLICK_ID_MAX = 64
USER_AGENT_MAX = 512
REFERRER_MAX = 1024

advertisers = Table(
    "advertisers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    # sha256 of the API key: keys are long random strings, so a fast hash
    # is enough and lets the postback look the key up by equality.
    Column("api_key_hash", String(64), nullable=False, unique=True),
    Column("api_key_hint", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

partners = Table(
    "partners",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    # Bumped to revoke every token issued before.
    Column("token_version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", UTCDateTime(), nullable=False),
)

programs = Table(
    "programs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("advertiser_id", Integer, ForeignKey("advertisers.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("advertiser_id", "name", name="uq_programs_advertiser_name"),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("program_id", Integer, ForeignKey("programs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("click_tracking", Boolean, nullable=False, server_default=text("false")),
    Column("conversion_tracking", Boolean, nullable=False, server_default=text("false")),
    Column("pay_for_performance", Boolean, nullable=False, server_default=text("false")),
    Column("payout_model", String(16), nullable=False, server_default="cpa"),
    # Minor units for cpc/cpa, basis points for revshare.
    Column("payout_value", BigInteger, nullable=False, server_default=text("0")),
    Column("currency", String(3), nullable=False, server_default="USD"),
    Column("landing_mode", String(16), nullable=False, server_default="manual"),
    Column("attribution_window_days", Integer, nullable=False, server_default=text("30")),
    Column("click_id_param", String(64), nullable=False, server_default="clickid"),
    # Billable clicks a visitor address may make in the campaign per UTC day; past it, clicks are "over_cap".
    Column("daily_click_cap", Integer, nullable=False, server_default=text("5")),
    # Whether clicks made while the campaign is paused earn (the advertiser's choice).
    Column("paused_pays", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint("status IN ('active', 'paused', 'ended')", name="status"),
    CheckConstraint("daily_click_cap BETWEEN 1 AND 100000", name="daily_click_cap"),
    CheckConstraint("payout_model IN ('cpc', 'cpa', 'revshare')", name="payout_model"),
    CheckConstraint("landing_mode IN ('manual', 'choose', 'default')", name="landing_mode"),
    CheckConstraint("payout_value >= 0", name="payout_value"),
    CheckConstraint("attribution_window_days BETWEEN 1 AND 3650", name="attribution_window"),
    UniqueConstraint("program_id", "name", name="uq_campaigns_program_name"),
)

campaign_domains = Table(
    "campaign_domains",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    # Lower-case ASCII host, or "*.host" for its subdomains.
    Column("domain", String(255), nullable=False),
    UniqueConstraint("campaign_id", "domain", name="uq_campaign_domains_campaign_domain"),
)

landing_pages = Table(
    "landing_pages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("is_default", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UTCDateTime(), nullable=False),
    # At most one default per campaign, enforced by the database.
    Index(
        "uq_landing_pages_one_default",
        "campaign_id",
        unique=True,
        sqlite_where=text("is_default"),
        postgresql_where=text("is_default"),
    ),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    # NULL: open to every active partner of the campaign.
    Column("partner_id", Integer, ForeignKey("partners.id", ondelete="SET NULL"), nullable=True, index=True),
    Column("landing_page_id", Integer, ForeignKey("landing_pages.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    # Set: archived, no new links (its links keep redirecting).
    Column("archived_at", UTCDateTime(), nullable=True),
)

memberships = Table(
    "memberships",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("partner_id", Integer, ForeignKey("partners.id", ondelete="CASCADE"), nullable=False),
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # Set when the advertiser invited the partner: a declined invitation is the partner's answer,
    # which the advertiser cannot overturn (a declined application they can).
    Column("invited_at", UTCDateTime(), nullable=True),
    CheckConstraint("status IN ('active', 'pending', 'declined', 'ended', 'invited')", name="status"),
    UniqueConstraint("partner_id", "campaign_id", name="uq_memberships_partner_campaign"),
)

# An invitation to an e-mail that has no partner account (yet): it becomes an
# ``invited`` membership when a partner account is created with that e-mail.
# The advertiser sees it exactly as an invitation to an existing account.
email_invitations = Table(
    "email_invitations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("email", String(254), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("campaign_id", "email", name="uq_email_invitations_campaign_email"),
)

links = Table(
    "links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("partner_id", Integer, ForeignKey("partners.id", ondelete="CASCADE"), nullable=False),
    Column("task_id", Integer, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False, index=True),
    # Denormalised from the task so the redirect and the reports need no join.
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(8), nullable=False),
    # Short links only; NULL for regular (signed) links.
    Column("code", String(32), nullable=True, unique=True),
    Column("landing_url", String(2048), nullable=False),
    Column("sub_id1", String(SUB_ID_MAX), nullable=True),
    Column("sub_id2", String(SUB_ID_MAX), nullable=True),
    Column("sub_id3", String(SUB_ID_MAX), nullable=True),
    Column("shared_id", String(SUB_ID_MAX), nullable=True),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    # Who disabled it: a partner may enable again only what they disabled themselves.
    Column("disabled_by", String(16), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint("kind IN ('short', 'regular')", name="kind"),
    CheckConstraint("disabled_by IN ('partner', 'advertiser')", name="disabled_by"),
    CheckConstraint("(kind = 'short') = (code IS NOT NULL)", name="code_iff_short"),
    Index("ix_links_partner_created", "partner_id", "created_at"),
)

clicks = Table(
    "clicks",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # Public, unguessable id handed to the landing page (36 characters since
    # ids carry a tag, api.services.clicks; 30 before; room for more).
    Column("click_id", String(CLICK_ID_MAX), nullable=False, unique=True),
    Column("link_id", Integer, ForeignKey("links.id", ondelete="CASCADE"), nullable=False),
    # Denormalised so reports group and filter without joins.
    Column("campaign_id", Integer, nullable=False),
    Column("partner_id", Integer, nullable=False),
    Column("task_id", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sub_id1", String(SUB_ID_MAX), nullable=True),
    Column("sub_id2", String(SUB_ID_MAX), nullable=True),
    Column("sub_id3", String(SUB_ID_MAX), nullable=True),
    Column("shared_id", String(SUB_ID_MAX), nullable=True),
    Column("user_agent", String(USER_AGENT_MAX), nullable=True),
    Column("referrer", String(REFERRER_MAX), nullable=True),
    # Keyed hash (HMAC) of the IP address; the raw address is never stored.
    Column("ip_hash", String(64), nullable=False),
    # Keyed hash of the visitor's network (IPv4 /32, IPv6 /64): the visitor of
    # the duplicate and daily-cap rules. User agents are the visitor's to choose,
    # so they play no part in it.
    Column("visitor_hash", String(64), nullable=False),
    Column("is_bot", Boolean, nullable=False),
    # Whether the advertiser pays for this click; when not, ``reason`` says why
    # (api.services.earnings.REASONS). Exactly one of the two is set.
    Column("billable", Boolean, nullable=False),
    Column("reason", String(16), nullable=True),
    # cpc earnings of this click, fixed when it is recorded (0 unless billable
    # in a cpc campaign).
    Column("payout_minor", BigInteger, nullable=False, server_default=text("0")),
    # The duplicate and daily-cap rules look up earlier *billable* clicks only,
    # so the indexes hold only those: a bot or duplicate click writes no index
    # entry. Reports read click_rollups plus the clicks after its watermark (by
    # primary key): every other index would be one more write per stored click.
    Index(
        "ix_clicks_billable_link",
        "link_id",
        "visitor_hash",
        "created_at",
        sqlite_where=text("billable"),
        postgresql_where=text("billable"),
    ),
    Index(
        "ix_clicks_billable_campaign",
        "campaign_id",
        "visitor_hash",
        "created_at",
        sqlite_where=text("billable"),
        postgresql_where=text("billable"),
    ),
)

click_rollups = Table(
    "click_rollups",
    metadata,
    # Daily click counters per link and reporting info, folded from clicks by
    # api.services.reports.fold_clicks; reports add the not-yet-folded tail.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False),
    Column("link_id", Integer, nullable=False),
    Column("campaign_id", Integer, nullable=False),
    Column("partner_id", Integer, nullable=False),
    Column("task_id", Integer, nullable=False),
    # '' stands for "none" so the unique key below also covers absent values.
    Column("sub_id1", String(SUB_ID_MAX), nullable=False, server_default=""),
    Column("shared_id", String(SUB_ID_MAX), nullable=False, server_default=""),
    # Why these clicks are not billable; '' for the billable ones.
    Column("reason", String(16), nullable=False, server_default=""),
    Column("clicks", BigInteger, nullable=False),
    Column("bot_clicks", BigInteger, nullable=False),
    Column("payout_minor", BigInteger, nullable=False),
    UniqueConstraint("day", "link_id", "sub_id1", "shared_id", "reason", name="uq_click_rollups_key"),
    Index("ix_click_rollups_partner_day", "partner_id", "day"),
    Index("ix_click_rollups_campaign_day", "campaign_id", "day"),
)

click_rollup_state = Table(
    "click_rollup_state",
    metadata,
    # One row (id 1): every click with id <= folded_through is in click_rollups.
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("folded_through", BigInteger, nullable=False),
)

change_counter = Table(
    "change_counter",
    metadata,
    # One row (id 1) whose version moves with every change the redirect reads:
    # links and tasks updated or deleted, campaigns, memberships, landing pages,
    # allowed domains (database triggers, created by migration 0004, bump it, whoever
    # writes). Each redirect worker reads it at most once a second and forgets
    # what it cached about links when it moved (api.services.redirects).
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)

click_log_segments = Table(
    "click_log_segments",
    metadata,
    # How far each click-log segment file (api/clicklog.py) has been stored in
    # clicks: moved in the same transaction as the rows, so a record is stored
    # exactly once even when a flusher dies half-way.
    Column("segment", String(255), primary_key=True),
    Column("stored_bytes", BigInteger, nullable=False),
)

conversions = Table(
    "conversions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("click_pk", BigInteger, ForeignKey("clicks.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("link_id", Integer, nullable=False, index=True),
    Column("partner_id", Integer, nullable=False),
    Column("task_id", Integer, nullable=False),
    Column("order_id", String(255), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payout_minor", BigInteger, nullable=False),
    # Why the payout is 0 although the campaign pays (the click's reason), NULL when it pays.
    Column("payout_reason", String(16), nullable=True),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("status IN ('pending', 'approved', 'reversed')", name="status"),
    CheckConstraint("amount_minor >= 0", name="amount"),
    CheckConstraint("payout_minor >= 0", name="payout"),
    # An order id counts once per campaign; the database enforces it.
    UniqueConstraint("campaign_id", "order_id", name="uq_conversions_campaign_order"),
    Index("ix_conversions_campaign_created", "campaign_id", "created_at"),
    Index("ix_conversions_partner_created", "partner_id", "created_at"),
)

pending_conversions = Table(
    "pending_conversions",
    metadata,
    # A postback whose click id is ours (its tag verifies) but whose click is not
    # stored yet: it was answered moments ago and is still in a node's click log.
    # The flush that stores the click records the conversion (api.clicklog); the
    # row stays, with what became of it, for the advertiser to see.
    Column("id", Integer, primary_key=True),
    Column("advertiser_id", Integer, ForeignKey("advertisers.id", ondelete="CASCADE"), nullable=False),
    # The campaign of the click id's link, known when the postback came.
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("click_id", String(CLICK_ID_MAX), nullable=False),
    Column("order_id", String(255), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    # waiting for the click; recorded (conversion_id says as which conversion);
    # failed (error is the code a postback would have been answered with).
    Column("status", String(16), nullable=False, server_default="waiting"),
    Column("error", String(32), nullable=True),
    Column("conversion_id", Integer, ForeignKey("conversions.id", ondelete="SET NULL"), nullable=True),
    Column("resolved_at", UTCDateTime(), nullable=True),
    CheckConstraint("status IN ('waiting', 'recorded', 'failed')", name="status"),
    CheckConstraint("amount_minor >= 0", name="amount"),
    # A retried postback waits once.
    UniqueConstraint("advertiser_id", "click_id", "order_id", name="uq_pending_conversions_click_order"),
    # Every flush that stores clicks asks for the waiting ones: an index seek
    # to an empty range when there are none (the usual case).
    Index("ix_pending_conversions_status", "status"),
    Index("ix_pending_conversions_campaign_received", "campaign_id", "received_at"),
)

# --- partner postbacks (api.services.postbacks) ---------------------------------------------------

POSTBACK_URL_MAX = 2048

postback_settings = Table(
    "postback_settings",
    metadata,
    # One row per partner that looked at or set up postbacks: the signing secret
    # (shown to the partner, who checks signatures with it) and the global template.
    Column("partner_id", Integer, ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
    Column("secret", String(64), nullable=False),
    Column("url_template", String(POSTBACK_URL_MAX), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
)
postback_campaign_templates = Table(
    "postback_campaign_templates",
    metadata,
    # A partner's template for one campaign, used instead of their global one.
    Column("partner_id", Integer, ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("url_template", String(POSTBACK_URL_MAX), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)
postback_outbox = Table(
    "postback_outbox",
    metadata,
    # One delivery of one conversion event to one partner, written in the transaction
    # that changed the conversion; the sender delivers it at least once.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("partner_id", Integer, ForeignKey("partners.id", ondelete="CASCADE"), nullable=False),
    Column("conversion_id", Integer, ForeignKey("conversions.id", ondelete="CASCADE"), nullable=False),
    Column("campaign_id", Integer, nullable=False),
    Column("event", String(16), nullable=False),
    # Rendered when the event happened: the values as they were then.
    Column("url", String(POSTBACK_URL_MAX * 4), nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    # A sender owns the row until then (another node takes it over after).
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("lease_token", String(32), nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=True),
    CheckConstraint("event IN ('created', 'approved', 'reversed')", name="event"),
    CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
    Index("ix_postback_outbox_due", "status", "next_attempt_at"),
    Index("ix_postback_outbox_conversion", "conversion_id", "id"),
    Index("ix_postback_outbox_partner", "partner_id", "id"),
)
