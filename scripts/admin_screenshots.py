"""Screenshots of the running admin, section by section, in one language (README "Admin").

Usage: start the admin on demo data, then
    PYTHONPATH=. python scripts/admin_screenshots.py http://127.0.0.1:PORT docs/screenshots/en \
        [--language en|zh_CN] [newcomer-email newcomer-password]

Drives Debian's Chromium with Playwright: the sign-in page, a refused
sign-in, every section of the demo advertiser's first campaign, a refused
save, and (with a newcomer's credentials) the empty state. The browser asks
for the language (its locale, so Accept-Language and navigator.language), as
a reader's would: the admin's language box starts on it. Buttons and fields
are found by their words in that language, read from the admin's catalogue.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from api import i18n

SECTIONS = [
    "program-and-campaign",
    "tracking",
    "landing-pages",
    "tasks",
    "partners",
    "performance",
    "conversions",
    "keys",
]
WIDTH = 1280
CAMPAIGN = "Spring sale: deep links"  # the demo campaign with everything on (and the demo traffic)
LANGUAGE = "en"


def t(text: str, **params: object) -> str:
    """An admin sentence as the page shows it in the chosen language (a service's words: ``i18n.localize``)."""
    return i18n.gettext(LANGUAGE, text, "admin", **params)


def yes(label: str) -> str:
    """The confirming button of a question asked by the button ``label``."""
    return t("Yes, {action}", action=f"{label[0].lower()}{label[1:]}")


def partners_links() -> str:
    """The start of the "Partners' links (N)" expander's title."""
    return t("Partners' links ({count})").split("{")[0]


def settle(page: Page) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_timeout(400)
    page.locator("[data-testid=stStatusWidget]").wait_for(state="detached", timeout=30000)
    page.wait_for_timeout(600)


def sign_in(page: Page, url: str, email: str, password: str) -> None:
    page.goto(url)
    page.get_by_label(t("E-mail")).wait_for()
    page.get_by_label(t("E-mail")).fill(email)
    page.get_by_label(t("Password"), exact=True).fill(password)
    page.get_by_role("button", name=t("Sign in")).click()
    settle(page)


def choose(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the select box labelled ``label``."""
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)
    page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring in the picture


def section_clip(page: Page, anchor: str) -> dict[str, float] | None:
    """The rectangle from this section's header down to the next one's (or the page end)."""
    header = page.locator(f"[id='{anchor}']")
    if header.count() == 0:
        return None
    top = header.first.bounding_box()["y"] - 16
    bottoms = []
    for other in SECTIONS:
        box = page.locator(f"[id='{other}']").first.bounding_box() if page.locator(f"[id='{other}']").count() else None
        if box and box["y"] - 16 > top + 20:
            bottoms.append(box["y"] - 8)
    main = page.locator("[data-testid=stMainBlockContainer]").bounding_box()
    bottom = min(bottoms) if bottoms else main["y"] + main["height"]
    if anchor == SECTIONS[0]:
        return {"x": 0, "y": 0, "width": WIDTH, "height": bottom}  # with the title and the sidebar
    left = page.locator("[data-testid=stSidebar]").bounding_box()
    x = left["x"] + left["width"] if left else 0
    return {"x": x, "y": top, "width": WIDTH - x, "height": bottom - top}


def main(url: str, out: Path, newcomer: tuple[str, str] | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        page = browser.new_page(viewport={"width": WIDTH, "height": 720}, locale=i18n.LANGUAGE_TAGS[LANGUAGE])

        page.goto(url)
        page.get_by_label(t("E-mail")).wait_for()
        settle(page)
        page.screenshot(path=out / "admin-sign-in.png")

        sign_in(page, url, "brand@demo.test", "wrong password")
        page.screenshot(path=out / "admin-sign-in-refused.png")

        sign_in(page, url, "brand@demo.test", "demo-brand")
        choose(page, t("Campaign"), CAMPAIGN)
        # A tall window renders the whole notebook without scrolling, so each section can be clipped.
        page.set_viewport_size({"width": WIDTH, "height": 7000})
        settle(page)
        page.get_by_text(partners_links()).click()  # open, so the partners section shows the links table
        settle(page)
        for anchor in SECTIONS:
            clip = section_clip(page, anchor)
            if clip:
                page.screenshot(path=out / f"admin-{anchor}.png", clip=clip)

        # A task archived (after its question), in the table and in the edit tab.
        page.get_by_role("tab", name=t("Edit a task")).click()
        settle(page)
        page.get_by_role("button", name=t("Archive task")).click()
        settle(page)
        page.get_by_role("tab", name=t("Edit a task")).click()
        settle(page)
        clip = section_clip(page, "tasks")
        if clip:
            page.screenshot(path=out / "admin-tasks-archive-confirm.png", clip=clip)
        page.get_by_role("button", name=yes(t("Archive task"))).click()
        settle(page)
        page.get_by_role("tab", name=t("Edit a task")).click()
        settle(page)
        clip = section_clip(page, "tasks")
        if clip:
            page.screenshot(path=out / "admin-tasks-archived.png", clip=clip)

        # A partner's link and its QR code (in the "Partners' links" expander).
        qr_button = page.get_by_role("button", name=t("QR code"))
        if not qr_button.is_visible():  # the expander is open already when an earlier step opened it
            page.get_by_text(partners_links()).click()
            settle(page)
        qr_button.click()
        settle(page)
        page.locator("[data-testid=stImage] img").first.wait_for()
        clip = section_clip(page, "partners")
        if clip:
            page.screenshot(path=out / "admin-partners-qr.png", clip=clip)

        # Partners with an application to approve, then the question before declining it.
        choose(page, t("Campaign"), "VIP preview (approval pending)")
        clip = section_clip(page, "partners")
        if clip:
            page.screenshot(path=out / "admin-partners-pending.png", clip=clip)
        page.get_by_role("button", name=i18n.localize(i18n.Message("Decline"), LANGUAGE)).first.click()
        settle(page)
        clip = section_clip(page, "partners")
        if clip:
            page.screenshot(path=out / "admin-partners-confirm.png", clip=clip)
        page.get_by_role("button", name=t("Cancel")).click()
        settle(page)
        # Invitations: the demo partner's (an account) and a new one to an e-mail without an account look the same.
        choose(page, t("Campaign"), "Summer lookbook (invitation)")
        page.get_by_label(t("Invite a partner by e-mail")).fill("newcomer@example.com")
        page.get_by_role("button", name=t("Invite partner")).click()
        settle(page)
        clip = section_clip(page, "partners")
        if clip:
            page.screenshot(path=out / "admin-partners-invitations.png", clip=clip)
        # Tracking with pay for performance off: the readiness checklist.
        choose(page, t("Campaign"), "Brand awareness (no pay for performance)")
        clip = section_clip(page, "tracking")
        if clip:
            page.screenshot(path=out / "admin-tracking-off.png", clip=clip)

        # A refused save: a domain written as a URL.
        domains = page.locator(f"textarea[aria-label='{t('Allowed domains, one per line')}']")
        domains.fill("shop.localhost\nhttps://evil.test/path")
        page.get_by_role("button", name=t("Save landing pages")).click()
        settle(page)
        clip = section_clip(page, "landing-pages")
        if clip:
            page.screenshot(path=out / "admin-landing-pages-refused.png", clip=clip)

        # Keys: rotate, so the new key is shown once (this changes the demo key of this database).
        page.get_by_text(t("I understand that the current key stops working at once.")).click()
        settle(page)
        page.get_by_role("button", name=t("Rotate API key")).click()
        settle(page)
        clip = section_clip(page, "keys")
        if clip:
            page.screenshot(path=out / "admin-keys-rotated.png", clip=clip)

        if newcomer:
            page.context.clear_cookies()
            page.set_viewport_size({"width": WIDTH, "height": 720})
            sign_in(page, url, *newcomer)
            page.screenshot(path=out / "admin-empty.png")
            # A first program and campaign: the checklist says everything still to do.
            page.get_by_label(t("Program name")).fill("First program")
            page.get_by_role("button", name=t("Create program")).click()
            settle(page)
            page.get_by_label(t("Campaign name")).fill("First campaign")
            page.get_by_role("button", name=t("Create campaign")).click()
            settle(page)
            page.set_viewport_size({"width": WIDTH, "height": 7000})
            settle(page)
            clip = section_clip(page, "tracking")
            if clip:
                page.screenshot(path=out / "admin-readiness.png", clip=clip)
        browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("out", type=Path)
    parser.add_argument("newcomer", nargs="*", help="a newcomer's e-mail and password, for the empty state")
    parser.add_argument("--language", choices=i18n.LOCALES, default="en")
    args = parser.parse_args()
    LANGUAGE = args.language
    main(args.url, args.out, (args.newcomer[0], args.newcomer[1]) if len(args.newcomer) >= 2 else None)
