"""Memberships: a partner's standing in a campaign (active, pending, declined, ended)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import Connection, Row, Select, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..db import utcnow
from ..errors import Conflict, NotFound, ValidationError
from ..schema import campaigns, memberships, partners, programs
from . import accounts

MembershipStatus = Literal["active", "pending", "declined", "ended"]
STATUSES: tuple[MembershipStatus, ...] = get_args(MembershipStatus)

#: The advertiser's moves between statuses: status → the actions it allows,
#: each as (label, new status). Anything else is refused by
#: :func:`set_membership_status`; operators (CLI, demo data) may set any status.
ACTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "pending": (("Approve", "active"), ("Decline", "declined")),
    "active": (("End", "ended"),),
    "declined": (("Approve", "active"),),
    "ended": (("Re-activate", "active"),),
}


def actions_for(status: str) -> tuple[tuple[str, str], ...]:
    """The (label, new status) moves an advertiser may make from ``status``."""
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

    @classmethod
    def from_row(cls, row: Row[Any]) -> Membership:
        mapping = row._mapping
        return cls(
            row.id, row.partner_id, row.campaign_id, row.status, row.created_at, row.updated_at,
            mapping.get("partner_name", ""), mapping.get("partner_email", ""),
        )


def _check_status(status: object) -> str:
    if status not in STATUSES:
        raise ValidationError(f"Membership status must be one of {', '.join(STATUSES)}.", "invalid_status")
    return str(status)


def add_membership(conn: Connection, partner_id: int, campaign_id: int, status: str = "pending") -> Membership:
    """Add a partner to a campaign (one membership per partner and campaign)."""
    status = _check_status(status)
    now = utcnow()
    try:
        with conn.begin_nested():
            new_id = conn.execute(
                insert(memberships)
                .values(partner_id=partner_id, campaign_id=campaign_id, status=status, created_at=now, updated_at=now)
                .returning(memberships.c.id)
            ).scalar_one()
    except IntegrityError as exc:
        raise Conflict("This partner is already a member of the campaign, or the partner or campaign does not exist.",
                       "membership_exists") from exc
    return _get(conn, new_id)


def _select() -> Select[Any]:
    return select(
        memberships, partners.c.name.label("partner_name"), partners.c.email.label("partner_email")
    ).join(partners, partners.c.id == memberships.c.partner_id)


def _get(conn: Connection, membership_id: int) -> Membership:
    row = conn.execute(_select().where(memberships.c.id == membership_id)).first()
    if row is None:
        raise NotFound("No such membership.")
    return Membership.from_row(row)


def membership_status(conn: Connection, partner_id: int, campaign_id: int) -> str | None:
    """The partner's status in the campaign, or ``None`` when not a member."""
    return conn.execute(
        select(memberships.c.status).where(
            memberships.c.partner_id == partner_id, memberships.c.campaign_id == campaign_id
        )
    ).scalar_one_or_none()


def list_memberships(conn: Connection, advertiser_id: int, campaign_id: int) -> list[Membership]:
    """Members of one of the advertiser's campaigns, pending first, then by name."""
    owned = (
        select(campaigns.c.id)
        .join(programs, programs.c.id == campaigns.c.program_id)
        .where(campaigns.c.id == campaign_id, programs.c.advertiser_id == advertiser_id)
    )
    rows = conn.execute(
        _select()
        .where(memberships.c.campaign_id.in_(owned))
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
    current = conn.execute(
        select(memberships.c.status)
        .where(memberships.c.id == membership_id, memberships.c.campaign_id.in_(owned))
        .with_for_update()
    ).scalar_one_or_none()
    if current is None:
        raise NotFound("No such membership.")
    if status not in {new for _label, new in actions_for(current)}:
        raise Conflict(
            f"A {current} membership cannot become {status}.", "invalid_transition", status=current, requested=status
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
    conn.execute(update(memberships).where(memberships.c.id == existing).values(status=status, updated_at=utcnow()))
    return _get(conn, existing)


def add_partner_by_email(
    conn: Connection, advertiser_id: int, campaign_id: int, email: object, status: str = "active"
) -> Membership:
    """The advertiser adds an existing partner account to one of their campaigns, by e-mail."""
    status = _check_status(status)
    if status not in ("active", "pending"):
        raise ValidationError("A new member starts active or pending.", "invalid_status")
    _owned_campaign(conn, advertiser_id, campaign_id)
    partner = accounts.find_by_email(conn, partners, accounts.normalize_email(email))
    if partner is None:
        raise NotFound(f"No partner account has the e-mail {str(email).strip().lower()}.", "partner_not_found")
    if membership_status(conn, partner.id, campaign_id) is not None:
        raise Conflict(f"{partner.name} is already a member of this campaign; change the status below.", "membership_exists")
    return add_membership(conn, partner.id, campaign_id, status)


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
        raise NotFound("No such campaign.")
