"""Advertisers, partners, programs, tasks and memberships."""

from __future__ import annotations

import pytest

from api import db
from api.errors import AuthenticationError, Conflict, NotFound, ValidationError
from api.schema import advertisers as advertisers_table
from api.schema import partners as partners_table
from api.services import advertisers, memberships, partners, programs, tasks
from conftest import PASSWORD


def test_passwords_are_hashed_and_checked(engine, make) -> None:
    partner = make.partner("Pat@Example.test")
    assert partner.email == "pat@example.test"
    with db.reading(engine) as conn:
        stored = conn.execute(partners_table.select()).first()
        assert PASSWORD not in stored.password_hash
        assert partners.authenticate(conn, " PAT@example.test", PASSWORD).id == partner.id
        for email, password in [
            ("pat@example.test", "wrong password"),
            ("nobody@example.test", PASSWORD),
            (None, PASSWORD),
            ("pat@example.test", None),
        ]:
            with pytest.raises(AuthenticationError):
                partners.authenticate(conn, email, password)


@pytest.mark.parametrize(("email", "password"), [("not-an-email", "long enough"), ("a@b.test", "short")])
def test_bad_account_input_is_refused(engine, email, password) -> None:
    with pytest.raises(ValidationError), db.transaction(engine) as conn:
        partners.create_partner(conn, "X", email, password)


def test_duplicate_email_is_a_conflict_and_saves_nothing(engine, make) -> None:
    make.partner("dup@example.test")
    with pytest.raises(Conflict), db.transaction(engine) as conn:
        partners.create_partner(conn, "Y", "DUP@example.test", PASSWORD)
    with db.reading(engine) as conn:
        assert len(conn.execute(partners_table.select()).all()) == 1


def test_api_key_is_stored_hashed_and_rotation_kills_the_old_one(engine, make) -> None:
    advertiser, key = make.advertiser()
    with db.reading(engine) as conn:
        row = conn.execute(advertisers_table.select()).first()
        assert key not in row.api_key_hash and key not in row.api_key_hint
        assert advertisers.by_api_key(conn, key).id == advertiser.id
    with db.transaction(engine) as conn:
        new_key = advertisers.rotate_api_key(conn, advertiser.id)
    with db.reading(engine) as conn:
        assert advertisers.by_api_key(conn, new_key).id == advertiser.id
        with pytest.raises(AuthenticationError):
            advertisers.by_api_key(conn, key)


def test_revoking_tokens_bumps_the_version(engine, make) -> None:
    partner = make.partner()
    with db.transaction(engine) as conn:
        assert partners.revoke_tokens(conn, partner.id) == partner.token_version + 1


def test_programs_are_private_to_their_advertiser(engine, world) -> None:
    with db.reading(engine) as conn:
        with pytest.raises(NotFound):
            programs.get_program(conn, world.other_advertiser.id, world.program.id)
        assert programs.list_programs(conn, world.other_advertiser.id) == []
        assert [p.id for p in programs.list_programs_for_partner(conn, world.partner.id)] == [world.program.id]
        assert programs.list_programs_for_partner(conn, world.other_partner.id) == []


def test_memberships_are_approved_declined_and_ended_by_their_advertiser_only(engine, world) -> None:
    with db.transaction(engine) as conn:
        pending = memberships.add_membership(conn, world.other_partner.id, world.campaign.id)
    assert pending.status == "pending"
    with pytest.raises(NotFound), db.transaction(engine) as conn:
        memberships.set_membership_status(conn, world.other_advertiser.id, pending.id, "active")
    for status in ("active", "ended", "active"):
        with db.transaction(engine) as conn:
            assert memberships.set_membership_status(conn, world.advertiser.id, pending.id, status).status == status
    with pytest.raises(ValidationError), db.transaction(engine) as conn:
        memberships.set_membership_status(conn, world.advertiser.id, pending.id, "approved")
    with pytest.raises(Conflict), db.transaction(engine) as conn:
        memberships.add_membership(conn, world.other_partner.id, world.campaign.id)
    with db.reading(engine) as conn:
        listed = memberships.list_memberships(conn, world.advertiser.id, world.campaign.id)
        assert {m.partner_email for m in listed} == {world.partner.email, world.other_partner.email}
        assert memberships.list_memberships(conn, world.other_advertiser.id, world.campaign.id) == []


def test_tasks_are_assigned_only_to_members_and_pages_of_the_campaign(engine, make, world) -> None:
    stranger = make.partner()
    with pytest.raises(ValidationError), db.transaction(engine) as conn:
        tasks.create_task(conn, world.advertiser.id, world.campaign.id, "T", partner_id=stranger.id)
    other_campaign = make.campaign(world.advertiser.id, world.program.id)
    with db.reading(engine) as conn:
        from api.services import landing_pages

        foreign_page = landing_pages.list_landing_pages(conn, other_campaign.id)[0]
    with pytest.raises(ValidationError), db.transaction(engine) as conn:
        tasks.update_task(conn, world.advertiser.id, world.task.id, landing_page_id=foreign_page.id)
    with db.transaction(engine) as conn:
        task = tasks.update_task(conn, world.advertiser.id, world.task.id, title="Renamed", partner_id=world.partner.id)
    assert (task.title, task.partner_id, task.partner_name) == ("Renamed", world.partner.id, world.partner.name)
    with pytest.raises(NotFound), db.transaction(engine) as conn:
        tasks.update_task(conn, world.other_advertiser.id, world.task.id, title="Hijacked")
