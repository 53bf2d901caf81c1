"""Earnings integrity: every click billable or one reason, and no partner can inflate or move a payout.

Each test is written as the hostile partner (or the careless advertiser)
would try it, through the real redirect and the real postback.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from api import clicklog, create_app, db
from api.schema import clicks
from api.schema import memberships as membership_table
from api.services import campaigns, earnings, links, memberships, reports

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"


def make_link(engine, world, partner=None, **kwargs):  # type: ignore[no-untyped-def]
    with db.transaction(engine) as conn:
        return links.create_link(conn, (partner or world.partner).id, world.task.id, **kwargs)


def click(client, link, address="203.0.113.7", agent=BROWSER, **headers):  # type: ignore[no-untyped-def]
    """Follow a link as a visitor; the answer (a 302 in every case here)."""
    answer = client.get(
        f"/s/{link.code}", headers={"User-Agent": agent, **headers}, environ_base={"REMOTE_ADDR": address}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer


def click_id_of(answer) -> str:  # type: ignore[no-untyped-def]
    [value] = [v for k, v in parse_qsl(urlsplit(answer.headers["Location"]).query) if k == "clickid"]
    return value


def stored(engine) -> list:  # type: ignore[type-arg]
    with db.reading(engine) as conn:
        return conn.execute(select(clicks).order_by(clicks.c.id)).all()


def set_membership(engine, world, status: str) -> None:  # type: ignore[no-untyped-def]
    with db.transaction(engine) as conn:
        memberships.set_status_for(conn, world.partner.id, world.campaign.id, status)


def settings(engine, world, **changes) -> None:  # type: ignore[no-untyped-def]
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, **changes)


def post_conversion(client, world, click_id: str, order: str, amount: str = "100.00"):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/conversions",
        headers={"Authorization": f"Bearer {world.api_key}"},
        json={"click_id": click_id, "order_id": order, "amount": amount, "currency": "USD"},
    )


# --- one reason per click, in order, and the visitor never punished -----------------------


def _make_state(engine, world, link, state: str) -> None:  # type: ignore[no-untyped-def]
    if state == "not_paying":
        settings(engine, world, pay_for_performance=False)
    elif state == "campaign_ended":
        settings(engine, world, status="ended")
    elif state == "campaign_paused":
        settings(engine, world, status="paused")
    elif state in ("ended", "declined", "pending", "invited"):
        set_membership(engine, world, state)
    elif state == "link_disabled":
        with db.transaction(engine) as conn:
            links.set_disabled(conn, world.partner.id, link.id, True)
    elif state == "advertiser_disabled":
        with db.transaction(engine) as conn:
            links.advertiser_set_disabled(conn, world.advertiser.id, link.id, True)


# state → (reason, where the visitor goes: the link's own landing URL or the default page)
STATES = {
    "live": (None, "own"),
    "not_paying": ("not_paying", "own"),
    "campaign_ended": ("campaign_ended", "default"),
    "campaign_paused": ("campaign_paused", "own"),
    "ended": ("membership_ended", "default"),
    "declined": ("membership_ended", "default"),
    "pending": ("membership_ended", "default"),
    # A link made while active whose membership became an unanswered invitation (operators can set any status).
    "invited": ("membership_ended", "default"),
    "link_disabled": ("link_disabled", "default"),
    "advertiser_disabled": ("link_disabled", "default"),
}


@pytest.mark.parametrize("state", list(STATES))
def test_each_state_records_its_reason_and_still_redirects_to_an_allowed_page(client, engine, world, state) -> None:
    link = make_link(engine, world, landing_url="https://deals.brand.test/spring")
    _make_state(engine, world, link, state)
    answer = click(client, link)
    reason, destination = STATES[state]
    [row] = stored(engine)
    assert (row.billable, row.reason) == (reason is None, reason)
    expected = "https://deals.brand.test/spring?clickid=" if destination == "own" else "https://brand.test/?clickid="
    assert answer.headers["Location"].startswith(expected)
    assert click_id_of(answer) == row.click_id


def test_reasons_are_checked_in_order_so_each_click_has_exactly_one(client, engine, world) -> None:
    """A bot's prefetch on a disabled link of an ended membership in a campaign that stopped paying."""
    link = make_link(engine, world)
    settings(engine, world, pay_for_performance=False)
    set_membership(engine, world, "ended")
    with db.transaction(engine) as conn:
        links.set_disabled(conn, world.partner.id, link.id, True)
    click(client, link, agent="Googlebot/2.1", **{"Sec-Purpose": "prefetch"})
    settings(engine, world, pay_for_performance=True)
    click(client, link, agent="Googlebot/2.1", **{"Sec-Purpose": "prefetch"})
    set_membership(engine, world, "active")
    click(client, link, agent="Googlebot/2.1", **{"Sec-Purpose": "prefetch"})
    with db.transaction(engine) as conn:
        links.set_disabled(conn, world.partner.id, link.id, False)
    click(client, link, agent="Googlebot/2.1", **{"Sec-Purpose": "prefetch"})
    click(client, link, **{"Sec-Purpose": "prefetch"})
    assert [row.reason for row in stored(engine)] == [
        "not_paying",
        "membership_ended",
        "link_disabled",
        "bot",
        "prefetch",
    ]


def test_a_paused_campaign_pays_when_the_advertiser_says_so(client, engine, world) -> None:
    link = make_link(engine, world)
    settings(engine, world, status="paused", paused_pays=True)
    click(client, link)
    settings(engine, world, paused_pays=False)
    click(client, link, address="198.51.100.4")
    assert [(row.billable, row.reason) for row in stored(engine)] == [(True, None), (False, "campaign_paused")]


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Purpose": "prefetch"},
        {"Sec-Purpose": "prefetch;prerender"},
        {"Purpose": "prefetch"},
        {"X-Purpose": "preview"},
        {"X-Moz": "prefetch"},
    ],
)
def test_a_prefetch_is_recorded_but_not_billable_and_does_not_make_the_real_click_a_duplicate(
    client, engine, world, headers
) -> None:
    link = make_link(engine, world)
    click(client, link, **headers)
    click(client, link)
    assert [(row.billable, row.reason) for row in stored(engine)] == [(False, "prefetch"), (True, None)]


# --- the visitor is the address ----------------------------------------------------------------


def test_twenty_user_agents_from_one_address_are_one_billable_click(client, engine, make) -> None:
    world = make.world(payout_model="cpc", payout_amount="0.25")
    link = make_link(engine, world)
    for n in range(20):
        click(client, link, agent=f"Mozilla/5.0 (Windows NT 10.0) Chrome/12{n}.0 Safari/537.36")
    rows = stored(engine)
    assert sum(row.billable for row in rows) == 1
    assert sum(row.payout_minor for row in rows) == 25
    assert {row.reason for row in rows[1:]} == {"duplicate"}


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff:1:2:3", True),  # the same /64: one visitor
        ("2001:db8:1:2::1", "2001:db8:1:3::1", False),  # another /64
        ("203.0.113.9", "::ffff:203.0.113.9", True),  # IPv4-mapped IPv6 is the IPv4 address
        ("203.0.113.9", "203.0.113.10", False),  # IPv4 is /32
    ],
)
def test_visitor_identity_is_ipv4_32_or_ipv6_64(client, engine, world, first, second, same) -> None:
    link = make_link(engine, world)
    click(client, link, address=first)
    click(client, link, address=second)
    rows = stored(engine)
    assert [row.billable for row in rows] == [True, not same]
    assert len({row.ip_hash for row in rows}) == 2  # the exact address is still hashed apart
    assert all(first not in row.ip_hash and first not in row.visitor_hash for row in rows)


def test_a_bot_click_first_does_not_make_the_persons_click_a_duplicate(client, engine, world) -> None:
    link = make_link(engine, world)
    click(client, link, agent="Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)")
    click(client, link)
    assert [row.reason for row in stored(engine)] == ["bot", None]


# --- the daily cap per visitor address and campaign ---------------------------------------------


def test_the_daily_cap_counts_billable_clicks_of_an_address_across_the_campaigns_links(
    client, engine, world, monkeypatch
) -> None:
    now = [dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)]
    monkeypatch.setattr(db, "utcnow", lambda: now[0])
    many = [make_link(engine, world, landing_url=f"https://brand.test/p{n}") for n in range(8)]
    for link in many:
        click(client, link)
    assert [row.reason for row in stored(engine)] == [None] * 5 + ["over_cap"] * 3
    click(client, many[0], address="198.51.100.77")  # another address has its own cap
    now[0] = dt.datetime(2026, 5, 2, 0, 0, 1, tzinfo=dt.UTC)  # a new UTC day
    click(client, many[6])
    assert [row.reason for row in stored(engine)][-2:] == [None, None]


def test_the_cap_is_set_per_campaign(client, engine, world) -> None:
    settings(engine, world, daily_click_cap=2)
    for n in range(4):
        click(client, make_link(engine, world, landing_url=f"https://brand.test/q{n}"))
    assert [row.reason for row in stored(engine)] == [None, None, "over_cap", "over_cap"]


@pytest.mark.parametrize("value", [0, -1, 100_001, True, 2.5, "5"])
def test_a_wrong_cap_is_refused(engine, world, value) -> None:
    from api.errors import ValidationError

    with pytest.raises(ValidationError, match="daily click cap"):
        settings(engine, world, daily_click_cap=value)


def test_the_cap_holds_under_parallel_clicks_on_several_nodes(engine, world, app_config, tmp_path) -> None:
    """Two nodes (two click logs), eight threads, one address: exactly the cap is billable."""
    nodes = []
    for n in range(2):
        app = create_app({**app_config, "CLICK_LOG_DIR": str(tmp_path / f"node{n}")})
        app.test_client_class = FlaskClient  # leave storing to the nodes' flushes below
        nodes.append(app)
    many = [make_link(engine, world, landing_url=f"https://brand.test/r{n}") for n in range(12)]
    errors: list[BaseException] = []

    def visitor(index: int) -> None:
        try:
            client = nodes[index % 2].test_client()
            for link in many:
                click(client, link, address="203.0.113.200")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=visitor, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    flushers = [threading.Thread(target=clicklog.of(app).flush) for app in nodes for _ in range(2)]
    for thread in flushers:
        thread.start()
    for thread in flushers:
        thread.join()
    rows = stored(engine)
    assert len(rows) == 8 * 12
    assert sum(row.billable for row in rows) == 5
    assert {row.reason for row in rows if not row.billable} <= {"duplicate", "over_cap"}
    for app in nodes:
        db.get_engine(app).dispose()


# --- stopping a partner applies within the bound, on every node ------------------------------------


def test_ending_a_membership_while_clicks_are_logged_stops_earnings_from_then_on(
    engine, world, app_config, tmp_path
) -> None:
    """Visitors keep clicking on two nodes with the default 1-second cache while the advertiser ends the membership."""
    bound = 1.0
    nodes = []
    for n in range(2):
        app = create_app({**app_config, "REDIRECT_CACHE_SECONDS": bound, "CLICK_LOG_DIR": str(tmp_path / f"n{n}")})
        app.test_client_class = FlaskClient
        nodes.append(app)
    link = make_link(engine, world, landing_url="https://deals.brand.test/x")
    stop = threading.Event()
    counter = iter(range(1, 1_000_000))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def visitors(node) -> None:  # type: ignore[no-untyped-def]
        client = node.test_client()
        try:
            while not stop.is_set():
                with lock:
                    n = next(counter)
                click(client, link, address=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=visitors, args=(node,)) for node in nodes for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    before_end = db.utcnow()
    with db.transaction(engine) as conn:
        membership_id = conn.execute(
            select(membership_table.c.id).where(
                membership_table.c.partner_id == world.partner.id, membership_table.c.campaign_id == world.campaign.id
            )
        ).scalar_one()
        memberships.set_membership_status(conn, world.advertiser.id, membership_id, "ended")
    ended_at = db.utcnow()
    time.sleep(bound + 1.0)
    stop.set()
    for thread in threads:
        thread.join()
    assert not errors
    for node in nodes:
        clicklog.of(node).flush()
    rows = stored(engine)
    earlier = [row for row in rows if row.created_at < before_end]
    later = [row for row in rows if row.created_at > ended_at + dt.timedelta(seconds=bound + 0.2)]
    assert earlier and later
    assert all(row.billable for row in earlier)
    assert all(row.reason == "membership_ended" for row in later)
    for node in nodes:
        db.get_engine(node).dispose()


def test_a_partner_cannot_enable_a_link_the_advertiser_disabled(client, engine, world, auth) -> None:
    link = make_link(engine, world)
    with db.transaction(engine) as conn:
        links.advertiser_set_disabled(conn, world.advertiser.id, link.id, True)
    answer = client.patch(f"/api/v1/links/{link.id}", json={"disabled": False}, headers=auth(world.partner))
    assert answer.status_code == 403 and answer.json["error"]["code"] == "disabled_by_advertiser"
    shown = client.get(f"/api/v1/links/{link.id}", headers=auth(world.partner)).json
    assert (shown["disabled"], shown["disabled_by"]) == (True, "advertiser")
    assert click(client, link).headers["Location"].startswith("https://brand.test/?clickid=")
    with db.transaction(engine) as conn:
        links.advertiser_set_disabled(conn, world.advertiser.id, link.id, False)
    shown = client.patch(f"/api/v1/links/{link.id}", json={"disabled": True}, headers=auth(world.partner)).json
    assert (shown["disabled"], shown["disabled_by"]) == (True, "partner")
    shown = client.patch(f"/api/v1/links/{link.id}", json={"disabled": False}, headers=auth(world.partner)).json
    assert (shown["disabled"], shown["disabled_by"]) == (False, None)


def test_the_advertiser_disables_every_link_of_one_partner_in_one_campaign_only(engine, world, make) -> None:
    other_campaign = make.campaign(world.advertiser.id, world.program.id)
    make.membership(world.partner.id, other_campaign.id)
    elsewhere_task = make.task(world.advertiser.id, other_campaign.id)
    make.membership(world.other_partner.id, world.campaign.id)
    mine = [make_link(engine, world) for _ in range(3)]
    rival = make_link(engine, world, partner=world.other_partner)
    with db.transaction(engine) as conn:
        elsewhere = links.create_link(conn, world.partner.id, elsewhere_task.id)
        assert (
            links.advertiser_disable_partner_links(conn, world.advertiser.id, world.campaign.id, world.partner.id) == 3
        )
        # Another advertiser can touch none of them.
        assert (
            links.advertiser_disable_partner_links(
                conn, world.other_advertiser.id, world.campaign.id, world.other_partner.id
            )
            == 0
        )
        from api.errors import NotFound

        with pytest.raises(NotFound):
            links.advertiser_set_disabled(conn, world.other_advertiser.id, rival.id, True)
        state = {
            link.id: links.get_link(conn, link.partner_id, link.id).disabled_by for link in (*mine, rival, elsewhere)
        }
    assert state == {
        mine[0].id: "advertiser",
        mine[1].id: "advertiser",
        mine[2].id: "advertiser",
        rival.id: None,
        elsewhere.id: None,
    }


# --- conversions pay only where someone may earn ----------------------------------------------------

# The click's reason → whether its sale pays the cpa (5.00).
CONVERSION_CASES = {
    None: True,
    "duplicate": True,
    "over_cap": True,
    "prefetch": True,
    "bot": False,
    "link_disabled": False,
    "membership_ended": False,
    "campaign_ended": False,
    "campaign_paused": False,
    "not_paying": False,
}


def _click_with_reason(client, engine, world, link, reason):  # type: ignore[no-untyped-def]
    if reason == "duplicate":
        click(client, link)
    elif reason == "over_cap":
        settings(engine, world, daily_click_cap=1)
        click(client, make_link(engine, world, landing_url="https://brand.test/other"))
    elif reason in ("link_disabled", "membership_ended", "campaign_ended", "campaign_paused", "not_paying"):
        state = {"membership_ended": "ended", "link_disabled": "link_disabled"}.get(reason, reason)
        _make_state(engine, world, link, state)
    headers = {"Sec-Purpose": "prefetch"} if reason == "prefetch" else {}
    agent = "Twitterbot/1.0" if reason == "bot" else BROWSER
    answer = click(client, link, agent=agent, **headers)
    assert stored(engine)[-1].reason == reason
    return click_id_of(answer)


@pytest.mark.parametrize("reason", list(CONVERSION_CASES))
def test_a_conversion_pays_unless_its_click_was_made_where_nobody_may_earn(client, engine, world, reason) -> None:
    link = make_link(engine, world)
    click_id = _click_with_reason(client, engine, world, link, reason)
    # The advertiser may have changed their mind since; what counts is how the click was made.
    settings(engine, world, status="active", pay_for_performance=True)
    set_membership(engine, world, "active")
    answer = post_conversion(client, world, click_id, f"order-{reason}")
    assert answer.status_code == 201  # the sale is always recorded
    pays = CONVERSION_CASES[reason]
    assert answer.json["payout"] == ("5.00" if pays else "0.00")
    assert answer.json["payout_reason"] == (None if pays else reason)
    assert answer.json["amount"] == "100.00"


def test_earnings_made_while_live_stay_when_the_partner_is_stopped_afterwards(client, engine, make) -> None:
    world = make.world(payout_model="revshare", payout_amount="10")
    link = make_link(engine, world)
    live_click = click_id_of(click(client, link))
    with db.transaction(engine) as conn:
        links.advertiser_set_disabled(conn, world.advertiser.id, link.id, True)
    set_membership(engine, world, "ended")
    late_click = click_id_of(click(client, link, address="198.51.100.8"))
    paid = post_conversion(client, world, live_click, "A-1", "80.00").json
    unpaid = post_conversion(client, world, late_click, "A-2", "80.00").json
    assert (paid["payout"], paid["payout_reason"]) == ("8.00", None)
    assert (unpaid["payout"], unpaid["payout_reason"]) == ("0.00", "membership_ended")


def test_a_campaign_that_stops_paying_pays_no_conversion_from_then_on(client, engine, world) -> None:
    link = make_link(engine, world)
    click_id = click_id_of(click(client, link))
    settings(engine, world, pay_for_performance=False)
    answer = post_conversion(client, world, click_id, "B-1").json
    assert (answer["payout"], answer["payout_reason"]) == ("0.00", "not_paying")


# --- reports show invalid clicks to both sides -------------------------------------------------------


def _report(client, headers, group_by="campaign"):  # type: ignore[no-untyped-def]
    answer = client.get(f"/api/v1/reports/summary?group_by={group_by}", headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json


def test_reports_give_billable_and_invalid_clicks_by_reason_to_both_sides(client, engine, make, auth) -> None:
    world = make.world(payout_model="cpc", payout_amount="0.10")
    link = make_link(engine, world)
    click(client, link)  # billable
    click(client, link)  # duplicate
    click(client, link, agent="curl/8.4.0")  # bot
    click(client, link, address="198.51.100.3", **{"Purpose": "prefetch"})  # prefetch
    set_membership(engine, world, "ended")
    click(client, link, address="198.51.100.5")  # membership_ended
    expected = {
        "clicks": 5,
        "unique_clicks": 1,
        "bot_clicks": 1,
        "invalid_clicks": {"membership_ended": 1, "bot": 1, "prefetch": 1, "duplicate": 1},
        "payout": "0.10",
    }
    partner = _report(client, auth(world.partner))
    advertiser = _report(client, {"Authorization": f"Bearer {world.api_key}"})
    for report in (partner, advertiser):
        [row] = report["rows"]
        for totals in (row, report["totals"]):
            assert {key: totals[key] for key in expected} == expected
            assert totals["clicks"] == totals["unique_clicks"] + sum(totals["invalid_clicks"].values())
    assert list(partner["totals"]["invalid_clicks"]) == ["membership_ended", "bot", "prefetch", "duplicate"]


def test_folded_rollups_give_the_same_invalid_counts(client, engine, world) -> None:
    link = make_link(engine, world)
    for agent in (BROWSER, BROWSER, "Googlebot/2.1"):
        click(client, link, agent=agent)
    with db.reading(engine) as conn:
        before = reports.summary(
            conn,
            date_from=dt.date.today() - dt.timedelta(days=1),
            date_to=dt.date.today() + dt.timedelta(days=1),
            group_by="day",
            partner_id=world.partner.id,
        )
    with db.transaction(engine) as conn:
        assert reports.fold_clicks(conn, now=db.utcnow() + dt.timedelta(hours=1)) == 3
    with db.reading(engine) as conn:
        after = reports.summary(
            conn,
            date_from=dt.date.today() - dt.timedelta(days=1),
            date_to=dt.date.today() + dt.timedelta(days=1),
            group_by="day",
            partner_id=world.partner.id,
        )
    assert after == before
    assert before["totals"]["invalid_clicks"] == {"bot": 1, "duplicate": 1}


def test_the_partners_links_carry_their_billable_clicks(client, engine, world, auth) -> None:
    link = make_link(engine, world)
    click(client, link)
    click(client, link)
    shown = client.get(f"/api/v1/links/{link.id}", headers=auth(world.partner)).json
    assert (shown["clicks"], shown["billable_clicks"]) == (2, 1)


# --- the rules themselves -------------------------------------------------------------------------------


def test_no_earnings_is_exactly_the_reasons_where_nobody_may_earn() -> None:
    assert set(earnings.REASONS) - {"prefetch", "duplicate", "over_cap"} == earnings.NO_EARNINGS
    assert set(earnings.REASON_LABELS) == set(earnings.REASONS)


def test_changing_a_stored_click_behind_the_services_back_is_what_the_conversion_reads(client, engine, world) -> None:
    """The reason is data on the click, decided once: the conversion reads it, it does not re-derive it."""
    link = make_link(engine, world)
    click_id = click_id_of(click(client, link))
    with db.transaction(engine) as conn:
        conn.execute(update(clicks).where(clicks.c.click_id == click_id).values(billable=False, reason="bot"))
    assert post_conversion(client, world, click_id, "C-1").json["payout_reason"] == "bot"
