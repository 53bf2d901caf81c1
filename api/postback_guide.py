"""How an advertiser sends a conversion (postback): the words and the examples the admin and the README show.

Three pieces, as an advertiser's site uses them: the landing tag
(``/tag.js``) on its pages keeps the click id in a first-party cookie; at
checkout its *server* reads that cookie and sends the postback with the API
key, shown as a curl command and as a short Python function (the key never
goes to the browser). The examples use the API's public address
(``TASKLINK_BASE_URL``). Without it there is no address to show: the guide
says it must be set instead of guessing one.
"""

from __future__ import annotations

from dataclasses import dataclass

from .i18n import Message

PLACEHOLDER_BASE_URL = "https://YOUR-TASKLINK-ADDRESS"
#: The cookie the landing tag writes (api/http/tag.py, api/data/tag.js).
TAG_COOKIE = "tasklink_click"

ANSWERS = Message(
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
    tag_intro: str = ""
    tag: str = ""  # the landing tag's <script> element
    python: str = ""  # the postback from a Python server


def postback_guide(
    base_url: str | None, click_id_param: str, currency: str, attribution_days: int = 30
) -> PostbackGuide:
    """The postback explained for one campaign, with its click-id parameter, currency and attribution window."""
    address = (base_url or "").rstrip("/") or PLACEHOLDER_BASE_URL
    intro = Message(
        "Each link click reaches your landing page with `?{param}=…`. Keep that click id with the "
        "visitor's order, and when the order is placed send it to Tasklink from your server with your API key as "
        "a bearer token. The amount is a decimal string in the campaign currency ({currency}). A repeated order id "
        "is counted once.",
        param=click_id_param,
        currency=currency,
    )
    tag_intro = Message(
        "The landing tag keeps the click id for you: put it on your pages and it stores the `{param}` "
        "of the landing URL in the first-party cookie `{cookie}` for the attribution window "
        "({days} days; a newer click replaces an older one). Your server reads that cookie at "
        "checkout; in the page, `Tasklink.clickId()` returns it. Never put your API key in a page.",
        param=click_id_param,
        cookie=TAG_COOKIE,
        days=attribution_days,
    )
    tag = (
        f'<script src="{address}/tag.js"\n'
        f'        data-param="{click_id_param}" data-days="{attribution_days}" async></script>'
    )
    request = f"""# TASKLINK_API_KEY: your API key, e.g. export TASKLINK_API_KEY=tlk_...
curl -X POST {address}/api/v1/conversions \\
  -H "Authorization: Bearer $TASKLINK_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{{"click_id": "CLICK_ID_FROM_THE_LANDING_URL", "order_id": "A-1001",
       "amount": "49.90", "currency": "{currency}"}}'"""
    python = f'''import json, os, urllib.error, urllib.request

def report_conversion(click_id: str, order_id: str, amount: str) -> int:
    """Send one order to Tasklink from your server: 201 new, 200 repeat, 202 accepted."""
    body = {{"click_id": click_id, "order_id": order_id, "amount": amount, "currency": "{currency}"}}
    request = urllib.request.Request(
        "{address}/api/v1/conversions", data=json.dumps(body).encode(), method="POST",
        headers={{"Authorization": "Bearer " + os.environ["TASKLINK_API_KEY"],
                 "Content-Type": "application/json"}})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code  # 404 unknown click, 422 a rule refused it: see the answer's message

# At checkout: the click id the landing tag kept (e.g. Flask's request.cookies).
click_id = request.cookies.get("{TAG_COOKIE}")
if click_id:
    report_conversion(click_id, order.id, str(order.total))'''
    missing = (
        None
        if base_url
        else Message(
            "Tasklink's public address is not configured, so the example shows a placeholder. The operator must set "
            "`TASKLINK_BASE_URL` (e.g. `https://track.example.com`) to the address your server reaches the API at."
        )
    )
    return PostbackGuide(intro, request, ANSWERS, missing, tag_intro, tag, python)
