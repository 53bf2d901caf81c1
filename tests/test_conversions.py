"""The conversion postback: idempotent per order, attributed, paid with exact decimals."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from api import db
from api.errors import NotFound, RuleRefused, ValidationError
from api.http.models import Conversion
from api.rawsql import Raw
from api.schema import clicks as clicks_table
from api.schema import conversions as conversions_table
from api.services import campaigns, clicks, conversions, links
from api.signing import click_id_keys
from conftest import SECRET_KEYS

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
KEY = b"k" * 32
#: The click-id keys of the test apps (their SECRET_KEYS).
CLICK_IDS = clicks.ClickIds(click_id_keys(SECRET_KEYS))


def store_click(raw: Raw, **click: Any) -> str:
    """Store one click at once, as the click log's flush stores it (arguments as ``clicks.click_record``); its id."""
    record = clicks.click_record(**click)
    clicks.store_clicks(raw, [record])
    return record.click_id


def record_conversion(
    conn: Connection,
    advertiser_id: int,
    click_id: object,
    order_id: object,
    amount: object,
    currency: object,
    *,
    now: dt.datetime | None = None,
) -> tuple[conversions.Conversion, bool]:
    """The postback for a click already stored, as POST /api/v1/conversions records it: ``(conversion, created)``."""
    report = conversions.parse_report(click_id, order_id, amount, currency)
    result = conversions.report_conversion(conn, advertiser_id, report, CLICK_IDS, now=now)
    assert not isinstance(result, conversions.Waiting), "a postback for a stored click never waits"
    return result


def record_a_click(engine, world, *, agent="Mozilla/5.0 Firefox/126.0", at=NOW, link=None):  # type: ignore[no-untyped-def]
    """A click on a link of the world's partner, recorded at ``at``; returns its click id."""
    with db.transaction(engine) as conn:
        if link is None:
            link = links.create_link(conn, world.partner.id, world.task.id)
        campaign = campaigns.get_campaign(conn, link.campaign_id)
        visit = clicks.visit_from_request(KEY, {"User-Agent": agent}, "192.0.2.1", {}, (None, None, None, None))
        return store_click(
            Raw.of(conn),
            link_id=link.id,
            campaign_id=link.campaign_id,
            partner_id=link.partner_id,
            task_id=link.task_id,
            visit=visit,
            payout_model=campaign.payout_model,
            payout_value=campaign.payout_value,
            now=at,
            click_ids=CLICK_IDS,
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
        first, created_one = record_conversion(conn, one.advertiser.id, click_one, "SAME", "1.00", "USD", now=NOW)
    with db.transaction(engine) as conn:
        second, created_two = record_conversion(conn, two.advertiser.id, click_two, "SAME", "1.00", "USD", now=NOW)
    assert created_one and created_two and first.id != second.id


def test_unknown_click_and_another_advertisers_click_are_404(client, engine, world) -> None:
    click_id = record_a_click(engine, world, at=db.utcnow())
    assert post(client, world.api_key, click_id="nope", order_id="1", amount="1", currency="USD").status_code == 404
    other = post(client, world.other_api_key, click_id=click_id, order_id="1", amount="1", currency="USD")
    assert other.status_code == 404
    assert post(client, "wrong-key", click_id=click_id, order_id="1", amount="1", currency="USD").status_code == 401
    assert client.post("/api/v1/conversions", json={}).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
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
    ],
)
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
        record_conversion(
            conn, world.advertiser.id, click_id, "late", "1", "USD", now=NOW + window + dt.timedelta(seconds=1)
        )
    assert refused.value.code == "outside_attribution_window"
    with db.transaction(engine) as conn:
        _conversion, created = record_conversion(
            conn, world.advertiser.id, click_id, "on-time", "1", "USD", now=NOW + window
        )
    assert created


def test_attribution_window_follows_the_campaign_setting(engine, make) -> None:
    world = make.world(attribution_window_days=7)
    click_id = record_a_click(engine, world, at=NOW)
    with db.transaction(engine) as conn, pytest.raises(RuleRefused):
        record_conversion(conn, world.advertiser.id, click_id, "o", "1", "USD", now=NOW + dt.timedelta(days=8))


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


@pytest.mark.parametrize(
    ("model", "setting", "amount", "payout"),
    [
        ("cpa", "5.00", "99.99", "5.00"),
        ("cpa", "0.01", "0", "0.01"),
        ("revshare", "10", "19.99", "2.00"),  # 1.999 → 2.00 (half up)
        ("revshare", "12.5", "10.00", "1.25"),
        ("revshare", "7.33", "0.07", "0.01"),  # 0.005131 → 0.01
        ("revshare", "33.33", "100.00", "33.33"),
        ("revshare", "2.5", "0.10", "0.00"),  # 0.0025 → 0.00
        ("revshare", "100", "1234567.89", "1234567.89"),
        ("cpc", "0.40", "80.00", "0.00"),
    ],
)
def test_payout_by_model_with_exact_decimals(engine, make, model, setting, amount, payout) -> None:
    world = make.world(payout_model=model, payout_amount=setting)
    click_id = record_a_click(engine, world)
    with db.transaction(engine) as conn:
        conversion, _created = record_conversion(conn, world.advertiser.id, click_id, "o", amount, "USD", now=NOW)
    assert conversion.payout == Decimal(payout)
    assert str(conversion.amount) == amount if "." in amount else True
    assert Conversion.model_validate(conversion).model_dump(mode="json")["payout"] == payout


def test_payout_in_a_currency_without_decimals(engine, make) -> None:
    world = make.world(payout_model="revshare", payout_amount="10", currency="JPY")
    click_id = record_a_click(engine, world)
    with db.transaction(engine) as conn:
        conversion, _ = record_conversion(conn, world.advertiser.id, click_id, "o", "1235", "JPY", now=NOW)
    answer = Conversion.model_validate(conversion).model_dump(mode="json")
    assert answer["payout"] == "124" and answer["amount"] == "1235"


def test_bot_clicks_never_earn(engine, world) -> None:
    click_id = record_a_click(engine, world, agent="facebookexternalhit/1.1")
    with db.transaction(engine) as conn:
        conversion, _ = record_conversion(conn, world.advertiser.id, click_id, "o", "50", "USD", now=NOW)
    assert conversion.payout_minor == 0


def test_no_payout_without_pay_for_performance(engine, world) -> None:
    click_id = record_a_click(engine, world)
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, pay_for_performance=False)
    with db.transaction(engine) as conn:
        conversion, _ = record_conversion(conn, world.advertiser.id, click_id, "o", "50", "USD", now=NOW)
    assert conversion.payout_minor == 0 and conversion.amount_minor == 5000


def test_payout_follows_the_model_at_the_time_of_the_conversion(engine, world) -> None:
    click_id = record_a_click(engine, world)
    with db.transaction(engine) as conn:
        campaigns.update_settings(
            conn, world.advertiser.id, world.campaign.id, payout_model="cpa", payout_amount="7.77"
        )
    with db.transaction(engine) as conn:
        conversion, _ = record_conversion(conn, world.advertiser.id, click_id, "o", "1", "USD", now=NOW)
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
        won, _ = record_conversion(conn, world.advertiser.id, click_id, "X", "3", "USD", now=NOW)
    real = conversions._existing
    calls = {"n": 0}

    def blind_first(conn, campaign_id, order_id):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return None if calls["n"] == 1 else real(conn, campaign_id, order_id)

    monkeypatch.setattr(conversions, "_existing", blind_first)
    with db.transaction(engine) as conn:
        again, created = record_conversion(conn, world.advertiser.id, click_id, "X", "3", "USD", now=NOW)
    assert not created and again.id == won.id


def test_status_approve_and_reverse_and_listing(engine, world) -> None:
    click_id = record_a_click(engine, world)
    with db.transaction(engine) as conn:
        conversion, _ = record_conversion(conn, world.advertiser.id, click_id, "o1", "9.99", "USD", now=NOW)
        record_conversion(conn, world.advertiser.id, click_id, "o2", "1.00", "USD", now=NOW + dt.timedelta(minutes=1))
    with db.transaction(engine) as conn:
        approved = conversions.set_conversion_status(conn, world.advertiser.id, conversion.id, "approved")
        assert approved.status == "approved"
        assert (
            conversions.set_conversion_status(conn, world.advertiser.id, conversion.id, "reversed").status == "reversed"
        )
        with pytest.raises(NotFound):
            conversions.set_conversion_status(conn, world.other_advertiser.id, conversion.id, "approved")
        with pytest.raises(ValidationError):
            conversions.set_conversion_status(conn, world.advertiser.id, conversion.id, "paid")
    with db.reading(engine) as conn:
        listed = conversions.list_conversions(conn, world.advertiser.id, world.campaign.id)
        assert [c.order_id for c in listed] == ["o2", "o1"]
        assert conversions.list_conversions(conn, world.other_advertiser.id, None) == []
        assert len(conversions.list_conversions(conn, world.advertiser.id, None, limit=1)) == 1


# --- postbacks never wait: an unknown click is 404 at once, a click on its way is 202 -------------------

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"


def forged_click_id(link_id: int, *, at: dt.datetime | None = None) -> str:
    """An id of the right shape, time and link, with a tag nobody made: what a guesser sends."""
    import base64
    import secrets

    millis = int((at or db.utcnow()).timestamp() * 1000)
    body = (millis << 32 | link_id).to_bytes(10, "big") + secrets.token_bytes(11)
    return base64.urlsafe_b64encode(body + secrets.token_bytes(6)).decode()


def old_style_click_id(at: dt.datetime | None = None) -> str:
    """A click id as made before ids carried a tag: 30 characters, the time in milliseconds in front."""
    import base64
    import secrets

    stamp = int((at or db.utcnow()).timestamp() * 1000).to_bytes(6, "big")
    return base64.urlsafe_b64encode(stamp).decode() + secrets.token_urlsafe(16)


@pytest.fixture
def flushes(monkeypatch, app):  # type: ignore[no-untyped-def]
    """How many times this test's app flushed its click log; and no one may sleep meanwhile.

    (Only this app's log counts: a flusher thread left by another test's app may run meanwhile.)
    """
    import time

    from api import clicklog

    count = {"n": 0}
    real = clicklog.ClickLog.flush

    mine = clicklog.of(app)

    def counted(self, wait=True):  # type: ignore[no-untyped-def]
        if self is mine:
            count["n"] += 1
        return real(self, wait)

    def no_sleep(seconds):  # type: ignore[no-untyped-def]
        raise AssertionError(f"a postback slept {seconds} s")

    monkeypatch.setattr(clicklog.ClickLog, "flush", counted)
    monkeypatch.setattr(time, "sleep", no_sleep)
    return count


@pytest.fixture
def node(app_config, tmp_path):  # type: ignore[no-untyped-def]
    """Another node on the same database, with its own click log and no flusher of its own.

    Its clicks stay in its log until the test flushes it, like a node whose
    flusher has not run yet.
    """
    from flask.testing import FlaskClient

    from api import clicklog, create_app

    other = create_app({**app_config, "CLICK_LOG_DIR": str(tmp_path / "other-node")})
    other.test_client_class = FlaskClient
    clicklog.of(other).close()  # stores nothing unless the test says so
    yield other
    db.get_engine(other).dispose()


def click_there(node, link) -> str:  # type: ignore[no-untyped-def]
    """A visitor follows the link on ``node``; the click id its landing page receives (the click only logged)."""
    from urllib.parse import parse_qs, urlsplit

    answer = node.test_client().get(f"/s/{link.code}", headers={"User-Agent": BROWSER})
    assert answer.status_code == 302
    return parse_qs(urlsplit(answer.headers["Location"]).query)["clickid"][0]


def made_link(engine, world):  # type: ignore[no-untyped-def]
    with db.transaction(engine) as conn:
        return links.create_link(conn, world.partner.id, world.task.id)


def waiting_rows(engine) -> list:  # type: ignore[type-arg]
    from api.schema import pending_conversions

    with db.reading(engine) as conn:
        return conn.execute(select(pending_conversions).order_by(pending_conversions.c.id)).all()


def conversion_count(engine) -> int:  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(conversions_table)).scalar_one())


def test_a_made_up_click_id_is_404_at_once_however_fresh_it_looks(client, engine, world, flushes) -> None:
    import time

    link = made_link(engine, world)
    made_up = [
        forged_click_id(link.id),  # our shape, time and link; a wrong tag
        old_style_click_id(),  # the older shape, time prefix of now
        clicks.new_click_id(clicks.ClickIds([KEY]), link.id),  # tagged with a key we do not have
        "A" * 36,
    ]
    post(client, world.api_key, click_id="warm-up", order_id="o", amount="1", currency="USD")
    for click_id in made_up:
        started = time.perf_counter()
        answer = post(client, world.api_key, click_id=click_id, order_id="o", amount="1", currency="USD")
        took = time.perf_counter() - started
        assert answer.status_code == 404 and answer.json["error"]["code"] == "click_not_found", click_id
        assert took < 0.1, f"{click_id}: {took * 1000:.0f} ms"
    assert flushes["n"] == 0  # not even this node's own log: nothing of ours can be on its way
    assert waiting_rows(engine) == [] and conversion_count(engine) == 0


def test_a_click_still_in_another_nodes_log_is_202_then_recorded_when_that_node_flushes(
    client, engine, world, node, flushes
) -> None:
    from api import clicklog

    link = made_link(engine, world)
    click_id = click_there(node, link)
    body = {"click_id": click_id, "order_id": "A-1", "amount": "40.00", "currency": "USD"}
    first = post(client, world.api_key, **body)
    assert first.status_code == 202, first.json
    assert {name: first.json[name] for name in ("click_id", "order_id", "amount", "currency", "status")} == {
        "click_id": click_id,
        "order_id": "A-1",
        "amount": "40.00",
        "currency": "USD",
        "status": "waiting",
    }
    assert first.json["message"]
    again = post(client, world.api_key, **body)  # a retry while it waits: 202 again, kept once
    assert again.status_code == 202 and again.json == first.json
    [row] = waiting_rows(engine)
    assert (row.status, row.campaign_id, row.amount_minor) == ("waiting", world.campaign.id, 4000)
    assert conversion_count(engine) == 0
    assert flushes["n"] == 2  # this node's own log, once per postback, without waiting for anyone

    clicklog.of(node).flush()  # the other node's flusher stores the click
    [row] = waiting_rows(engine)
    assert row.status == "recorded" and row.error is None and row.conversion_id is not None
    with db.reading(engine) as conn:
        [conversion] = conversions.list_conversions(conn, world.advertiser.id)
    assert (conversion.id, conversion.click_id, conversion.order_id) == (row.conversion_id, click_id, "A-1")
    assert (str(conversion.amount), str(conversion.payout), conversion.payout_reason) == ("40.00", "5.00", None)
    assert conversion.created_at == row.received_at  # the conversion's time is the postback's
    repeat = post(client, world.api_key, **body)
    assert repeat.status_code == 200
    assert repeat.json == Conversion.model_validate(conversion).model_dump(mode="json")
    assert conversion_count(engine) == 1


def test_a_click_on_its_way_of_another_advertiser_or_a_stale_one_is_404(client, engine, world, node) -> None:
    link = made_link(engine, world)
    click_id = click_there(node, link)
    other = post(client, world.other_api_key, click_id=click_id, order_id="o", amount="1.00", currency="USD")
    assert other.status_code == 404 and other.json["error"]["code"] == "click_not_found"
    # Ours, but for a link that does not exist.
    nowhere = clicks.new_click_id(CLICK_IDS, link.id + 1000)
    assert post(client, world.api_key, click_id=nowhere, order_id="o", amount="1", currency="USD").status_code == 404
    # Ours and this advertiser's, but made longer ago than a click takes to be stored, or in the future.
    now = db.utcnow()
    for at in (
        now - conversions.WAITING_WINDOW - dt.timedelta(seconds=1),
        now + conversions.CLOCK_SKEW + dt.timedelta(seconds=5),
    ):
        stale = clicks.new_click_id(CLICK_IDS, link.id, int(at.timestamp() * 1000))
        answer = post(client, world.api_key, click_id=stale, order_id="o", amount="1", currency="USD")
        assert answer.status_code == 404, at
    assert waiting_rows(engine) == []


def test_rules_that_need_no_click_refuse_a_click_on_its_way_at_once(client, engine, world, node) -> None:
    link = made_link(engine, world)
    click_id = click_there(node, link)
    wrong = post(client, world.api_key, click_id=click_id, order_id="o", amount="1.00", currency="EUR")
    assert wrong.status_code == 422 and wrong.json["error"]["code"] == "currency_mismatch"
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, conversion_tracking=False)
    off = post(client, world.api_key, click_id=click_id, order_id="o", amount="1.00", currency="USD")
    assert off.status_code == 422 and off.json["error"]["code"] == "conversion_tracking_off"
    assert waiting_rows(engine) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"conversion_tracking": False}, "conversion_tracking_off"),
        ({"currency": "EUR", "payout_amount": "5.00"}, "currency_mismatch"),
    ],
)
def test_a_waiting_conversion_whose_click_breaks_a_rule_is_not_recorded_and_shows_as_failed(
    client, engine, world, node, change, code, caplog
) -> None:
    import logging

    from api import clicklog

    caplog.set_level(logging.INFO, logger="api.services.conversions")
    link = made_link(engine, world)
    click_id = click_there(node, link)
    body = {"click_id": click_id, "order_id": "B-1", "amount": "10.00", "currency": "USD"}
    assert post(client, world.api_key, **body).status_code == 202
    with db.transaction(engine) as conn:  # the campaign changes before the click is stored
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, **change)
    clicklog.of(node).flush()
    assert conversion_count(engine) == 0
    [row] = waiting_rows(engine)
    assert (row.status, row.error, row.conversion_id) == ("failed", code, None)
    assert f"failed: {code}" in caplog.text
    with db.reading(engine) as conn:  # what the advertiser sees (the admin lists these)
        [shown] = conversions.list_waiting(conn, world.advertiser.id, world.campaign.id)
        assert (shown.order_id, shown.status, shown.error) == ("B-1", "failed", code)
        assert conversions.list_waiting(conn, world.other_advertiser.id) == []
    repeat = post(client, world.api_key, **body)  # the click is stored now: the usual answer
    assert repeat.status_code == 422 and repeat.json["error"]["code"] == code


def test_a_waiting_conversion_whose_click_never_comes_fails_after_the_expiry(engine, world, node) -> None:
    from api import clicklog
    from api.rawsql import Raw

    link = made_link(engine, world)
    lost = clicks.new_click_id(CLICK_IDS, link.id)  # ours, but its click was never logged
    with db.transaction(engine) as conn:
        waiting = conversions.report_conversion(
            conn, world.advertiser.id, conversions.parse_report(lost, "C-1", "5.00", "USD"), CLICK_IDS
        )
    assert isinstance(waiting, conversions.Waiting)
    click_there(node, link)
    clicklog.of(node).flush()  # a flush of other clicks: still within the expiry, it keeps waiting
    assert [row.status for row in waiting_rows(engine)] == ["waiting"]
    with db.transaction(engine) as conn:
        raw = Raw.of(conn)
        assert conversions.waiting_now(raw) == []  # nothing to do about it yet
        later = waiting.received_at + conversions.WAITING_EXPIRY + dt.timedelta(seconds=1)
        counts = conversions.record_waiting(raw, conversions.waiting_now(raw, later), now=later)
    assert counts == {"recorded": 0, "failed": 1}
    [row] = waiting_rows(engine)
    assert (row.status, row.error) == ("failed", "click_not_found")


def test_conversions_whose_click_never_comes_do_not_keep_others_waiting(
    client, engine, world, node, monkeypatch
) -> None:
    from api import clicklog

    monkeypatch.setattr(conversions, "WAITING_BATCH", 2)
    link = made_link(engine, world)
    for n in range(3):  # ours, but their clicks were never logged: they wait for the expiry
        lost = clicks.new_click_id(CLICK_IDS, link.id)
        assert (
            post(client, world.api_key, click_id=lost, order_id=f"L-{n}", amount="1.00", currency="USD").status_code
            == 202
        )
    click_id = click_there(node, link)
    assert (
        post(client, world.api_key, click_id=click_id, order_id="G-1", amount="1.00", currency="USD").status_code == 202
    )
    clicklog.of(node).flush()
    assert [row.status for row in waiting_rows(engine)] == ["waiting"] * 3 + ["recorded"]


def test_a_failure_recording_waiting_conversions_never_holds_back_the_clicks(
    client, engine, world, node, monkeypatch, caplog
) -> None:
    from api import clicklog

    link = made_link(engine, world)
    click_id = click_there(node, link)
    assert (
        post(client, world.api_key, click_id=click_id, order_id="D-1", amount="1.00", currency="USD").status_code == 202
    )

    def broken(raw, waiting, now=None):  # type: ignore[no-untyped-def]
        raw.run("UPDATE pending_conversions SET order_id = 'half-done'")  # undone with the savepoint
        raise RuntimeError("boom")

    monkeypatch.setattr(conversions, "record_waiting", broken)
    clicklog.of(node).flush()
    with db.reading(engine) as conn:
        assert conn.execute(select(clicks_table.c.click_id)).scalars().all() == [click_id]
    assert [(row.status, row.order_id) for row in waiting_rows(engine)] == [("waiting", "D-1")]
    assert "they wait for the next flush" in caplog.text
    monkeypatch.undo()
    click_there(node, link)
    clicklog.of(node).flush()  # the next batch records it
    assert [row.status for row in waiting_rows(engine)] == ["recorded"] and conversion_count(engine) == 1


def test_a_flush_with_nothing_waiting_asks_one_question_about_waiting_conversions(
    engine, world, node, monkeypatch
) -> None:
    from api import clicklog
    from api.rawsql import Raw

    statements: list[str] = []
    real_all, real_run = Raw.all, Raw.run

    def all_(self, sql, params=()):  # type: ignore[no-untyped-def]
        statements.append(sql)
        return real_all(self, sql, params)

    def run(self, sql, params=()):  # type: ignore[no-untyped-def]
        statements.append(sql)
        return real_run(self, sql, params)

    monkeypatch.setattr(Raw, "all", all_)
    monkeypatch.setattr(Raw, "run", run)
    link = made_link(engine, world)
    for _ in range(3):
        click_there(node, link)
    clicklog.of(node).flush()
    assert sum("pending_conversions" in sql for sql in statements) == 1
    assert not any("SAVEPOINT" in sql for sql in statements)


def test_old_style_click_ids_still_convert_when_their_click_is_stored(client, engine, world, flushes) -> None:
    old_id = old_style_click_id()
    with db.transaction(engine) as conn:
        link = links.create_link(conn, world.partner.id, world.task.id)
        campaign = campaigns.get_campaign(conn, link.campaign_id)
        visit = clicks.visit_from_request(KEY, {"User-Agent": BROWSER}, "192.0.2.1", {}, (None, None, None, None))
        store_click(
            Raw.of(conn),
            link_id=link.id,
            campaign_id=link.campaign_id,
            partner_id=link.partner_id,
            task_id=link.task_id,
            visit=visit,
            payout_model=campaign.payout_model,
            payout_value=campaign.payout_value,
            now=db.utcnow(),
            click_id=old_id,
        )
    answer = post(client, world.api_key, click_id=old_id, order_id="E-1", amount="2.00", currency="USD")
    assert answer.status_code == 201 and answer.json["click_id"] == old_id and answer.json["payout"] == "5.00"
    assert (
        post(client, world.api_key, click_id=old_id, order_id="E-1", amount="2.00", currency="USD").status_code == 200
    )
    assert flushes["n"] == 0  # an old-style id never waits: it is found or it is a 404


def test_a_click_stored_while_the_postback_looked_is_found_not_kept_waiting(
    client, engine, world, node, monkeypatch
) -> None:
    """The flush commits between the postback's first look and its lock: the second look finds the click."""
    from api import clicklog

    if engine.dialect.name == "sqlite":
        pytest.skip("on SQLite the postback's write transaction excludes every flush from its first look on")
    link = made_link(engine, world)
    click_id = click_there(node, link)
    real_lock = conversions.lock_click_store

    def flush_first(raw):  # type: ignore[no-untyped-def]
        clicklog.of(node).flush()  # another connection: commits before we take the lock
        real_lock(raw)

    monkeypatch.setattr(conversions, "lock_click_store", flush_first)
    answer = post(client, world.api_key, click_id=click_id, order_id="F-1", amount="3.00", currency="USD")
    assert answer.status_code == 201 and answer.json["click_id"] == click_id
    assert waiting_rows(engine) == []


# --- the largest amount: reports can always add amounts up -------------------------


@pytest.mark.parametrize(
    ("currency", "largest", "over"),
    [
        ("KWD", "9000000.000", "9000000.001"),
        ("USD", "90000000.00", "90000000.01"),
        ("JPY", "9000000000", "9000000001"),
    ],
)
def test_the_largest_amount_is_taken_and_one_minor_unit_more_refused(
    client, engine, make, currency, largest, over
) -> None:
    world = make.world(currency=currency, payout_model="revshare", payout_amount="100")
    click_id = record_a_click(engine, world, at=db.utcnow())
    taken = post(client, world.api_key, click_id=click_id, order_id="max", amount=largest, currency=currency)
    assert taken.status_code == 201, taken.json
    # Revenue share never pays more than the sale, so the payout is within bounds too.
    assert taken.json["amount"] == largest and taken.json["payout"] == largest
    refused = post(client, world.api_key, click_id=click_id, order_id="over", amount=over, currency=currency)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "invalid_amount"
    assert f"{largest} {currency}" in refused.json["error"]["message"]
    # What used to be taken and then broke every report: a 15-digit KWD amount in minor units.
    huge = post(client, world.api_key, click_id=click_id, order_id="huge", amount="999999999999.999", currency=currency)
    assert huge.status_code == 400 and huge.json["error"]["code"] == "invalid_amount"


def test_a_billion_of_the_largest_amounts_fit_a_signed_64_bit_sum() -> None:
    from api import money

    assert money.MAX_MINOR * 10**9 <= 2**63 - 1


@pytest.mark.parametrize("model", ["cpa", "cpc"])
def test_the_campaign_payout_is_bounded_like_a_sale(engine, world, model) -> None:
    with db.transaction(engine) as conn:
        largest = campaigns.update_settings(
            conn, world.advertiser.id, world.campaign.id, payout_model=model, payout_amount="90000000.00"
        )
    assert largest.payout_value == 9_000_000_000
    with db.transaction(engine) as conn, pytest.raises(ValidationError) as refused:
        campaigns.update_settings(
            conn, world.advertiser.id, world.campaign.id, payout_model=model, payout_amount="90000000.01"
        )
    assert refused.value.code == "invalid_setting" and "90000000.00 USD" in refused.value.message


def test_reports_add_up_many_of_the_largest_amounts_exactly(client, engine, make, auth) -> None:
    world = make.world(currency="KWD", payout_model="cpa", payout_amount="9000000.000")
    click_id = record_a_click(engine, world, at=NOW)
    for n in range(5):
        with db.transaction(engine) as conn:
            record_conversion(conn, world.advertiser.id, click_id, f"big-{n}", "9000000.000", "KWD", now=NOW)
    day = NOW.date().isoformat()
    for headers in (auth(world.partner), {"Authorization": f"Bearer {world.api_key}"}):
        for group_by in ("day", "campaign"):
            answer = client.get(f"/api/v1/reports/summary?from={day}&to={day}&group_by={group_by}", headers=headers)
            assert answer.status_code == 200, answer.get_data(as_text=True)
            totals = answer.json["totals"]
            assert (totals["currency"], totals["conversions"]) == ("KWD", 5)
            assert (totals["revenue"], totals["payout"]) == ("45000000.000", "45000000.000")
