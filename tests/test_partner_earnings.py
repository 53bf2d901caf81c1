"""A partner's earnings: per campaign and link, payouts by conversion status, one total per currency."""

from __future__ import annotations

import datetime as dt

import pytest

from api import db
from api.services import reports
from test_reports import DAY1, FROM, TO, convert, fold_everything, hit, link_for, scene  # noqa: F401


def earnings_of(engine, partner, date_from=FROM, date_to=TO):  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        return reports.partner_earnings(conn, partner.id, date_from, date_to)


def amounts(figures: reports.Earnings) -> tuple[object, ...]:
    return (
        figures.clicks,
        figures.billable_clicks,
        figures.conversions,
        figures.reversed_conversions,
        str(figures.click_payout),
        str(figures.pending),
        str(figures.approved),
        str(figures.reversed),
    )


@pytest.mark.parametrize("folded", [False, True])
def test_earnings_per_link_and_campaign_split_payouts_by_status(engine, world, scene, folded) -> None:  # noqa: F811
    if folded:
        fold_everything(engine)
    found = earnings_of(engine, world.partner)
    [campaign] = found.campaigns
    assert (campaign.campaign_id, campaign.campaign_name) == (world.campaign.id, world.campaign.name)
    by_link = {link.link_id: amounts(link.figures) for link in campaign.links}
    # Link a: 4 clicks (a repeat and a bot not billable), a paid conversion and a bot's conversion (pays 0).
    assert by_link[scene["a"].id] == (4, 2, 2, 0, "0.00", "5.00", "0.00", "0.00")
    # Link b: its conversion was reversed: counted apart, its payout not earned.
    assert by_link[scene["b"].id] == (1, 1, 0, 1, "0.00", "0.00", "0.00", "5.00")
    assert amounts(campaign.figures) == (5, 3, 2, 1, "0.00", "5.00", "0.00", "5.00")
    assert campaign.figures.earned == 5
    assert [(total.currency, amounts(total)) for total in found.totals] == [("USD", amounts(campaign.figures))]
    # The same clicks as the summary report.
    with db.reading(engine) as conn:
        summary = reports.summary(conn, date_from=FROM, date_to=TO, group_by="link", partner_id=world.partner.id)
    assert {row["key"]: row["clicks"] for row in summary["rows"]} == {scene["a"].id: 4, scene["b"].id: 1}


def test_approved_payouts_and_cpc_click_earnings(engine, make, world) -> None:
    cpc = make.campaign(world.advertiser.id, world.program.id, payout_model="cpc", payout_amount="0.25", currency="EUR")
    make.membership(world.partner.id, cpc.id)
    cpc_link = link_for(engine, world.partner, make.task(world.advertiser.id, cpc.id))
    cpa_link = link_for(engine, world.partner, world.task)
    hit(engine, cpc_link, DAY1)
    hit(engine, cpc_link, DAY1, address="192.0.2.9")
    sale = hit(engine, cpa_link, DAY1)
    convert(engine, world, sale, "o-1", "40.00", DAY1 + dt.timedelta(hours=1), status="approved")
    found = earnings_of(engine, world.partner)
    by_campaign = {entry.campaign_id: entry.figures for entry in found.campaigns}
    assert amounts(by_campaign[cpc.id]) == (2, 2, 0, 0, "0.50", "0.00", "0.00", "0.00")
    assert by_campaign[cpc.id].currency == "EUR"
    assert amounts(by_campaign[world.campaign.id]) == (1, 1, 1, 0, "0.00", "0.00", "5.00", "0.00")
    # Never added across currencies: one total each.
    assert [(t.currency, str(t.earned)) for t in found.totals] == [("EUR", "0.50"), ("USD", "5.00")]


def test_a_partner_sees_only_their_own_links(engine, world, scene) -> None:  # noqa: F811
    other = earnings_of(engine, world.other_partner)
    assert [link.link_id for entry in other.campaigns for link in entry.links] == [scene["c"].id]
    empty = earnings_of(engine, world.partner, dt.date(2025, 1, 1), dt.date(2025, 1, 2))
    assert empty.campaigns == [] and empty.totals == []


def test_earnings_endpoint(client, engine, world, scene, auth) -> None:  # noqa: F811
    answer = client.get(f"/api/v1/reports/earnings?from={FROM}&to={TO}", headers=auth(world.partner))
    assert answer.status_code == 200
    body = answer.json
    assert (body["from"], body["to"]) == (FROM.isoformat(), TO.isoformat())
    [campaign] = body["campaigns"]
    assert (
        campaign["currency"],
        campaign["pending"],
        campaign["approved"],
        campaign["reversed"],
        campaign["click_payout"],
        campaign["earned"],
    ) == ("USD", "5.00", "0.00", "5.00", "0.00", "5.00")
    assert [link["link_id"] for link in campaign["links"]] == [scene["a"].id, scene["b"].id]
    assert campaign["links"][0]["task_title"] == world.task.title
    assert body["totals"] == [{key: campaign[key] for key in body["totals"][0]}]
    bad = client.get(f"/api/v1/reports/earnings?from={TO}&to={FROM}", headers=auth(world.partner))
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_dates"
    assert client.get("/api/v1/reports/earnings?from=2026-13-01", headers=auth(world.partner)).status_code == 400
    assert client.get("/api/v1/reports/earnings").status_code == 401
    # An advertiser's key is not a partner's session.
    assert (
        client.get("/api/v1/reports/earnings", headers={"Authorization": f"Bearer {world.api_key}"}).status_code == 401
    )


def test_campaign_terms_where_links_are_made(client, make, world, auth) -> None:
    revshare = make.campaign(
        world.advertiser.id,
        world.program.id,
        payout_model="revshare",
        payout_amount="12.5",
        currency="EUR",
        attribution_window_days=14,
    )
    make.membership(world.partner.id, revshare.id)
    answer = client.get("/api/v1/campaigns", headers=auth(world.partner))
    terms = {c["id"]: c["terms"] for c in answer.json["campaigns"]}
    assert terms[world.campaign.id] == {
        "payout_model": "cpa",
        "amount": "5.00",
        "percent": None,
        "currency": "USD",
        "attribution_window_days": 30,
        "pays": True,
    }
    assert terms[revshare.id] == {
        "payout_model": "revshare",
        "amount": None,
        "percent": "12.50",
        "currency": "EUR",
        "attribution_window_days": 14,
        "pays": True,
    }
