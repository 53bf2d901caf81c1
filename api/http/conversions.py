"""The conversion postback: ``POST /api/v1/conversions`` with the advertiser's API key (SPEC §5).

201 with the new conversion; 200 with the same body when the order id was
already reported for the campaign (also when duplicates race: the database
decides); 404 unknown click or another advertiser's; 422 a rule refuses it
(attribution window, conversion tracking off, currency); 400 malformed.
"""
from __future__ import annotations

import datetime as dt
import time
from typing import Any, Callable, TypeVar

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from .. import clicklog, db
from ..errors import NotFound
from ..services import clicks, conversions, earnings
from .auth import current_advertiser
from .openapi import ID_SCHEMA, errors, json_body, json_response, ref
from .tracking import click_ids
from .parsing import json_object

bp = Blueprint("conversions", __name__, url_prefix="/api/v1/conversions")

FIELDS = ("click_id", "order_id", "amount", "currency")
T = TypeVar("T")


@bp.post("")
def create_conversion() -> ResponseReturnValue:
    """Record (or recognise a repeat of) one conversion."""
    advertiser = current_advertiser()
    body = json_object(FIELDS)

    def record() -> tuple[conversions.Conversion, bool]:
        with db.transaction() as conn:
            return conversions.record_conversion(
                conn, advertiser.id, body.get("click_id"), body.get("order_id"), body.get("amount"), body.get("currency")
            )

    try:
        conversion, created = record()
    except NotFound as error:
        if error.code != "click_not_found":
            raise
        conversion, created = _record_fresh_click(body.get("click_id"), record, error)
    response = jsonify(conversions.to_json(conversion))
    response.status_code = 201 if created else 200
    return response


#: How long a postback for a click made moments ago waits for it to be stored
#: (it may still be in the click log of this node or of another one).
FRESH_CLICK_WAIT = 3.0


def _record_fresh_click(click_id: object, record: Callable[[], T], error: NotFound) -> T:
    """Record a conversion whose click is not stored yet, when the click is only seconds old.

    Clicks reach the clicks table from the nodes' click logs within a
    fraction of a second (:mod:`api.clicklog`); a postback racing its own
    click waits for it: this node's log is flushed at once, another node's
    flusher is waited for. Any other unknown click id is a 404 at once.
    """
    origin = clicks.verify_click_id(click_ids(current_app), click_id) if isinstance(click_id, str) else None
    if origin is None or not dt.timedelta(seconds=-5) < db.utcnow() - origin.made_at < dt.timedelta(seconds=30):
        raise error
    deadline = time.monotonic() + FRESH_CLICK_WAIT
    while True:
        clicklog.of(current_app).flush()
        try:
            return record()
        except NotFound:
            if time.monotonic() >= deadline:
                raise
        time.sleep(0.1)


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
                "description": "The sale amount, a non-negative decimal (a string such as \"12.50\" is best)",
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
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/conversions": {
        "post": {
            "summary": "Report a conversion (postback)",
            "description": "Authenticated with the advertiser's API key. The payout follows the campaign's model "
            "now: cpa fixed, revshare a percent of the amount, cpc nothing per conversion. The sale is always "
            "recorded; it pays 0.00 with a payout_reason when its click was made where nobody may earn (pay for "
            "performance off, campaign ended or paused without pay, membership not active, link disabled, a bot) or "
            "the campaign no longer pays. A duplicate, capped or prefetched click's sale pays: a sale proves a person.",
            "operationId": "createConversion",
            "tags": ["advertiser"],
            "security": [{"advertiserKey": []}],
            "requestBody": json_body(ref("ConversionRequest")),
            "responses": {
                "201": json_response("The new conversion", ref("Conversion")),
                "200": json_response("This order was already reported for the campaign: the same conversion",
                                     ref("Conversion")),
                **errors(400, 401, 404, 422),
            },
        }
    }
}
