"""Memberships: the moves an advertiser may make between statuses."""

from __future__ import annotations

import pytest

from api import db
from api.errors import Conflict
from api.services import memberships


@pytest.mark.parametrize(
    ("start", "new", "allowed"),
    [
        ("pending", "active", True),
        ("pending", "declined", True),
        ("pending", "ended", False),
        ("active", "ended", True),
        ("active", "declined", False),
        ("active", "pending", False),
        ("declined", "active", True),
        ("declined", "ended", False),
        ("ended", "active", True),
        ("ended", "declined", False),
        ("ended", "pending", False),
    ],
)
def test_only_the_allowed_moves_are_made(engine, make, world, start, new, allowed) -> None:
    membership = make.membership(world.other_partner.id, world.campaign.id, start)
    if allowed:
        with db.transaction(engine) as conn:
            assert memberships.set_membership_status(conn, world.advertiser.id, membership.id, new).status == new
    else:
        with (
            pytest.raises(Conflict, match=f"A {start} membership cannot become {new}.") as refused,
            db.transaction(engine) as conn,
        ):
            memberships.set_membership_status(conn, world.advertiser.id, membership.id, new)
        assert refused.value.code == "invalid_transition"
        with db.reading(engine) as conn:
            assert memberships.membership_status(conn, world.other_partner.id, world.campaign.id) == start


def test_the_actions_offered_are_exactly_the_allowed_moves() -> None:
    assert memberships.actions_for("pending") == (("Approve", "active"), ("Decline", "declined"))
    assert memberships.actions_for("active") == (("End", "ended"),)
    assert {new for status in memberships.STATUSES for _, new in memberships.actions_for(status)} <= set(
        memberships.STATUSES
    )
    assert memberships.actions_for("unknown") == ()
