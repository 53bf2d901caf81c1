"""``GET /api/v1/reports/summary`` for partners (their own figures) and advertisers (their campaigns).

A bearer token that is an advertiser API key reports over the advertiser's
campaigns (also by ``partner``, never by Sub ID); a partner session token
reports over the partner's own clicks and conversions. ``GET /api/v1/reports/earnings``
gives a partner their payouts by status, per campaign and link.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue

from .. import clicklog, db
from ..errors import ValidationError
from ..i18n import Message
from ..services import reports
from ..services.advertisers import Advertiser
from ..services.partners import Partner
from .apidoc import Answer, operation, respond
from .models import EarningsQuery, EarningsReport, Report, ReportQuery

bp = Blueprint("reports", __name__, url_prefix="/api/v1/reports")

DEFAULT_DAYS = 30


def _period(date_from: dt.date | None, date_to: dt.date | None) -> tuple[dt.date, dt.date]:
    """The days asked for, ``to`` defaulting to today (UTC) and ``from`` to the 29 days before."""
    date_to = date_to or db.utcnow().date()
    # Checked before the default "from" is computed from it: near year 1 that subtraction overflows.
    reports.check_day("to", date_to)
    return date_from or max(date_to - dt.timedelta(days=DEFAULT_DAYS - 1), reports.FIRST_DAY), date_to


def _prepare() -> None:
    """Store the clicks still in this host's click log, and fold the tail when it has grown long."""
    clicklog.of(current_app).flush_before_reading()  # clicks still in this host's click log count too
    with db.reading() as conn:
        behind = reports.unfolded(conn)
    if behind >= reports.FOLD_AFTER:
        # Exact either way; folding keeps the next reports fast.
        with db.transaction() as conn:
            reports.fold_clicks(conn)


@bp.get("/summary")
@operation(
    "getSummaryReport",
    "Clicks, unique clicks, bot clicks, conversions, revenue and payout, grouped",
    caller="partner_or_advertiser",
    tag="reports",
    query=ReportQuery,
    description="A partner token reports the partner's own figures (group_by day, campaign, task, link, "
    "subId1, sharedid); an advertiser API key reports the advertiser's campaigns (day, campaign, task, "
    "link, sharedid, partner). Dates are UTC days, inclusive, from "
    f"{reports.FIRST_DAY.isoformat()} to {reports.LAST_DAY.isoformat()} (400 invalid_dates outside, or when "
    f"from is after to, or the span exceeds {reports.MAX_DAYS} days).",
    responses={200: Answer("The report", Report)},
)
def summary(caller: Partner | Advertiser, query: ReportQuery) -> ResponseReturnValue:
    """The summary report between ``from`` and ``to`` (inclusive, default the last 30 days)."""
    for_advertiser = isinstance(caller, Advertiser)
    date_from, date_to = _period(query.from_, query.to)
    allowed = reports.allowed_groups(for_advertiser)
    if query.group_by not in allowed:
        raise ValidationError(Message("group_by must be one of {groups}.", groups=", ".join(allowed)), "invalid_query")
    reports.check_dates(date_from, date_to)
    _prepare()
    with db.reading() as conn:
        report = reports.summary(
            conn,
            date_from=date_from,
            date_to=date_to,
            group_by=query.group_by,
            advertiser_id=caller.id if for_advertiser else None,
            partner_id=None if for_advertiser else caller.id,
            campaign_id=query.campaign_id,
        )
    return respond(Report.model_validate(report))


@bp.get("/earnings")
@operation(
    "getEarnings",
    "The partner's clicks, conversions and payouts (pending, approved, reversed) per campaign and link",
    tag="reports",
    query=EarningsQuery,
    description="The signed-in partner's own links only. Dates are UTC days, inclusive (the summary report's rules: "
    "400 invalid_dates outside its range, when from is after to, or when the span is too long). Amounts are "
    "in each campaign's currency; totals has one entry per currency.",
    responses={200: Answer("The earnings", EarningsReport)},
)
def earnings(caller: Partner, query: EarningsQuery) -> ResponseReturnValue:
    """The partner's earnings between ``from`` and ``to`` (inclusive, default the last 30 days)."""
    date_from, date_to = _period(query.from_, query.to)
    reports.check_dates(date_from, date_to)
    _prepare()
    with db.reading() as conn:
        found = reports.partner_earnings(conn, caller.id, date_from, date_to)
    return respond(EarningsReport.of(found))
