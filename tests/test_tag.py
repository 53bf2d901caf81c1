"""``GET /tag.js``, the landing tag: served in every mode, cacheable, and what the script does in a page.

The script's behaviour is checked here with Node and a stand-in for the
page (``window.location``, ``document.cookie``, the script tag), and in
Chromium on the demo shop by ``tests/e2e/test_shop_checkout.py``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from api.http import tag
from api.schema import campaigns as campaigns_table

SCRIPT = Path(tag.__file__).resolve().parents[1] / "data" / "tag.js"
CLICK = "AZrZ0g3kAAAAB1c2_kq-Yd8Wm3nTn0XoT0Jx"  # 36 URL-safe characters, like our click ids
OLD_CLICK = "abcdefghijklmnopqrstuvwxyz0123"  # 30: the ids made before ids were tagged


def test_served_without_demo_mode_as_cacheable_javascript(client) -> None:
    response = client.get("/tag.js")
    assert response.status_code == 200
    assert response.content_type == "text/javascript; charset=utf-8"
    assert response.data == SCRIPT.read_bytes()
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.headers["ETag"] == f'"{tag.ETAG}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response.headers  # the same bytes for everyone: any cache may keep them


def test_a_browser_that_has_this_version_gets_a_304_without_the_body(client) -> None:
    etag = client.get("/tag.js").headers["ETag"]
    again = client.get("/tag.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["Cache-Control"] == "public, max-age=3600"
    assert client.get("/tag.js", headers={"If-None-Match": '"an-older-version"'}).status_code == 200
    head = client.head("/tag.js")
    assert head.status_code == 200 and head.headers["ETag"] == etag


def test_the_tag_is_small_and_needs_nothing_else() -> None:
    source = SCRIPT.read_text()
    assert len(SCRIPT.read_bytes()) < 4096
    assert "import " not in source and "require(" not in source and "fetch(" not in source


def test_the_tag_keeps_the_campaigns_default_window_and_the_servers_cookie_name() -> None:
    source = SCRIPT.read_text()
    default_days = int(campaigns_table.c.attribution_window_days.server_default.arg.text)
    assert f"days = {default_days};" in source
    assert f'var COOKIE = "{tag.COOKIE}";' in source


@pytest.mark.parametrize(
    ("value", "plausible"),
    [
        (CLICK, True),
        (OLD_CLICK, True),
        (CLICK[:-1], False),
        (CLICK + "x", False),
        ("A" * 35 + "=", False),
        ("A" * 35 + "+", False),
        ("", False),
        (None, False),
        ("c_8f3KdQ", False),
    ],
)
def test_plausible_click_ids_on_the_server_side(value: str | None, plausible: bool) -> None:
    assert tag.plausible_click_id(value) == (value if plausible else None)


# --- the script in a stand-in page (Node) -------------------------------------------

HARNESS = """
const fs = require("fs");
const [source, pageJson] = process.argv.slice(1);
const page = JSON.parse(pageJson);
const jar = new Map((page.cookies || []).map((c) => [c.split("=")[0], c]));
const written = [];
const attributes = page.attributes || {};
const document = {
  currentScript: { getAttribute: (name) => (name in attributes ? attributes[name] : null) },
  querySelector: () => null,
  get cookie() { return [...jar.values()].join("; "); },
  set cookie(text) { written.push(text); const pair = text.split(";")[0]; jar.set(pair.split("=")[0], pair); },
};
const url = new URL(page.url);
const window = { location: { search: url.search, protocol: url.protocol } };
new Function("window", "document", "URLSearchParams", fs.readFileSync(source, "utf8"))(window, document, URLSearchParams);
console.log(JSON.stringify({ written, clickId: window.Tasklink.clickId() }));
"""


def run_tag(url: str, cookies: tuple[str, ...] = (), **attributes: str) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    page = {"url": url, "cookies": list(cookies), "attributes": {f"data-{k}": v for k, v in attributes.items()}}
    done = subprocess.run(
        [node, "-e", HARNESS, str(SCRIPT), json.dumps(page)], capture_output=True, text=True, timeout=30, check=True
    )
    return json.loads(done.stdout)


def test_the_click_id_from_the_landing_url_is_kept_for_thirty_days_by_default() -> None:
    seen = run_tag(f"http://shop.example/spring?colour=teal&clickid={CLICK}")
    assert seen["written"] == [f"tasklink_click={CLICK}; Max-Age=2592000; Path=/; SameSite=Lax"]
    assert seen["clickId"] == CLICK


def test_on_https_the_cookie_is_secure() -> None:
    seen = run_tag(f"https://shop.example/?clickid={CLICK}")
    assert seen["written"][0].endswith("; SameSite=Lax; Secure")


def test_parameter_and_window_come_from_the_script_tag() -> None:
    seen = run_tag(f"https://shop.example/?clickid=ignored&ref={OLD_CLICK}", param="ref", days="7")
    assert seen["written"] == [f"tasklink_click={OLD_CLICK}; Max-Age=604800; Path=/; SameSite=Lax; Secure"]
    # A window out of range falls back to the campaign default.
    assert "Max-Age=2592000;" in run_tag(f"https://shop.example/?clickid={CLICK}", days="0")["written"][0]


def test_the_newest_click_wins_and_a_visit_without_one_keeps_it() -> None:
    older = f"tasklink_click={OLD_CLICK}"
    assert run_tag(f"http://shop.example/?clickid={CLICK}", (older,))["clickId"] == CLICK
    kept = run_tag("http://shop.example/cart", (older,))
    assert kept == {"written": [], "clickId": OLD_CLICK}


@pytest.mark.parametrize("value", ["<script>", "short", CLICK + "AB", "A" * 35 + "%3D", ""])
def test_a_value_that_is_no_click_id_is_ignored(value: str) -> None:
    older = f"tasklink_click={CLICK}"
    assert run_tag(f"http://shop.example/?clickid={value}", (older,)) == {"written": [], "clickId": CLICK}
    assert run_tag(f"http://shop.example/?clickid={value}") == {"written": [], "clickId": None}


def test_a_planted_cookie_that_is_no_click_id_is_not_exposed() -> None:
    assert run_tag("http://shop.example/", ("tasklink_click=<img src=x>",))["clickId"] is None
