"""Memberships as the advertiser manages them: adding a partner by e-mail, who can be assigned tasks."""
from __future__ import annotations

import pytest

from api import db
from api.errors import Conflict, NotFound, ValidationError
from api.services import memberships


def test_advertiser_adds_an_existing_partner_by_email(engine, world) -> None:
    with db.transaction(engine) as conn:
        added = memberships.add_partner_by_email(
            conn, world.advertiser.id, world.campaign.id, "  " + world.other_partner.email.upper(), "pending"
        )
    assert (added.partner_id, added.campaign_id, added.status) == (world.other_partner.id, world.campaign.id, "pending")
    with pytest.raises(Conflict, match="already a member"):
        with db.transaction(engine) as conn:
            memberships.add_partner_by_email(conn, world.advertiser.id, world.campaign.id, world.other_partner.email)


@pytest.mark.parametrize(
    ("who", "email", "status", "error"),
    [
        ("owner", "nobody@test.example", "active", NotFound),
        ("owner", "not an e-mail", "active", ValidationError),
        ("owner", None, "declined", ValidationError),
        ("rival", None, "active", NotFound),
    ],
)
def test_adding_a_partner_refused_saves_nothing(engine, world, who, email, status, error) -> None:
    advertiser_id = world.advertiser.id if who == "owner" else world.other_advertiser.id
    with pytest.raises(error):
        with db.transaction(engine) as conn:
            memberships.add_partner_by_email(
                conn, advertiser_id, world.campaign.id, email or world.other_partner.email, status
            )
    with db.reading(engine) as conn:
        assert memberships.membership_status(conn, world.other_partner.id, world.campaign.id) is None


def test_tasks_can_be_assigned_to_active_and_pending_members_only(engine, make, world) -> None:
    pending, declined, ended = make.partner(), make.partner(), make.partner()
    make.membership(pending.id, world.campaign.id, "pending")
    make.membership(declined.id, world.campaign.id, "declined")
    make.membership(ended.id, world.campaign.id, "ended")
    with db.reading(engine) as conn:
        assignable = memberships.list_assignable(conn, world.advertiser.id, world.campaign.id)
        assert {m.partner_id for m in assignable} == {world.partner.id, pending.id}
        assert [m.partner_name for m in assignable] == sorted(m.partner_name for m in assignable)
        assert memberships.list_assignable(conn, world.other_advertiser.id, world.campaign.id) == []
