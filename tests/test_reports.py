"""The summary report: counters, grouping, date bounds, who sees what; rollups never change a figure."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from api import db
from api.errors import ValidationError
from api.rawsql import Raw
from api.services import campaigns, clicks, conversions, links, reports
from test_conversions import CLICK_IDS, KEY, record_conversion, store_click

DAY1 = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
DAY2 = dt.datetime(2026, 3, 11, 23, 59, 59, tzinfo=dt.UTC)
DAY3 = dt.datetime(2026, 3, 12, 0, 0, tzinfo=dt.UTC)
HUMAN = "Mozilla/5.0 Firefox/126.0"
FROM, TO = DAY1.date(), DAY2.date()


def link_for(engine, partner, task, **reporting):  # type: ignore[no-untyped-def]
    with db.transaction(engine) as conn:
        return links.create_link(conn, partner.id, task.id, reporting=reporting)


def hit(engine, link, at, *, agent=HUMAN, address="192.0.2.1"):  # type: ignore[no-untyped-def]
    with db.transaction(engine) as conn:
        campaign = campaigns.get_campaign(conn, link.campaign_id)
        visit = clicks.visit_from_request(
            KEY, {"User-Agent": agent}, address, {}, (link.sub_id1, link.sub_id2, link.sub_id3, link.shared_id)
        )
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


def convert(engine, world, click_id, order, amount, at, status=None):  # type: ignore[no-untyped-def]
    with db.transaction(engine) as conn:
        conversion, _ = record_conversion(conn, world.advertiser.id, click_id, order, amount, "USD", now=at)
        if status:
            conversions.set_conversion_status(conn, world.advertiser.id, conversion.id, status)


@pytest.fixture
def scene(engine, make, world):  # type: ignore[no-untyped-def]
    """Partner P: link A (subId1 s1, sharedid sh) and link B; partner Q: link C in the same campaign."""
    make.membership(world.other_partner.id, world.campaign.id)
    a = link_for(engine, world.partner, world.task, subId1="s1", sharedid="sh")
    b = link_for(engine, world.partner, world.task)
    c = link_for(engine, world.other_partner, world.task, subId1="q-secret")
    a1 = hit(engine, a, DAY1)
    hit(engine, a, DAY1 + dt.timedelta(minutes=5))  # same visitor: not unique
    bot = hit(engine, a, DAY1, agent="Slackbot-LinkExpanding 1.0")  # bot
    b1 = hit(engine, b, DAY1, address="192.0.2.2")
    hit(engine, a, DAY2, address="192.0.2.3")
    hit(engine, b, DAY3, address="192.0.2.4")  # after the range
    c1 = hit(engine, c, DAY1, address="192.0.2.5")
    convert(engine, world, a1, "o-a1", "20.00", DAY1 + dt.timedelta(hours=1))
    convert(engine, world, bot, "o-bot", "10.00", DAY1 + dt.timedelta(hours=1))
    convert(engine, world, b1, "o-rev", "7.00", DAY2, status="reversed")
    convert(engine, world, c1, "o-c1", "30.00", DAY1 + dt.timedelta(hours=2))
    return {"a": a, "b": b, "c": c}


def figures(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["clicks"], row["unique_clicks"], row["bot_clicks"], row["conversions"], row["revenue"], row["payout"])


def partner_report(engine, world, group_by, date_from=FROM, date_to=TO, **kw):  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        return reports.summary(
            conn, date_from=date_from, date_to=date_to, group_by=group_by, partner_id=world.partner.id, **kw
        )


def advertiser_report(engine, advertiser, group_by, date_from=FROM, date_to=TO, **kw):  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        return reports.summary(
            conn, date_from=date_from, date_to=date_to, group_by=group_by, advertiser_id=advertiser.id, **kw
        )


def fold_everything(engine) -> None:  # type: ignore[no-untyped-def]
    with db.transaction(engine) as conn:
        reports.fold_clicks(conn, now=DAY3 + dt.timedelta(days=1))


@pytest.mark.parametrize("folded", [False, True])
def test_partner_report_by_day(engine, world, scene, folded) -> None:
    if folded:
        fold_everything(engine)
    report = partner_report(engine, world, "day")
    assert [(row["key"], figures(row)) for row in report["rows"]] == [
        ("2026-03-10", (4, 2, 1, 2, "30.00", "5.00")),
        ("2026-03-11", (1, 1, 0, 0, "0.00", "0.00")),
    ]
    assert figures(report["totals"]) == (5, 3, 1, 2, "30.00", "5.00")
    assert report["currency"] == "USD" and report["from"] == "2026-03-10" and report["to"] == "2026-03-11"


def test_conversion_rate_is_conversions_per_billable_click(engine, world, scene) -> None:
    report = partner_report(engine, world, "day")
    assert [row["conversion_rate"] for row in report["rows"]] == [1.0, 0.0]
    assert report["totals"]["conversion_rate"] == round(2 / 3, 4) == 0.6667
    empty = partner_report(engine, world, "day", date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 1, 2))
    assert empty["totals"]["conversion_rate"] is None


@pytest.mark.parametrize("folded", [False, True])
def test_partner_report_by_link_subid_and_sharedid(engine, world, scene, folded) -> None:
    if folded:
        fold_everything(engine)
    by_link = partner_report(engine, world, "link")
    assert [(row["key"], figures(row)) for row in by_link["rows"]] == [
        (scene["a"].id, (4, 2, 1, 2, "30.00", "5.00")),
        (scene["b"].id, (1, 1, 0, 0, "0.00", "0.00")),
    ]
    by_sub = partner_report(engine, world, "subId1")
    assert [(row["key"], row["clicks"]) for row in by_sub["rows"]] == [("s1", 4), (None, 1)]
    by_shared = partner_report(engine, world, "sharedid")
    assert [(row["key"], row["clicks"]) for row in by_shared["rows"]] == [("sh", 4), (None, 1)]
    assert [row["key"] for row in partner_report(engine, world, "campaign")["rows"]] == [world.campaign.id]
    assert [row["key"] for row in partner_report(engine, world, "task")["rows"]] == [world.task.id]


def test_date_bounds_are_inclusive_utc_days(engine, world, scene) -> None:
    only_day2 = partner_report(engine, world, "day", DAY2.date(), DAY2.date())
    assert [row["key"] for row in only_day2["rows"]] == ["2026-03-11"]  # 23:59:59 is still that day
    only_day3 = partner_report(engine, world, "day", DAY3.date(), DAY3.date())
    assert [(row["key"], row["clicks"]) for row in only_day3["rows"]] == [("2026-03-12", 1)]  # 00:00 is the next
    empty = partner_report(engine, world, "day", dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert empty["rows"] == [] and figures(empty["totals"]) == (0, 0, 0, 0, "0.00", "0.00")
    with db.reading(engine) as conn, pytest.raises(ValidationError):
        reports.summary(conn, date_from=TO, date_to=FROM, group_by="day", partner_id=world.partner.id)


def test_a_partner_never_sees_another_partners_figures(engine, world, scene) -> None:
    with db.reading(engine) as conn:
        other = reports.summary(conn, date_from=FROM, date_to=TO, group_by="link", partner_id=world.other_partner.id)
    assert [(row["key"], figures(row)) for row in other["rows"]] == [(scene["c"].id, (1, 1, 0, 1, "30.00", "5.00"))]
    mine = partner_report(engine, world, "subId1")
    assert "q-secret" not in {row["key"] for row in mine["rows"]}


def test_advertiser_report_by_partner_and_never_by_sub_id(engine, world, scene) -> None:
    by_partner = advertiser_report(engine, world.advertiser, "partner")
    assert [(row["key"], figures(row)) for row in by_partner["rows"]] == [
        (world.partner.id, (5, 3, 1, 2, "30.00", "5.00")),
        (world.other_partner.id, (1, 1, 0, 1, "30.00", "5.00")),
    ]
    assert figures(by_partner["totals"]) == (6, 4, 1, 3, "60.00", "10.00")
    with pytest.raises(ValidationError):
        advertiser_report(engine, world.advertiser, "subId1")
    shared = advertiser_report(engine, world.advertiser, "sharedid")
    assert {row["key"] for row in shared["rows"]} == {"sh", None}


def test_an_advertiser_never_sees_another_advertisers_campaigns(engine, world, scene) -> None:
    report = advertiser_report(engine, world.other_advertiser, "campaign")
    assert report["rows"] == [] and report["totals"]["clicks"] == 0
    filtered = advertiser_report(engine, world.other_advertiser, "day", campaign_id=world.campaign.id)
    assert filtered["rows"] == []


def test_campaign_filter(engine, world, scene, make) -> None:
    second = make.campaign(world.advertiser.id, world.program.id)
    make.membership(world.partner.id, second.id)
    task = make.task(world.advertiser.id, second.id)
    hit(engine, link_for(engine, world.partner, task), DAY1)
    assert partner_report(engine, world, "day")["totals"]["clicks"] == 6
    assert partner_report(engine, world, "day", campaign_id=second.id)["totals"]["clicks"] == 1


def test_cpc_payout_is_counted_per_billable_click(engine, make) -> None:
    world = make.world(payout_model="cpc", payout_amount="0.25")
    link = link_for(engine, world.partner, world.task)
    hit(engine, link, DAY1)  # billable
    hit(engine, link, DAY1)  # repeat
    hit(engine, link, DAY1, agent="curl/8")  # bot
    hit(engine, link, DAY1, address="192.0.2.9")  # billable
    convert(engine, world, hit(engine, link, DAY1, address="192.0.2.10"), "o", "100.00", DAY1)  # billable, conv 0
    report = partner_report(engine, world, "day")
    assert figures(report["totals"]) == (5, 3, 1, 1, "100.00", "0.75")
    fold_everything(engine)
    assert figures(partner_report(engine, world, "day")["totals"]) == (5, 3, 1, 1, "100.00", "0.75")


def test_fold_is_incremental_and_leaves_young_clicks_in_the_tail(engine, world, scene) -> None:
    with db.transaction(engine) as conn:
        assert reports.fold_clicks(conn, now=DAY1 + dt.timedelta(minutes=30)) > 0  # only the settled DAY1 clicks
        mark = reports.watermark(conn)
    hit(engine, scene["a"], DAY2, address="192.0.2.77")
    assert partner_report(engine, world, "day")["totals"]["clicks"] == 6
    with db.transaction(engine) as conn:
        assert reports.fold_clicks(conn, now=DAY3 + dt.timedelta(days=1)) > 0
        assert reports.watermark(conn) > mark
        assert reports.fold_clicks(conn, now=DAY3 + dt.timedelta(days=1)) == 0  # nothing new
    assert partner_report(engine, world, "day")["totals"]["clicks"] == 6


def test_several_currencies_split_rows_and_totals(engine, make, world, scene) -> None:
    euro = make.campaign(world.advertiser.id, world.program.id, currency="EUR")
    make.membership(world.partner.id, euro.id)
    task = make.task(world.advertiser.id, euro.id)
    hit(engine, link_for(engine, world.partner, task), DAY1)
    report = partner_report(engine, world, "day")
    day1 = [row for row in report["rows"] if row["key"] == "2026-03-10"]
    assert sorted(row["currency"] for row in day1) == ["EUR", "USD"]
    assert report["currency"] is None and report["totals"]["revenue"] is None
    assert report["totals_by_currency"]["USD"]["revenue"] == "30.00"
    assert report["totals"]["clicks"] == 6


# --- over HTTP -------------------------------------------------------------------


def test_partner_endpoint(client, auth, world, scene) -> None:
    answer = client.get(
        "/api/v1/reports/summary?from=2026-03-10&to=2026-03-11&group_by=link", headers=auth(world.partner)
    )
    assert answer.status_code == 200
    assert [row["key"] for row in answer.json["rows"]] == [scene["a"].id, scene["b"].id]
    assert answer.json["totals"]["revenue"] == "30.00"


def test_advertiser_endpoint(client, world, scene) -> None:
    headers = {"Authorization": f"Bearer {world.api_key}"}
    answer = client.get("/api/v1/reports/summary?from=2026-03-10&to=2026-03-11&group_by=partner", headers=headers)
    assert answer.status_code == 200 and len(answer.json["rows"]) == 2
    refused = client.get("/api/v1/reports/summary?group_by=subId1", headers=headers)
    assert refused.status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-13-01",
        "to=yesterday",
        "from=2026-03-12&to=2026-03-10",
        "group_by=week",
        "group_by=partner",
        "from=1900-01-01&to=2026-01-01",
    ],
)
def test_bad_queries_are_400(client, auth, world, query) -> None:
    assert client.get(f"/api/v1/reports/summary?{query}", headers=auth(world.partner)).status_code == 400


def test_default_range_is_the_last_30_days(client, auth, world) -> None:
    answer = client.get("/api/v1/reports/summary", headers=auth(world.partner))
    today = db.utcnow().date()
    assert answer.json["to"] == today.isoformat()
    assert answer.json["from"] == (today - dt.timedelta(days=29)).isoformat()
    assert client.get("/api/v1/reports/summary").status_code == 401


def test_endpoint_folds_once_the_tail_is_long(client, auth, engine, world, scene, monkeypatch) -> None:
    monkeypatch.setattr(reports, "FOLD_AFTER", 1)
    monkeypatch.setattr(reports, "SETTLE", dt.timedelta(0))
    before = client.get("/api/v1/reports/summary?from=2026-03-10&to=2026-03-11", headers=auth(world.partner)).json
    with db.reading(engine) as conn:
        assert reports.watermark(conn) > 0
    after = client.get("/api/v1/reports/summary?from=2026-03-10&to=2026-03-11", headers=auth(world.partner)).json
    assert before == after


@pytest.mark.parametrize(
    "query",
    [
        "to=0001-01-02",
        "to=0001-01-01",
        "to=9999-12-31",
        "to=9999-12-30",
        "from=0001-01-01",
        "from=9999-12-31",
        "from=0001-01-01&to=0001-01-05",
        "from=9999-12-25&to=9999-12-31",
        "from=1999-12-31&to=2000-01-10",
    ],
)
def test_days_outside_the_supported_range_are_400_not_500(client, auth, world, query) -> None:
    for headers in (auth(world.partner), {"Authorization": f"Bearer {world.api_key}"}):
        answer = client.get(f"/api/v1/reports/summary?{query}", headers=headers)
        assert answer.status_code == 400, answer.get_data(as_text=True)
        assert answer.json["error"]["code"] == "invalid_dates"
        assert "2000-01-01 to 9998-12-31" in answer.json["error"]["message"]


def test_the_first_and_last_supported_days_answer(client, auth, world) -> None:
    headers = auth(world.partner)
    last = client.get("/api/v1/reports/summary?from=9998-12-01&to=9998-12-31", headers=headers)
    assert last.status_code == 200 and last.json["to"] == "9998-12-31"
    # "from" defaults to 29 days before "to", but never before the first supported day.
    first = client.get("/api/v1/reports/summary?to=2000-01-05", headers=headers)
    assert first.status_code == 200 and (first.json["from"], first.json["to"]) == ("2000-01-01", "2000-01-05")
    with db.reading(db.get_engine(client.application)) as conn:
        assert (
            reports.summary(
                conn,
                date_from=reports.FIRST_DAY,
                date_to=reports.FIRST_DAY,
                group_by="day",
                partner_id=world.partner.id,
            )["rows"]
            == []
        )
        with pytest.raises(ValidationError) as refused:
            reports.summary(
                conn,
                date_from=dt.date(9999, 12, 31),
                date_to=dt.date(9999, 12, 31),
                group_by="day",
                partner_id=world.partner.id,
            )
        assert refused.value.code == "invalid_dates"
