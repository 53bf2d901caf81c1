"""How an advertiser sends a conversion (postback): the words and the example request the admin shows.

The example uses the API's public address (``TASKLINK_BASE_URL``). Without
it there is no address to show: the guide says it must be set instead of
guessing one.
"""
from __future__ import annotations

from dataclasses import dataclass

PLACEHOLDER_BASE_URL = "https://YOUR-TASKLINK-ADDRESS"

ANSWERS = (
    "Answers: 201 with the conversion, 200 when that order id was already reported, 202 when the click was made "
    "moments ago and is not stored yet (the conversion is recorded as soon as it is; send the same postback again "
    "to get it), 404 for an unknown click, 422 when the click is older than the attribution window, conversion "
    "tracking is off or the currency is not the campaign's."
)


@dataclass(frozen=True)
class PostbackGuide:
    intro: str
    request: str  # a curl command
    answers: str
    missing_base_url: str | None  # a warning when the public address is not configured


def postback_guide(base_url: str | None, click_id_param: str, currency: str) -> PostbackGuide:
    """The postback explained for one campaign, with its click-id parameter and currency."""
    address = (base_url or "").rstrip("/") or PLACEHOLDER_BASE_URL
    intro = (
        f"Each link click reaches your landing page with `?{click_id_param}=…`. Keep that click id with the "
        f"visitor's order, and when the order is placed send it to Tasklink from your server with your API key as "
        f"a bearer token. The amount is a decimal string in the campaign currency ({currency}). A repeated order id "
        f"is counted once."
    )
    request = f"""# TASKLINK_API_KEY: your API key, e.g. export TASKLINK_API_KEY=tlk_...
curl -X POST {address}/api/v1/conversions \\
  -H "Authorization: Bearer $TASKLINK_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{{"click_id": "CLICK_ID_FROM_THE_LANDING_URL", "order_id": "A-1001",
       "amount": "49.90", "currency": "{currency}"}}'"""
    missing = None if base_url else (
        "Tasklink's public address is not configured, so the example shows a placeholder. The operator must set "
        "`TASKLINK_BASE_URL` (e.g. `https://track.example.com`) to the address your server reaches the API at."
    )
    return PostbackGuide(intro, request, ANSWERS, missing)
