"""The demo brand shop: the landing pages the demo campaigns point at (``api/demo.py``), with a cart and a checkout.

Registered only when ``DEMO_SHOP`` is set (demo mode and the extension's
tests), it answers on any host name — ``shop.localhost``, ``outlet.localhost``
and ``launch.localhost`` all reach this machine — so a partner can open a
campaign page, create a link with the extension, follow it, and buy.

The shop behaves like any advertiser's site using Tasklink: its pages carry
the landing tag (``/tag.js``), which keeps the click id from the landing URL
in the ``tasklink_click`` cookie; on checkout the shop's *server* reads that
cookie and posts the conversion (amount = the order total, a fresh order id)
to ``/api/v1/conversions`` with the demo advertiser's API key, over HTTP, as
a real advertiser's backend would. The key never reaches the browser.

State lives in signed first-party cookies, not in the database: the cart
(``demo_cart``) and the last order with what Tasklink answered
(``demo_order``). No payment is taken and nothing ships.

The postback is a call from the app to itself. Under the demo's gevent
workers the waiting handler yields its worker to the postback (measured:
one gevent worker checks out in about 40 ms). On a server that cannot (one
sync worker, or all of them busy) the call gives up after
:data:`POSTBACK_TIMEOUT` seconds instead of waiting for a worker that will
never come; the order page says so and offers to send the postback again
(the same order id counts once, so a postback handled late is no double).
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import demo
from ..services import earnings
from .tag import COOKIE as TAG_COOKIE
from .tag import plausible_click_id

bp = Blueprint("shop", __name__, url_prefix="/shop")

#: The click-id parameter the demo campaigns use (the campaign default).
CLICK_ID_PARAM = "clickid"
MAX_SHOWN = 120
#: The demo campaigns' attribution window in days (the campaign default), for the landing tag's cookie.
ATTRIBUTION_DAYS = 30
#: Seconds the checkout waits for Tasklink's answer to its postback.
POSTBACK_TIMEOUT = 3.0
#: Most of one product in the cart.
MAX_QUANTITY = 9
CURRENCY = "USD"
CART_COOKIE = "demo_cart"
ORDER_COOKIE = "demo_order"
SHOP_SALT = "tasklink.demo-shop.v1"
ORDER_ID = re.compile(r"DB-[0-9A-F]{10}")


@dataclass(frozen=True)
class Product:
    slug: str
    name: str
    blurb: str
    price: Decimal
    sale_price: Decimal | None
    colors: tuple[str, str]  # gradient of the picture
    tags: frozenset[str]


PRODUCTS = (
    Product(
        "rain-jacket",
        "Rain jacket",
        "Seam-sealed, breathable and light enough to live in your bag.",
        Decimal("129.00"),
        Decimal("99.00"),
        ("#0f766e", "#5eead4"),
        frozenset({"spring", "outlet"}),
    ),
    Product(
        "trail-sneakers",
        "Trail sneakers",
        "Grippy soles and a soft recycled knit upper.",
        Decimal("110.00"),
        Decimal("79.00"),
        ("#9a3412", "#fdba74"),
        frozenset({"outlet"}),
    ),
    Product(
        "linen-shirt",
        "Linen shirt",
        "Washed linen in six spring colours.",
        Decimal("68.00"),
        Decimal("54.00"),
        ("#1d4ed8", "#93c5fd"),
        frozenset({"spring"}),
    ),
    Product(
        "canvas-tote",
        "Canvas tote",
        "Heavy canvas, leather handles, one inside pocket.",
        Decimal("39.00"),
        None,
        ("#854d0e", "#fde68a"),
        frozenset({"spring", "new"}),
    ),
    Product(
        "summer-hat",
        "Summer hat",
        "Packable straw hat with a wide brim.",
        Decimal("45.00"),
        None,
        ("#a16207", "#fef08a"),
        frozenset({"new"}),
    ),
    Product(
        "wool-socks",
        "Merino socks",
        "Three pairs, cushioned heel, made to last.",
        Decimal("24.00"),
        Decimal("18.00"),
        ("#6d28d9", "#c4b5fd"),
        frozenset({"outlet", "new"}),
    ),
)
BY_SLUG = {product.slug: product for product in PRODUCTS}

COLLECTIONS = {
    "spring": ("Spring sale", "Up to 25% off the spring collection, this week only."),
    "outlet": ("Outlet", "Last season's favourites at outlet prices."),
    "new": ("New arrivals", "Just landed: the first pieces of the summer range."),
    "vip": ("VIP preview", "Members see the autumn range before everyone else."),
}


@dataclass(frozen=True)
class Line:
    product: Product
    quantity: int

    @property
    def unit_price(self) -> Decimal:
        return self.product.sale_price or self.product.price

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Cart:
    lines: tuple[Line, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0.00"))

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    def quantities(self) -> dict[str, int]:
        """``{slug: quantity}``, as kept in the cookie."""
        return {line.product.slug: line.quantity for line in self.lines}


@dataclass(frozen=True)
class PostbackOutcome:
    """What Tasklink answered the shop's postback, in the words the order page shows."""

    state: str  # recorded, waiting, refused, failed, no_click
    message: str
    status: int | None = None
    payout: str | None = None
    payout_reason: str | None = None
    link_id: int | None = None
    seconds: float | None = None
    conversion_status: str | None = None  # pending, approved or reversed, once recorded

    @property
    def may_retry(self) -> bool:
        """Whether sending the same postback again could change the outcome."""
        return self.state in {"waiting", "failed"}


# --- signed cookies ---------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    # itsdangerous signs with the last key and verifies with any: newest last.
    return URLSafeSerializer(list(reversed(current_app.config["SECRET_KEYS"])), salt=SHOP_SALT)


def _load(name: str) -> Any:
    raw = request.cookies.get(name)
    if not raw:
        return None
    try:
        return _serializer().loads(raw)
    except BadSignature:  # altered, or signed with a key no longer configured: start afresh
        return None


def _store(response: WerkzeugResponse, name: str, value: object) -> None:
    response.set_cookie(
        name,
        _serializer().dumps(value),
        max_age=7 * 86400,
        path="/shop",
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )


def make_cart(quantities: Mapping[str, object]) -> Cart:
    """The cart from ``{slug: quantity}``: unknown products dropped, quantities held to 1..9, catalogue order."""
    lines = []
    for product_ in PRODUCTS:
        raw = quantities.get(product_.slug)
        if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
            lines.append(Line(product_, min(raw, MAX_QUANTITY)))
    return Cart(tuple(lines))


def current_cart() -> Cart:
    """This visitor's cart (empty without a valid cookie)."""
    stored = _load(CART_COOKIE)
    return make_cart(stored if isinstance(stored, dict) else {})


def kept_click_id() -> str | None:
    """The click id the landing tag keeps for this visitor, when it has the shape of one of ours."""
    return plausible_click_id(request.cookies.get(TAG_COOKIE))


def _quantity(value: str | None, default: int) -> int:
    try:
        return max(0, min(int(value or default), MAX_QUANTITY))
    except ValueError:
        return default


# --- the postback: what an advertiser's backend does ------------------------


def postback_base_url() -> str | None:
    """Where the shop's server reaches Tasklink's API.

    ``DEMO_SHOP_API_URL`` or ``BASE_URL`` (``TASKLINK_BASE_URL``) when set;
    otherwise the local address of the connection this request came in on —
    this very server — never the ``Host`` header, which the visitor chooses
    (the shop must not send its API key wherever a visitor points it).
    """
    configured = current_app.config.get("DEMO_SHOP_API_URL") or current_app.config.get("BASE_URL")
    if configured:
        return str(configured).rstrip("/")
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    if sock is None:
        return None
    try:
        host, port = sock.getsockname()[:2]
    except (OSError, ValueError, TypeError):
        return None
    host = f"[{host}]" if sock.family == socket.AF_INET6 else host
    return f"http://{host}:{port}"


def send_postback(url: str, api_key: str, body: dict[str, str], timeout: float) -> tuple[int, Any]:
    """POST ``body`` as JSON to ``url`` with the API key as bearer token: (status, decoded JSON or None).

    Raises ``OSError`` (``urllib.error.URLError``, ``TimeoutError``) when there is no answer in ``timeout`` seconds.
    """
    data = json.dumps(body).encode()
    outgoing = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "User-Agent": "demo-brand-shop",
        },
    )
    try:
        with urllib.request.urlopen(outgoing, timeout=timeout) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def _error_message(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or body["error"].get("code") or "")
    return ""


def report_conversion(click_id: str | None, order_id: str, total: Decimal) -> PostbackOutcome:
    """Send the order to Tasklink as its conversion and say what came of it."""
    if click_id is None:
        return PostbackOutcome(
            "no_click",
            "This visit came through no partner link (no click id kept by the "
            "landing tag), so there is no conversion to report.",
        )
    base = postback_base_url()
    if base is None:
        return PostbackOutcome("failed", "The shop does not know Tasklink's address: set TASKLINK_BASE_URL.")
    api_key = current_app.config.get("DEMO_SHOP_API_KEY") or demo.ADVERTISER["api_key"]
    body = {"click_id": click_id, "order_id": order_id, "amount": str(total), "currency": CURRENCY}
    started = time.monotonic()
    try:
        status, answer = send_postback(base + "/api/v1/conversions", str(api_key), body, POSTBACK_TIMEOUT)
    except (OSError, ValueError) as exc:  # refused, unreachable, or no answer within the timeout
        if isinstance(exc, TimeoutError) or "timed out" in str(exc):
            # It may still be handled after we stopped waiting: only sending it again tells (an order counts once).
            message = (
                f"Tasklink did not answer within {POSTBACK_TIMEOUT:g} s at {base}. The order stands; whether "
                "its conversion was recorded is not known: send it again (Tasklink counts an order once)."
            )
        else:
            message = (
                f"Tasklink could not be reached at {base} ({exc}). The order stands; its conversion is not "
                "recorded yet: send it again."
            )
        return PostbackOutcome("failed", message, seconds=time.monotonic() - started)
    seconds = time.monotonic() - started
    if status in (200, 201) and isinstance(answer, dict):
        return PostbackOutcome(
            "recorded",
            f"Recorded by Tasklink as a {answer.get('status', 'pending')} conversion"
            + (" (this order had been reported already)" if status == 200 else "")
            + ".",
            status,
            str(answer.get("payout")),
            answer.get("payout_reason"),
            answer.get("link_id"),
            seconds,
            str(answer.get("status", "pending")),
        )
    if status == 202:
        return PostbackOutcome(
            "waiting",
            "Accepted by Tasklink: the click was made moments ago and is not stored "
            "yet; the conversion is recorded as soon as it is. Check again in a moment.",
            status,
            seconds=seconds,
        )
    if status in (401, 404, 422):
        return PostbackOutcome(
            "refused",
            f"Tasklink refused the conversion ({status}): {_error_message(answer) or 'no reason given'}",
            status,
            seconds=seconds,
        )
    return PostbackOutcome(
        "failed",
        f"Tasklink answered {status}"
        + (f": {_error_message(answer)}" if _error_message(answer) else "")
        + ". The order stands; the conversion is not recorded yet.",
        status,
        seconds=seconds,
    )


def outcome_from(stored: Any) -> PostbackOutcome | None:
    """The outcome kept in the order cookie."""
    if not isinstance(stored, dict):
        return None
    try:
        return PostbackOutcome(**stored)
    except TypeError:
        return None


# --- pages ------------------------------------------------------------------


def arrived_with() -> str | None:
    """The click id this visit arrived with, cut to a length fit for display (Jinja escapes it)."""
    value = request.args.get(CLICK_ID_PARAM, "").strip()
    return value[:MAX_SHOWN] or None


def _page(template: str, status: int = 200, **context: object) -> ResponseReturnValue:
    context.setdefault("cart", current_cart())
    html = render_template(
        template,
        click_id=arrived_with(),
        collections=COLLECTIONS,
        host=request.host,
        tag_param=CLICK_ID_PARAM,
        tag_days=ATTRIBUTION_DAYS,
        currency=CURRENCY,
        **context,
    )
    return html, status


def _see_other(location: str) -> WerkzeugResponse:
    """``303 See Other``: after a POST, the browser loads ``location`` with a GET (a reload does not resubmit)."""
    return redirect(location, 303)


@bp.get("/")
def home() -> ResponseReturnValue:
    """The shop's front page."""
    return _page(
        "shop-list.html",
        title="Demo Brand",
        intro="Good clothes for changeable weather.",
        products=PRODUCTS[:4],
        hero=True,
    )


def _collection(key: str) -> ResponseReturnValue:
    title, intro = COLLECTIONS[key]
    products = [product for product in PRODUCTS if key in product.tags] if key != "vip" else []
    return _page("shop-list.html", title=title, intro=intro, products=products, collection=key)


@bp.get("/spring")
def spring() -> ResponseReturnValue:
    """The spring sale."""
    return _collection("spring")


@bp.get("/outlet")
def outlet() -> ResponseReturnValue:
    """The outlet."""
    return _collection("outlet")


@bp.get("/new")
def new_arrivals() -> ResponseReturnValue:
    """New arrivals."""
    return _collection("new")


@bp.get("/vip")
def vip() -> ResponseReturnValue:
    """The VIP preview (a teaser page)."""
    return _collection("vip")


def _not_found(title: str, intro: str) -> ResponseReturnValue:
    return _page("shop-list.html", 404, title=title, intro=intro, products=PRODUCTS[:3])


@bp.get("/products/<slug>")
def product(slug: str) -> ResponseReturnValue:
    """One product, or a friendly 404 inside the shop."""
    found = BY_SLUG.get(slug)
    if found is None:
        return _not_found("Not in our shop", "We could not find that product.")
    return _page("shop-product.html", title=found.name, product=found)


@bp.post("/cart")
def add_to_cart() -> ResponseReturnValue:
    """Add a product (``slug``, ``quantity`` default 1) to the cart, then show the cart."""
    found = BY_SLUG.get(request.form.get("slug", ""))
    if found is None:
        return _not_found("Not in our shop", "We could not find that product.")
    quantities = current_cart().quantities()
    quantities[found.slug] = min(
        quantities.get(found.slug, 0) + max(_quantity(request.form.get("quantity"), 1), 1), MAX_QUANTITY
    )
    response = _see_other("/shop/cart")
    _store(response, CART_COOKIE, make_cart(quantities).quantities())
    return response


@bp.get("/cart")
def cart() -> ResponseReturnValue:
    """The cart: lines, quantities, total, and the way to checkout."""
    return _page("shop-cart.html", title="Your cart", kept_click=kept_click_id())


@bp.post("/cart/update")
def update_cart() -> ResponseReturnValue:
    """Change quantities (``quantity-<slug>``; 0 removes) or remove one line (``remove=<slug>``)."""
    quantities = current_cart().quantities()
    for slug in list(quantities):
        quantities[slug] = _quantity(request.form.get(f"quantity-{slug}"), quantities[slug])
    if request.form.get("remove") in quantities:
        quantities[request.form["remove"]] = 0
    response = _see_other("/shop/cart")
    _store(response, CART_COOKIE, make_cart(quantities).quantities())
    return response


def _checkout_page(
    status: int = 200, error: str | None = None, order_id: str | None = None, name: str = "", email: str = ""
) -> ResponseReturnValue:
    return _page(
        "shop-checkout.html",
        status,
        title="Checkout",
        kept_click=kept_click_id(),
        error=error,
        order_id=order_id or new_order_id(),
        name=name,
        email=email,
    )


def new_order_id() -> str:
    """A fresh order id, as the shop's order system would give one (``DB-`` and 10 hex digits)."""
    return "DB-" + secrets.token_hex(5).upper()


@bp.get("/checkout")
def checkout() -> ResponseReturnValue:
    """The checkout form (a pretend payment), or back to the empty cart."""
    if not current_cart().lines:
        return _see_other("/shop/cart")
    return _checkout_page()


@bp.post("/checkout")
def place_order() -> ResponseReturnValue:
    """Place the order, report its conversion to Tasklink from this server, and show the order.

    The form carries its order id, made when the form was shown: a second
    submit of the same form (a double click) is the same order, so Tasklink
    counts its conversion once.
    """
    order_id = request.form.get("order_id", "")
    if not ORDER_ID.fullmatch(order_id):
        order_id = new_order_id()
    previous = _load(ORDER_COOKIE)
    if isinstance(previous, dict) and previous.get("order_id") == order_id:
        return _see_other(f"/shop/orders/{order_id}")  # already placed: no second order, no second postback
    basket = current_cart()
    if not basket.lines:
        return _see_other("/shop/cart")
    name = request.form.get("name", "").strip()[:80]
    email = request.form.get("email", "").strip()[:120]
    if not name or "@" not in email:
        return _checkout_page(400, "Enter your name and an e-mail address to place the order.", order_id, name, email)
    click_id = kept_click_id()
    outcome = report_conversion(click_id, order_id, basket.total)
    current_app.logger.info(
        "demo shop order %s (%s %s): postback %s in %.3f s",
        order_id,
        basket.total,
        CURRENCY,
        outcome.state,
        outcome.seconds or 0.0,
    )
    order = {
        "order_id": order_id,
        "name": name,
        "total": str(basket.total),
        "click_id": click_id,
        "lines": [[line.product.slug, line.quantity] for line in basket.lines],
        "outcome": asdict(outcome),
    }
    response = _see_other(f"/shop/orders/{order_id}")
    _store(response, ORDER_COOKIE, order)
    response.delete_cookie(CART_COOKIE, path="/shop")
    return response


def _stored_order(order_id: str) -> dict[str, Any] | None:
    order = _load(ORDER_COOKIE)
    if isinstance(order, dict) and order.get("order_id") == order_id:
        return order
    return None


@bp.get("/orders/<order_id>")
def order_page(order_id: str) -> ResponseReturnValue:
    """The order confirmation, with whether Tasklink recorded its conversion (and the pending payout)."""
    order = _stored_order(order_id)
    if order is None:
        return _not_found("No such order here", "This browser placed no order with that number.")
    lines = make_cart({slug: quantity for slug, quantity in order.get("lines", [])}).lines
    return _page(
        "shop-order.html",
        title=f"Order {order_id}",
        order=order,
        lines=lines,
        outcome=outcome_from(order.get("outcome")),
        reason_labels=earnings.REASON_LABELS,
    )


@bp.post("/orders/<order_id>/postback")
def resend_postback(order_id: str) -> ResponseReturnValue:
    """Send the order's postback again (it failed, or waited for its click); the same order id counts once."""
    order = _stored_order(order_id)
    if order is None:
        return _not_found("No such order here", "This browser placed no order with that number.")
    previous = outcome_from(order.get("outcome"))
    if previous is None or previous.may_retry:
        order["outcome"] = asdict(report_conversion(order.get("click_id"), order_id, Decimal(order["total"])))
    response = _see_other(f"/shop/orders/{order_id}")
    _store(response, ORDER_COOKIE, order)
    return response
