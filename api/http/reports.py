"""``GET /api/v1/reports/summary`` for partners (their own figures) and advertisers (their campaigns).

A bearer token that is an advertiser API key reports over the advertiser's
campaigns (also by ``partner``, never by Sub ID); a partner session token
reports over the partner's own clicks and conversions.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from .. import clicklog, db
from ..services import earnings, reports
from ..services.advertisers import Advertiser
from .auth import current_identity
from .openapi import ID_INPUT_SCHEMA, errors, json_response, ref
from .parsing import query_choice, query_date, query_id

bp = Blueprint("reports", __name__, url_prefix="/api/v1/reports")

DEFAULT_DAYS = 30


@bp.get("/summary")
def summary() -> ResponseReturnValue:
    """The summary report between ``from`` and ``to`` (inclusive, default the last 30 days)."""
    identity = current_identity()
    for_advertiser = isinstance(identity, Advertiser)
    today = db.utcnow().date()
    date_to = query_date("to", today)
    # Checked before the default "from" is computed from it: near year 1 that subtraction overflows.
    reports.check_day("to", date_to)
    date_from = query_date("from", max(date_to - dt.timedelta(days=DEFAULT_DAYS - 1), reports.FIRST_DAY))
    group_by = query_choice("group_by", reports.allowed_groups(for_advertiser), "day")
    campaign_id = query_id("campaign_id")
    reports.check_dates(date_from, date_to)
    clicklog.of(current_app).flush_before_reading()  # clicks still in this host's click log count too
    with db.reading() as conn:
        behind = reports.unfolded(conn)
    if behind >= reports.FOLD_AFTER:
        # Exact either way; folding keeps the next reports fast.
        with db.transaction() as conn:
            reports.fold_clicks(conn)
    with db.reading() as conn:
        report = reports.summary(
            conn,
            date_from=date_from,
            date_to=date_to,
            group_by=group_by,
            advertiser_id=identity.id if for_advertiser else None,
            partner_id=None if for_advertiser else identity.id,
            campaign_id=campaign_id,
        )
    return jsonify(report)


# --- OpenAPI -----------------------------------------------------------------

_DECIMAL = {"type": "string", "pattern": r"^\d+(\.\d+)?$", "example": "12.50"}
_FIGURES = {
    "clicks": {"type": "integer", "minimum": 0, "description": "Every recorded click, bots included"},
    "unique_clicks": {"type": "integer", "minimum": 0,
                      "description": "Billable clicks: not a bot, prefetch, duplicate or over the daily cap, made "
                                     "while the campaign paid, the membership was active and the link enabled"},
    "bot_clicks": {"type": "integer", "minimum": 0, "description": "Clicks of crawlers, unfurlers and HTTP tools"},
    "invalid_clicks": {
        "type": "object",
        "description": "Clicks that are not billable, counted by reason (only reasons that occurred); "
                       "clicks = unique_clicks + the sum of these",
        "properties": {reason: {"type": "integer", "minimum": 1} for reason in earnings.REASONS},
        "additionalProperties": False,
        "example": {"duplicate": 19, "prefetch": 3},
    },
    "conversions": {"type": "integer", "minimum": 0, "description": "Not reversed"},
    "conversion_rate": {"type": "number", "minimum": 0, "nullable": True, "example": 0.0525,
                        "description": "Conversions per billable click, 4 decimals (0.0525 = 5.25 %); null when "
                                       "there were no billable clicks. It can exceed 1 for a day or group whose "
                                       "conversions came from clicks counted elsewhere"},
    "revenue": _DECIMAL,
    "payout": {**_DECIMAL, "description": "Conversion payouts plus cpc earnings of billable clicks"},
}
_COUNTERS = list(_FIGURES)

OPENAPI_SCHEMAS: dict[str, Any] = {
    "ReportRow": {
        "type": "object",
        "required": ["key", *_COUNTERS],
        "properties": {
            "key": {"nullable": True, "oneOf": [{"type": "string"}, {"type": "integer"}],
                    "description": "The day (YYYY-MM-DD), an id, or the Sub ID / Shared ID (null: none)"},
            "currency": {"type": "string"},
            **_FIGURES,
        },
    },
    "Report": {
        "type": "object",
        "required": ["rows", "totals"],
        "properties": {
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"},
            "group_by": {"type": "string"},
            "currency": {"type": "string", "nullable": True},
            "rows": {"type": "array", "items": ref("ReportRow")},
            "totals": {
                "type": "object",
                "required": _COUNTERS,
                "properties": {
                    **_FIGURES,
                    "revenue": {**_DECIMAL, "nullable": True},
                    "payout": {**_DECIMAL, "nullable": True},
                    "currency": {"type": "string", "nullable": True},
                },
            },
            "totals_by_currency": {"type": "object", "additionalProperties": {"type": "object"}},
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/reports/summary": {
        "get": {
            "summary": "Clicks, unique clicks, bot clicks, conversions, revenue and payout, grouped",
            "description": "A partner token reports the partner's own figures (group_by day, campaign, task, link, "
            "subId1, sharedid); an advertiser API key reports the advertiser's campaigns (day, campaign, task, "
            "link, sharedid, partner). Dates are UTC days, inclusive, from "
            f"{reports.FIRST_DAY.isoformat()} to {reports.LAST_DAY.isoformat()} (400 invalid_dates outside, or when "
            f"from is after to, or the span exceeds {reports.MAX_DAYS} days).",
            "operationId": "getSummaryReport",
            "tags": ["reports"],
            "security": [{"partnerToken": []}, {"advertiserKey": []}],
            "parameters": [
                {"name": "from", "in": "query", "required": False, "schema": {"type": "string", "format": "date"},
                 "description": f"First day (default: 29 days before to, not before {reports.FIRST_DAY.isoformat()})"},
                {"name": "to", "in": "query", "required": False, "schema": {"type": "string", "format": "date"},
                 "description": f"Last day (default: today, UTC; at most {reports.LAST_DAY.isoformat()})"},
                {"name": "group_by", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": list(reports.GROUPS), "default": "day"}},
                {"name": "campaign_id", "in": "query", "required": False, "schema": ID_INPUT_SCHEMA},
            ],
            "responses": {"200": json_response("The report", ref("Report")), **errors(400, 401)},
        }
    }
}
