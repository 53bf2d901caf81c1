"""The conversion postback: ``POST /api/v1/conversions`` with the advertiser's API key.

201 with the new conversion; 200 with the same body when the order id was
already reported for the campaign (also when duplicates race: the database
decides); 202 when the click was answered moments ago and is not stored yet
(the conversion is recorded when it is); 404 unknown click or another
advertiser's; 422 a rule refuses it (attribution window, conversion tracking
off, currency); 400 malformed. No answer waits for anything but the database:
an unknown click id is a 404 at once, however fresh it looks.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from .. import clicklog, db, money
from ..services import conversions, earnings
from .auth import current_advertiser
from .openapi import ID_SCHEMA, errors, json_body, json_response, ref
from .parsing import json_object
from .tracking import click_ids

bp = Blueprint("conversions", __name__, url_prefix="/api/v1/conversions")

FIELDS = ("click_id", "order_id", "amount", "currency")


@bp.post("")
def create_conversion() -> ResponseReturnValue:
    """Record (or recognise a repeat of) one conversion, or accept it until its click is stored."""
    advertiser = current_advertiser()
    body = json_object(FIELDS)
    report = conversions.parse_report(body.get("click_id"), body.get("order_id"), body.get("amount"),
                                      body.get("currency"))
    ids = click_ids(current_app)
    if conversions.may_wait(ids, report.click_id) is not None:
        # A click answered moments ago may still be in this node's click log: store
        # what it holds now, so the postback usually finds its click (201, not 202).
        # Never waits: another process flushing already is left to it.
        clicklog.of(current_app).flush_quietly()
    with db.transaction() as conn:
        result = conversions.report_conversion(conn, advertiser.id, report, ids)
    if isinstance(result, conversions.Waiting):
        response = jsonify(conversions.waiting_to_json(result))
        response.status_code = 202
        return response
    conversion, created = result
    response = jsonify(conversions.to_json(conversion))
    response.status_code = 201 if created else 200
    return response


# --- OpenAPI -----------------------------------------------------------------

_DECIMAL = {"type": "string", "pattern": r"^\d+(\.\d+)?$", "example": "12.50"}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "ConversionRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": list(FIELDS),
        "properties": {
            "click_id": {"type": "string", "minLength": 1, "maxLength": conversions.MAX_CLICK_ID,
                         "description": "The click id your landing page received"},
            "order_id": {"type": "string", "minLength": 1, "maxLength": conversions.MAX_ORDER_ID,
                         "description": "Your order id; counted once per campaign"},
            "amount": {
                "oneOf": [{"type": "string", "pattern": r"^\d{1,12}(\.\d{1,4})?$"}, {"type": "number", "minimum": 0}],
                "description": "The sale amount, a non-negative decimal (a string such as \"12.50\" is best) with "
                f"at most the currency's decimals, up to {money.MAX_MINOR:,} minor units: "
                f"{money.format_minor(money.MAX_MINOR, 'USD')} in a two-decimal currency such as USD, "
                f"{money.format_minor(money.MAX_MINOR, 'KWD')} KWD, {money.format_minor(money.MAX_MINOR, 'JPY')} JPY "
                "(400 invalid_amount above; reports "
                "add amounts up as 64-bit integers, and this keeps even a billion of them in range)",
            },
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217; the campaign's currency"},
        },
    },
    "Conversion": {
        "type": "object",
        "required": ["id", "click_id", "order_id", "amount", "currency", "payout", "status", "created_at"],
        "properties": {
            "id": ID_SCHEMA,
            "click_id": {"type": "string"},
            "order_id": {"type": "string"},
            "amount": _DECIMAL,
            "currency": {"type": "string"},
            "payout": _DECIMAL,
            "payout_reason": {
                "type": "string", "nullable": True, "enum": [*sorted(earnings.NO_EARNINGS), None],
                "description": "Why the payout is 0.00 although the campaign pays per conversion: the click was made "
                               "where nobody may earn (its reason), or the campaign no longer pays for performance; "
                               "null when it pays",
            },
            "status": {"type": "string", "enum": list(conversions.STATUSES)},
            "created_at": {"type": "string", "format": "date-time"},
            "campaign_id": ID_SCHEMA,
            "link_id": ID_SCHEMA,
        },
    },
    "WaitingConversion": {
        "type": "object",
        "description": "A postback accepted before its click was stored: the conversion is recorded, by the same "
                       "rules, as soon as the click is (normally within a second). Send the same postback again "
                       "to learn the outcome: 200 with the conversion once recorded, 202 again while it waits, "
                       "404 or 422 with the reason if it was refused.",
        "required": ["click_id", "order_id", "amount", "currency", "status", "received_at", "message"],
        "properties": {
            "click_id": {"type": "string"},
            "order_id": {"type": "string"},
            "amount": _DECIMAL,
            "currency": {"type": "string"},
            "status": {"type": "string", "enum": ["waiting"]},
            "received_at": {"type": "string", "format": "date-time",
                            "description": "When the first of these postbacks came: the conversion's time"},
            "message": {"type": "string"},
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/conversions": {
        "post": {
            "summary": "Report a conversion (postback)",
            "description": "Authenticated with the advertiser's API key. The payout follows the campaign's model "
            "now: cpa fixed, revshare a percent of the amount, cpc nothing per conversion. The sale is always "
            "recorded; it pays 0.00 with a payout_reason when its click was made where nobody may earn (pay for "
            "performance off, campaign ended or paused without pay, membership not active, link disabled, a bot) or "
            "the campaign no longer pays. A duplicate, capped or prefetched click's sale pays: a sale proves a person.\n\n"
            "Clicks reach storage a moment after the visitor was redirected. A postback for a click id Tasklink "
            "made, for a link of this advertiser, at most "
            f"{int(conversions.WAITING_WINDOW.total_seconds() // 60)} minutes ago, whose click is not stored yet, "
            "is accepted with 202 and recorded when the click is stored, by the same rules (a rule that can be "
            "checked without the click, conversion tracking or the currency, answers 422 at once). Any other "
            "unknown click id is a 404 at once.",
            "operationId": "createConversion",
            "tags": ["advertiser"],
            "security": [{"advertiserKey": []}],
            "requestBody": json_body(ref("ConversionRequest")),
            "responses": {
                "201": json_response("The new conversion", ref("Conversion")),
                "200": json_response("This order was already reported for the campaign: the same conversion",
                                     ref("Conversion")),
                "202": json_response("Accepted: the click was made moments ago and is not stored yet; the "
                                     "conversion is recorded when it is", ref("WaitingConversion")),
                **errors(400, 401, 404, 422),
            },
        }
    }
}
