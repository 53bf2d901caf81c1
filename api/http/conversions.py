"""The conversion postback: ``POST /api/v1/conversions`` with the advertiser's API key (SPEC §5).

201 with the new conversion; 200 with the same body when the order id was
already reported for the campaign (also when duplicates race: the database
decides); 404 unknown click or another advertiser's; 422 a rule refuses it
(attribution window, conversion tracking off, currency); 400 malformed.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .. import db
from ..services import conversions
from .auth import current_advertiser
from .openapi import ID_SCHEMA, errors, json_body, json_response, ref
from .parsing import json_object

bp = Blueprint("conversions", __name__, url_prefix="/api/v1/conversions")

FIELDS = ("click_id", "order_id", "amount", "currency")


@bp.post("")
def create_conversion() -> ResponseReturnValue:
    """Record (or recognise a repeat of) one conversion."""
    advertiser = current_advertiser()
    body = json_object(FIELDS)
    with db.transaction() as conn:
        conversion, created = conversions.record_conversion(
            conn, advertiser.id, body.get("click_id"), body.get("order_id"), body.get("amount"), body.get("currency")
        )
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
            "now: cpa fixed, revshare a percent of the amount, cpc nothing per conversion; a bot click "
            "never earns; nothing without pay for performance.",
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
