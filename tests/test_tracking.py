"""The redirect (SPEC §4): resolve → decide whether to track → record, then 302."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from api import db
from api.schema import clicks
from api.services import campaigns, landing_pages, links

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"


def make_link(engine, world, **kwargs):  # type: ignore[no-untyped-def]
    with db.transaction(engine) as conn:
        return links.create_link(conn, world.partner.id, world.task.id, **kwargs)


def all_clicks(engine):  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        return conn.execute(select(clicks).order_by(clicks.c.id)).all()


def short_path(link) -> str:  # type: ignore[no-untyped-def]
    return f"/s/{link.code}"


def click(client, path, agent=BROWSER, address="203.0.113.7", **headers):  # type: ignore[no-untyped-def]
    return client.get(path, headers={"User-Agent": agent, **headers}, environ_base={"REMOTE_ADDR": address})


def test_short_link_records_the_click_and_redirects_with_its_id(client, engine, world) -> None:
    link = make_link(engine, world, landing_url="https://shop.brand.test/sale?color=red#sizes")
    answer = click(client, short_path(link), Referer="https://social.example/post")
    assert answer.status_code == 302
    location = answer.headers["Location"]
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == ("https", "shop.brand.test", "/sale", "sizes")
    query = parse_qs(parts.query)
    assert query["color"] == ["red"]
    [row] = all_clicks(engine)
    assert query["clickid"] == [row.click_id]
    assert len(row.click_id) == 36
    assert (row.link_id, row.campaign_id, row.partner_id, row.task_id) == (
        link.id, world.campaign.id, world.partner.id, world.task.id)
    assert row.user_agent == BROWSER and row.referrer == "https://social.example/post"
    assert row.is_bot is False and row.billable is True and row.reason is None
    assert "203.0.113.7" not in row.ip_hash and len(row.ip_hash) == 64
    assert answer.headers["Cache-Control"] == "private, no-store"


def test_a_click_id_says_when_and_on_which_link_and_only_our_keys_make_one() -> None:
    import datetime as dt
    import re

    from api.services.clicks import ClickIds, new_click_id, verify_click_id
    from api.signing import click_id_keys

    newest, older = click_id_keys(["newest", "older"])
    made = dt.datetime(2026, 12, 1, 10, 0, 0, 123000, tzinfo=dt.timezone.utc)
    millis = int(made.timestamp()) * 1000 + 123
    click_id = new_click_id(ClickIds([newest, older]), 2**31 - 1, millis)
    assert re.fullmatch(r"[A-Za-z0-9_-]{36}", click_id)
    origin = verify_click_id(ClickIds([newest, older]), click_id)
    assert origin is not None and (origin.made_at, origin.link_id) == (made, 2**31 - 1)
    # Rotation: an id made with the key now second in the list still verifies; with a key
    # that is gone, or another installation's, it does not.
    assert verify_click_id(ClickIds([click_id_keys(["newer"])[0], newest]), click_id) == origin
    assert verify_click_id(ClickIds([older]), click_id) is None
    assert verify_click_id(ClickIds(click_id_keys(["elsewhere"])), click_id) is None
    # Any character changed, added or removed: not ours.
    for index, char in enumerate(click_id):
        for other in {"A", "_", "-", "+", "/", "="} - {char}:
            assert verify_click_id(ClickIds([newest]), click_id[:index] + other + click_id[index + 1:]) is None
    assert verify_click_id(ClickIds([newest]), click_id + "A") is None
    assert verify_click_id(ClickIds([newest]), click_id[:-1]) is None
    # Ids are unique even for clicks in the same millisecond on the same link.
    assert len({new_click_id(ClickIds([newest]), 7, millis) for _ in range(1000)}) == 1000
    # Ids of clicks made within a few seconds start alike (so they land together in the unique index).
    start = millis - millis % 4096
    assert new_click_id(ClickIds([newest]), 9, start)[:6] == new_click_id(ClickIds([newest]), 1, start + 4095)[:6]


def test_regular_link_redirects_the_same_way(client, engine, world) -> None:
    link = make_link(engine, world, kind="regular")
    _url, display = links.link_urls(link, "http://localhost", ["test-key-newest", "test-key-older"])
    answer = click(client, urlsplit(display).path)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("https://brand.test/?clickid=")
    assert len(all_clicks(engine)) == 1


def test_click_id_parameter_is_the_campaigns_and_replaces_a_planted_one(client, engine, world) -> None:
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, click_id_param="tl_click")
    link = make_link(engine, world, landing_url="https://brand.test/p?tl_click=forged&a=1&a=2")
    location = click(client, short_path(link)).headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["a"] == ["1", "2"]
    assert query["tl_click"] == [all_clicks(engine)[0].click_id]


@pytest.mark.parametrize("path", ["/s/nosuchcode", "/s/" + "x" * 40, "/c/not-a-token", "/c/eyJsIjoxfQ.tampered"])
def test_unknown_and_tampered_links_are_a_404_page_without_a_click(client, engine, world, path) -> None:
    make_link(engine, world)
    answer = click(client, path)
    assert answer.status_code == 404
    assert answer.mimetype == "text/html"
    assert b"Traceback" not in answer.data and b"not" in answer.data
    assert all_clicks(engine) == []


def test_a_changed_character_in_a_regular_token_is_a_404(client, engine, world) -> None:
    link = make_link(engine, world, kind="regular")
    token = links.regular_token(["test-key-newest", "test-key-older"], link)
    for index in (0, len(token) // 2, len(token) - 1):
        changed = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1:]
        assert click(client, f"/c/{changed}").status_code == 404
    assert click(client, f"/c/{token}").status_code == 302
    assert len(all_clicks(engine)) == 1


def test_head_answers_the_same_redirect_and_records_nothing(client, engine, world) -> None:
    link = make_link(engine, world, landing_url="https://brand.test/sale?x=1#top")
    answer = client.head(short_path(link), headers={"User-Agent": BROWSER})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "https://brand.test/sale?x=1#top"
    assert all_clicks(engine) == []
    assert client.head("/s/unknown1").status_code == 404


def test_click_tracking_off_redirects_without_recording(client, engine, world) -> None:
    link = make_link(engine, world)
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, click_tracking=False)
    answer = click(client, short_path(link))
    assert answer.status_code == 302 and answer.headers["Location"] == "https://brand.test/"
    assert all_clicks(engine) == []


def test_reporting_info_comes_from_the_clicked_url_else_the_link(client, engine, world) -> None:
    link = make_link(engine, world, reporting={"subId1": "story", "subId2": "s2", "sharedid": "shared"})
    click(client, short_path(link))
    click(client, short_path(link) + "?subId1=typed&sharedid=" + "z" * 400 + "&subId3=%00x")
    first, second = all_clicks(engine)
    assert (first.sub_id1, first.sub_id2, first.sub_id3, first.shared_id) == ("story", "s2", None, "shared")
    assert (second.sub_id1, second.sub_id2, second.sub_id3) == ("typed", "s2", "x")
    assert second.shared_id == "z" * 255


def test_long_user_agent_and_referrer_are_cut_not_refused(client, engine, world) -> None:
    link = make_link(engine, world)
    answer = click(client, short_path(link), agent=BROWSER + "x" * 2000, Referer="https://r.example/" + "y" * 3000)
    assert answer.status_code == 302
    [row] = all_clicks(engine)
    assert len(row.user_agent) == 512 and len(row.referrer) == 1024


@pytest.mark.parametrize("agent", [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Twitterbot/1.0",
    "WhatsApp/2.23.20.0 A",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.31.0",
    "",
])
def test_crawlers_and_unfurlers_are_bots(client, engine, world, agent) -> None:
    link = make_link(engine, world)
    assert click(client, short_path(link), agent=agent).status_code == 302
    [row] = all_clicks(engine)
    assert row.is_bot is True


def test_a_duplicate_is_a_later_click_of_the_same_address_within_24_hours_of_a_billable_one(
        client, engine, world, monkeypatch) -> None:
    import datetime as dt

    link = make_link(engine, world)
    other = make_link(engine, world, landing_url="https://brand.test/other")
    now = [dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.timezone.utc)]
    monkeypatch.setattr(db, "utcnow", lambda: now[0])
    click(client, short_path(link))                                    # billable
    click(client, short_path(link))                                    # same visitor: duplicate
    click(client, short_path(link), address="198.51.100.1")            # other address: billable
    click(client, short_path(link), agent=BROWSER + " Edg/124")         # other browser, same address: duplicate
    click(client, short_path(other))                                   # other link: billable
    now[0] += dt.timedelta(hours=23, minutes=59)
    click(client, short_path(link))                                    # within 24 h of the first: duplicate
    now[0] += dt.timedelta(hours=0, minutes=2)
    click(client, short_path(link))                                    # 24 h after the billable one: billable
    now[0] += dt.timedelta(hours=1)
    click(client, short_path(link))                                    # within 24 h of that one: duplicate
    rows = all_clicks(engine)
    assert [row.billable for row in rows] == [True, False, True, False, True, False, True, False]
    assert [row.reason for row in rows] == [None, "duplicate", None, "duplicate", None, "duplicate", None, "duplicate"]


def _default_fallback_cases(engine, world, link, case):  # type: ignore[no-untyped-def]
    with db.transaction(engine) as conn:
        if case == "disabled":
            links.set_disabled(conn, world.partner.id, link.id, True)
        elif case == "ended":
            campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, status="ended")
        elif case == "domain removed":
            landing_pages.set_allowed_domains(conn, world.advertiser.id, world.campaign.id, ["brand.test"])


@pytest.mark.parametrize("case", ["disabled", "ended", "domain removed"])
def test_fallbacks_go_to_the_campaigns_default_landing_page(client, engine, world, case) -> None:
    link = make_link(engine, world, landing_url="https://deals.brand.test/spring?x=1")
    _default_fallback_cases(engine, world, link, case)
    answer = click(client, short_path(link))
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith("https://brand.test/?clickid=")
    [row] = all_clicks(engine)
    assert location.endswith(row.click_id)


def test_paused_campaign_still_redirects_to_the_landing_url(client, engine, world) -> None:
    link = make_link(engine, world, landing_url="https://deals.brand.test/spring")
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, status="paused")
    assert click(client, short_path(link)).headers["Location"].startswith("https://deals.brand.test/spring?clickid=")


def test_no_default_page_is_a_link_inactive_page_never_a_redirect(client, engine, make) -> None:
    world = make.world(pages=())
    link = make_link(engine, world, landing_url="https://brand.test/only")
    with db.transaction(engine) as conn:
        links.set_disabled(conn, world.partner.id, link.id, True)
    answer = click(client, short_path(link))
    assert answer.status_code == 404 and "Location" not in answer.headers
    assert b"no longer active" in answer.data
    assert all_clicks(engine) == []


def test_a_tampered_stored_url_is_never_followed(client, engine, world) -> None:
    """A row changed behind the services' back: re-validated at redirect time, so the default page."""
    from sqlalchemy import update

    from api.schema import links as links_table

    link = make_link(engine, world)
    for evil in ("https://evil.example/", "javascript:alert(1)", "https://brand.test@evil.example/", "//evil.example"):
        with db.transaction(engine) as conn:
            conn.execute(update(links_table).where(links_table.c.id == link.id).values(landing_url=evil))
        location = click(client, short_path(link)).headers["Location"]
        assert location.startswith("https://brand.test/?clickid="), evil


def test_cpc_click_payout_only_for_billable_clicks_on_live_links(client, engine, make) -> None:
    world = make.world(payout_model="cpc", payout_amount="0.35")
    link = make_link(engine, world, landing_url="https://deals.brand.test/x")
    click(client, short_path(link))                          # billable
    click(client, short_path(link))                          # repeat: not unique
    click(client, short_path(link), agent="Twitterbot/1.0")  # bot
    with db.transaction(engine) as conn:
        links.set_disabled(conn, world.partner.id, link.id, True)
    click(client, short_path(link), address="198.51.100.9")  # unique, but the link is disabled
    assert [row.payout_minor for row in all_clicks(engine)] == [35, 0, 0, 0]


# --- the per-worker cache and its bound --------------------------------------------

def test_cache_entries_live_for_the_ttl_only() -> None:
    from api.services.redirects import RedirectCache, Resolved

    now = [100.0]
    cache = RedirectCache(1.0, max_entries=2, clock=lambda: now[0])
    entry = Resolved(target=None, url="https://brand.test/", live=True)  # type: ignore[arg-type]
    cache.put("a", entry)
    assert cache.get("a") is entry
    now[0] += 0.999
    assert cache.get("a") is entry
    now[0] += 0.002
    assert cache.get("a") is None
    cache.put("b", entry)
    cache.put("c", entry)
    cache.put("d", entry)  # full: emptied first, so it never grows past its bound
    assert cache.get("b") is None and cache.get("d") is entry
    off = RedirectCache(0)
    off.put("a", entry)
    assert off.get("a") is None


def test_a_disabled_link_reaches_the_redirect_within_the_cache_bound(engine, world, app_config) -> None:
    from api import create_app
    from api.http.tracking import CACHE_KEY

    app = create_app({**app_config, "REDIRECT_CACHE_SECONDS": 1.0})
    now = [1000.0]
    app.extensions[CACHE_KEY].clock = lambda: now[0]
    client = app.test_client()
    link = make_link(engine, world, landing_url="https://deals.brand.test/spring")
    assert click(client, short_path(link)).headers["Location"].startswith("https://deals.brand.test/")
    with db.transaction(engine) as conn:
        links.set_disabled(conn, world.partner.id, link.id, True)
    now[0] += 0.5   # still within the bound: the worker may use what it read
    assert click(client, short_path(link)).headers["Location"].startswith("https://deals.brand.test/")
    now[0] += 0.6   # past it: the change has arrived
    assert click(client, short_path(link)).headers["Location"].startswith("https://brand.test/?clickid=")
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, click_tracking=False)
    now[0] += 1.1
    before = len(all_clicks(engine))
    assert click(client, short_path(link)).status_code == 302
    assert len(all_clicks(engine)) == before
    db.get_engine(app).dispose()


@pytest.mark.parametrize(("value", "seconds"), [(None, 1.0), ("0", 0.0), ("2.5", 2.5)])
def test_cache_bound_comes_from_the_environment(tmp_path, value, seconds) -> None:
    from api.config import load_settings

    env = {"TASKLINK_SECRET_KEYS": "k", **({"TASKLINK_REDIRECT_CACHE_SECONDS": value} if value else {})}
    assert load_settings(tmp_path, env).flask_config()["REDIRECT_CACHE_SECONDS"] == seconds


@pytest.mark.parametrize("value", ["-1", "5.1", "61", "soon"])
def test_a_wrong_cache_bound_refuses_to_start(tmp_path, value) -> None:
    from api.config import load_settings
    from api.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="TASKLINK_REDIRECT_CACHE_SECONDS"):
        load_settings(tmp_path, {"TASKLINK_SECRET_KEYS": "k", "TASKLINK_REDIRECT_CACHE_SECONDS": value})
