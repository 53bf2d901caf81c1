"""The extension in each of its languages: Chromium started with ``--lang=en`` and with ``--lang=zh-CN``.

One browser per language (its own profile; the extension id, which comes from
the extension's path, is the one the live API admits), walked through the main
screens: the options page signed out and in, the popup signed out, the link
form with its kinds and the Advanced section, a new link with Copy and QR, the
earnings and invitations views, and the in-page panel on a campaign page. On
each screen the visible words (text, titles, placeholders, accessible names)
must be the language's: the expected ones are read from that language's
``messages.json``, and no sentence of the *other* catalogue may be on screen.
Every request the extension made to the API must carry
``Accept-Language`` with the catalogue's ``language_tag``; the API's own error
``message`` is shown exactly as the API sends it for that language.

Screenshots of every screen go to ``TASKLINK_SCREENSHOT_DIR/<language>/``
(``docs/screenshots/en``, ``docs/screenshots/zh-CN``).
"""

from __future__ import annotations

import contextlib
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from api.demo import ADVERTISER, PARTNER

from .conftest import CHROMIUM, EXTENSION, LiveApi
from .shadow import Panel
from .test_extension import (
    SHORT,
    TIMEOUT,
    _first_task_id,
    dead_base,
    extension_page,
    has_redirects,
    open_popup,
    set_api_base,
)
from .test_partner_views import INVITED, fits, follow_as_a_person, reinvite

# The browser's language → the catalogue Chrome answers from.
LANGUAGES = {"en": "en", "zh-CN": "zh_CN"}
# The workflow's terms the Chinese screens must use where they apply.
ZH_TERMS = ["创建链接", "复制", "短链", "常规", "高级", "子 ID", "共享 ID", "链接偏好"]
MANUAL_CAMPAIGN = "Spring sale: deep links"  # demo data: manual landing mode, on shop.localhost


def load(folder: str) -> dict[str, Any]:
    return json.loads((EXTENSION / "_locales" / folder / "messages.json").read_text(encoding="utf-8"))


def catalogue(folder: str) -> dict[str, str]:
    return {key: entry["message"] for key, entry in load(folder).items()}


class Words:
    """One language's messages; ``w(key, *values)`` fills the placeholders as chrome.i18n does."""

    def __init__(self, folder: str) -> None:
        self.data = load(folder)
        self.messages = {key: entry["message"] for key, entry in self.data.items()}

    def __call__(self, key: str, *values: str) -> str:
        entry = self.data[key]
        order = {name.lower(): int(spec["content"][1:]) for name, spec in entry.get("placeholders", {}).items()}
        return re.sub(
            r"\$([A-Za-z0-9_]+)\$", lambda m: str(values[order[m.group(1).lower()] - 1]), entry["message"]
        ).replace("$$", "$")


def foreign_patterns(mine: dict[str, str], other: dict[str, str]) -> list[tuple[str, re.Pattern[str]]]:
    """The other catalogue's sentences that differ from this one's, as patterns of a whole text on screen."""
    patterns = []
    for key, text in other.items():
        if key == "language_tag" or text == mine.get(key):
            continue
        pieces = re.split(r"\$[A-Za-z0-9_]+\$", text)
        if not re.search(r"[A-Za-z\u4e00-\u9fff]", "".join(pieces)):
            continue  # punctuation around values only: no language in it
        body = ".+?".join(re.escape(" ".join(piece.split())) for piece in pieces)
        # Labels are upper-cased by CSS in English, and innerText says so: compare without case.
        patterns.append((key, re.compile(body, re.DOTALL | re.IGNORECASE)))
    return patterns


# Every visible text of an element tree (each element's whole text, so a sentence with a bold word
# in it counts as one), every option of a select, and the attributes people read or hear.
_VISIBLE = r"""
function visibleTexts(root) {
  const out = new Set();
  const add = (text) => { const t = String(text || "").replace(/\s+/g, " ").trim(); if (t) out.add(t); };
  const shown = (e) => Boolean(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  for (const e of root.querySelectorAll("*")) {
    if (["SCRIPT", "STYLE", "TEMPLATE"].includes(e.tagName) || !shown(e)) continue;
    if (e.tagName === "SELECT") { for (const o of e.options) add(o.text); } else add(e.innerText);
    for (const name of ["title", "placeholder", "aria-label", "alt"]) add(e.getAttribute(name));
    if (e.tagName === "INPUT" && ["button", "submit"].includes(e.type)) add(e.value);
  }
  return [...out];
}
"""


def page_texts(page: Page) -> list[str]:
    return page.evaluate(f"() => {{ {_VISIBLE} return [document.title, ...visibleTexts(document)]; }}")


def panel_texts(panel: Panel) -> list[str]:
    return panel.call(f"{_VISIBLE} return visibleTexts(this);")


class Run:
    """One language's browser, its words, and the checks every screen goes through."""

    def __init__(self, lang: str, context: BrowserContext, extension_id: str, api: LiveApi, folder: Path) -> None:
        self.lang = lang
        self.context = context
        self.extension_id = extension_id
        self.api = api
        self.folder = folder
        self.w = Words(LANGUAGES[lang])
        other = next(f for f in LANGUAGES.values() if f != LANGUAGES[lang])
        self.foreign = foreign_patterns(self.w.messages, catalogue(other))
        self.screens: list[str] = []

    def data(self) -> set[str]:
        """What the API shows as its data (names, titles, macro descriptions): not the extension's words."""
        if not hasattr(self, "_data"):
            token = self.api.partner_token()
            found: set[str] = set()
            for program in api_get(self.api, "/api/v1/programs", token, self.w("language_tag"))["programs"]:
                found.add(program["name"])
            for campaign in api_get(self.api, "/api/v1/campaigns", token, self.w("language_tag"))["campaigns"]:
                found.add(campaign["name"])
                path = f"/api/v1/campaigns/{campaign['id']}/tasks"
                # A campaign the partner is not in (yet) has no tasks to show.
                with contextlib.suppress(urllib.error.HTTPError):
                    found.update(
                        task["title"] for task in api_get(self.api, path, token, self.w("language_tag"))["tasks"]
                    )
            for macro in api_get(self.api, "/api/v1/postbacks", token, self.w("language_tag"))["macros"]:
                found.add(macro["description"])
            self._data = found
        return self._data

    def check(self, texts: list[str], screen: str, data: tuple[str, ...] = ()) -> None:
        """No sentence of the other language on this screen (the API's data and sentences aside)."""
        known = self.data() | set(data)
        found = [
            (key, text)
            for text in texts
            if text not in known
            for key, pattern in self.foreign
            if pattern.fullmatch(text)
        ]
        assert not found, f"{self.lang} {screen}: words of the other language on screen: {found}"
        self.screens.append(screen)

    def shot(self, page: Page, name: str, popup: bool = True) -> None:
        """A popup at its own size (its body), another page whole."""
        path = str(self.folder / f"extension-{name}.png")
        if popup:
            page.locator("body").screenshot(path=path)
        else:
            page.screenshot(path=path, full_page=True)


@pytest.fixture(scope="module", params=list(LANGUAGES))
def run(request, playwright_instance, browser, live_api: LiveApi, screenshots: Path, tmp_path_factory) -> Iterator[Run]:  # type: ignore[no-untyped-def]
    """Chromium in one language (``--lang`` and the context's locale), the extension loaded."""
    lang = request.param
    _english, extension_id = browser
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp(f"chromium-{lang}")),
        executable_path=CHROMIUM,
        headless=True,
        locale=lang,
        viewport={"width": 1200, "height": 800},
        args=[f"--disable-extensions-except={EXTENSION}", f"--load-extension={EXTENSION}", f"--lang={lang}"],
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.set_default_timeout(TIMEOUT)
    worker = context.service_workers[0] if context.service_workers else context.wait_for_event("serviceworker")
    # Same path, same id: the live API's CORS admits this browser's extension too.
    assert worker.url.split("/")[2] == extension_id
    # A new profile is an install: the worker opens the options page in a blank tab, which can be the tab
    # a test has just opened for something else. Let it happen first (opening a tab sets it off) and let
    # it load. It stays open: closing the extension's first page while it loads sometimes leaves the next
    # extension page of that process without its messages (getMessage answers "" for every key).
    options = f"chrome-extension://{extension_id}/options.html"
    blank = context.new_page()
    for _ in range(100):
        if any(page.url == options for page in context.pages):
            break
        blank.wait_for_timeout(100)
    for page in context.pages:
        if page.url == options:
            page.wait_for_load_state()
    folder = screenshots / lang
    folder.mkdir(parents=True, exist_ok=True)
    yield Run(lang, context, extension_id, live_api, folder)
    context.close()


def accept_language_of_extension(api: LiveApi, mark: int) -> set[str]:
    """The Accept-Language values of the extension's API requests since ``mark`` (the tests' own left out)."""
    seen = [entry for entry in api.log.languages_since(mark) if entry[2] != "tasklink-e2e"]
    assert seen, "the extension made no API request"
    return {language for _method, _path, _agent, language in seen}


def api_get(api: LiveApi, path: str, token: str, language: str) -> Any:
    request = urllib.request.Request(api.base + path)
    for name, value in {
        "User-Agent": "tasklink-e2e",
        "Authorization": f"Bearer {token}",
        "Accept-Language": language,
    }.items():
        request.add_header(name, value)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def api_message(api: LiveApi, path: str, body: dict[str, Any], language: str) -> str:
    """The API's own error sentence for a request, asked in ``language`` the way the extension asks."""
    request = urllib.request.Request(api.base + path, data=json.dumps(body).encode(), method="POST")
    for name, value in {
        "User-Agent": "tasklink-e2e",
        "Content-Type": "application/json",
        "Authorization": f"Bearer {api.partner_token()}",
        "Accept-Language": language,
    }.items():
        request.add_header(name, value)
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        return json.loads(error.read())["error"]["message"]
    raise AssertionError("the API accepted what it should refuse")


# --- the walk ------------------------------------------------------------------


def test_options_and_popup_signed_out(run: Run) -> None:
    w, mark = run.w, run.api.log.mark()
    popup = open_popup(run.context, run.extension_id)
    expect(popup.get_by_role("alert")).to_contain_text(w("popup_signed_out"), timeout=TIMEOUT)
    expect(popup.get_by_role("button", name=w("link_form_open_options_sign_in"))).to_be_visible()
    assert popup.evaluate("document.documentElement.lang") == w("language_tag")
    run.check(page_texts(popup), "popup signed out")
    run.shot(popup, "popup-signed-out")
    popup.close()

    page = extension_page(run.context, run.extension_id, "options.html", 900, 640)
    expect(page.get_by_role("button", name=w("options_log_in"))).to_be_visible(timeout=TIMEOUT)
    assert page.title() == w("options_title")
    expect(page.get_by_text(w("options_api_base_hint", "http://127.0.0.1:5000"))).to_be_visible()
    page.locator("#api-base").fill(run.api.base)
    page.get_by_label(w("options_email")).fill(PARTNER["email"])
    page.get_by_label(w("options_password")).fill("wrong password")
    page.get_by_role("button", name=w("options_log_in")).click()
    expect(page.get_by_role("alert")).to_have_text(w("api_wrong_credentials"), timeout=TIMEOUT)
    run.check(page_texts(page), "options signed out")
    run.shot(page, "options-error", popup=False)

    page.get_by_label(w("options_password")).fill(PARTNER["password"])
    page.get_by_role("button", name=w("options_log_in")).click()
    expect(page.locator("#partner-name")).to_have_text("Pat Partner", timeout=TIMEOUT)
    expect(page.locator("#signed-in-as")).to_have_text(
        w("options_signed_in_as", "Pat Partner", w("options_email_brackets", PARTNER["email"]))
    )
    expect(page.get_by_role("alert")).to_have_text(w("options_signed_in"))
    # The postbacks section: no delivery yet, or the last ones (earlier tests may have made some) in words.
    expect(page.locator("#pb-none, #pb-deliveries li").locator("visible=true").first).to_be_visible(timeout=TIMEOUT)
    for line in page.locator("#pb-deliveries li").all_inner_texts():
        assert w("postbacks_event_created") in line, line
    expect(page.get_by_role("button", name=w("postbacks_show"))).to_be_visible()
    run.check(page_texts(page), "options signed in")
    run.shot(page, "options", popup=False)
    page.close()
    assert accept_language_of_extension(run.api, mark) == {w("language_tag")}


def test_link_form_kinds_advanced_copy_and_qr(run: Run) -> None:
    w, mark = run.w, run.api.log.mark()
    popup = open_popup(run.context, run.extension_id)
    expect(popup.get_by_role("combobox", name=w("link_form_program"))).to_have_value(
        re.compile(r"\d+"), timeout=TIMEOUT
    )
    popup.get_by_role("combobox", name=w("link_form_campaign")).select_option(label=MANUAL_CAMPAIGN)
    expect(popup.get_by_role("textbox", name=w("link_form_url_label"))).to_be_visible(timeout=TIMEOUT)
    terms = w("terms_with_window", w("terms_cpa", "$5.00" if run.lang == "en" else "US$5.00"), "30")
    expect(popup.locator("#lf-terms")).to_have_text(terms)
    expect(popup.get_by_role("group", name=w("link_form_preference"))).to_contain_text(w("link_kind_short"))
    expect(popup.get_by_role("group", name=w("link_form_preference"))).to_contain_text(w("link_kind_regular"))
    expect(popup.get_by_role("tab", name=w("popup_tab_earnings"))).to_be_visible()
    popup.get_by_text(w("advanced_summary"), exact=True).click()
    popup.get_by_label(w("reporting_sub_id_1")).fill("ig-story")
    popup.get_by_label(w("reporting_shared_id")).fill("spring")
    run.check(page_texts(popup), "link form")
    run.shot(popup, "popup-form")

    # The API's own sentence (a landing page the campaign does not allow) is shown as the API sends it.
    popup.get_by_role("textbox", name=w("link_form_url_label")).fill("https://evil.example/x")
    popup.get_by_role("button", name=w("link_form_create")).click()
    alert = popup.get_by_role("alert")
    expect(alert).to_be_visible(timeout=TIMEOUT)
    task_id = int(popup.get_by_role("combobox", name=w("link_form_task")).input_value())
    sent = api_message(
        run.api,
        "/api/v1/links",
        {
            "task_id": task_id,
            "kind": "short",
            "landing_url": "https://evil.example/x",
            "subId1": "ig-story",
            "sharedid": "spring",
        },
        w("language_tag"),
    )
    expect(alert).to_have_text(sent)
    run.check(page_texts(popup), "link form, the API's error", data=(sent,))
    run.shot(popup, "popup-error-landing-not-allowed")

    popup.get_by_role("textbox", name=w("link_form_url_label")).fill(run.api.shop + "/shop/products/rain-jacket")
    popup.get_by_text(w("link_kind_regular"), exact=True).click()
    popup.get_by_text(w("link_kind_short"), exact=True).click()
    popup.get_by_role("button", name=w("link_form_create")).click()
    result = popup.get_by_role("region", name=w("link_form_your_link"))
    expect(result.get_by_role("textbox", name=w("link_form_shareable"))).to_have_value(SHORT, timeout=TIMEOUT)
    pairs = f"{w('reporting_pair', w('reporting_sub_id_1'), 'ig-story')}"
    expect(result).to_contain_text(w("reporting_copy_note", pairs).split(pairs)[0])
    result.get_by_role("button", name=w("link_form_copy"), exact=True).click()
    expect(result.get_by_role("status")).to_have_text(w("link_form_copied_full"))
    recent = popup.locator("#recent li").first
    expect(recent).to_contain_text(w("link_clicks_other", "0"), timeout=TIMEOUT)
    expect(recent).to_contain_text(w("recent_kind_landing", w("link_kind_short"), "shop.localhost"))
    run.check(page_texts(popup), "a new link")
    run.shot(popup, "popup-link")

    result.get_by_role("button", name=w("link_form_qr"), exact=True).click()
    expect(result.get_by_text(w("link_form_qr_note_full"))).to_be_visible(timeout=TIMEOUT)
    expect(result.get_by_role("button", name=w("link_form_download_svg"))).to_be_visible()
    run.check(page_texts(popup), "QR code")
    run.shot(popup, "popup-qr")
    if run.lang == "zh-CN":
        shown = " ".join(page_texts(popup))
        assert [term for term in ZH_TERMS if term not in shown] == []
    popup.close()
    assert accept_language_of_extension(run.api, mark) == {w("language_tag")}


def test_earnings_and_invitations(run: Run) -> None:
    w = run.w
    if has_redirects(run.api):
        # A person's click and a sale on a link of the partner: the earnings table has figures and money.
        token = run.api.partner_token()
        body = {
            "task_id": _first_task_id(run.api, MANUAL_CAMPAIGN),
            "landing_url": run.api.shop + "/shop/products/rain-jacket",
        }
        status, made = run.api.call("POST", "/api/v1/links", token=token, body=body)
        assert status == 201, made
        sale = {
            "click_id": follow_as_a_person(made["url"]),
            "order_id": f"e2e-lang-{run.lang}",
            "amount": "1234.00",
            "currency": "USD",
        }
        status, answer = run.api.call("POST", "/api/v1/conversions", token=ADVERTISER["api_key"], body=sale)
        assert status in (200, 201, 202), answer
    mark = run.api.log.mark()
    reinvite(run.api)
    popup = open_popup(run.context, run.extension_id)
    popup.get_by_role("tab", name=w("popup_tab_earnings")).click()
    table = popup.locator("table.earnings")
    expect(table).to_be_visible(timeout=TIMEOUT)
    heads = [w("earnings_col_campaign_link")] + [
        w(key)
        for key in (
            "earnings_col_clicks",
            "earnings_col_billable",
            "earnings_col_sales",
            "earnings_col_click_pay",
            "earnings_col_pending",
            "earnings_col_approved",
            "earnings_col_reversed",
        )
    ]
    assert [h.strip() for h in table.locator("th").all_text_contents()] == heads
    expect(popup.locator(".total").first).to_contain_text(w("earnings_total_earned", "").strip())
    expect(popup.get_by_label(w("earnings_period_label"))).to_contain_text(w("period_30"))
    run.check(page_texts(popup), "earnings")
    fits(popup)
    run.shot(popup, "popup-earnings")

    popup.get_by_role("tab", name=re.compile(re.escape(w("popup_tab_invitations")))).click()
    expect(popup.get_by_role("tab", name=w("popup_tab_invitations_count", "1"))).to_be_visible(timeout=TIMEOUT)
    item = popup.locator("#invitations li")
    expect(item).to_contain_text(INVITED, timeout=TIMEOUT)
    expect(item.get_by_role("button", name=w("invitation_accept"))).to_be_visible()
    expect(item.get_by_role("button", name=w("invitation_decline"))).to_be_visible()
    expect(item).to_contain_text(w("terms_window_other", "14"))
    run.check(page_texts(popup), "invitations")
    fits(popup)
    run.shot(popup, "popup-invitations")
    popup.close()
    assert accept_language_of_extension(run.api, mark) == {w("language_tag")}


def test_the_extensions_own_sentence_when_the_api_is_down(run: Run) -> None:
    w, down = run.w, dead_base()
    set_api_base(run.context, run.extension_id, down)
    try:
        popup = open_popup(run.context, run.extension_id)
        expect(popup.get_by_role("alert")).to_contain_text(w("api_down", down), timeout=TIMEOUT)
        expect(popup.get_by_role("button", name=w("link_form_open_options"))).to_be_visible()
        run.check(page_texts(popup), "popup, API down")
        fits(popup)
        run.shot(popup, "popup-api-down")
        popup.get_by_role("tab", name=w("popup_tab_earnings")).click()
        expect(popup.locator("#earnings-error")).to_contain_text(w("api_down", down), timeout=TIMEOUT)
        expect(popup.get_by_role("button", name=w("common_retry"))).to_be_visible()
        run.check(page_texts(popup), "earnings, API down")
        run.shot(popup, "popup-earnings-error")
        popup.close()
    finally:
        set_api_base(run.context, run.extension_id, run.api.base)


def test_the_panel_on_a_campaign_page(run: Run) -> None:
    w, mark = run.w, run.api.log.mark()
    page = run.context.new_page()
    page.goto(run.api.shop + "/shop/spring")
    panel = Panel(page)
    panel.wait_for("button", w("panel_launcher"))
    assert panel.call("return find(this, 'button', args[0]).title;", w("panel_launcher")) == w("panel_launcher_title")
    run.check(panel_texts(panel), "panel button")
    panel.click("button", w("panel_launcher"))
    panel.wait_for("region", w("panel_region"))
    panel.wait_text(w("link_form_this_page"))
    panel.wait_for("button", w("panel_close"))
    for word in (w("link_form_campaign"), w("link_form_task"), w("link_form_landing"), w("link_kind_short")):
        panel.wait("return this.textContent.includes(args[0]);", word, what=word)
    run.check(panel_texts(panel), "panel")
    run.shot(page, "panel-manual", popup=False)
    panel.click("button", w("link_form_create"))
    panel.wait_value("textbox", w("link_form_shareable"), SHORT)
    panel.click("button", w("link_form_qr"))
    panel.wait_text(w("link_form_qr_note"))
    panel.wait_for("img", None)
    run.check(panel_texts(panel), "panel with a link and its QR code")
    page.screenshot(path=str(run.folder / "extension-panel-qr.png"))
    page.close()
    assert accept_language_of_extension(run.api, mark) == {w("language_tag")}
    assert len(run.screens) >= 12
