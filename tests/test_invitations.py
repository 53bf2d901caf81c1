"""Invitations: an advertiser invites by e-mail, the partner accepts or declines; no account enumeration."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from api import db, migrations
from api.errors import Conflict, NotFound
from api.schema import email_invitations
from api.services import campaigns, links, memberships, partners
from conftest import PASSWORD
from migration_data import HEAD, NOW, database_at


def invite(engine, world, email):  # type: ignore[no-untyped-def]
    with db.transaction(engine) as conn:
        return memberships.invite_by_email(conn, world.advertiser.id, world.campaign.id, email)


def test_the_answer_is_the_same_with_or_without_an_account(engine, make, world) -> None:
    known = make.partner()
    said = [invite(engine, world, email).replace(email, "EMAIL") for email in (known.email, "nobody@test.example")]
    assert said[0] == said[1]
    # Again, and for an account that is a member already: the same sentence, nothing changes.
    assert invite(engine, world, known.email).replace(known.email, "EMAIL") == said[0]
    assert invite(engine, world, world.partner.email).replace(world.partner.email, "EMAIL") == said[0]
    with db.reading(engine) as conn:
        assert memberships.membership_status(conn, known.id, world.campaign.id) == "invited"
        assert memberships.membership_status(conn, world.partner.id, world.campaign.id) == "active"
        listed = memberships.list_invitations(conn, world.advertiser.id, world.campaign.id)
        # The advertiser sees both the same way: an e-mail and a date, no name.
        assert sorted(i.email for i in listed) == sorted([known.email, "nobody@test.example"])
        assert known.id not in [
            m.partner_id for m in memberships.list_memberships(conn, world.advertiser.id, world.campaign.id)
        ]


def test_an_invitation_waits_for_the_account_created_with_its_email(engine, world) -> None:
    invite(engine, world, "  Later@Test.Example ")
    with db.transaction(engine) as conn:
        newcomer = partners.create_partner(conn, "Later", "later@test.example", PASSWORD)
        assert memberships.membership_status(conn, newcomer.id, world.campaign.id) == "invited"
        assert conn.execute(select(email_invitations)).all() == []
        assert [i.email for i in memberships.list_invitations(conn, world.advertiser.id, world.campaign.id)] == [
            "later@test.example"
        ]


def test_only_the_advertisers_own_campaign_and_a_real_email(engine, world) -> None:
    with db.transaction(engine) as conn, pytest.raises(NotFound):
        memberships.invite_by_email(conn, world.other_advertiser.id, world.campaign.id, "x@test.example")
    with db.transaction(engine) as conn, pytest.raises(Exception, match="valid e-mail"):
        memberships.invite_by_email(conn, world.advertiser.id, world.campaign.id, "not-an-email")


def test_an_invited_partner_makes_no_links_until_accepting(engine, make, world) -> None:
    invited = make.partner()
    invite(engine, world, invited.email)
    with db.reading(engine) as conn:
        campaign = campaigns.get_campaign(conn, world.campaign.id)
        refused = campaigns.link_availability(conn, campaign, invited.id, None)
    assert (refused.available, refused.code) == (False, "membership_not_active")
    assert "invited" in (refused.reason or "")
    with db.transaction(engine) as conn, pytest.raises(NotFound):  # tasks are open to active members only
        links.create_link(conn, invited.id, world.task.id)
    with db.transaction(engine) as conn:
        assert memberships.answer_invitation(conn, invited.id, world.campaign.id, accept=True).status == "active"
        assert links.create_link(conn, invited.id, world.task.id).partner_id == invited.id


def test_a_declined_invitation_cannot_be_overturned_by_the_advertiser(engine, make, world) -> None:
    invited = make.partner()
    invite(engine, world, invited.email)
    with db.transaction(engine) as conn:
        declined = memberships.answer_invitation(conn, invited.id, world.campaign.id, accept=False)
        assert declined.status == "declined" and declined.actions == ()
        with pytest.raises(Conflict):
            memberships.set_membership_status(conn, world.advertiser.id, declined.id, "active")
        with pytest.raises(Conflict) as answered:
            memberships.answer_invitation(conn, invited.id, world.campaign.id, accept=True)
        assert answered.value.code == "not_invited"
    # A declined application still can be approved, as before.
    applicant = make.partner()
    pending = make.membership(applicant.id, world.campaign.id, "pending")
    with db.transaction(engine) as conn:
        memberships.set_membership_status(conn, world.advertiser.id, pending.id, "declined")
        assert memberships.set_membership_status(conn, world.advertiser.id, pending.id, "active").status == "active"


def test_withdrawing_removes_either_kind(engine, make, world) -> None:
    known = make.partner()
    invite(engine, world, known.email)
    invite(engine, world, "nobody@test.example")
    with db.transaction(engine) as conn:
        assert memberships.withdraw_invitation(conn, world.advertiser.id, world.campaign.id, known.email)
        assert memberships.withdraw_invitation(conn, world.advertiser.id, world.campaign.id, "nobody@test.example")
        assert not memberships.withdraw_invitation(conn, world.advertiser.id, world.campaign.id, known.email)
        assert memberships.list_invitations(conn, world.advertiser.id, world.campaign.id) == []
        assert memberships.membership_status(conn, known.id, world.campaign.id) is None


def test_partner_api_lists_accepts_and_declines(client, engine, make, world, auth) -> None:
    invited = make.partner()
    second = make.campaign(world.advertiser.id, world.program.id, payout_model="cpc", payout_amount="0.20")
    invite(engine, world, invited.email)
    with db.transaction(engine) as conn:
        memberships.invite_by_email(conn, world.advertiser.id, second.id, invited.email)
    headers = auth(invited)
    listed = client.get("/api/v1/invitations", headers=headers).json["invitations"]
    assert [(i["campaign_id"], i["program_name"], i["terms"]["payout_model"]) for i in listed] == sorted(
        [(world.campaign.id, world.program.name, "cpa"), (second.id, world.program.name, "cpc")],
        key=lambda t: [c["campaign_id"] for c in listed].index(t[0]),
    )
    assert listed[0]["terms"]["currency"] == "USD"
    # Invitations are not campaigns to make links in yet.
    assert client.get("/api/v1/campaigns", headers=headers).json == {"campaigns": []}
    # Nobody else answers them.
    assert client.get("/api/v1/invitations", headers=auth(world.partner)).json == {"invitations": []}
    assert (
        client.post(f"/api/v1/invitations/{world.campaign.id}/accept", headers=auth(world.other_partner)).status_code
        == 404
    )

    accepted = client.post(f"/api/v1/invitations/{world.campaign.id}/accept", headers=headers)
    assert (accepted.status_code, accepted.json) == (200, {"campaign_id": world.campaign.id, "membership": "active"})
    declined = client.post(f"/api/v1/invitations/{second.id}/decline", headers=headers)
    assert declined.json == {"campaign_id": second.id, "membership": "declined"}
    again = client.post(f"/api/v1/invitations/{second.id}/accept", headers=headers)
    assert (again.status_code, again.json["error"]["code"]) == (409, "not_invited")
    assert client.get("/api/v1/invitations", headers=headers).json == {"invitations": []}
    [campaign] = client.get("/api/v1/campaigns", headers=headers).json["campaigns"]
    assert (campaign["id"], campaign["membership"], campaign["link_available"]) == (world.campaign.id, "active", True)
    assert client.post(f"/api/v1/invitations/{world.campaign.id}/accept").status_code == 401


def test_0007_keeps_memberships_and_their_change_triggers(migrated_engine) -> None:
    """0006 → 0007 on a database with members: nothing lost, 'invited' allowed, the redirect still sees changes."""
    database_at(
        migrated_engine,
        "0006",
        f"INSERT INTO partners (id, name, email, password_hash, created_at) VALUES (2, 'Q', 'q@x.test', 'h', '{NOW}')",
        "INSERT INTO memberships (partner_id, campaign_id, status, created_at, updated_at) "
        f"VALUES (1, 1, 'pending', '{NOW}', '{NOW}')",
    )
    assert migrations.upgrade(migrated_engine, "0007") == ("0006", "0007")
    with migrated_engine.begin() as conn:
        before = conn.execute(text("SELECT version FROM change_counter WHERE id = 1")).scalar()
        conn.execute(
            text(
                "INSERT INTO memberships (partner_id, campaign_id, status, created_at, updated_at) "
                f"VALUES (2, 1, 'invited', '{NOW}', '{NOW}')"
            )
        )
        conn.execute(text("UPDATE memberships SET status = 'active' WHERE partner_id = 1"))
        after = conn.execute(text("SELECT version FROM change_counter WHERE id = 1")).scalar()
        assert after != before
        rows = conn.execute(text("SELECT partner_id, status, invited_at FROM memberships ORDER BY partner_id")).all()
        assert [(r[0], r[1], r[2]) for r in rows] == [(1, "active", None), (2, "invited", None)]
        if migrated_engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    with pytest.raises(Exception), migrated_engine.begin() as conn:  # noqa: B017
        conn.execute(text("UPDATE memberships SET status = 'bogus' WHERE partner_id = 1"))
    # Down again: unanswered invitations are withdrawn, the rest stays.
    from alembic import command

    config = migrations.alembic_config()
    with migrated_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0006")
    with migrated_engine.begin() as conn:
        assert conn.execute(text("SELECT partner_id, status FROM memberships")).all() == [(1, "active")]
    assert migrations.upgrade(migrated_engine) == ("0006", HEAD)
