"""Demo data: one advertiser, two partners and a campaign for every case.

The landing pages live on ``*.localhost`` host names, which browsers resolve
to this machine, and are served by the demo shop of the API itself, so a click
can be followed end to end on one machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import Connection

from .services import advertisers, campaigns, landing_pages, memberships, partners, programs, tasks

DEFAULT_SHOP_URL = "http://shop.localhost:5000"

ADVERTISER = {"name": "Demo Brand", "email": "brand@demo.test", "password": "demo-brand", "api_key": "demo-brand-key"}
PARTNER = {"name": "Pat Partner", "email": "partner@demo.test", "password": "demo-partner"}
OTHER = {"name": "Oli Other", "email": "other@demo.test", "password": "demo-other"}
PROGRAM = "Spring collection"

ALL_ON = {"click_tracking": True, "conversion_tracking": True, "pay_for_performance": True}


@dataclass(frozen=True)
class DemoCampaign:
    name: str
    host: str  # sub-host of the shop: "shop", "outlet" or "launch"
    mode: str
    settings: dict[str, object]
    pages: tuple[tuple[str, str], ...]  # (name, path); the first is the default
    tasks: tuple[tuple[str, str | None], ...]  # (title, assignee: None, "partner" or "other")
    partner_status: str = "active"
    other_status: str = "active"
    currency: str = "USD"


CAMPAIGNS = (
    DemoCampaign(
        "Spring sale: deep links",
        "shop",
        "manual",
        {**ALL_ON, "payout_model": "cpa", "payout_amount": "5.00"},
        (("Shop home", "/shop/"), ("Spring sale", "/shop/spring")),
        (
            ("Instagram story for the spring sale", None),
            ("Blog review of the rain jacket", "partner"),
            ("YouTube unboxing", "other"),
        ),
    ),
    DemoCampaign(
        "Outlet: pick a page",
        "outlet",
        "choose",
        {**ALL_ON, "payout_model": "revshare", "payout_amount": "10"},
        (
            ("Outlet", "/shop/outlet"),
            ("Rain jacket", "/shop/products/rain-jacket"),
            ("Trail sneakers", "/shop/products/trail-sneakers"),
        ),
        (("Newsletter feature", None), ("Comparison post: jackets", None)),
    ),
    DemoCampaign(
        "New arrivals: one click",
        "launch",
        "default",
        {**ALL_ON, "payout_model": "cpc", "payout_amount": "0.25"},
        (("New arrivals", "/shop/new"), ("Summer preview", "/shop/products/summer-hat")),
        (("Story swipe-up for new arrivals", None), ("Podcast mention", None)),
    ),
    DemoCampaign(
        "Brand awareness (no pay for performance)",
        "outlet",
        "manual",
        {
            "click_tracking": True,
            "conversion_tracking": True,
            "pay_for_performance": False,
            "payout_model": "cpa",
            "payout_amount": "3.00",
        },
        (("Outlet", "/shop/outlet"),),
        (("Logo placement", None),),
    ),
    DemoCampaign(
        "Click-only test (no conversion tracking)",
        "launch",
        "manual",
        {
            "click_tracking": True,
            "conversion_tracking": False,
            "pay_for_performance": True,
            "payout_model": "cpc",
            "payout_amount": "0.10",
        },
        (("New arrivals", "/shop/new"),),
        (("Banner on your site", None),),
    ),
    DemoCampaign(
        "VIP preview (approval pending)",
        "shop",
        "manual",
        {**ALL_ON, "payout_model": "cpa", "payout_amount": "4.00"},
        (("VIP preview", "/shop/vip"),),
        (("Early-access post", None),),
        partner_status="pending",
    ),
    DemoCampaign(
        "Summer lookbook (invitation)",
        "launch",
        "manual",
        {**ALL_ON, "payout_model": "cpa", "payout_amount": "6.00", "attribution_window_days": 14},
        (("Summer preview", "/shop/products/summer-hat"),),
        (("Lookbook post", None),),
        partner_status="invited",
        currency="EUR",
    ),
)


def shop_host_url(shop_url: str, host: str) -> str:
    """``http://shop.localhost:5000`` with the first label replaced: ``http://outlet.localhost:5000``."""
    parts = urlsplit(shop_url)
    hostname = parts.hostname or "shop.localhost"
    rest = hostname.split(".", 1)[1] if "." in hostname else hostname
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}.{rest}{port}"


def seed_demo(conn: Connection, shop_url: str = DEFAULT_SHOP_URL) -> bool:
    """Create the demo data; return ``False`` (and change nothing) when it is already there."""
    if advertisers.find_by_email(conn, ADVERTISER["email"]) is not None:
        return False
    brand, _ = advertisers.create_advertiser(conn, **ADVERTISER)
    partner = partners.create_partner(conn, **PARTNER)
    other = partners.create_partner(conn, **OTHER)
    program = programs.create_program(conn, brand.id, PROGRAM)
    people = {"partner": partner.id, "other": other.id}
    for demo in CAMPAIGNS:
        base = shop_host_url(shop_url, demo.host)
        campaign = campaigns.create_campaign(
            conn, brand.id, program.id, demo.name, currency=demo.currency, **demo.settings
        )
        landing_pages.set_allowed_domains(conn, brand.id, campaign.id, [urlsplit(base).hostname])
        for index, (name, path) in enumerate(demo.pages):
            landing_pages.add_landing_page(conn, brand.id, campaign.id, name, base + path, is_default=index == 0)
        campaigns.update_settings(conn, brand.id, campaign.id, landing_mode=demo.mode)
        memberships.add_membership(conn, partner.id, campaign.id, demo.partner_status)
        memberships.add_membership(conn, other.id, campaign.id, demo.other_status)
        for title, assignee in demo.tasks:
            tasks.create_task(conn, brand.id, campaign.id, title, partner_id=people.get(assignee or ""))
    return True
