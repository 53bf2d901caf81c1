"""Programs: an advertiser's groups of campaigns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, insert, select
from sqlalchemy.exc import IntegrityError

from ..db import utcnow
from ..errors import Conflict, NotFound
from ..i18n import Message
from ..schema import campaigns, memberships, programs
from . import accounts


@dataclass(frozen=True)
class Program:
    id: int
    advertiser_id: int
    name: str
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> Program:
        return cls(row.id, row.advertiser_id, row.name, row.created_at)


def create_program(conn: Connection, advertiser_id: int, name: str) -> Program:
    """Create a program for the advertiser (names are unique per advertiser)."""
    name = accounts.normalize_name(name, Message("Program name"))
    try:
        with conn.begin_nested():
            new_id = conn.execute(
                insert(programs)
                .values(advertiser_id=advertiser_id, name=name, created_at=utcnow())
                .returning(programs.c.id)
            ).scalar_one()
    except IntegrityError as exc:
        raise Conflict(Message("You already have a program named “{name}”.", name=name), "name_taken") from exc
    return get_program(conn, advertiser_id, new_id)


def get_program(conn: Connection, advertiser_id: int, program_id: int) -> Program:
    """One of the advertiser's programs, or :class:`NotFound`."""
    row = conn.execute(
        select(programs).where(programs.c.id == program_id, programs.c.advertiser_id == advertiser_id)
    ).first()
    if row is None:
        raise NotFound(Message("No such program."))
    return Program.from_row(row)


def list_programs(conn: Connection, advertiser_id: int) -> list[Program]:
    """The advertiser's programs by name."""
    rows = conn.execute(
        select(programs).where(programs.c.advertiser_id == advertiser_id).order_by(programs.c.name, programs.c.id)
    )
    return [Program.from_row(row) for row in rows]


def list_programs_for_partner(conn: Connection, partner_id: int) -> list[Program]:
    """Programs in which the partner has at least one active membership."""
    active = (
        select(campaigns.c.program_id)
        .join(memberships, memberships.c.campaign_id == campaigns.c.id)
        .where(memberships.c.partner_id == partner_id, memberships.c.status == "active")
    )
    rows = conn.execute(select(programs).where(programs.c.id.in_(active)).order_by(programs.c.name, programs.c.id))
    return [Program.from_row(row) for row in rows]
