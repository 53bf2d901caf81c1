"""Campaign settings and the link-availability rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api import db
from api.errors import NotFound, RuleRefused, ValidationError
from api.services import campaigns, tasks


def availability(engine, world, partner_id=None, task=None):  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        campaign = campaigns.get_campaign(conn, world.campaign.id)
        task = task or world.task
        return campaigns.link_availability(conn, campaign, partner_id or world.partner.id, task.partner_id)


def test_everything_enabled_allows_links(engine, world) -> None:
    result = availability(engine, world)
    assert result.available and result.reason is None and result.code is None


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"status": "paused"}, "campaign_not_active", "paused"),
        ({"status": "ended"}, "campaign_not_active", "ended"),
        ({"click_tracking": False}, "click_tracking_off", "click tracking"),
        ({"conversion_tracking": False}, "conversion_tracking_off", "conversion tracking"),
        ({"pay_for_performance": False}, "pay_for_performance_off", "pay for performance"),
    ],
)
def test_each_campaign_setting_names_its_reason(engine, world, change, code, words) -> None:
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, **change)
    result = availability(engine, world)
    assert not result.available
    assert result.code == code
    assert words in result.reason


@pytest.mark.parametrize(
    ("status", "words"),
    [("pending", "pending"), ("declined", "declined"), ("ended", "ended"), (None, "not a member")],
)
def test_membership_not_active_is_the_reason(engine, make, world, status, words) -> None:
    partner = make.partner()
    if status:
        make.membership(partner.id, world.campaign.id, status)
    result = availability(engine, world, partner_id=partner.id)
    assert (result.available, result.code) == (False, "membership_not_active")
    assert words in result.reason


def test_task_assigned_to_another_partner_is_not_open(engine, make, world) -> None:
    make.membership(world.other_partner.id, world.campaign.id)
    theirs = make.task(world.advertiser.id, world.campaign.id, partner_id=world.other_partner.id)
    result = availability(engine, world, task=theirs)
    assert (result.available, result.code) == (False, "task_not_open")
    assert availability(engine, world, partner_id=world.other_partner.id, task=theirs).available


def test_reasons_come_in_the_order_of_the_spec(engine, world) -> None:
    """With everything wrong, the campaign status is named first, then pay-for-performance last."""
    with db.transaction(engine) as conn:
        campaigns.update_settings(
            conn,
            world.advertiser.id,
            world.campaign.id,
            status="paused",
            click_tracking=False,
            pay_for_performance=False,
        )
    assert availability(engine, world).code == "campaign_not_active"
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, status="active")
    assert availability(engine, world).code == "click_tracking_off"
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, click_tracking=True)
    assert availability(engine, world).code == "pay_for_performance_off"


@pytest.mark.parametrize(
    "change",
    [
        {"status": "archived"},
        {"click_tracking": "yes"},
        {"payout_model": "cpm", "payout_amount": "1"},
        {"payout_amount": "-1"},
        {"payout_amount": "abc"},
        {"payout_amount": "1e3"},
        {"payout_model": "revshare", "payout_amount": "150"},
        {"landing_mode": "random"},
        {"attribution_window_days": 0},
        {"attribution_window_days": True},
        {"click_id_param": "click id"},
        {"click_id_param": ""},
        {"currency": "usd", "payout_amount": "1"},
        {"currency": "EUR"},
        {"payout_model": "cpc"},
        {"name": "  "},
        {"unknown": 1},
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(engine, world, change) -> None:
    with pytest.raises(ValidationError), db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, **change)
    with db.reading(engine) as conn:
        assert campaigns.get_campaign(conn, world.campaign.id) == world.campaign


def test_payout_is_exact(engine, world) -> None:
    with db.transaction(engine) as conn:
        c = campaigns.update_settings(
            conn, world.advertiser.id, world.campaign.id, payout_model="revshare", payout_amount="12.5"
        )
    assert (c.payout_model, c.payout_value, c.payout_amount) == ("revshare", 1250, Decimal("12.50"))
    with db.transaction(engine) as conn:
        c = campaigns.update_settings(
            conn, world.advertiser.id, world.campaign.id, payout_model="cpc", payout_amount="0.07"
        )
    assert (c.payout_value, c.payout_amount) == (7, Decimal("0.07"))
    with db.transaction(engine) as conn:
        c = campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, currency="JPY", payout_amount="120")
    assert (c.currency, c.payout_value, c.payout_amount) == ("JPY", 120, Decimal("120"))


def test_another_advertisers_campaign_is_not_found(engine, world) -> None:
    with pytest.raises(NotFound), db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.other_advertiser.id, world.campaign.id, click_tracking=False)
    with db.reading(engine) as conn:
        assert campaigns.list_campaigns(conn, world.other_advertiser.id) == []
        assert [c.id for c in campaigns.list_campaigns(conn, world.advertiser.id)] == [world.campaign.id]


def test_choose_and_default_modes_need_a_landing_page(engine, make, world) -> None:
    bare = make.campaign(world.advertiser.id, world.program.id, pages=())
    for mode in ("choose", "default"):
        with pytest.raises(RuleRefused), db.transaction(engine) as conn:
            campaigns.update_settings(conn, world.advertiser.id, bare.id, landing_mode=mode)
    with db.transaction(engine) as conn:
        assert (
            campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, landing_mode="default").landing_mode
            == "default"
        )


def test_campaign_names_are_unique_per_program(engine, world) -> None:
    from api.errors import Conflict

    with pytest.raises(Conflict), db.transaction(engine) as conn:
        campaigns.create_campaign(conn, world.advertiser.id, world.program.id, world.campaign.name)


def test_partner_sees_only_tasks_of_active_memberships(engine, make, world) -> None:
    with db.reading(engine) as conn:
        assert [t.id for t in tasks.list_tasks_for_partner(conn, world.partner.id, world.campaign.id)] == [
            world.task.id
        ]
        with pytest.raises(NotFound):
            tasks.list_tasks_for_partner(conn, world.other_partner.id, world.campaign.id)
        with pytest.raises(NotFound):
            tasks.get_task_for_partner(conn, world.other_partner.id, world.task.id)


def test_advertiser_sees_the_sentence_partners_get(engine, world) -> None:
    with db.reading(engine) as conn:
        assert campaigns.availability_for_partners(conn, campaigns.get_campaign(conn, world.campaign.id)).available
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, pay_for_performance=False)
    with db.reading(engine) as conn:
        campaign = campaigns.get_campaign(conn, world.campaign.id)
        for_partners = campaigns.availability_for_partners(conn, campaign)
        for_partner = campaigns.link_availability(conn, campaign, world.partner.id)
    assert not for_partners.available
    assert (for_partners.code, for_partners.reason) == (for_partner.code, for_partner.reason)
