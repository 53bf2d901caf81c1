"""Issuing links in the service layer (the HTTP endpoints are tested in test_partner_api)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from api import db
from api.errors import LandingPageNotAllowed, LinkUnavailable, NotFound, ValidationError
from api.services import campaigns, links
from api.signing import load_link_token
from conftest import SECRET_KEYS


def create(engine, world, **kwargs):  # type: ignore[no-untyped-def]
    with db.transaction(engine) as conn:
        return links.create_link(conn, world.partner.id, world.task.id, **kwargs)


def test_short_link_by_default_with_reporting_only_in_url(engine, world) -> None:
    link = create(
        engine, world, landing_url="https://brand.test/p?a=1", reporting={"subId1": "ig story", "sharedid": "spring&co"}
    )
    assert link.kind == "short" and len(link.code) >= 7 and link.code.isalnum()
    url, display = links.link_urls(link, "https://go.test", SECRET_KEYS)
    assert display == f"https://go.test/s/{link.code}"
    assert url.startswith(display + "?")
    assert dict(parse_qsl(urlsplit(url).query)) == {"subId1": "ig story", "sharedid": "spring&co"}


def test_regular_link_token_carries_the_link_and_verifies(engine, world) -> None:
    link = create(engine, world, kind="regular")
    assert link.code is None
    _, display = links.link_urls(link, "https://go.test", SECRET_KEYS)
    token = display.rsplit("/c/", 1)[1]
    assert load_link_token(SECRET_KEYS, token) == {
        "l": link.id,
        "p": world.partner.id,
        "t": world.task.id,
        "u": link.landing_url,
    }


@pytest.mark.parametrize(
    "reporting",
    [{"subId1": "x" * 256}, {"subId2": 5}, {"sharedid": "a\nb"}, {"subId3": "\x00"}],
)
def test_bad_reporting_info_is_refused_and_nothing_saved(engine, world, reporting) -> None:
    with pytest.raises(ValidationError):
        create(engine, world, reporting=reporting)
    with db.reading(engine) as conn:
        assert links.list_links(conn, world.partner.id)[1] == 0


def test_unicode_and_max_length_reporting_is_kept(engine, world) -> None:
    link = create(engine, world, reporting={"subId1": "é" * 255, "subId2": "🙂"})
    assert (link.sub_id1, link.sub_id2) == ("é" * 255, "🙂")


def test_rules_come_before_the_landing_page(engine, world) -> None:
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, pay_for_performance=False)
    with pytest.raises(LinkUnavailable) as info:
        create(engine, world, landing_url="https://evil.test/")
    assert info.value.code == "pay_for_performance_off"


def test_landing_url_off_the_allowed_domains_is_refused(engine, world) -> None:
    with pytest.raises(LandingPageNotAllowed):
        create(engine, world, landing_url="https://evil.test/")


def test_links_of_others_are_not_found(engine, world) -> None:
    link = create(engine, world)
    with db.transaction(engine) as conn:
        with pytest.raises(NotFound):
            links.set_disabled(conn, world.other_partner.id, link.id, True)
        with pytest.raises(NotFound):
            links.create_link(conn, world.other_partner.id, world.task.id)
        assert links.set_disabled(conn, world.partner.id, link.id, True).disabled


def test_list_is_newest_first_and_paged(engine, world) -> None:
    made = [create(engine, world) for _ in range(5)]
    with db.reading(engine) as conn:
        page, total = links.list_links(conn, world.partner.id, limit=2, offset=1)
    assert total == 5
    assert [link.id for link in page] == [made[3].id, made[2].id]


def test_counts_are_per_link_and_leave_out_reversed_conversions(engine, world) -> None:
    import datetime as dt

    from api.schema import clicks, conversions

    first, second = create(engine, world), create(engine, world)
    now = dt.datetime.now(dt.UTC)
    with db.transaction(engine) as conn:
        for n, link in enumerate([first, first, first, second]):
            pk = conn.execute(
                clicks.insert()
                .values(
                    click_id=f"c{n}",
                    link_id=link.id,
                    campaign_id=link.campaign_id,
                    partner_id=link.partner_id,
                    task_id=link.task_id,
                    created_at=now,
                    ip_hash="h",
                    visitor_hash="v",
                    is_bot=False,
                    billable=True,
                )
                .returning(clicks.c.id)
            ).scalar_one()
            if n < 2 or link is second:
                conn.execute(
                    conversions.insert().values(
                        click_pk=pk,
                        campaign_id=link.campaign_id,
                        link_id=link.id,
                        partner_id=link.partner_id,
                        task_id=link.task_id,
                        order_id=f"o{n}",
                        amount_minor=100,
                        currency="USD",
                        payout_minor=5,
                        status="reversed" if n == 1 else "approved",
                        created_at=now,
                        updated_at=now,
                    )
                )
    with db.reading(engine) as conn:
        page, _ = links.list_links(conn, world.partner.id)
        counts = {link.id: (link.clicks, link.conversions) for link in page}
        assert counts == {first.id: (3, 1), second.id: (1, 1)}
        assert (links.get_link(conn, world.partner.id, first.id).clicks) == 3
