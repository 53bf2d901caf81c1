"""Conversions: the advertiser's postback, attributed to a click and paid out (SPEC §5).

An order id counts once per campaign, enforced by the database's unique
constraint (``INSERT … ON CONFLICT DO NOTHING``), never by a check followed by
an insert, so concurrent duplicates of one order make exactly one conversion
and every caller receives it. Money stays in whole minor units; payouts are
computed with :class:`~decimal.Decimal`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, Row, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import money
from ..db import utcnow
from ..errors import NotFound, RuleRefused, ValidationError
from ..schema import campaigns, clicks, conversions, programs
from . import earnings

STATUSES = ("pending", "approved", "reversed")
MAX_ORDER_ID = 255
MAX_CLICK_ID = 64


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
    def from_row(cls, row: Row) -> "Conversion":
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


def to_json(conversion: Conversion) -> dict[str, Any]:
    """The conversion shape of SPEC §6 (amounts as decimal strings)."""
    return {
        "id": conversion.id,
        "click_id": conversion.click_id,
        "order_id": conversion.order_id,
        "amount": str(conversion.amount),
        "currency": conversion.currency,
        "payout": str(conversion.payout),
        "payout_reason": conversion.payout_reason,
        "status": conversion.status,
        "created_at": conversion.created_at.isoformat().replace("+00:00", "Z"),
        "campaign_id": conversion.campaign_id,
        "link_id": conversion.link_id,
    }


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


def _select():  # type: ignore[no-untyped-def]
    return (
        select(conversions, clicks.c.click_id)
        .join(clicks, clicks.c.id == conversions.c.click_pk)
        .join(campaigns, campaigns.c.id == conversions.c.campaign_id)
        .join(programs, programs.c.id == campaigns.c.program_id)
    )


def _existing(conn: Connection, campaign_id: int, order_id: str) -> Conversion | None:
    row = conn.execute(
        _select().where(conversions.c.campaign_id == campaign_id, conversions.c.order_id == order_id)
    ).first()
    return None if row is None else Conversion.from_row(row)


def clean_order_id(value: object) -> str:
    """The advertiser's order id: 1 to 255 printable characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("order_id is required: the advertiser's id of the order.", "invalid_order_id")
    # Lone surrogates (JSON allows "\\ud800") are not text and cannot be stored.
    if len(value) > MAX_ORDER_ID or any(
        ord(ch) < 0x20 or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF for ch in value
    ):
        raise ValidationError(f"order_id must be at most {MAX_ORDER_ID} printable characters.", "invalid_order_id")
    return value.strip()


def record_conversion(
    conn: Connection,
    advertiser_id: int,
    click_id: object,
    order_id: object,
    amount: object,
    currency: object,
    *,
    now: dt.datetime | None = None,
) -> tuple[Conversion, bool]:
    """Record a conversion reported by an advertiser; return it and whether it is new.

    - 400 (:class:`ValidationError`): malformed click id, order id, amount or currency;
    - 404: no such click, or a click of another advertiser's campaign;
    - repeat of an order id already reported for the campaign: the existing
      conversion, ``created`` false (checked before the rules, so a retry
      after the window still gets its answer);
    - 422: conversion tracking off, currency not the campaign's, or the click
      older than the attribution window;
    - otherwise a new ``pending`` conversion with its payout.
    """
    now = now or utcnow()
    # Click ids are printable ASCII (we make them); anything else cannot be one, and a NUL
    # or a lone surrogate would make the lookup itself fail on PostgreSQL.
    if (not isinstance(click_id, str) or not click_id or len(click_id) > MAX_CLICK_ID
            or not (click_id.isascii() and click_id.isprintable())):
        raise ValidationError("click_id is required: the value your landing page received.", "invalid_click_id")
    order = clean_order_id(order_id)
    value = money.parse_amount(amount, "amount")
    code = money.currency_code(currency)
    minor = money.to_minor(value, code)
    if money.from_minor(minor, code) != value:
        raise ValidationError(
            f"amount has more decimals than {code} allows ({money.exponent(code)}).", "invalid_amount"
        )
    money.check_minor(minor, code, "amount")
    click = conn.execute(
        select(
            clicks.c.id, clicks.c.created_at, clicks.c.reason, clicks.c.link_id, clicks.c.partner_id,
            clicks.c.task_id, campaigns.c.id.label("campaign_id"), campaigns.c.conversion_tracking,
            campaigns.c.pay_for_performance, campaigns.c.payout_model, campaigns.c.payout_value,
            campaigns.c.currency, campaigns.c.attribution_window_days,
        )
        .join(campaigns, campaigns.c.id == clicks.c.campaign_id)
        .join(programs, programs.c.id == campaigns.c.program_id)
        .where(clicks.c.click_id == click_id, programs.c.advertiser_id == advertiser_id)
    ).first()
    if click is None:
        raise NotFound("No click with this click_id in your campaigns.", "click_not_found")
    existing = _existing(conn, click.campaign_id, order)
    if existing is not None:
        return existing, False
    if not click.conversion_tracking:
        raise RuleRefused("Conversion tracking is off for this campaign.", "conversion_tracking_off")
    if code != click.currency:
        raise RuleRefused(
            f"This campaign is in {click.currency}; report the amount in {click.currency} (got {code}).",
            "currency_mismatch",
        )
    if now - click.created_at > dt.timedelta(days=click.attribution_window_days):
        raise RuleRefused(
            f"The click is older than the campaign's attribution window ({click.attribution_window_days} days).",
            "outside_attribution_window",
        )
    # A conversion pays unless its click was made where nobody may earn (the
    # click's reason, fixed when it happened), or the campaign stopped paying.
    payout_reason = earnings.conversion_payout_reason(click.reason, click.pay_for_performance)
    payout = 0 if payout_reason else conversion_payout(click.payout_model, int(click.payout_value), minor)
    values = {
        "click_pk": click.id,
        "campaign_id": click.campaign_id,
        "link_id": click.link_id,
        "partner_id": click.partner_id,
        "task_id": click.task_id,
        "order_id": order,
        "amount_minor": minor,
        "currency": code,
        "payout_minor": payout,
        "payout_reason": payout_reason,
        "status": "pending",
        "created_at": now,
        "updated_at": now,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(conversions)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["campaign_id", "order_id"])
        .returning(conversions.c.id)
    )
    new_id = conn.execute(statement).scalar()
    if new_id is None:
        # A concurrent report of the same order won the insert: answer with its conversion.
        won = _existing(conn, click.campaign_id, order)
        if won is None:  # pragma: no cover - the constraint said it exists
            raise RuleRefused("The order could not be recorded; please retry.", "retry")
        return won, False
    created = _existing(conn, click.campaign_id, order)
    assert created is not None
    return created, True


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
        raise ValidationError("Status must be pending, approved or reversed.", "invalid_status")
    row = conn.execute(
        _select().where(conversions.c.id == conversion_id, programs.c.advertiser_id == advertiser_id)
    ).first()
    if row is None:
        raise NotFound("No such conversion.")
    conn.execute(
        update(conversions).where(conversions.c.id == conversion_id).values(status=status, updated_at=utcnow())
    )
    row = conn.execute(_select().where(conversions.c.id == conversion_id)).first()
    return Conversion.from_row(row)  # type: ignore[arg-type]
