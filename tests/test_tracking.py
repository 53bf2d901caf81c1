"""The redirect: resolve → decide whether to track → record, then 302."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from api import db
from api.schema import clicks
from api.services import campaigns, landing_pages, links, tasks

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
        link.id,
        world.campaign.id,
        world.partner.id,
        world.task.id,
    )
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
    made = dt.datetime(2026, 12, 1, 10, 0, 0, 123000, tzinfo=dt.UTC)
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
            assert verify_click_id(ClickIds([newest]), click_id[:index] + other + click_id[index + 1 :]) is None
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


def _set_landing_url(engine, link, url: str) -> None:  # type: ignore[no-untyped-def]
    """Write a link's landing URL behind the services' back (a row from before today's rules)."""
    from sqlalchemy import update

    from api.schema import links as links_table

    with db.transaction(engine) as conn:
        conn.execute(update(links_table).where(links_table.c.id == link.id).values(landing_url=url))


def click_ids_on(location: str, param: str = "clickid") -> list[str]:
    """Every value the landing page could read as ``param``: any case, decoded names, ``;`` too, in the fragment too."""
    from urllib.parse import parse_qsl, unquote_plus

    def key(name: str) -> str:
        while unquote_plus(name) != name:
            name = unquote_plus(name)
        return name.split("[", 1)[0].strip().casefold()

    parts = urlsplit(location)
    fragment = parts.fragment.partition("?")[2] or parts.fragment
    pairs = parse_qsl(parts.query.replace(";", "&"), keep_blank_values=True)
    pairs += parse_qsl(fragment.replace(";", "&"), keep_blank_values=True)
    return [value for name, value in pairs if key(name) == param.casefold()]


def test_click_id_parameter_is_the_campaigns_and_replaces_a_planted_one(client, engine, world) -> None:
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, click_id_param="tl_click")
    link = make_link(engine, world, landing_url="https://brand.test/p?a=1&a=2")
    # Written before planted click ids were refused at creation: the redirect still drops every spelling.
    _set_landing_url(engine, link, "https://brand.test/p?tl_click=forged&a=1&TL_Click[]=x&a=2#tl%5Fclick=f")
    location = click(client, short_path(link)).headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["a"] == ["1", "2"]
    assert click_ids_on(location, "tl_click") == [all_clicks(engine)[0].click_id]
    assert location == f"https://brand.test/p?a=1&a=2&tl_click={all_clicks(engine)[0].click_id}"


def test_a_changed_click_id_parameter_is_stripped_from_existing_links(client, engine, world) -> None:
    """A deep link made while the parameter was clickid may carry ref=…; renamed to ref, the redirect drops it."""
    link = make_link(engine, world, landing_url="https://brand.test/p?Ref=partner-chosen&a=1")
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, click_id_param="ref")
    location = click(client, short_path(link)).headers["Location"]
    [row] = all_clicks(engine)
    assert click_ids_on(location, "ref") == [row.click_id]
    assert click_ids_on(location, "clickid") == []
    assert location == f"https://brand.test/p?a=1&ref={row.click_id}"


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
        changed = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
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


@pytest.mark.parametrize(
    "agent",
    [
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
    ],
)
def test_crawlers_and_unfurlers_are_bots(client, engine, world, agent) -> None:
    link = make_link(engine, world)
    assert click(client, short_path(link), agent=agent).status_code == 302
    [row] = all_clicks(engine)
    assert row.is_bot is True


def test_a_duplicate_is_a_later_click_of_the_same_address_within_24_hours_of_a_billable_one(
    client, engine, world, monkeypatch
) -> None:
    import datetime as dt

    link = make_link(engine, world)
    other = make_link(engine, world, landing_url="https://brand.test/other")
    now = [dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)]
    monkeypatch.setattr(db, "utcnow", lambda: now[0])
    click(client, short_path(link))  # billable
    click(client, short_path(link))  # same visitor: duplicate
    click(client, short_path(link), address="198.51.100.1")  # other address: billable
    click(client, short_path(link), agent=BROWSER + " Edg/124")  # other browser, same address: duplicate
    click(client, short_path(other))  # other link: billable
    now[0] += dt.timedelta(hours=23, minutes=59)
    click(client, short_path(link))  # within 24 h of the first: duplicate
    now[0] += dt.timedelta(hours=0, minutes=2)
    click(client, short_path(link))  # 24 h after the billable one: billable
    now[0] += dt.timedelta(hours=1)
    click(client, short_path(link))  # within 24 h of that one: duplicate
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
    click(client, short_path(link))  # billable
    click(client, short_path(link))  # repeat: not unique
    click(client, short_path(link), agent="Twitterbot/1.0")  # bot
    with db.transaction(engine) as conn:
        links.set_disabled(conn, world.partner.id, link.id, True)
    click(client, short_path(link), address="198.51.100.9")  # unique, but the link is disabled
    assert [row.payout_minor for row in all_clicks(engine)] == [35, 0, 0, 0]


# --- the per-worker cache and its bound --------------------------------------------


def test_the_cache_forgets_everything_when_the_change_counter_moves_and_asks_at_most_once_per_bound() -> None:
    from api.services.redirects import RedirectCache, Resolved

    now = [100.0]
    version = [1]
    asked = []

    def read() -> int:
        asked.append(now[0])
        return version[0]

    cache = RedirectCache(1.0, max_entries=3, clock=lambda: now[0])
    entry = Resolved(target=None, url="https://brand.test/", live=True)  # type: ignore[arg-type]
    assert cache.usable(read) and cache.get("a") is None
    cache.put("a", entry)
    now[0] += 0.5
    assert cache.usable(read) and cache.get("a") is entry
    assert asked == [100.0]  # not asked again within the bound
    now[0] += 0.6
    assert cache.usable(read) and cache.get("a") is entry  # asked: nothing changed
    version[0] = 2
    now[0] += 1.0
    assert cache.usable(read) and cache.get("a") is None  # changed: everything forgotten
    for key in "bcde":
        cache.put(key, entry)  # full at the fourth: emptied first, so it never grows past its bound
    assert cache.get("b") is None and cache.get("e") is entry


def test_while_the_database_fails_entries_serve_for_the_stale_bound_and_it_is_asked_once_a_second() -> None:
    from api.services.redirects import RedirectCache, Resolved

    now = [0.0]
    down = [False]
    asked = []

    def read() -> int:
        asked.append(now[0])
        if down[0]:
            raise OSError("connection refused")
        return 7

    cache = RedirectCache(1.0, clock=lambda: now[0], stale_if_error=3600, retry_after_error=1.0)
    entry = Resolved(target=None, url="https://brand.test/", live=True)  # type: ignore[arg-type]
    assert cache.usable(read)
    cache.put("a", entry)
    down[0] = True
    now[0] = 1.5
    assert cache.usable(read) and cache.get("a") is entry and cache.failing
    for step in range(10):  # ten clicks within the next second: the database is not asked again
        now[0] = 1.5 + step * 0.09
        assert cache.usable(read)
    assert asked == [0.0, 1.5]
    now[0] = 3600.0  # still within an hour of the last good answer
    assert cache.usable(read) and cache.get("a") is entry
    now[0] = 3601.5  # past it: nothing is trusted any more
    assert not cache.usable(read)
    down[0] = False
    now[0] = 3603.0
    assert cache.usable(read) and not cache.failing and cache.get("a") is entry  # same version: kept


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
    now[0] += 0.5  # still within the bound: the worker may use what it read
    assert click(client, short_path(link)).headers["Location"].startswith("https://deals.brand.test/")
    now[0] += 0.6  # past it: the worker asked whether anything changed, and forgot the link
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


# --- the campaign's landing mode applies at redirect time -----------------------------


def set_mode(engine, world, mode: str) -> None:  # type: ignore[no-untyped-def]
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, landing_mode=mode)


def landed(client, link, address: str = "203.0.113.7") -> str:  # type: ignore[no-untyped-def]
    """Where a visitor of the link lands, without the click id."""
    location = click(client, short_path(link), address=address).headers["Location"]
    return location.split("clickid=")[0].rstrip("?&")


def test_a_deep_link_goes_to_the_default_page_once_the_mode_no_longer_allows_it(client, engine, world) -> None:
    deep = make_link(engine, world, landing_url="https://deals.brand.test/spring?x=1")
    assert landed(client, deep, "198.51.100.1") == "https://deals.brand.test/spring?x=1"
    for n, mode in enumerate(("choose", "default"), start=2):
        set_mode(engine, world, mode)
        assert landed(client, deep, f"198.51.100.{n}") == "https://brand.test/", mode
    set_mode(engine, world, "manual")
    assert landed(client, deep, "198.51.100.4") == "https://deals.brand.test/spring?x=1"
    assert len(all_clicks(engine)) == 4  # every visit recorded, wherever it was sent


def test_choose_mode_takes_any_page_default_mode_the_default_or_the_tasks_own(client, engine, make, world) -> None:
    with db.reading(engine) as conn:
        home, sale = landing_pages.list_landing_pages(conn, world.campaign.id)
    on_sale = make_link(engine, world, landing_page_id=sale.id)
    task_with_page = make.task(world.advertiser.id, world.campaign.id, landing_page_id=sale.id)
    with db.transaction(engine) as conn:
        tasks_own = links.create_link(conn, world.partner.id, task_with_page.id)
    assert tasks_own.landing_url == sale.url
    set_mode(engine, world, "choose")
    assert landed(client, on_sale) == sale.url
    assert landed(client, tasks_own) == sale.url
    set_mode(engine, world, "default")
    assert landed(client, on_sale) == home.url  # another task's link: the campaign's default
    assert landed(client, tasks_own) == sale.url  # the task's own page stays valid


def test_in_default_mode_a_task_whose_page_changed_sends_its_old_links_to_the_default(
    client, engine, make, world
) -> None:
    """The task's own page is read with the campaign's pages, so a change to the task reaches the redirect.

    (Whatever caches redirects must therefore see changes to tasks, as it
    sees changes to pages, domains and campaigns.)
    """
    with db.reading(engine) as conn:
        home, sale = landing_pages.list_landing_pages(conn, world.campaign.id)
    task_with_page = make.task(world.advertiser.id, world.campaign.id, landing_page_id=sale.id)
    with db.transaction(engine) as conn:
        tasks_own = links.create_link(conn, world.partner.id, task_with_page.id)
    set_mode(engine, world, "default")
    assert landed(client, tasks_own) == sale.url
    with db.transaction(engine) as conn:
        tasks.update_task(conn, world.advertiser.id, task_with_page.id, landing_page_id=None)
    assert landed(client, tasks_own) == home.url


def test_a_page_off_the_domains_is_never_a_destination(client, engine, world) -> None:
    """Rows written behind the services' back (or before pages had to be on the domains)."""
    from sqlalchemy import delete, update

    from api.schema import campaign_domains
    from api.schema import landing_pages as pages_table
    from api.schema import links as links_table

    set_mode(engine, world, "choose")
    with db.reading(engine) as conn:
        home, sale = landing_pages.list_landing_pages(conn, world.campaign.id)
    on_sale = make_link(engine, world, landing_page_id=sale.id)
    with db.transaction(engine) as conn:
        conn.execute(update(pages_table).where(pages_table.c.id == sale.id).values(url="https://evil.example/sale"))
        conn.execute(
            update(links_table).where(links_table.c.id == on_sale.id).values(landing_url="https://evil.example/sale")
        )
    assert landed(client, on_sale) == home.url  # one of the pages, but off the domains: the default page
    with db.transaction(engine) as conn:
        conn.execute(delete(campaign_domains).where(campaign_domains.c.campaign_id == world.campaign.id))
    answer = click(client, short_path(on_sale))  # the default page is off the domains too: no redirect at all
    assert answer.status_code == 404 and "Location" not in answer.headers


def test_the_landing_settings_are_read_in_one_query(engine, make, world) -> None:
    from api.rawsql import Raw
    from api.services import redirects

    with db.reading(engine) as conn:
        home, sale = landing_pages.list_landing_pages(conn, world.campaign.id)
    task = make.task(world.advertiser.id, world.campaign.id, landing_page_id=sale.id)
    other = make.world()  # another campaign's task and pages are never mixed in
    with db.reading(engine) as conn:
        settings = redirects.landing_settings(Raw.of(conn), world.campaign.id, task.id)
        assert settings == redirects.LandingSettings(
            "manual", (home.url, sale.url), ("*.brand.test", "brand.test"), home.url, sale.url
        )
        assert redirects.landing_settings(Raw.of(conn), world.campaign.id, other.task.id).task_page is None
    set_mode(engine, world, "default")
    with db.reading(engine) as conn:
        settings = redirects.landing_settings(Raw.of(conn), world.campaign.id, task.id)
    assert settings.mode == "default" and settings.link_pages() == (home.url, sale.url)


# --- the redirect's own WSGI app: what a framework used to answer for it ------------------


def test_other_methods_on_a_link_answer_405_with_allow_and_record_nothing(client, engine, world) -> None:
    link = make_link(engine, world)
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        answer = client.open(short_path(link), method=method, headers={"User-Agent": BROWSER})
        assert answer.status_code == 405, method
        assert answer.headers["Allow"] == "GET, HEAD, OPTIONS"
        assert answer.mimetype == "text/html"
    options = client.options(short_path(link))
    assert options.status_code == 200 and options.headers["Allow"] == "GET, HEAD, OPTIONS"
    head = client.head(short_path(link), headers={"User-Agent": BROWSER})
    assert head.status_code == 302 and head.data == b""
    assert all_clicks(engine) == []


@pytest.mark.parametrize("path", ["/s/", "/c/", "/s/abc/", "/s/a/b", "/c/x/y", "/s/%E2%82%AC", "/s/%FF"])
def test_malformed_link_paths_answer_the_not_found_page(client, engine, path) -> None:
    answer = client.get(path, headers={"User-Agent": BROWSER})
    assert answer.status_code == 404
    assert answer.mimetype == "text/html" and b"Link not found" in answer.data
    assert all_clicks(engine) == []


def test_a_query_that_is_not_utf8_still_records_the_click(client, engine, world) -> None:
    link = make_link(engine, world)
    answer = click(client, short_path(link) + "?subId1=%FF%FEsale&subId2=ok&subId2=second")
    assert answer.status_code == 302
    [row] = all_clicks(engine)
    assert row.sub_id1 == "\ufffd\ufffdsale" and row.sub_id2 == "ok"  # the first value of a name counts


def test_an_unexpected_error_in_the_redirect_is_a_500_page_that_reveals_nothing(
    client, engine, world, monkeypatch, caplog
) -> None:
    from api.services import clicks as click_service

    link = make_link(engine, world)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret detail")

    monkeypatch.setattr(click_service, "visit_from_request", broken)
    answer = click(client, short_path(link))
    assert answer.status_code == 500 and answer.mimetype == "text/html"
    assert b"secret detail" not in answer.data and b"Something went wrong" in answer.data
    assert "Unhandled error on GET /s/" in caplog.text
