"""The loop a campaign exists for, in Chromium: extension → link → click → buy → the conversion in the admin.

A partner makes a link with the extension's panel on a demo shop page; a
visitor follows it and lands with a click id, which the landing tag
(``/tag.js``) keeps in a first-party cookie; the visitor adds to the cart
and checks out; the shop's server posts the conversion with the demo
advertiser's API key; the conversion is in the database with the order
total and the click's link, in the advertiser's report, in the real admin
(Streamlit, in the same browser) and in the extension's recent links.
The times from the checkout click to each of those are printed (``-s``).
It runs after ``test_extension.py`` (file order), whose first tests need a
browser where nobody has signed in yet.
Screenshots: ``shop-cart.png``, ``shop-checkout.png``, ``shop-order.png``,
``shop-admin-conversion.png``.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from api import db
from api.demo import ADVERTISER
from api.schema import conversions as conversions_table

from .conftest import ROOT, LiveApi, free_port
from .test_extension import (
    SHORT,
    TIMEOUT,
    latest_link,
    open_campaign_page,
    open_popup,
    sign_in,
    sign_out,
)

CAMPAIGN = "Spring sale: deep links"  # manual mode on shop.localhost, cpa 5.00 USD
#: The visitor's browser as the server sees it: headless Chromium says "HeadlessChrome", which
#: Tasklink rightly counts as a bot (its sale would pay 0.00); a person's Chrome says this.
VISITOR_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


@pytest.fixture(scope="module")
def admin(live_api: LiveApi, tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The real admin (``streamlit run admin_app.py``) on the live API's database, on a free port."""
    folder = tmp_path_factory.mktemp("admin")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"TASKLINK_DEMO", "TASKLINK_BASE_URL"}}
    env.update(
        TASKLINK_DATABASE_URL=live_api.app.config["DATABASE_URL"],
        TASKLINK_SECRET_KEYS="e2e-key",
        TASKLINK_INSTANCE_PATH=str(folder),
    )
    with open(folder / "streamlit.log", "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "admin_app.py"),
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the admin did not start: " + (folder / "streamlit.log").read_text()[-2000:])
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def settle(page: Page) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_timeout(300)
    page.locator("[data-testid=stStatusWidget]").wait_for(state="detached", timeout=TIMEOUT)


def admin_signed_in(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_label("E-mail").fill(ADVERTISER["email"])
    page.get_by_label("Password", exact=True).fill(ADVERTISER["password"])
    page.get_by_role("button", name="Sign in").click()
    settle(page)
    page.get_by_role("combobox", name="Campaign", exact=True).click()
    page.get_by_role("option", name=CAMPAIGN, exact=True).click()
    settle(page)


def conversion_row(api: LiveApi, order_id: str) -> dict | None:
    with db.reading(db.get_engine(api.app)) as conn:
        row = conn.execute(select(conversions_table).where(conversions_table.c.order_id == order_id)).mappings().first()
    return dict(row) if row else None


@pytest.fixture
def signed_in(browser, live_api: LiveApi) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The extension signed in for the test and signed out after it (the browser is shared by every e2e test)."""
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    yield
    sign_out(context, extension_id)


def test_a_sale_in_the_demo_shop_reaches_the_database_the_report_the_admin_and_the_extension(
    browser, live_api: LiveApi, admin: str, signed_in: None, screenshots: Path
) -> None:
    context, extension_id = browser

    # The partner makes a link to the rain jacket with the extension's panel (manual mode: this page).
    page, panel = open_campaign_page(context, live_api.shop + "/shop/products/rain-jacket")
    panel.click("button", "Create link")
    panel.wait_text("This page")
    panel.click("button", "Create link")
    shared = panel.wait_value("textbox", "Shareable link", SHORT)
    made = latest_link(live_api)
    assert made["url"] == shared
    page.close()

    # The advertiser has the admin open, on the campaign.
    advertiser = context.new_page()
    advertiser.set_viewport_size({"width": 1280, "height": 4000})  # the whole notebook, no scrolling
    admin_signed_in(advertiser, admin)

    # A visitor follows the link: the landing tag keeps the click id in a first-party cookie.
    visitor = context.new_page()
    visitor.set_extra_http_headers({"User-Agent": VISITOR_AGENT})
    visitor.goto(shared)
    click_id = parse_qs(urlsplit(visitor.url).query)["clickid"][0]
    visitor.wait_for_function("id => window.Tasklink && window.Tasklink.clickId() === id", arg=click_id)
    (cookie,) = [c for c in context.cookies(live_api.shop) if c["name"] == "tasklink_click"]
    assert (cookie["value"], cookie["domain"], cookie["path"]) == (click_id, "shop.localhost", "/")
    assert cookie["sameSite"] == "Lax" and cookie["secure"] is False and cookie["httpOnly"] is False
    days = (cookie["expires"] - time.time()) / 86400
    assert 29.99 < days <= 30, days

    # Later pages carry no click id; the tag keeps the one it has, and ignores a value that is none of ours.
    visitor.goto(live_api.shop + "/shop/products/trail-sneakers?clickid=made-up-value")
    visitor.wait_for_function("() => window.Tasklink !== undefined")
    assert visitor.evaluate("Tasklink.clickId()") == click_id
    visitor.get_by_role("button", name="Add to cart").click()
    expect(visitor.get_by_role("heading", name="Your cart")).to_be_visible()
    visitor.goto(live_api.shop + "/shop/products/rain-jacket")
    visitor.get_by_role("button", name="Add to cart").click()
    expect(visitor.locator("#cart-total")).to_have_text("$178.00")  # 99.00 + 79.00 (sale prices)
    visitor.screenshot(path=str(screenshots / "shop-cart.png"))

    visitor.get_by_role("link", name="Checkout").click()
    expect(visitor.locator("#kept-click")).to_contain_text(click_id)
    visitor.get_by_label("Name").fill("Ann Buyer")
    visitor.get_by_label("E-mail").fill("ann@example.test")
    visitor.screenshot(path=str(screenshots / "shop-checkout.png"))

    # Checkout: the shop's server posts the conversion. The clock starts at the click; each place where
    # the conversion shows is looked at in turn, and timed from the start and on its own.
    started = time.monotonic()
    visitor.get_by_role("button", name="Place order · $178.00").click()
    expect(visitor.locator("#conversion")).to_have_attribute("data-state", "recorded")
    on_order_page = time.monotonic() - started
    order_id = visitor.locator("#order-id").inner_text()
    row = conversion_row(live_api, order_id)
    in_database = time.monotonic() - started
    assert row is not None
    assert (row["amount_minor"], row["currency"], row["link_id"], row["status"], row["payout_minor"]) == (
        17800,
        "USD",
        made["id"],
        "pending",
        500,
    )

    # The advertiser's report (API key) counts it, pending payout included.
    status, report = live_api.call(
        "GET",
        f"/api/v1/reports/summary?group_by=campaign&campaign_id={made['campaign_id']}",
        token=ADVERTISER["api_key"],
    )
    in_report = time.monotonic() - started
    assert status == 200, report
    assert report["totals"]["conversions"] >= 1 and float(report["totals"]["payout"]) >= 5.0

    # The partner's extension: the popup's recent link counts the conversion.
    opened = time.monotonic()
    popup = open_popup(context, extension_id)
    recent = popup.locator("#recent li").first
    expect(recent).to_contain_text(made["display_url"], timeout=TIMEOUT)
    expect(recent).to_contain_text("1 conversion")
    in_extension, popup_alone = time.monotonic() - started, time.monotonic() - opened

    # The admin (open since before the sale): Refresh figures, and the order is there (6. Conversions).
    refreshed = time.monotonic()
    advertiser.get_by_role("button", name="Refresh figures").click()
    settle(advertiser)
    # The order is among the conversions to approve or reverse (the table itself is a canvas; other
    # tests of this browser session may have made conversions of their own, so search for it).
    chooser = advertiser.get_by_role("combobox", name="Conversion")
    chooser.click()
    chooser.fill(order_id)
    expect(advertiser.get_by_role("option", name=f"Order {order_id} · 178.00 USD · pending")).to_be_visible(
        timeout=TIMEOUT
    )
    chooser.press("Escape")
    in_admin, admin_alone = time.monotonic() - started, time.monotonic() - refreshed

    print(
        f"\nfrom the Place order click: order page (postback answered) {on_order_page:.2f} s, database "
        f"{in_database:.2f} s, report {in_report:.2f} s, extension popup {in_extension:.2f} s (opening it "
        f"{popup_alone:.2f} s), admin {in_admin:.2f} s (Refresh figures {admin_alone:.2f} s) "
        f"[{dt.datetime.now(dt.UTC):%H:%M:%S} UTC]"
    )

    expect(visitor.locator("#payout")).to_have_text("5.00 USD")
    expect(visitor.locator("#conversion-status")).to_have_text("pending")
    visitor.screenshot(path=str(screenshots / "shop-order.png"))
    assert not [entry for entry in live_api.log.since(0) if ADVERTISER["api_key"] in " ".join(entry)]
    advertiser.wait_for_timeout(1500)  # the tables draw after the script has run
    # The section's own container: the innermost block holding its header.
    section = advertiser.locator("[data-testid=stVerticalBlock]", has=advertiser.locator("[id='conversions']")).last
    section.screenshot(path=str(screenshots / "shop-admin-conversion.png"))
    for page_ in (popup, visitor, advertiser):
        page_.close()
