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

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue

from .. import clicklog, db
from ..services import conversions
from ..services.advertisers import Advertiser
from .apidoc import Answer, operation, respond
from .models import Conversion, ConversionRequest, WaitingConversion
from .tracking import click_ids

bp = Blueprint("conversions", __name__, url_prefix="/api/v1/conversions")


@bp.post("")
@operation(
    "createConversion",
    "Report a conversion (postback)",
    caller="advertiser",
    tag="advertiser",
    description="Authenticated with the advertiser's API key. The payout follows the campaign's model "
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
    body=ConversionRequest,
    responses={
        201: Answer("The new conversion", Conversion),
        200: Answer("This order was already reported for the campaign: the same conversion", Conversion),
        202: Answer(
            "Accepted: the click was made moments ago and is not stored yet; the conversion is recorded when it is",
            WaitingConversion,
        ),
    },
    errors=(404, 422),
)
def create_conversion(caller: Advertiser, body: ConversionRequest) -> ResponseReturnValue:
    """Record (or recognise a repeat of) one conversion, or accept it until its click is stored."""
    report = body.report()
    ids = click_ids(current_app)
    if conversions.may_wait(ids, report.click_id) is not None:
        # A click answered moments ago may still be in this node's click log: store
        # what it holds now, so the postback usually finds its click (201, not 202).
        # Never waits: another process flushing already is left to it.
        clicklog.of(current_app).flush_quietly()
    with db.transaction() as conn:
        result = conversions.report_conversion(conn, caller.id, report, ids)
    if isinstance(result, conversions.Waiting):
        return respond(WaitingConversion.model_validate(result), 202)
    conversion, created = result
    return respond(Conversion.model_validate(conversion), 201 if created else 200)
