"""The summary report: clicks, billable (unique) clicks, bot clicks, invalid clicks by reason, conversions, revenue, payout.

Figures for one partner (their own) or one advertiser (their campaigns),
between two dates inclusive (UTC days), grouped by one key.

Clicks are read from two places so that a report over millions of clicks
stays fast without slowing the redirect down:

- ``click_rollups``: daily counters per link and reporting info, folded
  from the clicks table by :func:`fold_clicks` (the report endpoint folds
  before reading);
- the *tail*: clicks after the rollups' watermark, counted directly.

Both together always give exact figures; folding only makes it faster.

Payout = the conversions' payouts (cpa, revshare) plus the cpc earnings of
billable clicks, which each click carries from the moment it was recorded
(``clicks.payout_minor``). Reversed conversions count nowhere. Amounts are in
each campaign's currency; a report spanning several currencies splits its
rows by currency (see :func:`summary`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal, get_args

from sqlalchemy import Connection, Table, case, func, select, text
from sqlalchemy.sql import ColumnElement

from .. import money
from ..db import utcnow
from ..errors import ValidationError
from ..i18n import Message
from ..schema import campaigns, click_rollup_state, click_rollups, clicks, conversions, links, programs, tasks
from . import earnings

#: How a report's rows are grouped.
GroupBy = Literal["day", "campaign", "task", "link", "subId1", "sharedid", "partner"]
GROUPS: tuple[GroupBy, ...] = get_args(GroupBy)
PARTNER_GROUPS: tuple[GroupBy, ...] = ("day", "campaign", "task", "link", "subId1", "sharedid")
#: Sub IDs are the partner's own: an advertiser never groups by them.
ADVERTISER_GROUPS: tuple[GroupBy, ...] = ("day", "campaign", "task", "link", "sharedid", "partner")
MAX_DAYS = 3660
#: The days a report may name. The report reads from the start of ``from`` to
#: the start of the day after ``to`` (and defaults ``from`` to 29 days before
#: ``to``), so both ends must stay well inside what ``datetime`` can hold:
#: near year 1 or 9999 that arithmetic would overflow. No click predates 2000.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(9998, 12, 31)
#: Clicks younger than this are left in the tail by a fold, so a click whose
#: transaction is still open (ids are handed out before commit on
#: PostgreSQL) is never skipped by the watermark.
SETTLE = dt.timedelta(minutes=5)
#: The report endpoint folds first once this many clicks wait in the tail.
FOLD_AFTER = 5000


@dataclass
class _Figures:
    clicks: int = 0
    unique_clicks: int = 0
    bot_clicks: int = 0
    conversions: int = 0
    revenue: Decimal = Decimal(0)
    payout: Decimal = Decimal(0)
    invalid: dict[str, int] = field(default_factory=dict)

    def add_clicks(self, reason: str | None, count: int) -> None:
        """Count ``count`` clicks: billable (``reason`` empty) or invalid for ``reason``."""
        self.clicks += count
        if reason:
            self.invalid[reason] = self.invalid.get(reason, 0) + count
        else:
            self.unique_clicks += count

    def add(self, other: _Figures) -> None:
        self.clicks += other.clicks
        self.unique_clicks += other.unique_clicks
        self.bot_clicks += other.bot_clicks
        self.conversions += other.conversions
        self.revenue += other.revenue
        self.payout += other.payout
        for reason, count in other.invalid.items():
            self.invalid[reason] = self.invalid.get(reason, 0) + count

    def conversion_rate(self) -> float | None:
        """Conversions per billable click, rounded to 4 decimals (0.0525 is 5.25 %); None without billable clicks.

        Conversions are counted on the day they arrive and clicks on theirs,
        so a row may have more conversions than clicks (a rate above 1).
        """
        return round(self.conversions / self.unique_clicks, 4) if self.unique_clicks else None

    def json(self, currency: str | None) -> dict[str, Any]:
        places = Decimal(1).scaleb(-money.exponent(currency or "USD"))
        return {
            "clicks": self.clicks,
            "unique_clicks": self.unique_clicks,
            "bot_clicks": self.bot_clicks,
            # In the fixed order of the reasons, only those that occurred.
            "invalid_clicks": {reason: self.invalid[reason] for reason in earnings.REASONS if reason in self.invalid},
            "conversions": self.conversions,
            "conversion_rate": self.conversion_rate(),
            "revenue": str(self.revenue.quantize(places)),
            "payout": str(self.payout.quantize(places)),
        }


def allowed_groups(for_advertiser: bool) -> tuple[GroupBy, ...]:
    """The group_by values the caller may use."""
    return ADVERTISER_GROUPS if for_advertiser else PARTNER_GROUPS


def check_day(name: str, day: dt.date) -> None:
    """A report day must lie between :data:`FIRST_DAY` and :data:`LAST_DAY` (``invalid_dates`` otherwise)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(
            Message(
                "{name} must be a day from {first} to {last}; got {day}.",
                name=name,
                first=FIRST_DAY.isoformat(),
                last=LAST_DAY.isoformat(),
                day=day.isoformat(),
            ),
            "invalid_dates",
        )


def check_dates(date_from: dt.date, date_to: dt.date) -> None:
    """Both days within the supported range, ``from`` not after ``to``, and the span sensible."""
    check_day("from", date_from)
    check_day("to", date_to)
    if date_from > date_to:
        raise ValidationError(Message("from must not be after to."), "invalid_dates")
    if (date_to - date_from).days >= MAX_DAYS:
        raise ValidationError(Message("A report spans at most {days} days.", days=MAX_DAYS), "invalid_dates")


def _day_of(column: Any, conn: Connection) -> ColumnElement[Any]:
    # SQLite keeps UTCDateTime as 'YYYY-MM-DD HH:MM:SS.ffffff' text.
    if conn.dialect.name == "sqlite":
        return func.substr(column, 1, 10)
    return func.to_char(column, "YYYY-MM-DD")


def _key(group_by: str, table: Table, conn: Connection, *, rollup: bool = False) -> ColumnElement[Any]:
    if group_by == "day":
        if rollup:
            return table.c.day
        return _day_of(table.c.created_at, conn)
    if group_by in ("subId1", "sharedid"):
        column = table.c.sub_id1 if group_by == "subId1" else table.c.shared_id
        return func.nullif(column, "") if rollup else column
    return {
        "campaign": table.c.campaign_id,
        "task": table.c.task_id,
        "link": table.c.link_id,
        "partner": table.c.partner_id,
    }[group_by]


def _scope(table: Any, advertiser_id: int | None, partner_id: int | None, campaign_id: int | None) -> list[Any]:
    where = []
    if partner_id is not None:
        where.append(table.c.partner_id == partner_id)
    if advertiser_id is not None:
        owned = (
            select(campaigns.c.id)
            .join(programs, programs.c.id == campaigns.c.program_id)
            .where(programs.c.advertiser_id == advertiser_id)
        )
        where.append(table.c.campaign_id.in_(owned.scalar_subquery()))
    if campaign_id is not None:
        where.append(table.c.campaign_id == campaign_id)
    return where


def watermark(conn: Connection) -> int:
    """Every click with an id up to this one is counted in ``click_rollups``."""
    value = conn.execute(select(click_rollup_state.c.folded_through).where(click_rollup_state.c.id == 1)).scalar()
    return int(value or 0)


def unfolded(conn: Connection) -> int:
    """About how many clicks wait after the watermark (two primary-key lookups)."""
    newest = conn.execute(select(func.max(clicks.c.id))).scalar()
    return max(0, int(newest or 0) - watermark(conn))


def _click_figures(
    conn: Connection, group_by: str, start: dt.datetime, end: dt.datetime, scope: dict[str, Any]
) -> list[Any]:
    mark = watermark(conn)
    rolled = (
        select(
            _key(group_by, click_rollups, conn, rollup=True).label("key"),
            click_rollups.c.campaign_id,
            click_rollups.c.reason,
            func.sum(click_rollups.c.clicks).label("clicks"),
            func.sum(click_rollups.c.bot_clicks).label("bot_clicks"),
            func.sum(click_rollups.c.payout_minor).label("payout"),
        )
        .where(click_rollups.c.day >= start.date(), click_rollups.c.day < end.date(), *_scope(click_rollups, **scope))
        .group_by("key", click_rollups.c.campaign_id, click_rollups.c.reason)
    )
    tail = (
        select(
            _key(group_by, clicks, conn).label("key"),
            clicks.c.campaign_id,
            clicks.c.reason,
            func.count().label("clicks"),
            func.sum(case((clicks.c.is_bot, 1), else_=0)).label("bot_clicks"),
            func.sum(clicks.c.payout_minor).label("payout"),
        )
        .where(clicks.c.id > mark, clicks.c.created_at >= start, clicks.c.created_at < end, *_scope(clicks, **scope))
        .group_by("key", clicks.c.campaign_id, clicks.c.reason)
    )
    rows = list(conn.execute(rolled)) + list(conn.execute(tail))
    return rows


def _conversion_figures(
    conn: Connection,
    group_by: str,
    start: dt.datetime,
    end: dt.datetime,
    scope: dict[str, Any],
    *,
    by_status: bool = False,
) -> list[Any]:
    """Conversions per key and campaign; ``by_status``: per status too, reversed ones included (``status``)."""
    key_table = clicks if group_by in ("subId1", "sharedid") else conversions
    columns = [
        _key(group_by, key_table, conn).label("key"),
        conversions.c.campaign_id,
        func.count().label("conversions"),
        func.sum(conversions.c.amount_minor).label("revenue"),
        func.sum(conversions.c.payout_minor).label("payout"),
    ]
    if by_status:
        columns.append(conversions.c.status)
    query = select(*columns)
    if key_table is clicks:
        query = query.select_from(conversions.join(clicks, clicks.c.id == conversions.c.click_pk))
    where = [conversions.c.created_at >= start, conversions.c.created_at < end, *_scope(conversions, **scope)]
    if not by_status:
        where.append(conversions.c.status != "reversed")
    query = query.where(*where).group_by("key", conversions.c.campaign_id)
    if by_status:
        query = query.group_by(conversions.c.status)
    return list(conn.execute(query))


def _key_json(group_by: str, value: Any) -> Any:
    if value is None:
        return None
    if group_by == "day":
        return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]
    if group_by in ("campaign", "task", "link", "partner"):
        return int(value)
    return str(value)


def _sort_key(key_currency: tuple[Any, str]) -> tuple[bool, str, int, str]:
    # Keys of one group are all ints or all strings; empty keys (no Sub ID) go last.
    key, currency = key_currency
    if isinstance(key, int):
        return (False, "", key, currency)
    return (key is None, key or "", 0, currency)


def summary(
    conn: Connection,
    *,
    date_from: dt.date,
    date_to: dt.date,
    group_by: str,
    advertiser_id: int | None = None,
    partner_id: int | None = None,
    campaign_id: int | None = None,
) -> dict[str, Any]:
    """The summary report for one partner or one advertiser (give exactly one).

    Returns ``{"from", "to", "group_by", "currency", "rows": [{"key", "currency",
    "clicks", "unique_clicks", "bot_clicks", "invalid_clicks", "conversions", "revenue", "payout"}],
    "totals": {same counters}}`` with amounts as decimal strings, rows sorted by
    key (empty keys last). ``clicks`` counts every recorded click;
    ``unique_clicks`` the billable ones; ``bot_clicks`` those of bots (whatever
    their reason); ``invalid_clicks`` the rest by reason (``{"duplicate": 3}``),
    so ``clicks == unique_clicks + sum(invalid_clicks.values())``. When the figures span more than one currency, a key has one row per
    currency, the top-level and totals ``currency`` are ``null``, the totals'
    ``revenue`` and ``payout`` are ``null`` and ``totals_by_currency`` gives them.
    """
    if (advertiser_id is None) == (partner_id is None):
        raise ValueError("give exactly one of advertiser_id and partner_id")
    if group_by not in allowed_groups(advertiser_id is not None):
        raise ValidationError(
            Message("group_by must be one of {groups}.", groups=", ".join(allowed_groups(advertiser_id is not None))),
            "invalid_group_by",
        )
    check_dates(date_from, date_to)
    start = dt.datetime.combine(date_from, dt.time(), dt.UTC)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), dt.UTC)
    scope = {"advertiser_id": advertiser_id, "partner_id": partner_id, "campaign_id": campaign_id}

    currency_of = dict(conn.execute(select(campaigns.c.id, campaigns.c.currency)).all())
    table: dict[tuple[Any, str], _Figures] = {}

    def cell(key: Any, campaign: int) -> tuple[_Figures, str]:
        currency = currency_of.get(campaign, "USD")
        figures = table.setdefault((_key_json(group_by, key), currency), _Figures())
        return figures, currency

    for row in _click_figures(conn, group_by, start, end, scope):
        figures, currency = cell(row.key, row.campaign_id)
        figures.add_clicks(row.reason, int(row.clicks or 0))
        figures.bot_clicks += int(row.bot_clicks or 0)
        figures.payout += money.from_minor(int(row.payout or 0), currency)
    for row in _conversion_figures(conn, group_by, start, end, scope):
        figures, currency = cell(row.key, row.campaign_id)
        figures.conversions += int(row.conversions or 0)
        figures.revenue += money.from_minor(int(row.revenue or 0), currency)
        figures.payout += money.from_minor(int(row.payout or 0), currency)

    currencies = sorted({currency for _key_value, currency in table})
    single = currencies[0] if len(currencies) == 1 else (None if currencies else "USD")
    totals = _Figures()
    by_currency: dict[str, _Figures] = {}
    rows = []
    for (key, currency), figures in sorted(table.items(), key=lambda item: _sort_key(item[0])):
        totals.add(figures)
        by_currency.setdefault(currency, _Figures()).add(figures)
        rows.append({"key": key, "currency": currency, **figures.json(currency)})
    totals_json: dict[str, Any] = {"currency": single, **totals.json(single)}
    report: dict[str, Any] = {
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "group_by": group_by,
        "currency": single,
        "rows": rows,
        "totals": totals_json,
    }
    if single is None:
        totals_json["revenue"] = totals_json["payout"] = None
        report["totals_by_currency"] = {c: by_currency[c].json(c) for c in currencies}
    return report


# --- a partner's earnings ------------------------------------------------------------


@dataclass
class Earnings:
    """One partner's figures for a campaign or a link, in the campaign's currency.

    ``click_payout`` is what billable clicks earned (cpc; earned when the click
    is made, nothing to approve); ``pending``, ``approved`` and ``reversed``
    are the payouts of the conversions in each status. ``conversions`` counts
    those not reversed, as the summary report does.
    """

    currency: str
    clicks: int = 0
    billable_clicks: int = 0
    conversions: int = 0
    reversed_conversions: int = 0
    click_payout: Decimal = Decimal(0)
    pending: Decimal = Decimal(0)
    approved: Decimal = Decimal(0)
    reversed: Decimal = Decimal(0)

    @property
    def earned(self) -> Decimal:
        """Click payouts plus pending and approved conversion payouts (reversed ones are not earned)."""
        return self.click_payout + self.pending + self.approved

    def add(self, other: Earnings) -> None:
        """Add another figure set of the same currency."""
        if other.currency != self.currency:
            raise ValueError("earnings in different currencies are never added up")
        self.clicks += other.clicks
        self.billable_clicks += other.billable_clicks
        self.conversions += other.conversions
        self.reversed_conversions += other.reversed_conversions
        self.click_payout += other.click_payout
        self.pending += other.pending
        self.approved += other.approved
        self.reversed += other.reversed

    def rounded(self) -> Earnings:
        """The same figures with every amount at the currency's minor unit (``5`` → ``5.00`` for EUR)."""
        places = Decimal(1).scaleb(-money.exponent(self.currency))
        return replace(
            self,
            click_payout=self.click_payout.quantize(places),
            pending=self.pending.quantize(places),
            approved=self.approved.quantize(places),
            reversed=self.reversed.quantize(places),
        )


@dataclass
class LinkEarnings:
    link_id: int
    task_title: str
    landing_url: str
    figures: Earnings


@dataclass
class CampaignEarnings:
    campaign_id: int
    campaign_name: str
    program_name: str
    figures: Earnings
    links: list[LinkEarnings]


@dataclass
class PartnerEarnings:
    """A partner's earnings between two days: per campaign, per link, and one total per currency."""

    date_from: dt.date
    date_to: dt.date
    campaigns: list[CampaignEarnings]
    totals: list[Earnings]  # one per currency, never added across currencies


def partner_earnings(conn: Connection, partner_id: int, date_from: dt.date, date_to: dt.date) -> PartnerEarnings:
    """What the partner's links did between two UTC days (inclusive): clicks and payouts per campaign and link.

    The same figures as :func:`summary` (clicks from the rollups and the tail,
    conversions by the day they arrived), with conversion payouts split by
    status. Only the partner's own links; campaigns and links without a click
    or conversion in the period are left out. Amounts stay in each campaign's
    currency; the totals are one per currency.
    """
    check_dates(date_from, date_to)
    start = dt.datetime.combine(date_from, dt.time(), dt.UTC)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), dt.UTC)
    scope = {"advertiser_id": None, "partner_id": partner_id, "campaign_id": None}
    by_link: dict[int, tuple[int, Earnings]] = {}
    currency_of: dict[int, str] = {}

    def cell(link_id: int, campaign_id: int) -> Earnings:
        if campaign_id not in currency_of:
            currency_of[campaign_id] = conn.execute(
                select(campaigns.c.currency).where(campaigns.c.id == campaign_id)
            ).scalar_one()
        return by_link.setdefault(int(link_id), (campaign_id, Earnings(currency_of[campaign_id])))[1]

    for row in _click_figures(conn, "link", start, end, scope):
        figures = cell(row.key, row.campaign_id)
        figures.clicks += int(row.clicks or 0)
        if not row.reason:
            figures.billable_clicks += int(row.clicks or 0)
        figures.click_payout += money.from_minor(int(row.payout or 0), figures.currency)
    for row in _conversion_figures(conn, "link", start, end, scope, by_status=True):
        figures = cell(row.key, row.campaign_id)
        payout = money.from_minor(int(row.payout or 0), figures.currency)
        if row.status == "reversed":
            figures.reversed_conversions += int(row.conversions or 0)
            figures.reversed += payout
        else:
            figures.conversions += int(row.conversions or 0)
            if row.status == "approved":
                figures.approved += payout
            else:
                figures.pending += payout

    described = (
        {
            row.id: row
            for row in conn.execute(
                select(
                    links.c.id,
                    links.c.landing_url,
                    tasks.c.title.label("task_title"),
                    campaigns.c.name.label("campaign_name"),
                    programs.c.name.label("program_name"),
                )
                .join(tasks, tasks.c.id == links.c.task_id)
                .join(campaigns, campaigns.c.id == links.c.campaign_id)
                .join(programs, programs.c.id == campaigns.c.program_id)
                .where(links.c.partner_id == partner_id, links.c.id.in_(list(by_link)))
            )
        }
        if by_link
        else {}
    )
    grouped: dict[int, CampaignEarnings] = {}
    for link_id in sorted(by_link):
        campaign_id, figures = by_link[link_id]
        about = described[link_id]
        entry = grouped.get(campaign_id)
        if entry is None:
            entry = grouped[campaign_id] = CampaignEarnings(
                campaign_id, about.campaign_name, about.program_name, Earnings(figures.currency), []
            )
        entry.figures.add(figures)
        entry.links.append(LinkEarnings(link_id, about.task_title, about.landing_url, figures.rounded()))
    totals: dict[str, Earnings] = {}
    ordered = sorted(grouped.values(), key=lambda e: (e.program_name, e.campaign_name, e.campaign_id))
    for entry in ordered:
        totals.setdefault(entry.figures.currency, Earnings(entry.figures.currency)).add(entry.figures)
        entry.figures = entry.figures.rounded()
    return PartnerEarnings(date_from, date_to, ordered, [totals[c].rounded() for c in sorted(totals)])


def fold_clicks(conn: Connection, now: dt.datetime | None = None, settle: dt.timedelta = SETTLE) -> int:
    """Add clicks after the watermark (and older than ``settle``) to ``click_rollups``; return how many.

    Run in a write transaction. Idempotent and safe to run concurrently: the
    watermark row is locked (PostgreSQL) or the write lock held (SQLite), and
    the counters and the watermark move in the same transaction.
    """
    now = now or utcnow()
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.execute(text("INSERT INTO click_rollup_state (id, folded_through) VALUES (1, 0) ON CONFLICT DO NOTHING"))
        mark = int(
            conn.execute(text("SELECT folded_through FROM click_rollup_state WHERE id = 1 FOR UPDATE")).scalar_one()
        )
    else:
        conn.execute(text("INSERT OR IGNORE INTO click_rollup_state (id, folded_through) VALUES (1, 0)"))
        mark = watermark(conn)
    naive_cutoff = (now - settle).astimezone(dt.UTC).replace(tzinfo=None)
    # SQLite compares the stored text, so the cutoff is written the way it is stored.
    cutoff: dt.datetime | str = naive_cutoff if postgres else naive_cutoff.strftime("%Y-%m-%d %H:%M:%S.%f")
    young = conn.execute(
        text("SELECT min(id) FROM clicks WHERE id > :mark AND created_at >= :cutoff"), {"mark": mark, "cutoff": cutoff}
    ).scalar()
    upper = (
        int(young) - 1
        if young is not None
        else int(conn.execute(text("SELECT coalesce(max(id), 0) FROM clicks")).scalar_one())
    )
    if upper <= mark:
        return 0
    day = "to_char(created_at, 'YYYY-MM-DD')::date" if postgres else "substr(created_at, 1, 10)"
    conn.execute(
        text(
            "INSERT INTO click_rollups (day, link_id, campaign_id, partner_id, task_id, sub_id1, shared_id, reason, "
            "clicks, bot_clicks, payout_minor) "
            f"SELECT {day}, link_id, campaign_id, partner_id, task_id, coalesce(sub_id1, ''), coalesce(shared_id, ''), "
            "coalesce(reason, ''), count(*), sum(CASE WHEN is_bot THEN 1 ELSE 0 END), sum(payout_minor) "
            "FROM clicks WHERE id > :mark AND id <= :upper "
            f"GROUP BY {day}, link_id, campaign_id, partner_id, task_id, coalesce(sub_id1, ''), coalesce(shared_id, ''), "
            "coalesce(reason, '') "
            "ON CONFLICT (day, link_id, sub_id1, shared_id, reason) DO UPDATE SET "
            "clicks = click_rollups.clicks + excluded.clicks, "
            "bot_clicks = click_rollups.bot_clicks + excluded.bot_clicks, "
            "payout_minor = click_rollups.payout_minor + excluded.payout_minor"
        ),
        {"mark": mark, "upper": upper},
    )
    conn.execute(text("UPDATE click_rollup_state SET folded_through = :upper WHERE id = 1"), {"upper": upper})
    return upper - mark
