"""The demo brand shop: the landing pages the demo campaigns point at (``api/demo.py``).

Registered only when ``DEMO_SHOP`` is set (demo mode and the extension's
tests), it answers on any host name — ``shop.localhost``, ``outlet.localhost``
and ``launch.localhost`` all reach this machine — so a partner can open a
campaign page, create a link with the extension, follow it, and see here the
click id the redirect added. It has no state and takes no orders.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

bp = Blueprint("shop", __name__, url_prefix="/shop")

#: The click-id parameter the demo campaigns use (the campaign default).
CLICK_ID_PARAM = "clickid"
MAX_SHOWN = 120


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
    Product("rain-jacket", "Rain jacket", "Seam-sealed, breathable and light enough to live in your bag.",
            Decimal("129.00"), Decimal("99.00"), ("#0f766e", "#5eead4"), frozenset({"spring", "outlet"})),
    Product("trail-sneakers", "Trail sneakers", "Grippy soles and a soft recycled knit upper.",
            Decimal("110.00"), Decimal("79.00"), ("#9a3412", "#fdba74"), frozenset({"outlet"})),
    Product("linen-shirt", "Linen shirt", "Washed linen in six spring colours.",
            Decimal("68.00"), Decimal("54.00"), ("#1d4ed8", "#93c5fd"), frozenset({"spring"})),
    Product("canvas-tote", "Canvas tote", "Heavy canvas, leather handles, one inside pocket.",
            Decimal("39.00"), None, ("#854d0e", "#fde68a"), frozenset({"spring", "new"})),
    Product("summer-hat", "Summer hat", "Packable straw hat with a wide brim.",
            Decimal("45.00"), None, ("#a16207", "#fef08a"), frozenset({"new"})),
    Product("wool-socks", "Merino socks", "Three pairs, cushioned heel, made to last.",
            Decimal("24.00"), Decimal("18.00"), ("#6d28d9", "#c4b5fd"), frozenset({"outlet", "new"})),
)
BY_SLUG = {product.slug: product for product in PRODUCTS}

COLLECTIONS = {
    "spring": ("Spring sale", "Up to 25% off the spring collection, this week only."),
    "outlet": ("Outlet", "Last season's favourites at outlet prices."),
    "new": ("New arrivals", "Just landed: the first pieces of the summer range."),
    "vip": ("VIP preview", "Members see the autumn range before everyone else."),
}


def arrived_with() -> str | None:
    """The click id this visit arrived with, cut to a length fit for display (Jinja escapes it)."""
    value = request.args.get(CLICK_ID_PARAM, "").strip()
    return value[:MAX_SHOWN] or None


def _page(template: str, status: int = 200, **context: object) -> ResponseReturnValue:
    html = render_template(template, click_id=arrived_with(), collections=COLLECTIONS, host=request.host, **context)
    return html, status


@bp.get("/")
def home() -> ResponseReturnValue:
    """The shop's front page."""
    return _page("shop-list.html", title="Demo Brand", intro="Good clothes for changeable weather.",
                 products=PRODUCTS[:4], hero=True)


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


@bp.get("/products/<slug>")
def product(slug: str) -> ResponseReturnValue:
    """One product, or a friendly 404 inside the shop."""
    found = BY_SLUG.get(slug)
    if found is None:
        return _page("shop-list.html", 404, title="Not in our shop", intro="We could not find that product.",
                     products=PRODUCTS[:3])
    return _page("shop-product.html", title=found.name, product=found)
