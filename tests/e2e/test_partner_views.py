"""The popup's earnings and invitations views, and the campaign terms in the link form, in Chromium.

Uses the session's browser and live API (demo data). The demo partner is
invited to *Summer lookbook (invitation)*; the tests answer the invitation
and put it back afterwards, so the rest of the suite sees the demo as seeded.
"""

from __future__ import annotations

import http.client
import itertools
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from api import db
from api.demo import ADVERTISER, PARTNER
from api.services import advertisers, campaigns, memberships, partners

from .conftest import LiveApi
from .test_extension import (
    POPUP_MAX,
    TIMEOUT,
    _first_task_id,
    dead_base,
    has_redirects,
    open_popup,
    popup_size,
    set_api_base,
    shot_popup,
    sign_in,
    silent_api,
)

INVITED = "Summer lookbook (invitation)"
_orders = itertools.count(1)


def reinvite(api: LiveApi) -> None:
    """Put the demo partner's membership in the invited campaign back to an unanswered invitation."""
    with db.transaction(db.get_engine(api.app)) as conn:
        brand = advertisers.find_by_email(conn, ADVERTISER["email"])
        campaign = next(c for c in campaigns.list_campaigns(conn, brand.id) if c.name == INVITED)
        partner = partners.find_by_email(conn, PARTNER["email"])
        memberships.set_status_for(conn, partner.id, campaign.id, "invited")


def follow_as_a_person(url: str) -> str:
    """Follow a tracking link with a desktop browser's user agent; the click id it lands with.

    Headless Chromium calls itself HeadlessChrome, which the earnings rules
    count as a bot (recorded, never paid): a person's click is what earns.
    """
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    connection.request(
        "GET",
        parts.path + (f"?{parts.query}" if parts.query else ""),
        headers={
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
        },
    )
    answer = connection.getresponse()
    assert answer.status == 302, answer.status
    location = answer.getheader("Location") or ""
    connection.close()
    return parse_qs(urlsplit(location).query)["clickid"][0]


def fits(popup: Page) -> None:
    size = popup_size(popup)
    assert size["scrollHeight"] <= POPUP_MAX["height"] and size["scrollWidth"] <= POPUP_MAX["width"], size


def test_the_link_form_shows_the_campaigns_terms(browser, live_api: LiveApi, screenshots: Path) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    popup = open_popup(context, extension_id)
    campaign = popup.get_by_role("combobox", name="Campaign")
    expect(campaign).to_have_value(re.compile(r"\d+"), timeout=TIMEOUT)
    campaign.select_option(label="Spring sale: deep links")
    terms = popup.locator("#lf-terms")
    expect(terms).to_have_text("Pays $5.00 per sale · 30-day window", timeout=TIMEOUT)
    assert terms.get_attribute("title") == "Sales count within 30 days of the click."
    campaign.select_option(label="Outlet: pick a page")
    expect(terms).to_have_text("Pays 10.00% of each sale (USD) · 30-day window")
    campaign.select_option(label="New arrivals: one click")
    expect(terms).to_have_text("Pays $0.25 per billable click · 30-day window")
    # One line: the form stays inside Chrome's 600 px popup.
    assert terms.bounding_box()["height"] < 20
    fits(popup)
    shot_popup(popup, screenshots, "popup-terms")
    popup.close()


def test_invitations_loading_error_list_accept_and_decline(browser, live_api: LiveApi, screenshots: Path) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    reinvite(live_api)
    try:
        popup = open_popup(context, extension_id)
        tab = popup.get_by_role("tab", name=re.compile("Invitations"))
        expect(tab).to_have_text("Invitations (1)", timeout=TIMEOUT)
        tab.click()
        item = popup.locator("#invitations li")
        expect(item).to_have_count(1, timeout=TIMEOUT)
        expect(item).to_contain_text(INVITED)
        expect(item).to_contain_text("Pays €6.00 per sale. Sales count within 14 days of the click.")
        fits(popup)
        shot_popup(popup, screenshots, "popup-invitations")
        # Until accepted, the campaign is not one to make links in.
        popup.get_by_role("tab", name="Create link").click()
        campaign = popup.get_by_role("combobox", name="Campaign")
        expect(campaign).to_have_value(re.compile(r"\d+"), timeout=TIMEOUT)
        assert INVITED not in campaign.inner_text()
        popup.get_by_role("tab", name=re.compile("Invitations")).click()
        popup.get_by_role("button", name="Accept").click()
        expect(popup.locator("#invitations-done")).to_have_text(
            f"You joined {INVITED}. You can create links for it now.", timeout=TIMEOUT
        )
        expect(popup.locator("#invitations-status")).to_contain_text("No invitations waiting")
        expect(popup.get_by_role("tab", name=re.compile("Invitations"))).to_have_text("Invitations")
        shot_popup(popup, screenshots, "popup-invitations-accepted")
        # The link form now offers the campaign, with its terms.
        popup.get_by_role("tab", name="Create link").click()
        expect(popup.get_by_role("combobox", name="Campaign").locator("option", has_text=INVITED)).to_have_count(
            1, timeout=TIMEOUT
        )
        status, body = live_api.call("GET", "/api/v1/campaigns", token=live_api.partner_token())
        assert next(c for c in body["campaigns"] if c["name"] == INVITED)["membership"] == "active"
        popup.close()

        reinvite(live_api)
        popup = open_popup(context, extension_id)
        popup.get_by_role("tab", name=re.compile("Invitations")).click()
        popup.get_by_role("button", name="Decline").click()
        expect(popup.locator("#invitations-done")).to_have_text(
            f"You declined the invitation to {INVITED}.", timeout=TIMEOUT
        )
        status, body = live_api.call("GET", "/api/v1/invitations", token=live_api.partner_token())
        assert (status, body) == (200, {"invitations": []})
        shot_popup(popup, screenshots, "popup-invitations-empty")
        popup.close()
    finally:
        reinvite(live_api)

    with silent_api() as silent:
        set_api_base(context, extension_id, silent)
        try:
            popup = open_popup(context, extension_id)
            popup.get_by_role("tab", name=re.compile("Invitations")).click()
            expect(popup.get_by_text("Loading your invitations…")).to_be_visible(timeout=TIMEOUT)
            shot_popup(popup, screenshots, "popup-invitations-loading")
            popup.close()
        finally:
            set_api_base(context, extension_id, live_api.base)
    set_api_base(context, extension_id, dead_base())
    try:
        popup = open_popup(context, extension_id)
        popup.get_by_role("tab", name=re.compile("Invitations")).click()
        expect(popup.locator("#invitations-error")).to_contain_text("could not reach its API", timeout=TIMEOUT)
        expect(popup.get_by_role("button", name="Try again")).to_be_visible()
        shot_popup(popup, screenshots, "popup-invitations-error")
        popup.close()
    finally:
        set_api_base(context, extension_id, live_api.base)


def test_earnings_after_a_click_and_a_sale(browser, live_api: LiveApi, screenshots: Path) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    if has_redirects(live_api):
        token = live_api.partner_token()
        status, made = live_api.call(
            "POST",
            "/api/v1/links",
            token=token,
            body={
                "task_id": _first_task_id(live_api, "Spring sale: deep links"),
                "landing_url": live_api.shop + "/shop/products/rain-jacket",
            },
        )
        assert status == 201, made
        click_id = follow_as_a_person(made["url"])
        status, body = live_api.call(
            "POST",
            "/api/v1/conversions",
            token=ADVERTISER["api_key"],
            body={
                "click_id": click_id,
                "order_id": f"e2e-earnings-{next(_orders)}",
                "amount": "80.00",
                "currency": "USD",
            },
        )
        assert status in (200, 201, 202), body

    popup = open_popup(context, extension_id)
    popup.get_by_role("tab", name="Earnings").click()
    table = popup.locator("table.earnings")
    expect(table).to_be_visible(timeout=TIMEOUT)
    spring = table.locator("tr.campaign", has_text="Spring sale: deep links")
    expect(spring).to_have_count(1)
    cells = spring.locator("td")
    # Columns: name, clicks, billable, sales, click pay, pending, approved, reversed.
    assert int(cells.nth(1).inner_text()) >= 1 and int(cells.nth(3).inner_text()) >= 1
    assert cells.nth(5).inner_text() != "0.00"
    expect(popup.locator(".total").first).to_contain_text("Earned")
    expect(popup.locator(".total").first).to_contain_text("$")  # the amount in its currency, written by Intl
    # The link rows under their campaign name the task.
    expect(table.locator("tr.link").first).to_be_visible()
    fits(popup)
    shot_popup(popup, screenshots, "popup-earnings")

    # A period without traffic: the empty state.
    popup.get_by_label("Period").select_option(label="Last month")
    expect(popup.locator("#earnings-status")).to_contain_text("No clicks or sales in this period", timeout=TIMEOUT)
    expect(table).to_have_count(0)
    shot_popup(popup, screenshots, "popup-earnings-empty")
    popup.close()

    with silent_api() as silent:
        set_api_base(context, extension_id, silent)
        try:
            popup = open_popup(context, extension_id)
            popup.get_by_role("tab", name="Earnings").click()
            expect(popup.get_by_text("Loading your earnings…")).to_be_visible(timeout=TIMEOUT)
            shot_popup(popup, screenshots, "popup-earnings-loading")
            popup.close()
        finally:
            set_api_base(context, extension_id, live_api.base)
    set_api_base(context, extension_id, dead_base())
    try:
        popup = open_popup(context, extension_id)
        popup.get_by_role("tab", name="Earnings").click()
        expect(popup.locator("#earnings-error")).to_contain_text("could not reach its API", timeout=TIMEOUT)
        shot_popup(popup, screenshots, "popup-earnings-error")
        set_api_base(context, extension_id, live_api.base)
        popup.get_by_role("button", name="Try again").click()
        expect(popup.locator("#earnings-error")).to_be_hidden(timeout=TIMEOUT)
        popup.close()
    finally:
        set_api_base(context, extension_id, live_api.base)
