"""Every sentence the API says, in English and in Simplified Chinese; codes never change.

The broad test drives one answer per error code a partner or an advertiser
can meet (validation of every body and query model, authentication, not
found, rule refusals, conflicts, rate limits, a database that is down) twice,
with ``Accept-Language: en`` and ``zh-CN``: the same status and code, the
English sentence in English, a Chinese sentence in Chinese. A sentence that
reaches a Chinese reader untranslated fails it, and so does an error raised
anywhere in ``api/`` with a plain string instead of a
:class:`~api.i18n.Message` (the static check below), which would reach one.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import exc as sql_errors

from api import catalogues, db, i18n
from api.errors import TasklinkError
from api.i18n import Message
from api.services import campaigns, conversions, landing_pages, links, memberships, postbacks, reports
from api.services.sign_in_limits import SignInLimiter

ROOT = Path(__file__).resolve().parent.parent
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"
ENGLISH = "en-US,en;q=0.9"
CHINESE = "zh-CN,zh;q=0.9,en;q=0.8"
_CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese(text: str) -> bool:
    """A sentence written in Chinese: it has Chinese characters (an ASCII-only one is untranslated)."""
    return bool(_CJK.search(text)) and not text.isascii()


@pytest.fixture
def app_config(app_config):  # type: ignore[no-untyped-def]
    """Sign-in is limited after two failures (the 429 case); link creation is not limited here."""
    return {**app_config, "RATELIMIT_LOGIN": "2/minute", "RATELIMIT_LINKS": "100000/minute"}


@dataclass
class Ctx:
    client: Any
    world: Any
    auth: Callable[[Any], dict[str, str]]
    make: Any
    engine: Any
    app: Any
    monkeypatch: pytest.MonkeyPatch

    @property
    def partner(self) -> dict[str, str]:
        return self.auth(self.world.partner)

    @property
    def advertiser(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.world.api_key}"}

    def link(self, **values: Any) -> links.Link:
        with db.transaction(self.engine) as conn:
            return links.create_link(conn, self.world.partner.id, self.world.task.id, **values)

    def click_id(self) -> str:
        """A visitor follows a new link: the click id its landing page receives (the click stored)."""
        link = self.link()
        answer = self.client.get(f"/s/{link.code}", headers={"User-Agent": BROWSER})
        assert answer.status_code == 302
        return parse_qs(urlsplit(answer.headers["Location"]).query)["clickid"][0]

    def postback(self, **fields: Any) -> dict[str, Any]:
        body = {"click_id": "x" * 36, "order_id": "A-1", "amount": "1.00", "currency": "USD", **fields}
        return {"json": body, "headers": self.advertiser}


@dataclass(frozen=True)
class Case:
    """One request and the answer it must get: status, code, and the English sentence (or a pattern of it)."""

    method: str
    path: str
    status: int
    code: str
    english: str | re.Pattern[str]
    request: dict[str, Any] | None = None


def _login(ctx: Ctx, password: str = "wrong password") -> dict[str, Any]:
    return {"json": {"email": ctx.world.partner.email, "password": password}}


def _rate_limited(ctx: Ctx) -> Case:
    for _ in range(2):
        assert ctx.client.post("/api/v1/auth/login", **_login(ctx)).status_code == 401
    return Case(
        "POST",
        "/api/v1/auth/login",
        429,
        "rate_limited",
        re.compile(r"Too many attempts; try again in \d+ seconds?\."),
        _login(ctx),
    )


def _database_down(ctx: Ctx) -> Case:
    def unreachable(*_args: Any, **_kwargs: Any) -> Any:
        raise sql_errors.OperationalError("SELECT 1", {}, Exception("connection refused (test outage)"))

    ctx.monkeypatch.setattr(db, "reading", unreachable)
    return Case(
        "GET",
        "/api/v1/me",
        503,
        "service_unavailable",
        "Tasklink's database is unavailable right now; please try again in a moment.",
        {"headers": ctx.partner},
    )


def _disabled_by_advertiser(ctx: Ctx) -> Case:
    link = ctx.link()
    with db.transaction(ctx.engine) as conn:
        links.advertiser_set_disabled(conn, ctx.world.advertiser.id, link.id, True)
    return Case(
        "PATCH",
        f"/api/v1/links/{link.id}",
        403,
        "disabled_by_advertiser",
        "The advertiser disabled this link; only the advertiser can enable it again.",
        {"json": {"disabled": False}, "headers": ctx.partner},
    )


def _not_invited(ctx: Ctx) -> Case:
    return Case(
        "POST",
        f"/api/v1/invitations/{ctx.world.campaign.id}/accept",
        409,
        "not_invited",
        "There is no invitation to answer: your membership is active.",
        {"headers": ctx.partner},
    )


def _not_failed(ctx: Ctx) -> Case:
    with db.transaction(ctx.engine) as conn:
        postbacks.set_template(conn, ctx.world.partner.id, "https://partner.example/cb?c={click_id}")
    assert ctx.client.post("/api/v1/conversions", **ctx.postback(click_id=ctx.click_id())).status_code == 201
    with db.reading(ctx.engine) as conn:
        delivery = postbacks.list_deliveries(conn, ctx.world.partner.id)[0]
    return Case(
        "POST",
        f"/api/v1/postbacks/deliveries/{delivery.id}/retry",
        409,
        "not_failed",
        "This postback is still being sent; it can be retried once it has failed.",
        {"headers": ctx.partner},
    )


def _currency_mismatch(ctx: Ctx) -> Case:
    return Case(
        "POST",
        "/api/v1/conversions",
        422,
        "currency_mismatch",
        "This campaign is in USD; report the amount in USD (got EUR).",
        ctx.postback(click_id=ctx.click_id(), currency="EUR"),
    )


def _conversion_tracking_off(ctx: Ctx) -> Case:
    click_id = ctx.click_id()
    with db.transaction(ctx.engine) as conn:
        campaigns.update_settings(conn, ctx.world.advertiser.id, ctx.world.campaign.id, conversion_tracking=False)
    return Case(
        "POST",
        "/api/v1/conversions",
        422,
        "conversion_tracking_off",
        "Conversion tracking is off for this campaign.",
        ctx.postback(click_id=click_id),
    )


def _link_unavailable(ctx: Ctx) -> Case:
    with db.transaction(ctx.engine) as conn:
        campaigns.update_settings(conn, ctx.world.advertiser.id, ctx.world.campaign.id, status="paused")
    return Case(
        "POST",
        "/api/v1/links",
        422,
        "campaign_not_active",
        "The advertiser has paused this campaign, so no new links can be made.",
        {"json": {"task_id": ctx.world.task.id}, "headers": ctx.partner},
    )


def _qr_too_long(ctx: Ctx) -> Case:
    link = ctx.link(kind="regular", reporting={"subId1": "日" * 255, "subId2": "日" * 255})
    return Case(
        "GET",
        f"/api/v1/links/{link.id}/qr.svg",
        422,
        "qr_too_long",
        re.compile(r"This link is too long for a QR code \([\d,]+ bytes; a QR code holds at most 2,953\)\. .*"),
        {"headers": ctx.partner},
    )


def _simple(method: str, path: str, status: int, code: str, english: str | re.Pattern[str], **request: Any) -> Any:
    """A case needing no set-up beyond the world: ``request`` may name ``partner`` / ``advertiser`` credentials."""

    def build(ctx: Ctx) -> Case:
        given = dict(request)
        who = given.pop("who", "partner")
        headers = {"partner": ctx.partner, "advertiser": ctx.advertiser, "nobody": {}}[who]
        given["headers"] = {**headers, **given.get("headers", {})}
        for key, value in list(given.items()):
            if callable(value):
                given[key] = value(ctx)
        return Case(method, path.format(task_id=ctx.world.task.id), status, code, english, given)

    return build


def _bad_postback(code: str, english: str, **fields: Any) -> Any:
    """An advertiser's conversion postback refused with 400 ``code``: the usual body with ``fields`` changed."""
    return _simple(
        "POST",
        "/api/v1/conversions",
        400,
        code,
        english,
        who="advertiser",
        json=lambda ctx: ctx.postback(**fields)["json"],
    )


def _task(ctx: Ctx, **body: Any) -> dict[str, Any]:
    return {"task_id": ctx.world.task.id, **body}


CASES: dict[str, Callable[[Ctx], Case]] = {
    # authentication
    "no_token": _simple(
        "GET", "/api/v1/me", 401, "no_token", "Sign in to continue: no session token was sent.", who="nobody"
    ),
    "bad_token": _simple(
        "GET",
        "/api/v1/me",
        401,
        "bad_token",
        "Sign in to continue: the session token is not valid.",
        who="nobody",
        headers={"Authorization": "Bearer not-a-token"},
    ),
    "bad_credentials": lambda ctx: Case(
        "POST", "/api/v1/auth/login", 401, "bad_credentials", "Wrong e-mail or password.", _login(ctx)
    ),
    "rate_limited": _rate_limited,
    "no_api_key": _simple(
        "POST",
        "/api/v1/conversions",
        401,
        "no_api_key",
        "An advertiser API key is required (Authorization: Bearer KEY).",
        who="nobody",
        json={},
    ),
    "bad_api_key": _simple(
        "POST",
        "/api/v1/conversions",
        401,
        "bad_api_key",
        "A valid advertiser API key is required.",
        who="nobody",
        headers={"Authorization": "Bearer tlk_wrong"},
        json={},
    ),
    # request bodies
    "missing_field": _simple("POST", "/api/v1/links", 400, "missing_field", "task_id is required.", json={}),
    "missing_field: login": _simple(
        "POST", "/api/v1/auth/login", 400, "missing_field", "password is required.", who="nobody", json={"email": "a"}
    ),
    "invalid_field: wrong type": _simple(
        "POST",
        "/api/v1/links",
        400,
        "invalid_field",
        "task_id must be a positive whole number.",
        json={"task_id": "1"},
    ),
    "invalid_field: too long": _simple(
        "POST",
        "/api/v1/links",
        400,
        "invalid_field",
        "subId1 must be at most 255 characters.",
        json=lambda ctx: _task(ctx, subId1="x" * 256),
    ),
    "invalid_field: not text": _simple(
        "POST",
        "/api/v1/links",
        400,
        "invalid_field",
        "sharedid must be valid Unicode text.",
        json=lambda ctx: _task(ctx, sharedid="\ud800"),
    ),
    "invalid_field: not a string": _simple(
        "POST",
        "/api/v1/links",
        400,
        "invalid_field",
        "landing_url must be a string.",
        json=lambda ctx: _task(ctx, landing_url=5),
    ),
    "invalid_field: not a choice": _simple(
        "POST",
        "/api/v1/links",
        400,
        "invalid_field",
        "kind must be one of 'short' or 'regular'.",
        json=lambda ctx: _task(ctx, kind=5),
    ),
    "invalid_field: not a boolean": _simple(
        "PATCH", "/api/v1/links/1", 400, "invalid_field", "disabled must be true or false.", json={"disabled": "yes"}
    ),
    "unknown_field": _simple(
        "POST",
        "/api/v1/links",
        400,
        "unknown_field",
        "Unknown field(s): color, size.",
        json=lambda ctx: _task(ctx, size=2, color="red"),
    ),
    "invalid_json": _simple(
        "POST", "/api/v1/links", 400, "invalid_json", "The request body must be a JSON object.", json=[1, 2]
    ),
    "body_too_large": _simple(
        "POST",
        "/api/v1/links",
        400,
        "body_too_large",
        "The request body is too large.",
        data=b"[" + b"1," * 40_000 + b"1]",
        headers={"Content-Type": "application/json"},
    ),
    "invalid_kind": _simple(
        "POST",
        "/api/v1/links",
        400,
        "invalid_kind",
        "kind must be short or regular.",
        json=lambda ctx: _task(ctx, kind="long"),
    ),
    "invalid_input": _simple(
        "POST",
        "/api/v1/links",
        400,
        "invalid_input",
        "Give either landing_url or landing_page_id, not both.",
        json=lambda ctx: _task(ctx, landing_url="https://brand.test/a", landing_page_id=1),
    ),
    "invalid_url": _simple(
        "POST",
        "/api/v1/links",
        400,
        "invalid_url",
        "The landing page must be an http or https URL.",
        json=lambda ctx: _task(ctx, landing_url="ftp://brand.test/a"),
    ),
    "landing_page_not_allowed": _simple(
        "POST",
        "/api/v1/links",
        422,
        "landing_page_not_allowed",
        "This landing page is not allowed for the campaign: elsewhere.test is not one of the campaign's allowed "
        "domains (*.brand.test, brand.test).",
        json=lambda ctx: _task(ctx, landing_url="https://elsewhere.test/"),
    ),
    "click_id_param_in_url": _simple(
        "POST",
        "/api/v1/links",
        422,
        "click_id_param_in_url",
        "The landing URL carries the click-id parameter “clickid” (written “ClickID”). Tasklink adds a fresh "
        "click id to every visit: remove that parameter from the URL.",
        json=lambda ctx: _task(ctx, landing_url="https://brand.test/?ClickID=1"),
    ),
    "link_too_long": _simple(
        "POST",
        "/api/v1/links",
        422,
        "link_too_long",
        re.compile(r"This link would be too long to follow: its path and query take [\d,]+ bytes, .*"),
        json=lambda ctx: _task(ctx, subId1="日" * 255, sharedid="日" * 255),
    ),
    "campaign_not_active": _link_unavailable,
    "not_found: task": _simple(
        "POST", "/api/v1/links", 404, "not_found", "No such task.", json={"task_id": 2_000_000_000}
    ),
    "not_found: link": _simple("GET", "/api/v1/links/2000000000", 404, "not_found", "No such link."),
    "disabled_by_advertiser": _disabled_by_advertiser,
    "qr_too_long": _qr_too_long,
    # query strings
    "invalid_query: range": _simple(
        "GET", "/api/v1/links?limit=0", 400, "invalid_query", "limit must be a whole number from 1 to 100."
    ),
    "invalid_query: id": _simple(
        "GET", "/api/v1/links?task_id=abc", 400, "invalid_query", "task_id must be a positive whole number."
    ),
    "invalid_query: day": _simple(
        "GET",
        "/api/v1/reports/summary?from=2026-13-01",
        400,
        "invalid_query",
        "from must be a date such as 2026-01-31.",
    ),
    "invalid_query: choice": _simple(
        "GET",
        "/api/v1/postbacks/deliveries?status=lost",
        400,
        "invalid_query",
        "status must be one of pending, delivered, failed.",
    ),
    "invalid_query: group": _simple(
        "GET",
        "/api/v1/reports/summary?group_by=partner",
        400,
        "invalid_query",
        f"group_by must be one of {', '.join(reports.PARTNER_GROUPS)}.",
    ),
    "invalid_dates: reversed": _simple(
        "GET",
        "/api/v1/reports/summary?from=2026-02-01&to=2026-01-01",
        400,
        "invalid_dates",
        "from must not be after to.",
    ),
    "invalid_dates: span": _simple(
        "GET",
        "/api/v1/reports/summary?from=2010-01-01&to=2026-01-01",
        400,
        "invalid_dates",
        re.compile(r"A report spans at most \d+ days\."),
    ),
    "invalid_dates: range": _simple(
        "GET",
        "/api/v1/reports/summary?to=9999-12-31",
        400,
        "invalid_dates",
        re.compile(r"to must be a day from .+ to .+; got 9999-12-31\."),
    ),
    # invitations and postbacks
    "not_found: invitation": _simple(
        "POST", "/api/v1/invitations/2000000000/accept", 404, "not_found", "No such invitation."
    ),
    "not_invited": _not_invited,
    "not_found: postback delivery": _simple(
        "POST", "/api/v1/postbacks/deliveries/2000000000/retry", 404, "not_found", "No such postback delivery."
    ),
    "not_failed": _not_failed,
    "invalid_postback_url": _simple(
        "PUT",
        "/api/v1/postbacks",
        422,
        "invalid_postback_url",
        "The postback URL must start with http:// or https:// and name a host.",
        json={"url_template": "ftp://partner.example/cb"},
    ),
    "unknown_macro": _simple(
        "PUT",
        "/api/v1/postbacks",
        422,
        "unknown_macro",
        re.compile(r"Unknown macro \{clickid\} in the postback URL; the macros are \{click_id\}, .*\."),
        json={"url_template": "https://partner.example/cb?c={clickid}"},
    ),
    "not_found: campaign": _simple(
        "PUT",
        "/api/v1/campaigns/2000000000/postback",
        404,
        "not_found",
        "No such campaign.",
        json={"url_template": "https://partner.example/cb"},
    ),
    # conversions
    "invalid_click_id": _bad_postback(
        "invalid_click_id", "click_id is required: the value your landing page received.", click_id=5
    ),
    "invalid_order_id": _bad_postback(
        "invalid_order_id", "order_id must be at most 255 printable characters.", order_id="\x00"
    ),
    "invalid_amount: format": _bad_postback(
        "invalid_amount",
        'amount must be a non-negative decimal number with at most 4 decimals, such as "12.50".',
        amount="1e3",
    ),
    "invalid_amount: decimals": _bad_postback(
        "invalid_amount", "amount has more decimals than USD allows (2).", amount="1.005"
    ),
    "invalid_amount: too large": _bad_postback(
        "invalid_amount",
        "amount must be at most 90000000.00 USD (9,000,000,000 minor units), so that reports can always add them up.",
        amount="90000000.01",
    ),
    "invalid_currency: format": _bad_postback(
        "invalid_currency", "Currency must be a 3-letter ISO 4217 code such as USD.", currency="usd"
    ),
    "invalid_currency: unknown": _bad_postback(
        "invalid_currency", "XYZ is not an ISO 4217 currency code (such as USD, EUR or JPY).", currency="XYZ"
    ),
    "currency_mismatch": _currency_mismatch,
    "conversion_tracking_off": _conversion_tracking_off,
    # what Flask and the database say
    "not_found: address": _simple(
        "GET", "/api/v1/no-such-thing", 404, "not_found", "There is nothing at this address."
    ),
    "method_not_allowed": _simple(
        "DELETE", "/api/v1/me", 405, "method_not_allowed", "The method is not allowed for the requested URL."
    ),
    "service_unavailable": _database_down,
}


@pytest.fixture
def ctx(client, world, auth, make, engine, app, monkeypatch) -> Ctx:  # type: ignore[no-untyped-def]
    return Ctx(client, world, auth, make, engine, app, monkeypatch)


def _send(ctx: Ctx, case: Case, language: str) -> Any:
    request = dict(case.request or {})
    request["headers"] = {**request.get("headers", {}), "Accept-Language": language}
    return ctx.client.open(case.path, method=case.method, **request)


@pytest.mark.parametrize("name", list(CASES))
def test_every_error_answer_is_in_the_callers_language_with_the_same_code(ctx: Ctx, name: str) -> None:
    case = CASES[name](ctx)
    assert case.code == name.split(":")[0]
    english = _send(ctx, case, ENGLISH)
    chinese_answer = _send(ctx, case, CHINESE)
    for answer in (english, chinese_answer):
        assert answer.status_code == case.status, answer.get_data(as_text=True)[:300]
        assert answer.json["error"]["code"] == case.code, answer.json
        assert "Accept-Language" in answer.headers["Vary"]
    assert english.headers["Content-Language"] == "en"
    assert chinese_answer.headers["Content-Language"] == "zh-CN"
    said, translated = english.json["error"]["message"], chinese_answer.json["error"]["message"]
    if isinstance(case.english, str):
        assert said == case.english
    else:
        assert case.english.fullmatch(said), said
    # Untranslated (an ASCII-only sentence, or the English one) fails here.
    assert translated != said and chinese(translated), translated


def test_the_broad_test_drives_every_code_a_partner_or_advertiser_can_meet() -> None:
    """Each case is named by the code it must get: together they are every code of the partner and advertiser API."""
    driven = {name.split(":")[0] for name in CASES}
    assert driven == {
        # authentication, sign-in and its limit
        *("no_token", "bad_token", "bad_credentials", "rate_limited", "no_api_key", "bad_api_key"),
        # bodies and queries
        *("missing_field", "invalid_field", "unknown_field", "invalid_json", "body_too_large", "invalid_query"),
        *("invalid_kind", "invalid_input", "invalid_url", "invalid_dates", "invalid_postback_url", "unknown_macro"),
        *("invalid_click_id", "invalid_order_id", "invalid_amount", "invalid_currency"),
        # rules, conflicts, permissions
        *("landing_page_not_allowed", "click_id_param_in_url", "link_too_long", "campaign_not_active", "qr_too_long"),
        *("disabled_by_advertiser", "not_invited", "not_failed", "currency_mismatch", "conversion_tracking_off"),
        # what Flask and the database say
        *("not_found", "method_not_allowed", "service_unavailable"),
    }


def test_a_sentence_in_a_success_body_is_in_the_callers_language(client, make, world, auth) -> None:
    """Why links cannot be made (campaigns, tasks) and the postback macros are said in the caller's language."""
    pending = make.campaign(world.advertiser.id, world.program.id)
    make.membership(world.partner.id, pending.id, "pending")
    headers = auth(world.partner)
    english = client.get("/api/v1/campaigns", headers={**headers, "Accept-Language": ENGLISH})
    chinese_answer = client.get("/api/v1/campaigns", headers={**headers, "Accept-Language": CHINESE})
    assert chinese_answer.headers["Content-Language"] == "zh-CN" and english.headers["Content-Language"] == "en"
    reasons = {entry["id"]: entry for entry in chinese_answer.json["campaigns"]}
    assert reasons[pending.id]["reason_code"] == "membership_not_active"
    assert reasons[pending.id]["reason"] == "你参与此活动的申请正在等待广告主批准。"
    assert {entry["id"]: entry["reason"] for entry in english.json["campaigns"]}[pending.id] == (
        "Your membership in this campaign is pending the advertiser's approval."
    )
    assert reasons[world.campaign.id]["reason"] is None
    macros = client.get("/api/v1/postbacks", headers={**headers, "Accept-Language": CHINESE}).json["macros"]
    assert all(chinese(macro["description"]) for macro in macros)
    assert {macro["name"] for macro in macros} == set(postbacks.MACROS)


def test_a_postback_delivery_error_is_shown_in_the_readers_language() -> None:
    from api import postback_sender

    stored = str(
        Message(
            postback_sender.REFUSED_ADDRESS,
            host="cb.partner.example",
            reason=Message("{address}, a loopback address", address="127.0.0.1"),
        )
    )
    explained = postback_sender.explain(stored)
    assert explained == stored  # the English is what was stored
    assert i18n.localize(explained, "zh_CN") == (
        "已拒绝：cb.partner.example 解析为 127.0.0.1，回环地址（除非设置了 TASKLINK_POSTBACKS_ALLOW_PRIVATE，回传只发往公网地址）"
    )
    assert postback_sender.explain("HTTP 503") == "HTTP 503" and postback_sender.explain(None) is None


def test_a_waiting_conversions_note_is_in_the_callers_language() -> None:
    from api.http.models import WAITING_MESSAGE

    assert chinese(i18n.localize(WAITING_MESSAGE, "zh_CN"))


def test_the_services_refusals_the_admin_shows_are_translated_too(engine, world) -> None:
    """Refusals only the admin meets (settings, pages, memberships, sign-in limits) have their Chinese sentence."""
    refusals: list[TasklinkError] = []

    def refused(action: Callable[[], object]) -> None:
        with pytest.raises(TasklinkError) as caught:
            action()
        refusals.append(caught.value)

    with db.transaction(engine) as conn:
        advertiser, campaign = world.advertiser.id, world.campaign.id
        refused(lambda: campaigns.update_settings(conn, advertiser, campaign, click_tracking="yes"))
        refused(lambda: campaigns.update_settings(conn, advertiser, campaign, name=" "))
        refused(lambda: campaigns.update_settings(conn, advertiser, campaign, daily_click_cap=0))
        refused(lambda: campaigns.update_settings(conn, advertiser, campaign, payout_amount="-1"))
        refused(lambda: campaigns.update_settings(conn, advertiser, campaign, colour="red"))
        refused(lambda: landing_pages.set_allowed_domains(conn, advertiser, campaign, ["https://brand.test/"]))
        refused(lambda: landing_pages.set_allowed_domains(conn, advertiser, campaign, ["*.co.uk"]))
        refused(lambda: landing_pages.set_allowed_domains(conn, advertiser, campaign, ["other.test"]))
        refused(
            lambda: landing_pages.replace_landing_pages(
                conn, advertiser, campaign, [{"name": "Off", "url": "https://other.test/"}]
            )
        )
        refused(lambda: memberships.set_membership_status(conn, advertiser, 2_000_000_000, "active"))
        refused(lambda: conversions.set_conversion_status(conn, advertiser, 1, "lost"))
    limiter = SignInLimiter(limit="1/minute")
    limiter.failed("someone@example.test")
    refused(lambda: limiter.check("someone@example.test"))
    for error in refusals:
        assert isinstance(error.message, Message), error.message
        assert chinese(i18n.localize(error.message, "zh_CN")), (error.code, error.message)


_ERRORS = {
    "ValidationError",
    "AuthenticationError",
    "PermissionDenied",
    "NotFound",
    "Conflict",
    "ServiceUnavailable",
    "RuleRefused",
    "LinkUnavailable",
    "LandingPageNotAllowed",
}
#: The demo shop stands for the advertiser's own site; it is not Tasklink speaking.
_NOT_TASKLINK = {"api/http/shop.py"}


def _plain_text(node: ast.expr) -> bool:
    """A sentence given as it is (a literal, an f-string, text joined with +): not translatable."""
    if isinstance(node, ast.Constant | ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _plain_text(node.left) or _plain_text(node.right)
    if isinstance(node, ast.IfExp):
        return _plain_text(node.body) or _plain_text(node.orelse)
    if isinstance(node, ast.BoolOp):
        return any(_plain_text(value) for value in node.values)
    return False


def test_every_error_tasklink_raises_carries_a_translatable_sentence() -> None:
    """``raise NotFound("...")`` would reach a Chinese reader in English: every error's sentence is a Message."""
    plain = []
    for path in sorted((ROOT / "api").rglob("*.py")):
        where = str(path.relative_to(ROOT))
        if where in _NOT_TASKLINK:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            raised = isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _ERRORS
            if raised and node.args and _plain_text(node.args[0]):  # type: ignore[attr-defined]
                plain.append(f"{where}:{node.lineno}")
    assert plain == []


def test_every_translation_can_be_filled_in() -> None:
    """Each Chinese sentence names exactly the values of its English one, so it is never dropped for English."""
    assert catalogues.problems("zh_CN", "api") == []
    translations = i18n.translations("zh_CN", "api")
    for message in catalogues.read("zh_CN", "api"):
        if not message.id:
            continue
        names = set(re.findall(r"\{(\w+)\}", str(message.id)))
        values = {name: "x" for name in names}
        sentence = Message(str(message.id), **values) if values else Message(str(message.id))
        translated = i18n.localize(sentence, "zh_CN")
        assert translated == translations.gettext(str(message.id)).format(**values) if values else True
        words = re.sub(r"\{\w+\}", "", str(message.id))
        assert chinese(translated) or not re.search(r"[A-Za-z]{3}", words), message.id


def test_the_document_declares_the_language_headers_once_and_every_operation_uses_them(app) -> None:
    from openapi_check import document_of

    document = document_of(app)
    components = document["components"]
    assert components["parameters"]["AcceptLanguage"]["in"] == "header"
    assert components["parameters"]["AcceptLanguage"]["name"] == "Accept-Language"
    assert components["headers"]["ContentLanguage"]["schema"]["enum"] == ["en", "zh-CN"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert {"$ref": "#/components/parameters/AcceptLanguage"} in operation["parameters"], (method, path)
            for status, response in operation["responses"].items():
                if "application/json" in response.get("content", {}):
                    assert response["headers"]["Content-Language"] == {
                        "$ref": "#/components/headers/ContentLanguage"
                    }, (
                        method,
                        path,
                        status,
                    )


def test_a_success_answer_says_its_language(client, world, auth) -> None:
    answer = client.get("/api/v1/me", headers={**auth(world.partner), "Accept-Language": "zh-TW"})
    assert answer.status_code == 200 and answer.headers["Content-Language"] == "en"
    assert "Accept-Language" in answer.headers["Vary"]
