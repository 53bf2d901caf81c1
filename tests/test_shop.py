"""The demo brand shop (api/http/shop.py): the demo campaigns' landing pages, served only in demo mode."""
from __future__ import annotations

from typing import Any

import pytest

from api import create_app
from api.config import load_settings
from api.demo import CAMPAIGNS

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
