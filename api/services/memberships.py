"""Memberships: a partner's standing in a campaign (active, pending, declined, ended, invited).

Two ways in: the partner applies (``pending``, the advertiser approves or
declines) or the advertiser invites them by e-mail (``invited``, the partner
accepts or declines). Only ``active`` makes links and earns. An invitation
answers the advertiser the same whether or not the e-mail has an account: an
e-mail without one is kept in ``email_invitations`` and becomes an invited
membership when that account is created (:func:`claim_email_invitations`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import Connection, Row, Select, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..db import utcnow
from ..errors import Conflict, NotFound, ValidationError
from ..i18n import Message
from ..schema import campaigns, email_invitations, memberships, partners, programs
from . import accounts

MembershipStatus = Literal["active", "pending", "declined", "ended", "invited"]
STATUSES: tuple[MembershipStatus, ...] = get_args(MembershipStatus)

#: The advertiser's moves between statuses: status → the actions it allows,
#: each as (label, new status). Anything else is refused by
#: :func:`set_membership_status`; operators (CLI, demo data) may set any status.
#: An invitation is the partner's to answer (:func:`answer_invitation`); the
#: advertiser can only withdraw it (:func:`withdraw_invitation`).
ACTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "pending": ((Message("Approve"), "active"), (Message("Decline"), "declined")),
    "active": ((Message("End"), "ended"),),
    "declined": ((Message("Approve"), "active"),),
    "ended": ((Message("Re-activate"), "active"),),
}

#: What the advertiser is told after inviting an e-mail, whether or not it has a partner account.
INVITED_MESSAGE = Message(
    "Invitation recorded for {email}. If they have a Tasklink partner account, they see it in the extension; "
    "otherwise they will when they create one with this e-mail. They join once they accept.",
    email="{email}",
)


def actions_for(status: str, invited: bool = False) -> tuple[tuple[str, str], ...]:
    """The (label, new status) moves an advertiser may make from ``status``.

    A declined *invitation* (``invited`` true) is the partner's own answer: the advertiser cannot overturn it.
    """
    if invited and status == "declined":
        return ()
    return ACTIONS.get(status, ())


@dataclass(frozen=True)
class Membership:
    id: int
    partner_id: int
    campaign_id: int
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    partner_name: str = ""
    partner_email: str = ""
    invited_at: dt.datetime | None = None

    @classmethod
    def from_row(cls, row: Row[Any]) -> Membership:
        mapping = row._mapping
        return cls(
            row.id,
            row.partner_id,
            row.campaign_id,
            row.status,
            row.created_at,
            row.updated_at,
            mapping.get("partner_name", ""),
            mapping.get("partner_email", ""),
            mapping.get("invited_at"),
        )

    @property
    def actions(self) -> tuple[tuple[str, str], ...]:
        """The moves the advertiser may make from here (see :func:`actions_for`)."""
        return actions_for(self.status, self.invited_at is not None)


def _check_status(status: object) -> str:
    if status not in STATUSES:
        raise ValidationError(
            Message("Membership status must be one of {statuses}.", statuses=", ".join(STATUSES)), "invalid_status"
        )
    return str(status)


def add_membership(conn: Connection, partner_id: int, campaign_id: int, status: str = "pending") -> Membership:
    """Add a partner to a campaign (one membership per partner and campaign)."""
    status = _check_status(status)
    now = utcnow()
    try:
        with conn.begin_nested():
            new_id = conn.execute(
                insert(memberships)
                .values(
                    partner_id=partner_id,
                    campaign_id=campaign_id,
                    status=status,
                    created_at=now,
                    updated_at=now,
                    invited_at=now if status == "invited" else None,
                )
                .returning(memberships.c.id)
            ).scalar_one()
    except IntegrityError as exc:
        raise Conflict(
            Message("This partner is already a member of the campaign, or the partner or campaign does not exist."),
            "membership_exists",
        ) from exc
    return _get(conn, new_id)


def _select() -> Select[Any]:
    return select(memberships, partners.c.name.label("partner_name"), partners.c.email.label("partner_email")).join(
        partners, partners.c.id == memberships.c.partner_id
    )


def _get(conn: Connection, membership_id: int) -> Membership:
    row = conn.execute(_select().where(memberships.c.id == membership_id)).first()
    if row is None:
        raise NotFound(Message("No such membership."))
    return Membership.from_row(row)


def membership_status(conn: Connection, partner_id: int, campaign_id: int) -> str | None:
    """The partner's status in the campaign, or ``None`` when not a member."""
    return conn.execute(
        select(memberships.c.status).where(
            memberships.c.partner_id == partner_id, memberships.c.campaign_id == campaign_id
        )
    ).scalar_one_or_none()


def list_memberships(conn: Connection, advertiser_id: int, campaign_id: int) -> list[Membership]:
    """Members of one of the advertiser's campaigns, pending first, then by name.

    Unanswered invitations are left out: they are listed by e-mail only, with the invitations to e-mails
    without an account (:func:`list_invitations`), so the list never tells which e-mails have accounts.
    """
    owned = (
        select(campaigns.c.id)
        .join(programs, programs.c.id == campaigns.c.program_id)
        .where(campaigns.c.id == campaign_id, programs.c.advertiser_id == advertiser_id)
    )
    rows = conn.execute(
        _select()
        .where(memberships.c.campaign_id.in_(owned), memberships.c.status != "invited")
        .order_by((memberships.c.status != "pending"), partners.c.name, memberships.c.id)
    )
    return [Membership.from_row(row) for row in rows]


def set_membership_status(conn: Connection, advertiser_id: int, membership_id: int, status: str) -> Membership:
    """Approve (``active``), decline, end or re-open a membership in one of the advertiser's campaigns.

    Only the moves in :data:`ACTIONS` are allowed; others are a :class:`Conflict` (``invalid_transition``).
    """
    status = _check_status(status)
    owned = (
        select(campaigns.c.id)
        .join(programs, programs.c.id == campaigns.c.program_id)
        .where(programs.c.advertiser_id == advertiser_id)
    )
    found = conn.execute(
        select(memberships.c.status, memberships.c.invited_at)
        .where(memberships.c.id == membership_id, memberships.c.campaign_id.in_(owned))
        .with_for_update()
    ).first()
    if found is None:
        raise NotFound(Message("No such membership."))
    current = found.status
    if status not in {new for _label, new in actions_for(current, found.invited_at is not None)}:
        raise Conflict(
            Message("A {current} membership cannot become {status}.", current=current, status=status),
            "invalid_transition",
            status=current,
            requested=status,
        )
    conn.execute(
        update(memberships).where(memberships.c.id == membership_id).values(status=status, updated_at=utcnow())
    )
    return _get(conn, membership_id)


def set_status_for(conn: Connection, partner_id: int, campaign_id: int, status: str) -> Membership:
    """Operator path (CLI, demo data): add or update a membership by partner and campaign."""
    status = _check_status(status)
    existing = conn.execute(
        select(memberships.c.id).where(memberships.c.partner_id == partner_id, memberships.c.campaign_id == campaign_id)
    ).scalar_one_or_none()
    if existing is None:
        return add_membership(conn, partner_id, campaign_id, status)
    now = utcnow()
    changes: dict[str, Any] = {"status": status, "updated_at": now}
    if status == "invited":
        changes["invited_at"] = now
    conn.execute(update(memberships).where(memberships.c.id == existing).values(**changes))
    return _get(conn, existing)


def invite_by_email(conn: Connection, advertiser_id: int, campaign_id: int, email: object) -> str:
    """The advertiser invites the partner with this e-mail to one of their campaigns; the sentence to show.

    The answer, the work done (one look-up, one insert) and the errors are the
    same whether or not a partner account has the e-mail, so nobody learns
    which e-mails have accounts: with an account the membership becomes
    ``invited``; without one the invitation waits in ``email_invitations``
    for the account (:func:`claim_email_invitations`). Inviting again an
    e-mail already invited, or one whose account is already a member, changes
    nothing and answers the same (a member's status is changed in the member
    list).
    """
    _owned_campaign(conn, advertiser_id, campaign_id)
    address = accounts.normalize_email(email)
    partner = accounts.find_by_email(conn, partners, address)
    now = utcnow()
    try:
        with conn.begin_nested():
            if partner is not None:
                conn.execute(
                    insert(memberships).values(
                        partner_id=partner.id,
                        campaign_id=campaign_id,
                        status="invited",
                        created_at=now,
                        updated_at=now,
                        invited_at=now,
                    )
                )
            else:
                conn.execute(insert(email_invitations).values(campaign_id=campaign_id, email=address, created_at=now))
    except IntegrityError:
        pass  # already invited or already a member: the same answer
    return Message(INVITED_MESSAGE.template, email=address)


@dataclass(frozen=True)
class Invitation:
    """An invitation not answered yet, as the advertiser sees it: the e-mail only."""

    campaign_id: int
    email: str
    invited_at: dt.datetime


def list_invitations(conn: Connection, advertiser_id: int, campaign_id: int) -> list[Invitation]:
    """The campaign's unanswered invitations, to accounts or not (the same to the advertiser), by e-mail."""
    _owned_campaign(conn, advertiser_id, campaign_id)
    to_accounts = conn.execute(
        select(partners.c.email, memberships.c.invited_at, memberships.c.created_at)
        .join(partners, partners.c.id == memberships.c.partner_id)
        .where(memberships.c.campaign_id == campaign_id, memberships.c.status == "invited")
    )
    to_emails = conn.execute(
        select(email_invitations.c.email, email_invitations.c.created_at).where(
            email_invitations.c.campaign_id == campaign_id
        )
    )
    found = [Invitation(campaign_id, row.email, row.invited_at or row.created_at) for row in to_accounts]
    found += [Invitation(campaign_id, row.email, row.created_at) for row in to_emails]
    return sorted(found, key=lambda invitation: invitation.email)


def withdraw_invitation(conn: Connection, advertiser_id: int, campaign_id: int, email: object) -> bool:
    """Withdraw an unanswered invitation to this e-mail; whether there was one."""
    _owned_campaign(conn, advertiser_id, campaign_id)
    address = accounts.normalize_email(email)
    account = select(partners.c.id).where(partners.c.email == address).scalar_subquery()
    removed = conn.execute(
        delete(memberships).where(
            memberships.c.campaign_id == campaign_id,
            memberships.c.status == "invited",
            memberships.c.partner_id == account,
        )
    ).rowcount
    removed += conn.execute(
        delete(email_invitations).where(
            email_invitations.c.campaign_id == campaign_id, email_invitations.c.email == address
        )
    ).rowcount
    return bool(removed)


def claim_email_invitations(conn: Connection, partner_id: int, email: str) -> int:
    """Turn the invitations waiting for this e-mail into the new partner's invited memberships; how many."""
    waiting = list(
        conn.execute(
            select(email_invitations.c.id, email_invitations.c.campaign_id, email_invitations.c.created_at).where(
                email_invitations.c.email == email
            )
        )
    )
    now = utcnow()
    for row in waiting:
        conn.execute(
            insert(memberships).values(
                partner_id=partner_id,
                campaign_id=row.campaign_id,
                status="invited",
                created_at=now,
                updated_at=now,
                invited_at=row.created_at,
            )
        )
    if waiting:
        conn.execute(delete(email_invitations).where(email_invitations.c.id.in_([row.id for row in waiting])))
    return len(waiting)


def answer_invitation(conn: Connection, partner_id: int, campaign_id: int, accept: bool) -> Membership:
    """The partner accepts (``active``) or declines (``declined``) their invitation to a campaign.

    No membership of theirs in the campaign is :class:`NotFound`; one that is
    not an unanswered invitation (answered already, or an application) is a
    :class:`Conflict` (``not_invited``).
    """
    found = conn.execute(
        select(memberships.c.id, memberships.c.status)
        .where(memberships.c.campaign_id == campaign_id, memberships.c.partner_id == partner_id)
        .with_for_update()
    ).first()
    if found is None:
        raise NotFound(Message("No such invitation."))
    if found.status != "invited":
        raise Conflict(
            Message("There is no invitation to answer: your membership is {status}.", status=found.status),
            "not_invited",
            status=found.status,
        )
    conn.execute(
        update(memberships)
        .where(memberships.c.id == found.id)
        .values(status="active" if accept else "declined", updated_at=utcnow())
    )
    return _get(conn, found.id)


def list_assignable(conn: Connection, advertiser_id: int, campaign_id: int) -> list[Membership]:
    """Members a task of the campaign can be assigned to (active or pending), by name."""
    members = [m for m in list_memberships(conn, advertiser_id, campaign_id) if m.status in ("active", "pending")]
    return sorted(members, key=lambda m: (m.partner_name.lower(), m.id))


def _owned_campaign(conn: Connection, advertiser_id: int, campaign_id: int) -> None:
    owned = conn.execute(
        select(campaigns.c.id)
        .join(programs, programs.c.id == campaigns.c.program_id)
        .where(campaigns.c.id == campaign_id, programs.c.advertiser_id == advertiser_id)
    ).first()
    if owned is None:
        raise NotFound(Message("No such campaign."))
