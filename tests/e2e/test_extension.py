"""The extension end to end in Chromium against the live API with demo data.

Order matters only for speed: each test signs in when it needs to. The
screenshots go to ``TASKLINK_SCREENSHOT_DIR`` (``docs/screenshots`` keeps them).
The in-page panel is a closed shadow root: the tests reach into it over the
DevTools protocol and click it with the real mouse (``shadow.Panel``).
"""

from __future__ import annotations

import base64
import io
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import BrowserContext, Page, Worker, expect
from sqlalchemy import update

from api import db
from api.demo import ADVERTISER, PARTNER
from api.schema import postback_outbox
from api.services import advertisers, campaigns, links

from .conftest import LiveApi
from .shadow import Panel

SHORT = re.compile(r"^http://127\.0\.0\.1:\d+/s/[0-9A-Za-z]{7,}$")
REGULAR = re.compile(r"^http://127\.0\.0\.1:\d+/c/[^/?#]{20,}$")
TIMEOUT = 20_000  # generous: the machines running the suite share their CPUs
CAMPAIGN_HOSTS = ["launch", "outlet", "shop"]  # the demo's link-available campaigns, one host each
POPUP_MAX = {"width": 800, "height": 600}  # the largest popup Chrome shows


# --- helpers ---------------------------------------------------------------


def extension_page(context: BrowserContext, extension_id: str, name: str, width: int = 1000, height: int = 760) -> Page:
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"chrome-extension://{extension_id}/{name}")
    return page


def open_popup(context: BrowserContext, extension_id: str, height: int = POPUP_MAX["height"]) -> Page:
    """The popup, opened as a page as large as Chrome lets a popup be (its body sets its own width)."""
    return extension_page(context, extension_id, "popup.html", POPUP_MAX["width"], height)


def sign_in(context: BrowserContext, extension_id: str, api: LiveApi) -> None:
    """Sign in through the options page (a no-op when already signed in to this API)."""
    page = extension_page(context, extension_id, "options.html")
    expect(page.locator("#signed-in, #login-form").locator("visible=true")).to_have_count(1, timeout=TIMEOUT)
    if page.locator("#signed-in").is_visible():
        if page.locator("#api-shown").inner_text() == api.base:
            page.close()
            return
        page.get_by_role("button", name="Log out").click()
    page.locator("#api-base").fill(api.base)
    page.get_by_label("E-mail").fill(PARTNER["email"])
    page.get_by_label("Password").fill(PARTNER["password"])
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#partner-name")).to_have_text("Pat Partner", timeout=TIMEOUT)
    page.close()


def sign_out(context: BrowserContext, extension_id: str) -> None:
    page = extension_page(context, extension_id, "options.html")
    logout = page.get_by_role("button", name="Log out")
    expect(page.locator("#signed-in, #login-form").locator("visible=true")).to_have_count(1, timeout=TIMEOUT)
    if logout.is_visible():
        logout.click()
        expect(page.get_by_role("alert")).to_have_text("Signed out.", timeout=TIMEOUT)
    page.close()


def set_api_base(context: BrowserContext, extension_id: str, base: str) -> None:
    """Point the extension at another API address without signing out (as if the API moved or died)."""
    page = extension_page(context, extension_id, "options.html")
    page.evaluate("base => chrome.storage.local.set({apiBase: base})", base)
    page.close()


def refresh_rules(context: BrowserContext, extension_id: str) -> None:
    """Forget the cached match rules and let the popup fetch them again (the worker re-registers the content script)."""
    page = extension_page(context, extension_id, "options.html")
    page.evaluate("chrome.storage.session.remove('matchRules')")
    popup = open_popup(context, extension_id)
    expect(popup.get_by_role("combobox", name="Program")).to_have_value(re.compile(r"\d+"), timeout=TIMEOUT)
    page.wait_for_function(
        "async () => Boolean((await chrome.storage.session.get('matchRules')).matchRules)", timeout=TIMEOUT
    )
    popup.close()
    page.close()


def worker(context: BrowserContext) -> Worker:
    return [w for w in context.service_workers if w.url.endswith("/service-worker.js")][-1]


def registered_matches(context: BrowserContext) -> list[str]:
    return worker(context).evaluate(
        "chrome.scripting.getRegisteredContentScripts().then((s) => s.flatMap((c) => c.matches).sort())"
    )


def dead_base() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextmanager
def silent_api() -> Iterator[str]:
    """An address that takes connections and never answers (the popup stays "loading")."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def open_campaign_page(context: BrowserContext, url: str) -> tuple[Page, Panel]:
    page = context.new_page()
    page.goto(url)
    panel = Panel(page)
    panel.wait_for("button", "Create link")
    return page, panel


class ExtensionWorlds:
    """The extension's script contexts in a page (its content script), as the DevTools protocol reports them."""

    def __init__(self, page: Page) -> None:
        self.seen: list[dict] = []
        cdp = page.context.new_cdp_session(page)
        cdp.on("Runtime.executionContextCreated", lambda event: self.seen.append(event["context"]))
        cdp.on("Runtime.executionContextsCleared", lambda _event: self.seen.clear())
        cdp.send("Runtime.enable")

    def now(self) -> list[dict]:
        # Playwright's own helper worlds are isolated too, but not an extension's.
        return [c for c in self.seen if c.get("origin", "").startswith("chrome-extension://")]


def probe_extension(page: Page, extension_id: str) -> str:
    """What a page script learns by fetching the extension's modules at their fixed address."""
    return page.evaluate(
        """id => fetch(`chrome-extension://${id}/lib/link-form.js`)
        .then((r) => 'readable ' + r.status, (e) => 'refused: ' + e.name)""",
        extension_id,
    )


def latest_link(api: LiveApi) -> dict:
    status, body = api.call("GET", "/api/v1/links?limit=1", token=api.partner_token())
    assert status == 200
    return body["links"][0]


def link_posts(api: LiveApi, mark: int) -> list:
    return [entry for entry in api.log.api_since(mark) if entry[:2] == ("POST", "/api/v1/links")]


def shot(target, folder: Path, name: str, full_page: bool = False) -> None:  # type: ignore[no-untyped-def]
    if full_page:
        target.screenshot(path=str(folder / f"extension-{name}.png"), full_page=True)
    else:
        target.screenshot(path=str(folder / f"extension-{name}.png"))


def shot_popup(popup: Page, folder: Path, name: str) -> None:
    """The popup as Chrome would show it: its body, at its own size."""
    popup.locator("body").screenshot(path=str(folder / f"extension-{name}.png"))


def popup_size(popup: Page) -> dict[str, int]:
    return popup.evaluate("""() => ({
        height: Math.ceil(document.body.getBoundingClientRect().height),
        width: Math.ceil(document.body.getBoundingClientRect().width),
        scrollHeight: document.documentElement.scrollHeight,
        scrollWidth: document.documentElement.scrollWidth,
    })""")


def set_campaign(api: LiveApi, name: str, **settings: object) -> None:
    engine = db.get_engine(api.app)
    with db.transaction(engine) as conn:
        brand = advertisers.find_by_email(conn, ADVERTISER["email"])
        campaign = next(c for c in campaigns.list_campaigns(conn, brand.id) if c.name == name)
        campaigns.update_settings(conn, brand.id, campaign.id, **settings)


def has_redirects(api: LiveApi) -> bool:
    # /s/ and /c/ are served by the redirect app mounted in front of the API (api.http.tracking).
    from api.http import tracking

    return "/s/" in tracking.REDIRECT_PREFIXES


# --- install ---------------------------------------------------------------


def test_the_options_page_opens_on_install(browser) -> None:
    context, extension_id = browser
    options = f"chrome-extension://{extension_id}/options.html"
    for _ in range(100):
        if any(page.url == options for page in context.pages):
            break
        context.pages[0].wait_for_timeout(100)
    assert options in [page.url for page in context.pages]


# --- options page ----------------------------------------------------------


def test_options_page_signs_in_and_out_with_sentences(browser, live_api: LiveApi, screenshots: Path) -> None:
    context, extension_id = browser
    page = extension_page(context, extension_id, "options.html", 900, 640)
    expect(page.locator("#api-base")).to_have_value("http://127.0.0.1:5000", timeout=TIMEOUT)
    page.locator("#api-base").fill(live_api.base)
    page.get_by_label("E-mail").fill(PARTNER["email"])
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "That e-mail and password do not match a Tasklink partner account.", timeout=TIMEOUT
    )
    shot(page, screenshots, "options-error")

    page.locator("#api-base").fill(dead_base())
    page.get_by_label("Password").fill(PARTNER["password"])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Tasklink could not reach its API at http://127.0.0.1:", timeout=TIMEOUT
    )

    page.locator("#api-base").fill(live_api.base + "/")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#partner-name")).to_have_text("Pat Partner", timeout=TIMEOUT)
    expect(page.locator("#api-shown")).to_have_text(live_api.base)
    shot(page, screenshots, "options")
    # The token stays in the service worker's storage; the page shows none of it.
    assert "token" not in page.content().lower()

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("alert")).to_have_text("Signed out.", timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.close()


@contextmanager
def postback_receiver() -> Iterator[list[str]]:
    """An HTTP receiver on 127.0.0.1 answering 200; yields the paths it was asked for."""
    import http.server
    import threading

    paths: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield paths, server.server_address[1]  # type: ignore[misc]
    finally:
        server.shutdown()
        server.server_close()


def test_options_page_postbacks_section(browser, live_api: LiveApi, screenshots: Path) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    # Loading, then the error when the API does not answer.
    with silent_api() as silent:
        set_api_base(context, extension_id, silent)
        page = extension_page(context, extension_id, "options.html", 900, 900)
        expect(page.get_by_text("Loading postbacks…")).to_be_visible(timeout=TIMEOUT)
        shot(page, screenshots, "options-postbacks-loading", full_page=True)
        expect(page.locator("#pb-message")).to_contain_text("could not reach its API", timeout=TIMEOUT)
        shot(page, screenshots, "options-postbacks-error", full_page=True)
        page.close()
    set_api_base(context, extension_id, live_api.base)

    page = extension_page(context, extension_id, "options.html", 900, 900)
    section = page.locator("#postbacks")
    expect(section.get_by_text("No postbacks sent yet.")).to_be_visible(timeout=TIMEOUT)
    expect(section).to_contain_text("{click_id}")
    secret = page.locator("#pb-secret")
    assert secret.get_attribute("type") == "password"
    shot(page, screenshots, "options-postbacks-empty", full_page=True)
    page.get_by_role("button", name="Show").click()
    assert secret.get_attribute("type") == "text"
    before = secret.input_value()
    page.get_by_role("button", name="Rotate").click()
    expect(page.locator("#pb-message")).to_have_text("New secret made: postbacks are signed with it from now on.")
    assert secret.input_value() not in ("", before)
    page.get_by_role("button", name="Hide").click()

    url = page.get_by_label("Postback URL (all campaigns)")
    url.fill("https://tracker.example/pb?cid={clickid}")
    section.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#pb-message")).to_contain_text("Unknown macro {clickid}", timeout=TIMEOUT)
    shot(page, screenshots, "options-postbacks-refused", full_page=True)

    with postback_receiver() as (paths, port):
        url.fill(f"http://127.0.0.1:{port}/pb?cid={{click_id}}&e={{event}}&p={{payout}}")
        section.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("#pb-message")).to_have_text("Postback URL saved.", timeout=TIMEOUT)
        # A sale on a link of the partner: the serving process's sender delivers its postback.
        with db.transaction(db.get_engine(live_api.app)) as conn:
            brand = advertisers.find_by_email(conn, ADVERTISER["email"])
            [campaign] = [c for c in campaigns.list_campaigns(conn, brand.id) if c.name == "New arrivals: one click"]
        token = live_api.partner_token()
        status, tasks = live_api.call("GET", f"/api/v1/campaigns/{campaign.id}/tasks", token=token)
        assert status == 200 and tasks["tasks"], tasks
        status, made = live_api.call("POST", "/api/v1/links", {"task_id": tasks["tasks"][0]["id"]}, token=token)
        assert status == 201, made
        visitor = context.new_page()
        visitor.goto(made["url"])
        click_id = parse_qs(urlsplit(visitor.url).query)["clickid"][0]
        visitor.close()
        postback = {
            "click_id": click_id,
            "order_id": "e2e-postback-1",
            "amount": "20.00",
            "currency": campaign.currency,
        }
        status, body = live_api.call("POST", "/api/v1/conversions", token=ADVERTISER["api_key"], body=postback)
        for _ in range(50):
            if status != 202:
                break
            time.sleep(0.1)
            status, body = live_api.call("POST", "/api/v1/conversions", token=ADVERTISER["api_key"], body=postback)
        assert status in (200, 201), body
        deadline = time.monotonic() + 20
        while not paths and time.monotonic() < deadline:
            time.sleep(0.1)
        assert paths and f"cid={click_id}" in paths[0] and "e=created" in paths[0], paths
        page.reload()
        expect(page.locator("#pb-deliveries li").first).to_contain_text("created", timeout=TIMEOUT)
        expect(page.locator("#pb-deliveries li").first).to_contain_text("delivered, 1 attempt")
        shot(page, screenshots, "options-postbacks", full_page=True)

        # The receiver was down through every attempt: the row failed, and the partner sends it again.
        with db.transaction(db.get_engine(live_api.app)) as conn:
            conn.execute(
                update(postback_outbox)
                .where(postback_outbox.c.url == f"http://127.0.0.1:{port}" + paths[0])
                .values(status="failed", attempts=8, last_error="HTTP 503", last_status_code=503, delivered_at=None)
            )
        page.reload()
        failed = page.locator("#pb-deliveries li").first
        expect(failed).to_contain_text("failed, 8 attempts", timeout=TIMEOUT)
        shot(page, screenshots, "options-postbacks-failed", full_page=True)
        failed.get_by_role("button", name="Retry").click()
        expect(page.locator("#pb-message")).to_have_text(
            "Sending it again: the log shows how it goes.", timeout=TIMEOUT
        )
        deadline = time.monotonic() + 20
        while len(paths) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert paths[1] == paths[0], paths
        page.reload()
        expect(page.locator("#pb-deliveries li").first).to_contain_text("delivered, 1 attempt", timeout=TIMEOUT)
        expect(page.locator("#pb-deliveries li").first.get_by_role("button", name="Retry")).to_have_count(0)
    page.close()


# --- where the content script runs ------------------------------------------


def test_the_content_script_is_registered_on_campaign_domains_only(browser, live_api: LiveApi) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    assert registered_matches(context) == [f"*://{host}.localhost/*" for host in CAMPAIGN_HOSTS]
    # Signing out removes it; signing in registers it again from the rules.
    sign_out(context, extension_id)
    assert registered_matches(context) == []
    sign_in(context, extension_id, live_api)
    assert registered_matches(context) == [f"*://{host}.localhost/*" for host in CAMPAIGN_HOSTS]


def test_nothing_is_injected_on_a_site_of_no_campaign(browser, live_api: LiveApi) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    page, _panel = open_campaign_page(context, live_api.shop + "/shop/")  # the rules are fresh
    assert probe_extension(page, extension_id).startswith("refused")  # a campaign page cannot probe either
    page.close()
    mark = live_api.log.mark()
    # The extension may open these (127.0.0.1 and *.localhost are in its host permissions), yet runs nothing there.
    for url in (live_api.host_url("elsewhere") + "/shop/spring?secret=1", live_api.base + "/shop/outlet"):
        page = context.new_page()
        worlds = ExtensionWorlds(page)
        page.goto(url)
        page.wait_for_load_state("load")
        # Absence needs a moment to be sure of: a content script starts within milliseconds.
        page.wait_for_timeout(1200)
        assert worlds.now() == [], url
        assert page.locator("#tasklink-extension-root").count() == 0
        assert probe_extension(page, extension_id).startswith("refused"), url
        page.close()
    # The pages' own requests only: the shop's landing tag (/tag.js) is the page's, not the extension's.
    seen = [path for _m, path, _q, _ua in live_api.log.since(mark) if path not in ("/favicon.ico", "/tag.js")]
    assert seen == ["/shop/spring", "/shop/outlet"]
    assert live_api.log.api_since(mark) == []
    # The same check sees the content script where it does run.
    page = context.new_page()
    worlds = ExtensionWorlds(page)
    page.goto(live_api.shop + "/shop/spring")
    Panel(page).wait_for("button", "Create link")
    assert [c["name"] for c in worlds.now()] == ["Tasklink – partner links"]
    page.close()


def test_a_campaign_page_shows_the_button_in_a_closed_shadow_root(
    browser, live_api: LiveApi, screenshots: Path
) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    page, panel = open_campaign_page(context, live_api.shop + "/shop/spring")
    # The host element is isolated: the page's CSS cannot reach inside, and it stays on top.
    page.add_style_tag(content="button { background: red !important; font-size: 40px !important; }")
    host = page.locator("#tasklink-extension-root")
    assert host.evaluate("h => [h.shadowRoot, getComputedStyle(h).zIndex]") == [None, "2147483647"]
    assert panel.shadow_root_type() == "closed"
    assert panel.style("button", "Create link", "background-color") == "rgb(67, 56, 202)"
    shot(page, screenshots, "button-page")
    box = host.bounding_box()
    assert box is not None
    margin = 28  # the button's shadow reaches past its host element
    page.screenshot(
        path=str(screenshots / "extension-button.png"),
        clip={
            "x": box["x"] - margin,
            "y": box["y"] - margin,
            "width": box["width"] + margin * 2 - 12,
            "height": box["height"] + margin * 2 - 12,
        },
    )
    page.close()


PAGE_SPY = """
// A page that wants the partner's tasks and links: it patches attachShadow before anything runs
// and watches every click.
window.__roots = [];
window.__paths = [];
const attach = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) {
  const root = attach.call(this, { ...init, mode: "open" });
  window.__roots.push(root);
  return root;
};
document.addEventListener("click", (event) => window.__paths.push(event.composedPath().map((n) => n.nodeName || "window")), true);
"""

PAGE_ATTACK = """() => {
  const host = document.getElementById("tasklink-extension-root");
  const r = host.getBoundingClientRect();
  const x = r.x + r.width / 2, y = r.y + r.height / 2;
  const target = document.elementFromPoint(x, y);
  host.click();
  target.click();
  for (const type of ["pointerdown", "mousedown", "pointerup", "mouseup", "click"]) {
    target.dispatchEvent(new MouseEvent(type, { bubbles: true, composed: true, clientX: x, clientY: y }));
  }
  host.focus();
  host.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, composed: true }));
  return target === host;
}"""


def test_page_scripts_can_neither_read_nor_drive_the_panel(browser, live_api: LiveApi) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    page = context.new_page()
    page.add_init_script(PAGE_SPY)
    page.goto(live_api.shop + "/shop/spring")
    panel = Panel(page)
    panel.wait_for("button", "Create link")
    mark = live_api.log.mark()

    # The page's synthetic clicks and keys: they reach the host element only, and open nothing.
    assert page.evaluate(PAGE_ATTACK) is True
    page.wait_for_timeout(500)
    assert not panel.has("region", "Tasklink: create link")
    # Even holding the button itself (as DevTools does here), an untrusted click does nothing.
    panel.synthetic_click("button", "Create link")
    page.wait_for_timeout(500)
    assert not panel.has("region", "Tasklink: create link")

    # A person's click opens it ...
    panel.click("button", "Create link")
    panel.wait_text("This page")
    # ... and a synthetic click on its Create link button still makes no link.
    panel.synthetic_click("button", "Create link")
    page.wait_for_timeout(1000)
    assert link_posts(live_api, mark) == []
    panel.click("button", "Create link")
    link = panel.wait_value("textbox", "Shareable link", SHORT)
    assert len(link_posts(live_api, mark)) == 1

    # What the page can see: no shadow root (its patched attachShadow never ran), no tasks, no link.
    seen = page.evaluate("""() => {
        const host = document.getElementById("tasklink-extension-root");
        return {root: host.shadowRoot, roots: window.__roots.length, text: document.body.innerText,
                html: document.documentElement.outerHTML, paths: window.__paths};
    }""")
    assert seen["root"] is None and seen["roots"] == 0
    for secret in (link, "Instagram story for the spring sale", "Shareable link"):
        assert secret not in seen["text"] and secret not in seen["html"]
    # The person's clicks bubbled out of the panel as clicks on the host element, nothing inside.
    person_clicks = [path for path in seen["paths"] if path[0] == "DIV" and "#document" in path]
    assert person_clicks and all(path[:2] == ["DIV", "BODY"] for path in person_clicks)
    page.close()


# --- the panel: the link form on a campaign page --------------------------------

MODES = [
    # (host, path, mode, landing URL expected from the path, campaign)
    ("shop", "/shop/spring", "manual", "this page", "Spring sale: deep links"),
    ("outlet", "/shop/outlet", "choose", "/shop/products/rain-jacket", "Outlet: pick a page"),
    ("launch", "/shop/new", "default", "/shop/new", "New arrivals: one click"),
]


@pytest.mark.parametrize("kind", ["short", "regular"])
@pytest.mark.parametrize(("host", "path", "mode", "landing", "campaign"), MODES, ids=[m[2] for m in MODES])
def test_create_link_in_each_landing_mode(
    browser,
    live_api: LiveApi,
    screenshots: Path,
    host: str,
    path: str,
    mode: str,
    landing: str,
    campaign: str,
    kind: str,
) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    page_url = live_api.host_url(host) + path
    page, panel = open_campaign_page(context, page_url)
    panel.click("button", "Create link")
    panel.wait_for("region", "Tasklink: create link")
    panel.wait_text(campaign)
    panel.wait_for("combobox", "Task")
    assert panel.is_checked("Short")

    if mode == "default":
        # The default page is filled in and a (short) link made at once.
        panel.wait_value("textbox", "Shareable link", SHORT)
        if kind == "short":
            shot(page, screenshots, "panel-default")
    if mode == "manual":
        panel.wait_text("This page")
    if mode == "choose":
        # The page the partner is on is preselected when it is one of the advertiser's pages.
        assert panel.call("return find(this, 'combobox', 'Landing page').selectedOptions[0].text;") == "Outlet"
        panel.select("Landing page", "Rain jacket")
        panel.wait_text(live_api.host_url(host) + "/shop/products/rain-jacket")
    if kind == "regular":
        panel.click("radio", "Regular")
        assert panel.is_checked("Regular")
    if not (mode == "default" and kind == "short"):
        panel.click("button", "Create link")
    value = panel.wait_value("textbox", "Shareable link", SHORT if kind == "short" else REGULAR)
    if kind == "short" and mode != "default":
        shot(page, screenshots, f"panel-{mode}")

    made = latest_link(live_api)
    assert made["kind"] == kind
    assert made["url"] == value
    expected = page_url if landing == "this page" else live_api.host_url(host) + landing
    assert made["landing_url"] == expected

    panel.click("button", "Copy")
    panel.wait_role_text("status", "Copied to clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == made["url"]

    if has_redirects(live_api):
        # Follow the copied link: the shop shows the click id the redirect added.
        page.goto(made["url"])
        landed = urlsplit(page.url)
        assert landed._replace(query="").geturl() == urlsplit(made["landing_url"])._replace(query="").geturl()
        click_id = parse_qs(landed.query)["clickid"][0]
        expect(page.locator("#click-id")).to_have_text(click_id)
    page.close()


def test_this_page_leaves_out_the_visits_click_id_and_follows_the_address(browser, live_api: LiveApi) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    page, panel = open_campaign_page(
        context, live_api.shop + "/shop/products/rain-jacket?colour=teal&ClickId=old-visit&subId1=x"
    )
    panel.click("button", "Create link")
    clean = live_api.shop + "/shop/products/rain-jacket?colour=teal"
    panel.wait_text(clean)
    panel.click("button", "Create link")
    first = panel.wait_value("textbox", "Shareable link", SHORT)
    assert latest_link(live_api)["landing_url"] == clean

    # A single-page site changes its address without a reload: "this page" follows it.
    page.evaluate("history.pushState({}, '', '/shop/products/trail-sneakers')")
    moved = live_api.shop + "/shop/products/trail-sneakers"
    panel.click("button", "Create link")
    panel.wait_text(moved)
    panel.wait(
        "const e = find(this, 'textbox', 'Shareable link'); return Boolean(e && e.value && e.value !== args[0]);",
        first,
        what="a new link",
    )
    assert latest_link(live_api)["landing_url"] == moved
    page.close()


def test_this_page_leaves_out_the_campaigns_own_click_id_parameter(browser, live_api: LiveApi) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    set_campaign(live_api, "Spring sale: deep links", click_id_param="ref")
    refresh_rules(context, extension_id)
    try:
        page, panel = open_campaign_page(
            context, live_api.shop + "/shop/products/rain-jacket?R%65f=old-visit&colour=teal&clickid=page-own"
        )
        panel.click("button", "Create link")
        # "ref" goes in any spelling; "clickid" is not this campaign's parameter, so it is the page's own.
        clean = live_api.shop + "/shop/products/rain-jacket?colour=teal&clickid=page-own"
        panel.wait_text(clean)
        panel.click("button", "Create link")
        panel.wait_value("textbox", "Shareable link", SHORT)
        assert latest_link(live_api)["landing_url"] == clean
        page.close()
    finally:
        set_campaign(live_api, "Spring sale: deep links", click_id_param="clickid")
        refresh_rules(context, extension_id)


@pytest.mark.parametrize("kind", ["short", "regular"])
def test_following_a_link_lands_with_a_click_id(browser, live_api: LiveApi, screenshots: Path, kind: str) -> None:
    if not has_redirects(live_api):
        pytest.skip("the redirect endpoints /s/ and /c/ (issue 4) are not on this branch yet")
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    status, made = live_api.call(
        "POST",
        "/api/v1/links",
        token=live_api.partner_token(),
        body={
            "task_id": _first_task_id(live_api, "Spring sale: deep links"),
            "kind": kind,
            "landing_url": live_api.shop + "/shop/products/rain-jacket?colour=teal#reviews",
        },
    )
    assert status == 201, made
    page = context.new_page()
    page.goto(made["url"])
    landed = urlsplit(page.url)
    assert (landed.hostname, landed.path, landed.fragment) == (
        "shop.localhost",
        "/shop/products/rain-jacket",
        "reviews",
    )
    query = parse_qs(landed.query)
    assert query["colour"] == ["teal"]
    click_id = query["clickid"][0]
    expect(page.locator("#click-id")).to_have_text(click_id)
    if kind == "short":
        shot(page, screenshots, "landed")
    page.close()


def _first_task_id(api: LiveApi, campaign: str) -> int:
    token = api.partner_token()
    _s, body = api.call("GET", "/api/v1/campaigns", token=token)
    campaign_id = next(c["id"] for c in body["campaigns"] if c["name"] == campaign)
    _s, body = api.call("GET", f"/api/v1/campaigns/{campaign_id}/tasks", token=token)
    return body["tasks"][0]["id"]


def test_tracking_turned_off_shows_the_apis_reason(browser, live_api: LiveApi, screenshots: Path) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    page, panel = open_campaign_page(context, live_api.shop + "/shop/spring")  # rules cached while tracking was on
    set_campaign(live_api, "Spring sale: deep links", conversion_tracking=False)
    try:
        panel.click("button", "Create link")
        panel.wait_role_text("alert", "onversion tracking")
        assert panel.is_disabled("button", "Create link")
        # The box keeps off the panel's edges.
        alert, body = panel.box(".error"), panel.box(".panel")
        assert body["y"] + body["height"] - (alert["y"] + alert["height"]) >= 12
        shot(page, screenshots, "error-tracking-off")
    finally:
        set_campaign(live_api, "Spring sale: deep links", conversion_tracking=True)
        refresh_rules(context, extension_id)
    page.close()


# --- popup -----------------------------------------------------------------


def create_outlet_link_in_popup(popup: Page, live_api: LiveApi) -> None:
    """The popup flow: Outlet campaign, a chosen landing page, Sub IDs 1 and 2 and a Shared ID, Create."""
    popup.get_by_role("combobox", name="Campaign").select_option(label="Outlet: pick a page")
    popup.get_by_role("combobox", name="Task").select_option(label="Comparison post: jackets")
    popup.get_by_role("combobox", name="Landing page").select_option(label="Trail sneakers")
    expect(popup.locator(".landing .url")).to_have_text(f"{live_api.host_url('outlet')}/shop/products/trail-sneakers")
    advanced = popup.locator("#advanced")
    if not advanced.evaluate("d => d.open"):
        popup.get_by_text("Advanced").click()
    popup.get_by_label("Sub ID 1").fill("ig-story")
    popup.get_by_label("Sub ID 2").fill("week 14")
    popup.get_by_label("Shared ID").fill("spring&co")
    popup.get_by_role("button", name="Create link").click()


def test_popup_creates_a_link_with_sub_ids_and_shared_id(browser, live_api: LiveApi, screenshots: Path) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    popup = open_popup(context, extension_id)
    expect(popup.get_by_role("combobox", name="Program")).to_have_value(re.compile(r"\d+"), timeout=TIMEOUT)
    campaign_box = popup.get_by_role("combobox", name="Campaign")
    # Campaigns without links are listed, disabled, with the reason.
    awareness = campaign_box.locator("option", has_text="Brand awareness")
    expect(awareness).to_be_disabled()
    expect(awareness).to_contain_text("pay for performance")
    expect(campaign_box.locator("option", has_text="VIP preview")).to_be_disabled()
    create_outlet_link_in_popup(popup, live_api)

    shareable = popup.get_by_role("textbox", name="Shareable link")
    expect(shareable).to_have_value(SHORT, timeout=TIMEOUT)
    made = latest_link(live_api)
    assert shareable.input_value() == made["display_url"]
    assert made["url"] != made["display_url"]
    assert parse_qs(urlsplit(made["url"]).query) == {
        "subId1": ["ig-story"],
        "subId2": ["week 14"],
        "sharedid": ["spring&co"],
    }
    assert made["landing_url"] == live_api.host_url("outlet") + "/shop/products/trail-sneakers"
    result = popup.get_by_role("region", name="Your link")
    expect(result).to_contain_text("Copy adds your reporting info: Sub ID 1 ig-story")

    popup.get_by_role("button", name="Copy").click()
    expect(result.get_by_role("status")).to_have_text("Copied the full link, with your reporting info.")
    assert popup.evaluate("navigator.clipboard.readText()") == made["url"]

    recent = popup.locator("#recent li").first
    expect(recent).to_contain_text(made["display_url"], timeout=TIMEOUT)
    expect(recent).to_contain_text("0 clicks")
    expect(recent).to_contain_text("0 conversions")

    if has_redirects(live_api):
        # Someone follows the copied link; the popup's recent links count the click.
        visitor = context.new_page()
        visitor.goto(made["url"])
        expect(visitor.locator("#click-id")).to_have_text(re.compile(r"\S+"))
        click_id = parse_qs(urlsplit(visitor.url).query)["clickid"][0]
        visitor.close()
        # ... and buys: the advertiser reports the conversion (202 when its click was still on
        # its way to storage; the same postback again then answers 200 with the conversion).
        postback = {"click_id": click_id, "order_id": "e2e-order-1", "amount": "49.00", "currency": "USD"}
        status, body = live_api.call("POST", "/api/v1/conversions", token=ADVERTISER["api_key"], body=postback)
        for _ in range(50):
            if status != 202:
                break
            time.sleep(0.1)
            status, body = live_api.call("POST", "/api/v1/conversions", token=ADVERTISER["api_key"], body=postback)
        assert status in (200, 201) and body["order_id"] == "e2e-order-1", body
        popup.reload()
        recent = popup.locator("#recent li").first
        expect(recent).to_contain_text(made["display_url"], timeout=TIMEOUT)
        expect(recent).to_contain_text("1 click")
        expect(recent).to_contain_text("1 conversion")
        # The advertiser stops this link (admin → Partners): the partner sees who did it and why.
        with db.transaction(db.get_engine(live_api.app)) as conn:
            brand = advertisers.find_by_email(conn, ADVERTISER["email"])
            links.advertiser_set_disabled(conn, brand.id, made["id"], True)
        popup.reload()
        recent = popup.locator("#recent li").first
        expect(recent).to_contain_text("Disabled by the advertiser", timeout=TIMEOUT)
        shot_popup(popup, screenshots, "popup-link-disabled-by-advertiser")
        create_outlet_link_in_popup(popup, live_api)
        expect(popup.get_by_role("textbox", name="Shareable link")).to_have_value(SHORT, timeout=TIMEOUT)
        popup.get_by_role("button", name="Copy").click()
        expect(result.get_by_role("status")).to_have_text("Copied the full link, with your reporting info.")
    shot_popup(popup, screenshots, "popup")
    popup.close()


def test_popup_says_when_a_landing_page_is_not_allowed(browser, live_api: LiveApi, screenshots: Path) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    popup = open_popup(context, extension_id)
    popup.get_by_role("combobox", name="Campaign").select_option(label="Spring sale: deep links")
    popup.get_by_label("Landing page URL").fill("https://evil.example/phish")
    mark = live_api.log.mark()
    popup.get_by_role("button", name="Create link").click()
    expect(popup.get_by_role("alert")).to_contain_text("evil.example", timeout=TIMEOUT)
    # The API refused it (the popup's own loading may still be fetching lists: only POSTs count).
    assert [entry[:2] for entry in live_api.log.api_since(mark) if entry[0] == "POST"] == [("POST", "/api/v1/links")]
    shot_popup(popup, screenshots, "error-landing-not-allowed")
    popup.close()


def test_popup_asks_for_a_landing_url_instead_of_using_the_default(browser, live_api: LiveApi) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    popup = open_popup(context, extension_id)
    popup.get_by_role("combobox", name="Campaign").select_option(label="Spring sale: deep links")
    expect(popup.get_by_label("Landing page URL")).to_have_value("", timeout=TIMEOUT)
    mark = live_api.log.mark()
    popup.get_by_role("button", name="Create link").click()
    expect(popup.get_by_role("alert")).to_have_text("Enter a landing URL: any page on shop.localhost.")
    expect(popup.get_by_label("Landing page URL")).to_be_focused()
    assert link_posts(live_api, mark) == []
    popup.close()


def test_popup_uses_the_current_tabs_page_in_manual_mode(browser, live_api: LiveApi, screenshots: Path) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    page, _panel = open_campaign_page(
        context, live_api.shop + "/shop/products/rain-jacket?colour=teal&clickid=old-visit"
    )
    popup = open_popup(context, extension_id)
    # The campaign page is the active tab again (as when the toolbar button is pressed over it); the popup asks the worker.
    page.bring_to_front()
    popup.reload()
    popup.get_by_role("combobox", name="Campaign").select_option(label="Spring sale: deep links")
    use = popup.get_by_role("button", name="Use this page")
    use.click()
    clean = live_api.shop + "/shop/products/rain-jacket?colour=teal"
    expect(popup.get_by_label("Landing page URL")).to_have_value(clean)
    shot_popup(popup, screenshots, "popup-use-this-page")
    popup.get_by_role("button", name="Create link").click()
    expect(popup.get_by_role("textbox", name="Shareable link")).to_have_value(SHORT, timeout=TIMEOUT)
    assert latest_link(live_api)["landing_url"] == clean
    # Another campaign's page, or a site of no campaign, offers nothing.
    popup.get_by_role("combobox", name="Campaign").select_option(label="Outlet: pick a page")
    expect(popup.get_by_role("combobox", name="Landing page")).to_be_visible(timeout=TIMEOUT)
    page.goto(live_api.host_url("elsewhere") + "/shop/spring")
    popup.reload()
    popup.get_by_role("combobox", name="Campaign").select_option(label="Spring sale: deep links")
    expect(popup.get_by_label("Landing page URL")).to_be_visible(timeout=TIMEOUT)
    expect(popup.get_by_role("button", name="Use this page")).to_have_count(0)
    popup.close()
    page.close()


def test_popup_refuses_an_overlong_sub_id_before_asking(browser, live_api: LiveApi) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    popup = open_popup(context, extension_id)
    popup.get_by_role("combobox", name="Campaign").select_option(label="New arrivals: one click")
    expect(popup.get_by_role("combobox", name="Task")).to_be_visible(timeout=TIMEOUT)
    popup.get_by_text("Advanced").click()
    popup.get_by_label("Sub ID 3").evaluate(
        "(input, v) => { input.removeAttribute('maxlength'); input.value = v; }", "x" * 300
    )
    mark = live_api.log.mark()
    popup.get_by_role("button", name="Create link").click()
    expect(popup.get_by_role("alert")).to_have_text("Sub ID 3 is 300 characters long; the most is 255.")
    assert link_posts(live_api, mark) == []
    popup.close()


def test_popup_scrolls_the_new_link_into_view(browser, live_api: LiveApi) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    popup = extension_page(context, extension_id, "popup.html", POPUP_MAX["width"], 260)
    popup.get_by_role("combobox", name="Campaign").select_option(label="New arrivals: one click")
    popup.get_by_role("button", name="Create link").click()
    expect(popup.get_by_role("textbox", name="Shareable link")).to_have_value(SHORT, timeout=TIMEOUT)
    expect(popup.get_by_role("button", name="Copy")).to_be_in_viewport()
    popup.close()


def test_popup_shows_a_long_link_whole(browser, live_api: LiveApi) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    popup = open_popup(context, extension_id)
    popup.get_by_role("combobox", name="Campaign").select_option(label="New arrivals: one click")
    popup.get_by_text("Regular", exact=True).click()
    popup.get_by_role("button", name="Create link").click()
    field = popup.get_by_role("textbox", name="Shareable link")
    expect(field).to_have_value(REGULAR, timeout=TIMEOUT)
    # Every character is on screen: the field is as tall as its text and scrolls neither way.
    assert field.evaluate("f => f.scrollHeight <= f.clientHeight && f.scrollWidth <= f.clientWidth")
    assert str(live_api.port) in field.input_value() and len(str(live_api.port)) == 5
    popup.close()


def test_popup_fits_chromes_popup_size_in_every_state(browser, live_api: LiveApi, screenshots: Path) -> None:
    """Chrome shows at most 800 × 600 px of a popup: every state fits, so Create is never below the fold."""
    context, extension_id = browser
    sizes: dict[str, dict[str, int]] = {}

    def measure(popup: Page, state: str) -> None:
        size = popup_size(popup)
        sizes[state] = size
        assert size["scrollHeight"] <= POPUP_MAX["height"] and size["height"] <= POPUP_MAX["height"], (state, size)
        assert size["scrollWidth"] <= POPUP_MAX["width"] and size["width"] <= POPUP_MAX["width"], (state, size)

    sign_out(context, extension_id)
    popup = open_popup(context, extension_id)
    expect(popup.get_by_role("button", name="Open options to sign in")).to_be_visible(timeout=TIMEOUT)
    measure(popup, "signed out")
    popup.close()

    sign_in(context, extension_id, live_api)
    with silent_api() as silent:
        set_api_base(context, extension_id, silent)
        try:
            popup = open_popup(context, extension_id)
            expect(popup.get_by_text("Loading your campaigns…")).to_be_visible(timeout=TIMEOUT)
            measure(popup, "loading")
            shot_popup(popup, screenshots, "popup-loading")
            popup.close()
        finally:
            set_api_base(context, extension_id, live_api.base)

    down = dead_base()
    set_api_base(context, extension_id, down)
    try:
        popup = open_popup(context, extension_id)
        expect(popup.get_by_role("alert")).to_contain_text("could not reach its API", timeout=TIMEOUT)
        measure(popup, "error: API down")
        popup.close()
    finally:
        set_api_base(context, extension_id, live_api.base)

    popup = open_popup(context, extension_id)
    popup.get_by_role("combobox", name="Campaign").select_option(label="Spring sale: deep links")
    popup.get_by_text("Advanced").click()
    popup.get_by_label("Landing page URL").fill("https://evil.example/phish")
    popup.get_by_role("button", name="Create link").click()
    expect(popup.get_by_role("alert")).to_contain_text("evil.example", timeout=TIMEOUT)
    measure(popup, "error: landing page refused, Advanced open")
    # The longest success: five recent links, the last one disabled by the advertiser (a longer entry).
    token = live_api.partner_token()
    task_id = _first_task_id(live_api, "Spring sale: deep links")
    made = []
    for _ in range(5):
        status, body = live_api.call(
            "POST",
            "/api/v1/links",
            token=token,
            body={"task_id": task_id, "landing_url": live_api.shop + "/shop/products/rain-jacket?colour=teal"},
        )
        assert status == 201, body
        made.append(body)
    with db.transaction(db.get_engine(live_api.app)) as conn:
        brand = advertisers.find_by_email(conn, ADVERTISER["email"])
        links.advertiser_set_disabled(conn, brand.id, made[1]["id"], True)
    popup.reload()
    create_outlet_link_in_popup(popup, live_api)
    expect(popup.get_by_role("textbox", name="Shareable link")).to_have_value(SHORT, timeout=TIMEOUT)
    expect(popup.locator("#recent li")).to_have_count(5, timeout=TIMEOUT)
    expect(popup.locator("#recent li").nth(4)).to_contain_text("Disabled by the advertiser", timeout=TIMEOUT)
    measure(popup, "success: link, reporting info, Advanced open, 5 recent links")
    shot_popup(popup, screenshots, "popup-tallest")
    popup.close()
    print(
        "\npopup sizes (CSS px):\n"
        + "\n".join(f"  {state}: {size['width']} × {size['height']}" for state, size in sizes.items())
    )


# --- site access -------------------------------------------------------------------


def site_access(context: BrowserContext, extension_id: str, *, restrict: bool, grant: tuple[str, ...] = ()) -> None:
    """Set the extension's site access as a person does on chrome://extensions (Site access → On specific sites)."""
    page = context.new_page()
    page.goto("chrome://extensions/")
    mode = "ON_SPECIFIC_SITES" if restrict else "ON_ALL_SITES"
    page.evaluate(
        "([id, mode]) => new Promise((r) => chrome.developerPrivate.updateExtensionConfiguration("
        "{extensionId: id, hostAccess: mode}, r))",
        [extension_id, mode],
    )
    for pattern in grant:
        page.evaluate(
            "([id, p]) => new Promise((r) => chrome.developerPrivate.addHostPermission(id, p, r))",
            [extension_id, pattern],
        )
    page.close()


def test_restricted_site_access_is_named_in_the_popup_and_honoured(
    browser, live_api: LiveApi, screenshots: Path
) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    # The partner allowed the API and the spring shop only.
    site_access(context, extension_id, restrict=True, grant=("http://127.0.0.1/*", "*://shop.localhost/*"))
    try:
        outlet = context.new_page()
        worlds = ExtensionWorlds(outlet)
        outlet.goto(live_api.host_url("outlet") + "/shop/outlet")
        outlet.wait_for_timeout(1200)
        assert worlds.now() == []
        shop, _panel = open_campaign_page(context, live_api.shop + "/shop/spring")
        shop.close()

        popup = open_popup(context, extension_id)
        notice = popup.get_by_role("region", name="Site access")
        expect(notice).to_contain_text("Not allowed yet: launch.localhost and outlet.localhost.", timeout=TIMEOUT)
        expect(notice.get_by_role("button", name="Allow on these sites")).to_be_visible()
        assert popup_size(popup)["height"] <= POPUP_MAX["height"]
        shot_popup(popup, screenshots, "popup-site-access")
        popup.close()

        # Allowed (here from chrome://extensions; the popup's button asks Chrome, whose prompt a headless
        # browser cannot show): the outlet page already open gets its button without a reload.
        site_access(context, extension_id, restrict=True, grant=("*://outlet.localhost/*",))
        Panel(outlet).wait_for("button", "Create link")
        popup = open_popup(context, extension_id)
        expect(popup.get_by_role("region", name="Site access")).to_contain_text(
            "Not allowed yet: launch.localhost.", timeout=TIMEOUT
        )
        popup.close()
        outlet.close()
    finally:
        site_access(context, extension_id, restrict=False)


# --- failures: signed out, API down ------------------------------------------


def test_signed_out_is_a_sentence_with_a_way_to_the_options(browser, live_api: LiveApi, screenshots: Path) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    page, panel = open_campaign_page(context, live_api.shop + "/shop/spring")
    # Signing out elsewhere revokes every session of the partner, the extension's too.
    token = live_api.partner_token()
    assert live_api.call("POST", "/api/v1/auth/logout", token=token)[0] == 204

    panel.click("button", "Create link")
    panel.wait_role_text("alert", "You were signed out of Tasklink. Open the Tasklink options to sign in.")
    shot(page, screenshots, "error-signed-out")
    for other in context.pages:  # (Chrome would bring an open options tab forward instead)
        if other.url.endswith("/options.html"):
            other.close()
    with context.expect_page() as opened:
        panel.click("button", "Open options to sign in")
    options = opened.value
    expect(options.get_by_role("button", name="Log in")).to_be_visible(timeout=TIMEOUT)
    assert options.url.endswith("/options.html")
    options.close()
    page.close()

    popup = open_popup(context, extension_id)
    expect(popup.get_by_role("alert")).to_contain_text(
        "You are not signed in to Tasklink. Sign in on the options page to create links.", timeout=TIMEOUT
    )
    expect(popup.get_by_role("button", name="Open options to sign in")).to_be_visible()
    shot_popup(popup, screenshots, "popup-signed-out")
    popup.close()

    # Signed out, the content script is unregistered: campaign pages show nothing at all.
    assert registered_matches(context) == []
    page = context.new_page()
    worlds = ExtensionWorlds(page)
    page.goto(live_api.shop + "/shop/spring")
    page.wait_for_timeout(1000)
    assert worlds.now() == []
    page.close()


def test_api_down_is_a_sentence(browser, live_api: LiveApi, screenshots: Path) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    page, panel = open_campaign_page(context, live_api.shop + "/shop/spring")
    down = dead_base()
    set_api_base(context, extension_id, down)
    try:
        panel.click("button", "Create link")
        panel.wait_role_text(
            "alert",
            f"Tasklink could not reach its API at {down}. Check that it is running, "
            "or change the address in the Tasklink options.",
        )
        panel.wait_for("button", "Open Tasklink options")
        alert, body = panel.box(".error"), panel.box(".panel")
        assert body["y"] + body["height"] - (alert["y"] + alert["height"]) >= 12
        shot(page, screenshots, "error-api-down")
        popup = open_popup(context, extension_id)
        expect(popup.get_by_role("alert")).to_contain_text(
            f"Tasklink could not reach its API at {down}.", timeout=TIMEOUT
        )
        shot_popup(popup, screenshots, "popup-api-down")
        popup.close()
    finally:
        set_api_base(context, extension_id, live_api.base)
    page.close()


def test_rate_limited_is_a_sentence(browser, live_api: LiveApi, screenshots: Path) -> None:
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    # Read per request by api/http/limits.py. An hour, so the fixed window cannot roll over between the clicks.
    live_api.app.config["RATELIMIT_LINKS"] = "1/hour"
    try:
        popup = open_popup(context, extension_id)
        popup.get_by_role("combobox", name="Campaign").select_option(label="New arrivals: one click")
        create = popup.get_by_role("button", name="Create link")
        create.click()
        expect(popup.get_by_role("textbox", name="Shareable link")).to_have_value(SHORT, timeout=TIMEOUT)
        create.click()
        expect(popup.get_by_role("alert")).to_have_text(
            re.compile(
                r"^Too many requests: Tasklink is limiting how fast links can be made\. "
                r"Try again in \d+ (seconds?|minutes)\.$"
            ),
            timeout=TIMEOUT,
        )
        shot_popup(popup, screenshots, "error-rate-limited")
        popup.close()
    finally:
        live_api.app.config["RATELIMIT_LINKS"] = "120/minute"


def test_popup_shows_a_links_qr_code_and_downloads_it(browser, live_api: LiveApi, screenshots: Path) -> None:
    """QR next to Copy: loading, the code (which reads as the full link), both downloads, and a failure."""
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    popup = open_popup(context, extension_id)
    expect(popup.get_by_role("combobox", name="Program")).to_have_value(re.compile(r"\d+"), timeout=TIMEOUT)
    create_outlet_link_in_popup(popup, live_api)
    expect(popup.get_by_role("textbox", name="Shareable link")).to_have_value(SHORT, timeout=TIMEOUT)
    made = latest_link(live_api)
    result = popup.get_by_role("region", name="Your link")
    qr_button = result.get_by_role("button", name="QR", exact=True)
    code = result.get_by_role("img", name=f"QR code of {made['url']}")

    # Loading: the worker is waiting on an API that does not answer.
    with silent_api() as silent:
        set_api_base(context, extension_id, silent)
        try:
            qr_button.click()
            expect(result.get_by_text("Drawing the QR code…")).to_be_visible(timeout=TIMEOUT)
            shot_popup(popup, screenshots, "popup-qr-loading")
        finally:
            set_api_base(context, extension_id, live_api.base)
    qr_button.click()  # closes the box; the answer that never came is dropped
    expect(result.get_by_text("Drawing the QR code…")).to_have_count(0)

    # Failure: the API is gone.
    down = dead_base()
    set_api_base(context, extension_id, down)
    try:
        qr_button.click()
        expect(result.get_by_text(f"Tasklink could not reach its API at {down}.", exact=False)).to_be_visible(
            timeout=TIMEOUT
        )
        shot_popup(popup, screenshots, "popup-qr-error")
    finally:
        set_api_base(context, extension_id, live_api.base)
    qr_button.click()

    mark = live_api.log.mark()
    qr_button.click()
    expect(code).to_be_visible(timeout=TIMEOUT)
    expect(qr_button).to_have_attribute("aria-expanded", "true")
    expect(result).to_contain_text("Scanning opens the full link, with your reporting info")
    asked = [entry for entry in live_api.log.api_since(mark) if "/qr." in entry[1]]
    assert [entry[:2] for entry in asked] == [("GET", f"/api/v1/links/{made['id']}/qr.png")]
    shot_popup(popup, screenshots, "popup-qr")

    # What is on screen reads as the full link, reporting info included.
    drawn = popup.evaluate("""() => document.querySelector("canvas.qr-code").toDataURL("image/png")""")
    shown = zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(drawn.split(",", 1)[1]))))
    assert [found.text for found in shown] == [made["url"]]

    with popup.expect_download() as png_download:
        result.get_by_role("button", name="Download PNG").click()
    png = png_download.value
    assert png.suggested_filename == f"tasklink-link-{made['id']}.png"
    read = zxingcpp.read_barcodes(Image.open(png.path()))
    assert [found.text for found in read] == [made["url"]]

    with popup.expect_download() as svg_download:
        result.get_by_role("button", name="Download SVG").click()
    svg = svg_download.value
    assert svg.suggested_filename == f"tasklink-link-{made['id']}.svg"
    text = Path(svg.path()).read_text()
    assert text.startswith("<svg") and made["url"].replace("&", "&amp;") in text

    # A new link closes the code of the old one.
    popup.get_by_role("button", name="Create link").click()
    expect(code).to_have_count(0, timeout=TIMEOUT)
    popup.close()


def test_the_panel_shows_a_links_qr_code_and_downloads_it(browser, live_api: LiveApi, screenshots: Path) -> None:
    """The same QR action in the in-page panel (closed shadow root, the page's own CSP notwithstanding)."""
    context, extension_id = browser
    sign_in(context, extension_id, live_api)
    page, panel = open_campaign_page(context, live_api.host_url("launch") + "/shop/new")
    panel.click("button", "Create link")
    panel.wait_value("textbox", "Shareable link", SHORT)  # default mode: made at once
    made = latest_link(live_api)
    panel.click("button", "QR")
    panel.wait_for("img", f"QR code of {made['url']}")
    panel.wait_text("Scanning opens this link.")
    shot(page, screenshots, "panel-qr")
    drawn = panel.call("return this.querySelector('canvas.qr-code').toDataURL('image/png');")
    shown = zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(drawn.split(",", 1)[1]))))
    assert [found.text for found in shown] == [made["url"]]
    with page.expect_download() as png_download:
        panel.click("button", "Download PNG")
    assert png_download.value.suggested_filename == f"tasklink-link-{made['id']}.png"
    assert [found.text for found in zxingcpp.read_barcodes(Image.open(png_download.value.path()))] == [made["url"]]
    # Nothing of it in the page's own DOM: the download's anchor lived and died in the shadow root.
    assert page.evaluate("document.querySelectorAll('a[download], canvas').length") == 0
    page.close()
