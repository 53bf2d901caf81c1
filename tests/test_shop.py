"""The demo brand shop (api/http/shop.py): the demo campaigns' landing pages, cart and checkout, in demo mode only."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from api import clicklog, create_app, db, gunicorn_conf
from api.config import load_settings
from api.demo import ADVERTISER, CAMPAIGNS
from api.http import shop
from api.schema import conversions as conversions_table
from api.services import links
from conftest import SECRET_KEYS
from test_tracking_durability import free_port

ROOT = Path(__file__).resolve().parents[1]
SHOP_PATHS = sorted({path for campaign in CAMPAIGNS for _name, path in campaign.pages})


@pytest.fixture
def shop_client(engine, app_config: dict[str, Any]):  # type: ignore[no-untyped-def]
    app = create_app({**app_config, "DEMO_SHOP": True})
    return app.test_client()


@pytest.mark.parametrize("path", SHOP_PATHS)
def test_every_demo_landing_page_is_served(shop_client, path: str) -> None:
    response = shop_client.get(path, headers={"Host": "shop.localhost:5000"})
    assert response.status_code == 200
    assert "text/html" in response.content_type
    assert b"Demo <span>Brand</span>" in response.data


@pytest.mark.parametrize("host", ["shop.localhost:5000", "outlet.localhost:5123", "launch.localhost"])
def test_the_shop_answers_on_every_demo_host(shop_client, host: str) -> None:
    assert shop_client.get("/shop/outlet", headers={"Host": host}).status_code == 200


def test_a_visitor_who_followed_a_link_sees_the_click_id(shop_client) -> None:
    page = shop_client.get("/shop/spring?clickid=c_8f3KdQ&subId1=ig").get_data(as_text=True)
    assert 'id="click-id">c_8f3KdQ<' in page
    assert "You arrived through a partner link" in page
    assert "click id" not in shop_client.get("/shop/spring").get_data(as_text=True)


def test_the_click_id_is_escaped_and_cut(shop_client) -> None:
    page = shop_client.get("/shop/?clickid=<script>alert(1)</script>" + "x" * 500).get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "x" * 200 not in page


def test_an_unknown_product_is_a_shop_404(shop_client) -> None:
    response = shop_client.get("/shop/products/no-such-thing")
    assert response.status_code == 404
    assert b"Not in our shop" in response.data


def test_without_demo_mode_there_is_no_shop(client) -> None:
    assert client.get("/shop/").status_code == 404


def test_demo_mode_turns_the_shop_on(tmp_path) -> None:
    demo = load_settings(tmp_path, {"TASKLINK_DEMO": "1"}).flask_config()
    production = load_settings(tmp_path, {"TASKLINK_SECRET_KEYS": "k"}).flask_config()
    assert demo["DEMO_SHOP"] is True
    assert production["DEMO_SHOP"] is False


# --- cart, checkout and the conversion postback ---------------------------------

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


@pytest.fixture
def live(engine, app_config, world):  # type: ignore[no-untyped-def]
    """The app with the shop, also served over HTTP on a free port (the shop's postbacks go there)."""
    app = create_app({**app_config, "DEMO_SHOP": True, "DEMO_SHOP_API_KEY": world.api_key})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["DEMO_SHOP_API_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    thread.join(timeout=5)
    db.get_engine(app).dispose()


@pytest.fixture
def buyer(live):  # type: ignore[no-untyped-def]
    return live.test_client()


def a_click(app, engine, world) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """Follow a new link of the world's partner like a browser: (the click id the landing URL got, the link id)."""
    with db.transaction(engine) as conn:
        link = links.create_link(conn, world.partner.id, world.task.id)
    client = app.test_client()
    response = client.get(f"/s/{link.code}", headers={"User-Agent": BROWSER})
    assert response.status_code == 302
    clicklog.of(app).flush()
    return parse_qs(urlsplit(response.headers["Location"]).query)["clickid"][0], link.id


def landed(client, click_id: str) -> None:  # type: ignore[no-untyped-def]
    """What the landing tag does in the visitor's browser: keep the click id in its cookie."""
    client.set_cookie("tasklink_click", click_id, domain="localhost")


def add(client, slug: str, quantity: int = 1):  # type: ignore[no-untyped-def]
    return client.post("/shop/cart", data={"slug": slug, "quantity": str(quantity)})


def order_id_of(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/shop/checkout").get_data(as_text=True)
    return re.search(r'name="order_id" value="(DB-[0-9A-F]{10})"', page).group(1)


def place(client, order_id: str | None = None, **form: str):  # type: ignore[no-untyped-def]
    data = {"order_id": order_id or order_id_of(client), "name": "Ann Buyer", "email": "ann@example.test", **form}
    return client.post("/shop/checkout", data=data)


def conversions_in(engine) -> list:  # type: ignore[type-arg]
    with db.reading(engine) as conn:
        return list(conn.execute(select(conversions_table)).mappings())


def test_add_to_cart_shows_lines_and_the_total(buyer) -> None:
    response = add(buyer, "rain-jacket", 2)
    assert (response.status_code, response.headers["Location"]) == (303, "/shop/cart")
    add(buyer, "canvas-tote")
    page = buyer.get("/shop/cart").get_data(as_text=True)
    assert "Rain jacket" in page and "Canvas tote" in page
    assert 'id="cart-total">$237.00<' in page  # 2 × 99.00 (sale price) + 39.00
    assert '<span class="count">3</span>' in page


def test_quantities_change_are_capped_and_lines_removed(buyer) -> None:
    add(buyer, "rain-jacket")
    add(buyer, "wool-socks", 50)
    buyer.post("/shop/cart/update", data={"quantity-rain-jacket": "3", "quantity-wool-socks": "9"})
    assert 'id="cart-total">$459.00<' in buyer.get("/shop/cart").get_data(as_text=True)  # 3 × 99 + 9 × 18
    buyer.post("/shop/cart/update", data={"remove": "rain-jacket"})
    page = buyer.get("/shop/cart").get_data(as_text=True)
    assert "Rain jacket" not in page and 'id="cart-total">$162.00<' in page
    buyer.post("/shop/cart/update", data={"quantity-wool-socks": "0"})
    assert "Your cart is empty" in buyer.get("/shop/cart").get_data(as_text=True)


def test_a_tampered_cart_cookie_is_an_empty_cart(buyer) -> None:
    add(buyer, "rain-jacket")
    signed = buyer.get_cookie("demo_cart", path="/shop").value
    payload, signature = signed.rsplit(".", 1)
    buyer.set_cookie("demo_cart", payload + "." + signature[::-1], path="/shop")
    assert "Your cart is empty" in buyer.get("/shop/cart").get_data(as_text=True)
    assert buyer.post("/shop/cart", data={"slug": "no-such-thing"}).status_code == 404


def test_checkout_needs_a_cart_and_a_name_and_e_mail(buyer, engine) -> None:
    assert buyer.get("/shop/checkout").headers["Location"] == "/shop/cart"
    add(buyer, "summer-hat")
    response = place(buyer, name="", email="nobody")
    assert response.status_code == 400
    assert "Enter your name and an e-mail address" in response.get_data(as_text=True)
    assert conversions_in(engine) == []


def test_checkout_posts_the_conversion_with_the_order_total_and_shows_the_pending_payout(
    live, buyer, engine, world
) -> None:
    click_id, link_id = a_click(live, engine, world)
    landed(buyer, click_id)
    add(buyer, "rain-jacket", 2)
    add(buyer, "canvas-tote")
    assert click_id in buyer.get("/shop/checkout").get_data(as_text=True)  # "credited to the partner link"
    order_id = order_id_of(buyer)
    response = place(buyer, order_id)
    assert (response.status_code, response.headers["Location"]) == (303, f"/shop/orders/{order_id}")

    (conversion,) = conversions_in(engine)
    assert (conversion["order_id"], conversion["amount_minor"], conversion["currency"]) == (order_id, 23700, "USD")
    assert (conversion["link_id"], conversion["status"]) == (link_id, "pending")
    page = buyer.get(f"/shop/orders/{order_id}").get_data(as_text=True)
    assert 'data-state="recorded"' in page and "Recorded by Tasklink as a pending conversion" in page
    assert 'id="payout">5.00 USD' in page and 'id="order-total">$237.00<' in page
    assert 'id="conversion-status">pending<' in page
    assert "Your cart is empty" in buyer.get("/shop/cart").get_data(as_text=True)


def test_a_second_submit_of_the_same_form_is_the_same_order(live, buyer, engine, world, monkeypatch) -> None:
    click_id, _ = a_click(live, engine, world)
    landed(buyer, click_id)
    add(buyer, "linen-shirt")
    order_id = order_id_of(buyer)
    sent = []
    real = shop.send_postback
    monkeypatch.setattr(shop, "send_postback", lambda *args: sent.append(args) or real(*args))
    first, second = place(buyer, order_id), place(buyer, order_id)
    assert first.headers["Location"] == second.headers["Location"] == f"/shop/orders/{order_id}"
    assert len(sent) == 1 and len(conversions_in(engine)) == 1


def test_without_a_partner_click_no_postback_is_sent(live, buyer, engine, world, monkeypatch) -> None:
    monkeypatch.setattr(shop, "send_postback", lambda *args: pytest.fail("no click, no postback"))
    add(buyer, "summer-hat")
    assert "No partner link on this visit" in buyer.get("/shop/checkout").get_data(as_text=True)
    order_id = order_id_of(buyer)
    place(buyer, order_id)
    page = buyer.get(f"/shop/orders/{order_id}").get_data(as_text=True)
    assert 'data-state="no_click"' in page and "came through no partner link" in page
    # A cookie that is not one of our click ids' shape is ignored the same way.
    landed(buyer, "<script>x</script>")
    add(buyer, "summer-hat")
    assert "No partner link on this visit" in buyer.get("/shop/checkout").get_data(as_text=True)
    assert conversions_in(engine) == []


def test_an_unknown_click_id_is_refused_and_said_so(live, buyer, engine) -> None:
    landed(buyer, "A" * 36)
    add(buyer, "summer-hat")
    order_id = order_id_of(buyer)
    place(buyer, order_id)
    page = buyer.get(f"/shop/orders/{order_id}").get_data(as_text=True)
    assert 'data-state="refused"' in page and "Tasklink refused the conversion (404)" in page
    assert "Send the conversion again" not in page


def test_tasklink_down_says_so_and_the_postback_can_be_sent_again(live, buyer, engine, world) -> None:
    click_id, _ = a_click(live, engine, world)
    landed(buyer, click_id)
    add(buyer, "trail-sneakers")
    up = live.config["DEMO_SHOP_API_URL"]
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        live.config["DEMO_SHOP_API_URL"] = f"http://127.0.0.1:{sock.getsockname()[1]}"
    order_id = order_id_of(buyer)
    place(buyer, order_id)
    page = buyer.get(f"/shop/orders/{order_id}").get_data(as_text=True)
    assert 'data-state="failed"' in page and "Tasklink could not be reached" in page
    assert "The order stands; its conversion is not recorded yet: send it again." in page
    assert conversions_in(engine) == []

    live.config["DEMO_SHOP_API_URL"] = up
    buyer.post(f"/shop/orders/{order_id}/postback")
    assert 'data-state="recorded"' in buyer.get(f"/shop/orders/{order_id}").get_data(as_text=True)
    assert [c["order_id"] for c in conversions_in(engine)] == [order_id]


def test_an_api_that_never_answers_costs_the_checkout_the_timeout_only(live, buyer, engine, world, monkeypatch) -> None:
    """The guard against a self-call deadlock: no free worker to answer the postback → bounded wait, clear page."""
    click_id, _ = a_click(live, engine, world)
    landed(buyer, click_id)
    add(buyer, "summer-hat")
    monkeypatch.setattr(shop, "POSTBACK_TIMEOUT", 0.5)
    with socket.socket() as silent:  # takes the connection, never answers (like a server whose workers are all busy)
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        live.config["DEMO_SHOP_API_URL"] = f"http://127.0.0.1:{silent.getsockname()[1]}"
        order_id = order_id_of(buyer)
        started = time.monotonic()
        place(buyer, order_id)
        took = time.monotonic() - started
    assert 0.4 < took < 3
    page = buyer.get(f"/shop/orders/{order_id}").get_data(as_text=True)
    assert "Tasklink did not answer within 0.5 s" in page and "whether its conversion was recorded is not known" in page
    assert "Send the conversion again" in page


def test_a_postback_that_beats_its_click_says_check_again(live, buyer, monkeypatch) -> None:
    monkeypatch.setattr(shop, "send_postback", lambda *args: (202, {"status": "waiting"}))
    landed(buyer, "B" * 36)
    add(buyer, "summer-hat")
    order_id = order_id_of(buyer)
    place(buyer, order_id)
    page = buyer.get(f"/shop/orders/{order_id}").get_data(as_text=True)
    assert 'data-state="waiting"' in page and "Check again" in page


def test_the_api_key_never_reaches_the_browser(live, buyer, engine, world) -> None:
    click_id, _ = a_click(live, engine, world)
    landed(buyer, click_id)
    add(buyer, "rain-jacket")
    order_id = order_id_of(buyer)
    answers = [place(buyer, order_id), buyer.get(f"/shop/orders/{order_id}"), buyer.get("/shop/cart")]
    for answer in answers:
        assert world.api_key not in answer.get_data(as_text=True)
        assert all(world.api_key not in value for value in answer.headers.getlist("Set-Cookie"))


def test_another_browsers_order_is_not_shown(buyer, live) -> None:
    assert buyer.get("/shop/orders/DB-0123456789").status_code == 404
    assert live.test_client().post("/shop/orders/DB-0123456789/postback").status_code == 404


def test_over_http_the_shop_posts_to_its_own_server_whatever_host_the_visitor_names(live, engine, world) -> None:
    """No configured address: the postback goes to the local address the request came in on, not to ``Host``."""
    port = int(live.config.pop("DEMO_SHOP_API_URL").rsplit(":", 1)[1])
    click_id, link_id = a_click(live, engine, world)
    base = f"http://127.0.0.1:{port}"
    cookies = {"tasklink_click": click_id}  # what the landing tag kept in the visitor's browser

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None  # follow 303s below, with the cookies they set

    browser = urllib.request.build_opener(Stay)

    def open_(path: str, form: dict[str, str] | None = None) -> str:
        while True:
            request = urllib.request.Request(
                base + path,
                data=urlencode(form).encode() if form else None,
                headers={"Host": "evil.example", "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
            )
            try:
                answer = browser.open(request, timeout=10)
            except urllib.error.HTTPError as redirected:
                answer = redirected
            for header in answer.headers.get_all("Set-Cookie") or []:
                name, _, value = header.split(";", 1)[0].partition("=")
                cookies[name] = value
            if answer.status != 303:
                return answer.read().decode()
            path, form = answer.headers["Location"], None

    open_("/shop/cart", {"slug": "canvas-tote", "quantity": "2"})
    form = open_("/shop/checkout")
    order_id = re.search(r'name="order_id" value="([^"]+)"', form).group(1)
    page = open_("/shop/checkout", {"order_id": order_id, "name": "Ann", "email": "ann@example.test"})
    assert 'data-state="recorded"' in page, page[page.index("<main>") :]
    (conversion,) = conversions_in(engine)
    assert (conversion["order_id"], conversion["amount_minor"], conversion["link_id"]) == (order_id, 7800, link_id)


def test_every_shop_page_carries_the_landing_tag(buyer) -> None:
    add(buyer, "rain-jacket")
    for path in ("/shop/", "/shop/products/rain-jacket", "/shop/cart", "/shop/checkout"):
        page = buyer.get(path).get_data(as_text=True)
        assert '<script src="/tag.js" data-param="clickid" data-days="30" async></script>' in page, path


def test_amounts_are_exact_decimals(buyer) -> None:
    cart = shop.make_cart({"wool-socks": 3, "rain-jacket": 1, "unknown": 4, "summer-hat": True, "linen-shirt": -2})
    assert [(line.product.slug, line.quantity) for line in cart.lines] == [("rain-jacket", 1), ("wool-socks", 3)]
    assert cart.total == Decimal("153.00") and str(cart.total) == "153.00"


def test_the_guides_python_postback_works_against_the_api(live, engine, world, monkeypatch) -> None:
    """The example the admin and the README show, run as written (its function) against a live server."""
    from api.postback_guide import postback_guide

    click_id, link_id = a_click(live, engine, world)
    guide = postback_guide(live.config["DEMO_SHOP_API_URL"], "clickid", "USD")
    definition = guide.python.split("# At checkout")[0]
    namespace: dict = {}
    exec(compile(definition, "postback_guide", "exec"), namespace)
    monkeypatch.setenv("TASKLINK_API_KEY", world.api_key)
    assert namespace["report_conversion"](click_id, "PY-1", "12.50") == 201
    assert namespace["report_conversion"](click_id, "PY-1", "12.50") == 200
    assert namespace["report_conversion"]("C" * 36, "PY-2", "1.00") == 404
    (conversion,) = conversions_in(engine)
    assert (conversion["order_id"], conversion["amount_minor"], conversion["link_id"]) == ("PY-1", 1250, link_id)


def test_a_rotated_api_key_is_refused_and_said_so(live, buyer, engine, world) -> None:
    click_id, _ = a_click(live, engine, world)
    live.config["DEMO_SHOP_API_KEY"] = "a-key-that-was-rotated"
    landed(buyer, click_id)
    add(buyer, "summer-hat")
    order_id = order_id_of(buyer)
    place(buyer, order_id)
    page = buyer.get(f"/shop/orders/{order_id}").get_data(as_text=True)
    assert 'data-state="refused"' in page and "Tasklink refused the conversion (401)" in page
    assert conversions_in(engine) == []


# --- the self-call under the production server ---------------------------------------


def demo_brand_world(make):  # type: ignore[no-untyped-def]
    """A campaign of an advertiser holding the demo key (the shop's), a partner in it and one link."""
    advertiser, _key = make.advertiser(api_key=ADVERTISER["api_key"])
    program = make.program(advertiser.id)
    campaign = make.campaign(advertiser.id, program.id)
    partner = make.partner()
    make.membership(partner.id, campaign.id)
    task = make.task(advertiser.id, campaign.id)
    with db.transaction(make.engine) as conn:
        return links.create_link(conn, partner.id, task.id)


def checkout_over_http(port: int, link_code: str) -> tuple[float, str]:
    """Follow the link, buy one rain jacket, place the order: (seconds the checkout took, the order page)."""

    def send(method: str, path: str, body: str | None, headers: dict[str, str]):  # type: ignore[no-untyped-def]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        text = answer.read().decode()
        connection.close()
        return answer, text

    answer, _ = send("GET", f"/s/{link_code}", None, {"User-Agent": BROWSER})
    cookies = {"tasklink_click": parse_qs(urlsplit(answer.getheader("Location")).query)["clickid"][0]}

    def shop_page(method: str, path: str, form: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        headers = {"Host": f"shop.localhost:{port}", "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        if form:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        answer, text = send(method, path, urlencode(form) if form else None, headers)
        for name, value in answer.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.split(";", 1)[0].partition("=")
                cookies[key] = rest
        return answer, text

    shop_page("POST", "/shop/cart", {"slug": "rain-jacket"})
    _, form = shop_page("GET", "/shop/checkout")
    order_id = re.search(r'name="order_id" value="([^"]+)"', form).group(1)
    started = time.monotonic()
    answer, _ = shop_page("POST", "/shop/checkout", {"order_id": order_id, "name": "Ann", "email": "a@b.test"})
    took = time.monotonic() - started
    _, page = shop_page("GET", answer.getheader("Location"))
    return took, page


@pytest.mark.slow
@pytest.mark.parametrize("worker_class", ["gevent", "sync"])
def test_one_worker_checking_out_never_deadlocks_on_its_own_postback(
    make, database_url, tmp_path, worker_class
) -> None:
    """gevent (production and the demo): the postback is served while the checkout waits. A single sync worker
    cannot serve it: the checkout gives up after the timeout and says so, instead of hanging."""
    link = demo_brand_world(make)
    number = free_port()
    env = {
        **os.environ,
        "TASKLINK_DATABASE_URL": database_url,
        "TASKLINK_SECRET_KEYS": ",".join(SECRET_KEYS),
        "TASKLINK_DEMO": "1",
        "TASKLINK_INSTANCE_PATH": str(tmp_path),
        "TASKLINK_BASE_URL": "",
    }
    argv = gunicorn_conf.command(f"127.0.0.1:{number}", workers_override=1)
    argv[-1:-1] = ["--worker-class", worker_class]
    log = tmp_path / "server.log"
    server = subprocess.Popen(
        argv, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT
    )
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{number}/tag.js", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        took, page = checkout_over_http(number, link.code)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    if worker_class == "gevent":
        assert 'data-state="recorded"' in page, log.read_text()[-2000:]
        assert took < 2.5
    else:
        assert 'data-state="failed"' in page and "Tasklink did not answer within 3 s" in page
        assert shop.POSTBACK_TIMEOUT <= took < shop.POSTBACK_TIMEOUT + 2.5
