"""The conversion postback (SPEC §5): idempotent per order, attributed, paid with exact decimals."""
from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from api import db
from api.errors import NotFound, RuleRefused, ValidationError
from api.rawsql import Raw
from api.schema import clicks as clicks_table
from api.schema import conversions as conversions_table
from api.services import campaigns, clicks, conversions, links
from api.signing import click_id_keys
from conftest import SECRET_KEYS

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
KEY = b"k" * 32
#: The click-id keys of the test apps (their SECRET_KEYS).
CLICK_IDS = clicks.ClickIds(click_id_keys(SECRET_KEYS))


def record_a_click(engine, world, *, agent="Mozilla/5.0 Firefox/126.0", at=NOW, link=None):  # type: ignore[no-untyped-def]
    """A click on a link of the world's partner, recorded at ``at``; returns its click id."""
    with db.transaction(engine) as conn:
        if link is None:
            link = links.create_link(conn, world.partner.id, world.task.id)
        campaign = campaigns.get_campaign(conn, link.campaign_id)
        visit = clicks.visit_from_request(KEY, {"User-Agent": agent}, "192.0.2.1", {}, (None, None, None, None))
        return clicks.record_click(
            Raw.of(conn), link_id=link.id, campaign_id=link.campaign_id, partner_id=link.partner_id,
            task_id=link.task_id, visit=visit, payout_model=campaign.payout_model,
            payout_value=campaign.payout_value, now=at, click_ids=CLICK_IDS,
        )


def post(client, key, **body):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/conversions", json=body, headers={"Authorization": f"Bearer {key}"})


def test_first_report_is_201_and_a_repeat_is_200_with_the_same_body(client, engine, world) -> None:
    click_id = record_a_click(engine, world, at=db.utcnow())
    first = post(client, world.api_key, click_id=click_id, order_id="A-1", amount="40.00", currency="USD")
    assert first.status_code == 201
    assert first.json["amount"] == "40.00" and first.json["payout"] == "5.00" and first.json["status"] == "pending"
    assert first.json["click_id"] == click_id
    again = post(client, world.api_key, click_id=click_id, order_id="A-1", amount="40.00", currency="USD")
    assert again.status_code == 200 and again.json == first.json


def test_order_ids_count_once_per_campaign_not_globally(engine, make) -> None:
    one, two = make.world(), make.world()
    click_one, click_two = record_a_click(engine, one), record_a_click(engine, two)
    with db.transaction(engine) as conn:
        first, created_one = conversions.record_conversion(conn, one.advertiser.id, click_one, "SAME", "1.00", "USD",
                                                           now=NOW)
    with db.transaction(engine) as conn:
        second, created_two = conversions.record_conversion(conn, two.advertiser.id, click_two, "SAME", "1.00", "USD",
                                                            now=NOW)
    assert created_one and created_two and first.id != second.id


def test_unknown_click_and_another_advertisers_click_are_404(client, engine, world) -> None:
    click_id = record_a_click(engine, world, at=db.utcnow())
    assert post(client, world.api_key, click_id="nope", order_id="1", amount="1", currency="USD").status_code == 404
    other = post(client, world.other_api_key, click_id=click_id, order_id="1", amount="1", currency="USD")
    assert other.status_code == 404
    assert post(client, "wrong-key", click_id=click_id, order_id="1", amount="1", currency="USD").status_code == 401
    assert client.post("/api/v1/conversions", json={}).status_code == 401


@pytest.mark.parametrize("body", [
    {"order_id": "1", "amount": "1", "currency": "USD"},
    {"click_id": "c", "amount": "1", "currency": "USD"},
    {"click_id": "c", "order_id": "1", "currency": "USD"},
    {"click_id": "c", "order_id": "1", "amount": "1"},
    {"click_id": "c", "order_id": "1", "amount": "-1", "currency": "USD"},
    {"click_id": "c", "order_id": "1", "amount": "ten", "currency": "USD"},
    {"click_id": "c", "order_id": "1", "amount": True, "currency": "USD"},
    {"click_id": "c", "order_id": "1", "amount": "1e3", "currency": "USD"},
    {"click_id": "c", "order_id": "1", "amount": "1.005", "currency": "USD"},
    {"click_id": "c", "order_id": "1", "amount": "1", "currency": "usd"},
    {"click_id": "c", "order_id": "", "amount": "1", "currency": "USD"},
    {"click_id": 5, "order_id": "1", "amount": "1", "currency": "USD"},
    {"click_id": "c", "order_id": "1", "amount": "1", "currency": "USD", "extra": 1},
])
def test_malformed_bodies_are_400(client, engine, world, body) -> None:
    body = {**body}
    if body.get("click_id") == "c":
        body["click_id"] = record_a_click(engine, world, at=db.utcnow())
    answer = post(client, world.api_key, **body)
    assert answer.status_code == 400, answer.json
    assert answer.json["error"]["code"]


def test_not_json_is_400(client, world) -> None:
    answer = client.post("/api/v1/conversions", data="{", headers={"Authorization": f"Bearer {world.api_key}"})
    assert answer.status_code == 400


def test_attribution_window_is_inclusive_of_its_last_moment(engine, world) -> None:
    click_id = record_a_click(engine, world, at=NOW)
    window = dt.timedelta(days=world.campaign.attribution_window_days)
    with db.transaction(engine) as conn, pytest.raises(RuleRefused) as refused:
        conversions.record_conversion(conn, world.advertiser.id, click_id, "late", "1", "USD",
                                      now=NOW + window + dt.timedelta(seconds=1))
    assert refused.value.code == "outside_attribution_window"
    with db.transaction(engine) as conn:
        _conversion, created = conversions.record_conversion(conn, world.advertiser.id, click_id, "on-time", "1",
                                                             "USD", now=NOW + window)
    assert created


def test_attribution_window_follows_the_campaign_setting(engine, make) -> None:
    world = make.world(attribution_window_days=7)
    click_id = record_a_click(engine, world, at=NOW)
    with db.transaction(engine) as conn, pytest.raises(RuleRefused):
        conversions.record_conversion(conn, world.advertiser.id, click_id, "o", "1", "USD", now=NOW + dt.timedelta(days=8))


def test_outside_the_window_over_http_is_422(client, engine, world) -> None:
    click_id = record_a_click(engine, world, at=db.utcnow() - dt.timedelta(days=31))
    answer = post(client, world.api_key, click_id=click_id, order_id="o", amount="1", currency="USD")
    assert answer.status_code == 422 and answer.json["error"]["code"] == "outside_attribution_window"


def test_conversion_tracking_off_and_wrong_currency_are_422(client, engine, world) -> None:
    click_id = record_a_click(engine, world, at=db.utcnow())
    wrong = post(client, world.api_key, click_id=click_id, order_id="o", amount="1", currency="EUR")
    assert wrong.status_code == 422 and wrong.json["error"]["code"] == "currency_mismatch"
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, conversion_tracking=False)
    off = post(client, world.api_key, click_id=click_id, order_id="o", amount="1", currency="USD")
    assert off.status_code == 422 and off.json["error"]["code"] == "conversion_tracking_off"


@pytest.mark.parametrize(("model", "setting", "amount", "payout"), [
    ("cpa", "5.00", "99.99", "5.00"),
    ("cpa", "0.01", "0", "0.01"),
    ("revshare", "10", "19.99", "2.00"),      # 1.999 → 2.00 (half up)
    ("revshare", "12.5", "10.00", "1.25"),
    ("revshare", "7.33", "0.07", "0.01"),     # 0.005131 → 0.01
    ("revshare", "33.33", "100.00", "33.33"),
    ("revshare", "2.5", "0.10", "0.00"),      # 0.0025 → 0.00
    ("revshare", "100", "1234567.89", "1234567.89"),
    ("cpc", "0.40", "80.00", "0.00"),
])
def test_payout_by_model_with_exact_decimals(engine, make, model, setting, amount, payout) -> None:
    world = make.world(payout_model=model, payout_amount=setting)
    click_id = record_a_click(engine, world)
    with db.transaction(engine) as conn:
        conversion, _created = conversions.record_conversion(conn, world.advertiser.id, click_id, "o", amount, "USD",
                                                             now=NOW)
    assert conversion.payout == Decimal(payout)
    assert str(conversion.amount) == amount if "." in amount else True
    assert conversions.to_json(conversion)["payout"] == payout


def test_payout_in_a_currency_without_decimals(engine, make) -> None:
    world = make.world(payout_model="revshare", payout_amount="10", currency="JPY")
    click_id = record_a_click(engine, world)
    with db.transaction(engine) as conn:
        conversion, _ = conversions.record_conversion(conn, world.advertiser.id, click_id, "o", "1235", "JPY", now=NOW)
    assert conversions.to_json(conversion)["payout"] == "124" and conversions.to_json(conversion)["amount"] == "1235"


def test_bot_clicks_never_earn(engine, world) -> None:
    click_id = record_a_click(engine, world, agent="facebookexternalhit/1.1")
    with db.transaction(engine) as conn:
        conversion, _ = conversions.record_conversion(conn, world.advertiser.id, click_id, "o", "50", "USD", now=NOW)
    assert conversion.payout_minor == 0


def test_no_payout_without_pay_for_performance(engine, world) -> None:
    click_id = record_a_click(engine, world)
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, pay_for_performance=False)
    with db.transaction(engine) as conn:
        conversion, _ = conversions.record_conversion(conn, world.advertiser.id, click_id, "o", "50", "USD", now=NOW)
    assert conversion.payout_minor == 0 and conversion.amount_minor == 5000


def test_payout_follows_the_model_at_the_time_of_the_conversion(engine, world) -> None:
    click_id = record_a_click(engine, world)
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, payout_model="cpa",
                                  payout_amount="7.77")
    with db.transaction(engine) as conn:
        conversion, _ = conversions.record_conversion(conn, world.advertiser.id, click_id, "o", "1", "USD", now=NOW)
    assert conversion.payout == Decimal("7.77")


def test_concurrent_duplicates_make_one_conversion_and_all_get_it(app, engine, world) -> None:
    click_id = record_a_click(engine, world, at=db.utcnow())
    results: list[tuple[int, dict]] = []
    barrier = threading.Barrier(8)

    def report() -> None:
        client = app.test_client()
        barrier.wait()
        answer = post(client, world.api_key, click_id=click_id, order_id="RACE-1", amount="12.50", currency="USD")
        results.append((answer.status_code, answer.json))

    threads = [threading.Thread(target=report) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 7 + [201]
    assert len({body["id"] for _, body in results}) == 1
    with db.reading(engine) as conn:
        assert conn.execute(select(func.count()).select_from(conversions_table)).scalar_one() == 1


def test_the_unique_constraint_decides_even_past_the_repeat_check(engine, world, monkeypatch) -> None:
    """Force the race: the early repeat check sees nothing, the insert conflicts, the winner is returned."""
    click_id = record_a_click(engine, world)
    with db.transaction(engine) as conn:
        won, _ = conversions.record_conversion(conn, world.advertiser.id, click_id, "X", "3", "USD", now=NOW)
    real = conversions._existing
    calls = {"n": 0}

    def blind_first(conn, campaign_id, order_id):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return None if calls["n"] == 1 else real(conn, campaign_id, order_id)

    monkeypatch.setattr(conversions, "_existing", blind_first)
    with db.transaction(engine) as conn:
        again, created = conversions.record_conversion(conn, world.advertiser.id, click_id, "X", "3", "USD", now=NOW)
    assert not created and again.id == won.id


def test_status_approve_and_reverse_and_listing(engine, world) -> None:
    click_id = record_a_click(engine, world)
    with db.transaction(engine) as conn:
        conversion, _ = conversions.record_conversion(conn, world.advertiser.id, click_id, "o1", "9.99", "USD", now=NOW)
        conversions.record_conversion(conn, world.advertiser.id, click_id, "o2", "1.00", "USD",
                                      now=NOW + dt.timedelta(minutes=1))
    with db.transaction(engine) as conn:
        approved = conversions.set_conversion_status(conn, world.advertiser.id, conversion.id, "approved")
        assert approved.status == "approved"
        assert conversions.set_conversion_status(conn, world.advertiser.id, conversion.id, "reversed").status == "reversed"
        with pytest.raises(NotFound):
            conversions.set_conversion_status(conn, world.other_advertiser.id, conversion.id, "approved")
        with pytest.raises(ValidationError):
            conversions.set_conversion_status(conn, world.advertiser.id, conversion.id, "paid")
    with db.reading(engine) as conn:
        listed = conversions.list_conversions(conn, world.advertiser.id, world.campaign.id)
        assert [c.order_id for c in listed] == ["o2", "o1"]
        assert conversions.list_conversions(conn, world.other_advertiser.id, None) == []
        assert len(conversions.list_conversions(conn, world.advertiser.id, None, limit=1)) == 1
