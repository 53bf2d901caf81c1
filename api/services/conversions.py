"""Conversions: the advertiser's postback, attributed to a click and paid out.

An order id counts once per campaign, enforced by the database's unique
constraint (``INSERT … ON CONFLICT DO NOTHING``), never by a check followed by
an insert, so concurrent duplicates of one order make exactly one conversion
and every caller receives it. Money stays in whole minor units; payouts are
computed with :class:`~decimal.Decimal`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, get_args

from sqlalchemy import Connection, Row, Select, select, update

from .. import money
from ..db import utcnow
from ..errors import NotFound, RuleRefused, ValidationError
from ..i18n import Message
from ..rawsql import Raw
from ..schema import CLICK_ID_MAX, campaigns, clicks, conversions, pending_conversions, programs
from . import earnings, postbacks
from .clicks import STORE_LOCK, ClickIds, ClickOrigin, verify_click_id

log = logging.getLogger(__name__)

ConversionStatus = Literal["pending", "approved", "reversed"]
STATUSES: tuple[ConversionStatus, ...] = get_args(ConversionStatus)
MAX_ORDER_ID = 255
MAX_CLICK_ID = CLICK_ID_MAX


@dataclass(frozen=True)
class Conversion:
    id: int
    click_id: str
    campaign_id: int
    link_id: int
    partner_id: int
    task_id: int
    order_id: str
    amount_minor: int
    currency: str
    payout_minor: int
    payout_reason: str | None
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> Conversion:
        m = row._mapping
        return cls(**{name: m[name] for name in cls.__dataclass_fields__})

    @property
    def amount(self) -> Decimal:
        """The sale amount as an exact decimal."""
        return money.from_minor(self.amount_minor, self.currency)

    @property
    def payout(self) -> Decimal:
        """The partner's payout as an exact decimal."""
        return money.from_minor(self.payout_minor, self.currency)


def conversion_payout(payout_model: str, payout_value: int, amount_minor: int) -> int:
    """The payout of one conversion that may earn, in minor units, by the campaign's model now.

    - ``cpa``: the fixed amount;
    - ``revshare``: ``payout_value`` basis points of the amount, rounded half up
      to the minor unit (exact decimal arithmetic);
    - ``cpc``: 0 (cpc pays per billable click, see :mod:`api.services.clicks`).

    Whether anyone may earn at all is :func:`api.services.earnings.conversion_payout_reason`.
    """
    if payout_model == "cpa":
        return payout_value
    if payout_model == "revshare":
        share = Decimal(amount_minor) * Decimal(payout_value) / Decimal(10000)
        return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return 0


def _select() -> Select[Any]:
    return (
        select(conversions, clicks.c.click_id)
        .join(clicks, clicks.c.id == conversions.c.click_pk)
        .join(campaigns, campaigns.c.id == conversions.c.campaign_id)
        .join(programs, programs.c.id == campaigns.c.program_id)
    )


def _conversion(conn: Connection, conversion_id: int) -> Conversion:
    row = conn.execute(_select().where(conversions.c.id == conversion_id)).first()
    assert row is not None, "a conversion just recorded or found exists"
    return Conversion.from_row(row)


def clean_order_id(value: object) -> str:
    """The advertiser's order id: 1 to 255 printable characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(Message("order_id is required: the advertiser's id of the order."), "invalid_order_id")
    # Lone surrogates (JSON allows "\\ud800") are not text and cannot be stored.
    if len(value) > MAX_ORDER_ID or any(
        ord(ch) < 0x20 or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF for ch in value
    ):
        raise ValidationError(
            Message("order_id must be at most {limit} printable characters.", limit=MAX_ORDER_ID), "invalid_order_id"
        )
    return value.strip()


@dataclass(frozen=True)
class Report:
    """A postback's fields, checked: what every rule below works on."""

    click_id: str
    order_id: str
    amount_minor: int
    currency: str


def check_click_id(value: object) -> str:
    """A postback's click id: printable ASCII of at most :data:`MAX_CLICK_ID` characters (400 otherwise)."""
    # Click ids are printable ASCII (we make them); anything else cannot be one, and a NUL
    # or a lone surrogate would make the lookup itself fail on PostgreSQL.
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_CLICK_ID
        or not (value.isascii() and value.isprintable())
    ):
        raise ValidationError(
            Message("click_id is required: the value your landing page received."), "invalid_click_id"
        )
    return value


def make_report(click_id: str, order_id: str, amount: Decimal, currency: str) -> Report:
    """A postback whose fields are each well-formed, once its amount fits the currency (400 otherwise)."""
    minor = money.to_minor(amount, currency)
    money.check_minor(minor, currency, "amount")
    if money.from_minor(minor, currency) != amount:
        raise ValidationError(
            Message(
                "amount has more decimals than {currency} allows ({decimals}).",
                currency=currency,
                decimals=money.exponent(currency),
            ),
            "invalid_amount",
        )
    return Report(click_id, order_id, minor, currency)


def parse_report(click_id: object, order_id: object, amount: object, currency: object) -> Report:
    """Check a postback's fields as they came (400, :class:`ValidationError`, for anything malformed)."""
    return make_report(
        check_click_id(click_id),
        clean_order_id(order_id),
        money.parse_amount(amount, "amount"),
        money.currency_code(currency),
    )


# --- attributing a report to a stored click ---------------------------------------------------------
#
# Written for the raw DBAPI connection (api.rawsql.Raw), because it runs in two
# places: the postback's own transaction (Raw.of its SQLAlchemy connection), and
# the click log's flush transaction, which stores the click a waiting postback
# was for (api.clicklog), where only a raw connection exists.

_CLICK_COLUMNS = (
    "SELECT k.id, k.click_id, k.created_at, k.reason, k.link_id, k.partner_id, k.task_id, c.id, "
    "c.conversion_tracking, c.pay_for_performance, c.payout_model, c.payout_value, c.currency, "
    "c.attribution_window_days, p.advertiser_id "
    "FROM clicks k JOIN campaigns c ON c.id = k.campaign_id JOIN programs p ON p.id = c.program_id "
)


@dataclass(frozen=True)
class _Click:
    """A stored click with what its campaign's rules need."""

    id: int
    click_id: str
    created_at: dt.datetime
    reason: str | None
    link_id: int
    partner_id: int
    task_id: int
    campaign_id: int
    conversion_tracking: bool
    pay_for_performance: bool
    payout_model: str
    payout_value: int
    currency: str
    attribution_window_days: int
    advertiser_id: int

    @classmethod
    def from_raw(cls, row: tuple[Any, ...]) -> _Click:
        (
            pk,
            click_id,
            created_at,
            reason,
            link_id,
            partner_id,
            task_id,
            campaign_id,
            tracking,
            pays,
            model,
            value,
            currency,
            window,
            advertiser_id,
        ) = row
        return cls(
            int(pk),
            click_id,
            Raw.read_time(created_at),
            reason,
            int(link_id),
            int(partner_id),
            int(task_id),
            int(campaign_id),
            bool(tracking),
            bool(pays),
            model,
            int(value),
            currency,
            int(window),
            int(advertiser_id),
        )


def _stored_click(raw: Raw, advertiser_id: int, click_id: str) -> _Click | None:
    row = raw.one(_CLICK_COLUMNS + "WHERE k.click_id = ? AND p.advertiser_id = ?", (click_id, advertiser_id))
    return None if row is None else _Click.from_raw(row)


def _stored_clicks(raw: Raw, click_ids: Sequence[str]) -> dict[str, _Click]:
    if not click_ids:
        return {}
    marks = ",".join("?" * len(click_ids))
    return {
        click.click_id: click
        for click in map(_Click.from_raw, raw.all(_CLICK_COLUMNS + f"WHERE k.click_id IN ({marks})", list(click_ids)))
    }


def _existing(raw: Raw, campaign_id: int, order_id: str) -> int | None:
    """The id of the conversion already recorded for this order in the campaign, if any."""
    row = raw.one("SELECT id FROM conversions WHERE campaign_id = ? AND order_id = ?", (campaign_id, order_id))
    return None if row is None else int(row[0])


def _attribute(raw: Raw, click: _Click, report: Report, now: dt.datetime) -> tuple[int, bool]:
    """Record ``report`` as a conversion of ``click`` at ``now``; return its id and whether it is new.

    - repeat of an order id already reported for the campaign: the existing
      conversion, not new (checked before the rules, so a retry after the
      window still gets its answer);
    - 422 (:class:`RuleRefused`): conversion tracking off, currency not the
      campaign's, or the click older than the attribution window;
    - otherwise a new ``pending`` conversion with its payout.
    """
    existing = _existing(raw, click.campaign_id, report.order_id)
    if existing is not None:
        return existing, False
    if not click.conversion_tracking:
        raise RuleRefused(Message("Conversion tracking is off for this campaign."), "conversion_tracking_off")
    if report.currency != click.currency:
        raise RuleRefused(
            Message(
                "This campaign is in {currency}; report the amount in {currency} (got {given}).",
                currency=click.currency,
                given=report.currency,
            ),
            "currency_mismatch",
        )
    if now - click.created_at > dt.timedelta(days=click.attribution_window_days):
        raise RuleRefused(
            Message(
                "The click is older than the campaign's attribution window ({days} days).",
                days=click.attribution_window_days,
            ),
            "outside_attribution_window",
        )
    # A conversion pays unless its click was made where nobody may earn (the
    # click's reason, fixed when it happened), or the campaign stopped paying.
    payout_reason = earnings.conversion_payout_reason(click.reason, click.pay_for_performance)
    payout = 0 if payout_reason else conversion_payout(click.payout_model, click.payout_value, report.amount_minor)
    stamp = raw.time(now)
    # RETURNING gives the id only when this insert made the row; all() steps the
    # statement to its end (a half-read INSERT … RETURNING is a pending statement).
    rows = raw.all(
        "INSERT INTO conversions (click_pk, campaign_id, link_id, partner_id, task_id, order_id, amount_minor, "
        "currency, payout_minor, payout_reason, status, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) "
        "ON CONFLICT (campaign_id, order_id) DO NOTHING RETURNING id",
        (
            click.id,
            click.campaign_id,
            click.link_id,
            click.partner_id,
            click.task_id,
            report.order_id,
            report.amount_minor,
            report.currency,
            payout,
            payout_reason,
            stamp,
            stamp,
        ),
    )
    if rows:
        conversion_id = int(rows[0][0])
        # Same transaction as the conversion (the postback's, or the click log flush's).
        postbacks.enqueue(raw, conversion_id, "created")
        return conversion_id, True
    # A concurrent report of the same order won the insert: answer with its conversion.
    won = _existing(raw, click.campaign_id, report.order_id)
    if won is None:  # pragma: no cover - the constraint said it exists
        raise RuleRefused(Message("The order could not be recorded; please retry."), "retry")
    return won, False


# --- postbacks that come before their click is stored ------------------------------------------------
#
# The redirect answers a click once it is in the node's click log; a flusher
# stores it in ``clicks`` within a fraction of a second, on whichever node
# logged it. A postback that arrives in between (a fast checkout, or a node
# storing a backlog) finds no click. It never waits for one: when the click id
# proves to be ours (its tag verifies: api.services.clicks), for a link of this
# advertiser, made moments ago, the postback is kept as a *waiting* conversion
# and answered 202; the flush that stores the click records it
# (:func:`record_waiting`), by the same rules as any postback. Anything else is
# a 404 at once, with no flush and no wait.
#
# Postback and flush never miss each other: a waiting row is written under the
# lock every flush batch holds while it stores clicks and records waiting
# conversions (SQLite: the postback's write transaction; PostgreSQL: the
# flushers' advisory lock, api.services.clicks.lock_click_store), after looking
# for the click once more. Either the flush committed first (the postback then
# finds the click) or it starts after the postback committed (and finds the row).

#: A verified click id whose click is not stored waits for it only if the click
#: was made at most this long ago. A node's flusher stores its clicks within
#: 0.2 s; the margin covers a node or the database catching up after a
#: restart or an outage (logged clicks are stored within seconds of its end).
#: Past it, the click is taken as lost: 404 like any unknown click.
WAITING_WINDOW = dt.timedelta(minutes=10)
#: How far ahead of this node's clock another node's clock may be (a click id's
#: time is that of the node that made it).
CLOCK_SKEW = dt.timedelta(seconds=5)
#: A waiting conversion whose click is still not stored this long after the
#: postback came fails with ``click_not_found`` (its click is lost).
WAITING_EXPIRY = dt.timedelta(hours=1)
#: A flush batch looks at no more than this many waiting conversions.
WAITING_BATCH = 500

#: What a failed waiting conversion tells a repeated postback (error code → 404 or 422 and a sentence).
_FAILURES: dict[str, tuple[type[NotFound] | type[RuleRefused], str]] = {
    "click_not_found": (NotFound, Message("No click with this click_id in your campaigns: it was never stored.")),
    "conversion_tracking_off": (RuleRefused, Message("Conversion tracking is off for this campaign.")),
    "currency_mismatch": (RuleRefused, Message("The currency is not this campaign's.")),
    "outside_attribution_window": (RuleRefused, Message("The click is older than the campaign's attribution window.")),
}


@dataclass(frozen=True)
class Waiting:
    """A postback kept until its click is stored, and what became of it."""

    id: int
    advertiser_id: int
    campaign_id: int
    click_id: str
    order_id: str
    amount_minor: int
    currency: str
    received_at: dt.datetime
    status: str  # waiting | recorded | failed
    error: str | None  # the code a postback would have been refused with (failed only)
    conversion_id: int | None  # the conversion it was recorded as (recorded only)
    resolved_at: dt.datetime | None

    @property
    def amount(self) -> Decimal:
        """The sale amount as an exact decimal."""
        return money.from_minor(self.amount_minor, self.currency)


_WAITING_COLUMNS = (
    "SELECT id, advertiser_id, campaign_id, click_id, order_id, amount_minor, currency, received_at, "
    "status, error, conversion_id, resolved_at FROM pending_conversions "
)


def _waiting_from_raw(row: tuple[Any, ...]) -> Waiting:
    (
        pk,
        advertiser_id,
        campaign_id,
        click_id,
        order_id,
        amount_minor,
        currency,
        received_at,
        status,
        error,
        conversion_id,
        resolved_at,
    ) = row
    return Waiting(
        int(pk),
        int(advertiser_id),
        int(campaign_id),
        click_id,
        order_id,
        int(amount_minor),
        currency,
        Raw.read_time(received_at),
        status,
        error,
        None if conversion_id is None else int(conversion_id),
        None if resolved_at is None else Raw.read_time(resolved_at),
    )


def may_wait(ids: ClickIds, click_id: str, now: dt.datetime | None = None) -> ClickOrigin | None:
    """Where ``click_id`` comes from, when it is ours and young enough for its postback to wait; else ``None``.

    No database: a made-up or altered id, an id of another installation or an
    older-style id (not verifiable) is ``None`` at the cost of one keyed hash.
    """
    origin = verify_click_id(ids, click_id)
    if origin is None:
        return None
    age = (now or utcnow()) - origin.made_at
    return origin if -CLOCK_SKEW <= age <= WAITING_WINDOW else None


def lock_click_store(raw: Raw) -> None:
    """Wait for the flush batch storing clicks right now, and keep the next one out until this transaction ends.

    PostgreSQL: the transaction-level advisory lock every flush batch takes
    (a batch lasts milliseconds). SQLite: nothing to do, a write transaction
    (``BEGIN IMMEDIATE``) already excludes every other writer.
    """
    if not raw.sqlite:
        raw.one("SELECT pg_advisory_xact_lock(?)", (STORE_LOCK,))


def report_conversion(
    conn: Connection,
    advertiser_id: int,
    report: Report,
    ids: ClickIds,
    *,
    now: dt.datetime | None = None,
) -> tuple[Conversion, bool] | Waiting:
    """The postback: record ``report`` and return ``(conversion, created)``, or keep it waiting for its click.

    Run in a write transaction (:func:`api.db.transaction`).

    - the click is stored: a new conversion (201), a repeat of the order (200) or a rule
      refusing it (422), see :func:`_attribute`;
    - it is not, and the click id is not ours, not this advertiser's or older
      than :data:`WAITING_WINDOW`: 404 at once;
    - it is not, the id is ours and fresh: a repeat of an order already
      recorded for the campaign is that conversion (200); a rule that needs no
      click refuses now (422: conversion tracking off, currency); otherwise
      the postback is kept (once per advertiser, click id and order id) and
      returned as :class:`Waiting` (202). A waiting postback that failed since
      (its click broke a rule, or never came) answers that error.
    """
    now = now or utcnow()
    raw = Raw.of(conn)
    click = _stored_click(raw, advertiser_id, report.click_id)
    if click is None:
        origin = may_wait(ids, report.click_id, now)
        campaign = (
            None
            if origin is None
            else raw.one(
                "SELECT c.id, c.conversion_tracking, c.currency FROM links l JOIN campaigns c ON c.id = l.campaign_id "
                "JOIN programs p ON p.id = c.program_id WHERE l.id = ? AND p.advertiser_id = ?",
                (origin.link_id, advertiser_id),
            )
        )
        if campaign is None:
            raise NotFound(Message("No click with this click_id in your campaigns."), "click_not_found")
        lock_click_store(raw)
        click = _stored_click(raw, advertiser_id, report.click_id)  # stored while we looked?
        if click is None:
            return _wait(conn, raw, advertiser_id, campaign, report, now)
    conversion_id, created = _attribute(raw, click, report, now)
    return _conversion(conn, conversion_id), created


def _wait(
    conn: Connection, raw: Raw, advertiser_id: int, campaign: tuple[Any, ...], report: Report, now: dt.datetime
) -> tuple[Conversion, bool] | Waiting:
    campaign_id, tracking, currency = int(campaign[0]), bool(campaign[1]), campaign[2]
    existing = _existing(raw, campaign_id, report.order_id)
    if existing is not None:
        return _conversion(conn, existing), False
    if not tracking:
        raise RuleRefused(Message("Conversion tracking is off for this campaign."), "conversion_tracking_off")
    if report.currency != currency:
        raise RuleRefused(
            Message(
                "This campaign is in {currency}; report the amount in {currency} (got {given}).",
                currency=currency,
                given=report.currency,
            ),
            "currency_mismatch",
        )
    raw.run(
        "INSERT INTO pending_conversions (advertiser_id, campaign_id, click_id, order_id, amount_minor, currency, "
        "received_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'waiting') "
        "ON CONFLICT (advertiser_id, click_id, order_id) DO NOTHING",
        (
            advertiser_id,
            campaign_id,
            report.click_id,
            report.order_id,
            report.amount_minor,
            report.currency,
            raw.time(now),
        ),
    )
    row = raw.one(
        _WAITING_COLUMNS + "WHERE advertiser_id = ? AND click_id = ? AND order_id = ?",
        (advertiser_id, report.click_id, report.order_id),
    )
    assert row is not None, "inserted or already there"
    waiting = _waiting_from_raw(row)
    if waiting.status == "failed":
        error, message = _FAILURES.get(waiting.error or "", (RuleRefused, Message("This conversion was refused.")))
        raise error(message, waiting.error)
    if waiting.status == "recorded" and waiting.conversion_id is not None:
        return _conversion(conn, waiting.conversion_id), False
    return waiting


def waiting_now(raw: Raw, now: dt.datetime | None = None) -> list[Waiting]:
    """The waiting conversions whose click is stored now, or which waited past :data:`WAITING_EXPIRY`; oldest first.

    Every flush batch that stored clicks asks: one seek in an index that is
    empty but for the moments a postback beats its click (then one probe of
    the clicks' unique index per waiting row). Only rows there is something
    to do about count towards :data:`WAITING_BATCH`, so rows still waiting
    never keep others from being recorded.
    """
    expired = raw.time((now or utcnow()) - WAITING_EXPIRY)
    return [
        _waiting_from_raw(row)
        for row in raw.all(
            _WAITING_COLUMNS + "WHERE status = 'waiting' AND (received_at < ? OR EXISTS "
            "(SELECT 1 FROM clicks WHERE clicks.click_id = pending_conversions.click_id)) ORDER BY id LIMIT ?",
            (expired, WAITING_BATCH),
        )
    ]


def record_waiting(raw: Raw, waiting: Sequence[Waiting], now: dt.datetime | None = None) -> dict[str, int]:
    """Record the waiting conversions whose click is stored now (:func:`waiting_now`); count recorded and failed.

    Called inside the flush transaction that stored clicks, after storing them.
    Each goes through the rules of any postback (:func:`_attribute`) as of
    when its postback came. One that a rule refuses, or whose click is still
    not stored :data:`WAITING_EXPIRY` after its postback, is *failed* with the
    code the postback would have been answered with: the advertiser was told
    202, so the row stays for them to see (the admin lists it; repeating the
    postback answers that error). A repeat of an order recorded meanwhile is
    *recorded* as that conversion.
    """
    now = now or utcnow()
    found = _stored_clicks(raw, sorted({item.click_id for item in waiting}))
    counts = {"recorded": 0, "failed": 0}
    for item in waiting:
        click = found.get(item.click_id)
        error: str | None = None
        conversion_id: int | None = None
        if click is None or click.advertiser_id != item.advertiser_id:
            if now - item.received_at <= WAITING_EXPIRY:
                continue  # still on its way (another node's log, a backlog)
            error = "click_not_found"  # lost: a node that never came back, a link deleted before its click was stored
        else:
            report = Report(item.click_id, item.order_id, item.amount_minor, item.currency)
            try:
                conversion_id, _created = _attribute(raw, click, report, item.received_at)
            except RuleRefused as refusal:
                error = refusal.code
        if error is not None:
            log.info(
                "waiting conversion %d (advertiser %d, order %r) failed: %s",
                item.id,
                item.advertiser_id,
                item.order_id,
                error,
            )
        raw.run(
            "UPDATE pending_conversions SET status = ?, error = ?, conversion_id = ?, resolved_at = ? "
            "WHERE id = ? AND status = 'waiting'",
            ("failed" if error else "recorded", error, conversion_id, raw.time(now), item.id),
        )
        counts["failed" if error else "recorded"] += 1
    return counts


def list_waiting(
    conn: Connection,
    advertiser_id: int,
    campaign_id: int | None = None,
    *,
    include_recorded: bool = False,
    limit: int = 50,
) -> list[Waiting]:
    """Postbacks of the advertiser that came before their click, newest first: waiting and failed ones.

    With ``include_recorded`` also those recorded since (they are conversions like any other).
    """
    query = select(pending_conversions).where(pending_conversions.c.advertiser_id == advertiser_id)
    if campaign_id is not None:
        query = query.where(pending_conversions.c.campaign_id == campaign_id)
    if not include_recorded:
        query = query.where(pending_conversions.c.status != "recorded")
    rows = conn.execute(
        query.order_by(pending_conversions.c.received_at.desc(), pending_conversions.c.id.desc()).limit(limit)
    )
    return [Waiting(**{name: row._mapping[name] for name in Waiting.__dataclass_fields__}) for row in rows]


def list_conversions(
    conn: Connection, advertiser_id: int, campaign_id: int | None = None, limit: int = 50
) -> list[Conversion]:
    """The advertiser's most recent conversions (all campaigns, or one), newest first."""
    query = _select().where(programs.c.advertiser_id == advertiser_id)
    if campaign_id is not None:
        query = query.where(conversions.c.campaign_id == campaign_id)
    rows = conn.execute(query.order_by(conversions.c.created_at.desc(), conversions.c.id.desc()).limit(limit))
    return [Conversion.from_row(row) for row in rows]


def set_conversion_status(conn: Connection, advertiser_id: int, conversion_id: int, status: str) -> Conversion:
    """Approve or reverse (or set back to pending) one of the advertiser's conversions.

    A reversed conversion no longer counts in reports (neither revenue nor payout).
    """
    if status not in STATUSES:
        raise ValidationError(Message("Status must be pending, approved or reversed."), "invalid_status")
    row = conn.execute(
        _select().where(conversions.c.id == conversion_id, programs.c.advertiser_id == advertiser_id)
    ).first()
    if row is None:
        raise NotFound(Message("No such conversion."))
    conn.execute(
        update(conversions).where(conversions.c.id == conversion_id).values(status=status, updated_at=utcnow())
    )
    if status != row.status and status in ("approved", "reversed"):
        # The partner's postback, committed with the change or not at all.
        postbacks.enqueue(Raw.of(conn), conversion_id, "approved" if status == "approved" else "reversed")
    return _conversion(conn, conversion_id)
