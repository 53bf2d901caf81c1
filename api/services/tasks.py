"""Tasks: pieces of work in a campaign, open to all its partners or assigned to one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, and_, insert, or_, select, update

from ..db import utcnow
from ..errors import NotFound, ValidationError
from ..i18n import Message
from ..schema import landing_pages, memberships, partners, tasks
from . import accounts
from .campaigns import get_campaign_for_advertiser

MAX_DESCRIPTION = 5000
_UNSET: Any = object()


@dataclass(frozen=True)
class Task:
    id: int
    campaign_id: int
    title: str
    description: str
    partner_id: int | None
    landing_page_id: int | None
    created_at: dt.datetime
    partner_name: str | None = None
    archived_at: dt.datetime | None = None

    @property
    def archived(self) -> bool:
        """Archived: no new links (the links made for it keep redirecting)."""
        return self.archived_at is not None

    @classmethod
    def from_row(cls, row: Row[Any]) -> Task:
        m = row._mapping
        return cls(
            row.id,
            row.campaign_id,
            row.title,
            row.description,
            row.partner_id,
            row.landing_page_id,
            row.created_at,
            m.get("partner_name"),
            m.get("archived_at"),
        )

    def open_to(self, partner_id: int) -> bool:
        """Open to every partner of the campaign, or assigned to this one."""
        return self.partner_id is None or self.partner_id == partner_id


def _select() -> Select[Any]:
    return select(tasks, partners.c.name.label("partner_name")).outerjoin(partners, partners.c.id == tasks.c.partner_id)


def _clean(conn: Connection, campaign_id: int, values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "title" in values:
        out["title"] = accounts.normalize_name(values["title"], Message("Task title"))
    if "description" in values:
        description = values["description"] or ""
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
            raise ValidationError(
                Message("The description must be text of at most {limit} characters.", limit=MAX_DESCRIPTION),
                "invalid_input",
            )
        out["description"] = description.strip()
    if "partner_id" in values:
        partner_id = values["partner_id"]
        if partner_id is not None:
            member = conn.execute(
                select(memberships.c.id).where(
                    memberships.c.partner_id == partner_id, memberships.c.campaign_id == campaign_id
                )
            ).first()
            if member is None:
                raise ValidationError(
                    Message("A task can only be assigned to a partner of the campaign."), "invalid_partner"
                )
        out["partner_id"] = partner_id
    if "landing_page_id" in values:
        page_id = values["landing_page_id"]
        if page_id is not None:
            page = conn.execute(
                select(landing_pages.c.id).where(
                    landing_pages.c.id == page_id, landing_pages.c.campaign_id == campaign_id
                )
            ).first()
            if page is None:
                raise ValidationError(
                    Message("The task's landing page must be one of the campaign's pages."), "invalid_landing_page"
                )
        out["landing_page_id"] = page_id
    return out


def create_task(
    conn: Connection,
    advertiser_id: int,
    campaign_id: int,
    title: str,
    description: str = "",
    partner_id: int | None = None,
    landing_page_id: int | None = None,
) -> Task:
    """Create a task in one of the advertiser's campaigns, open to all or assigned to one partner."""
    get_campaign_for_advertiser(conn, advertiser_id, campaign_id)
    values = _clean(
        conn,
        campaign_id,
        {"title": title, "description": description, "partner_id": partner_id, "landing_page_id": landing_page_id},
    )
    new_id = conn.execute(
        insert(tasks).values(campaign_id=campaign_id, created_at=utcnow(), **values).returning(tasks.c.id)
    ).scalar_one()
    return get_task(conn, new_id)


def update_task(
    conn: Connection,
    advertiser_id: int,
    task_id: int,
    title: Any = _UNSET,
    description: Any = _UNSET,
    partner_id: Any = _UNSET,
    landing_page_id: Any = _UNSET,
) -> Task:
    """Edit or (re)assign one of the advertiser's tasks; ``partner_id=None`` opens it to all."""
    task = get_task(conn, task_id)
    get_campaign_for_advertiser(conn, advertiser_id, task.campaign_id)
    given = {
        key: value
        for key, value in (
            ("title", title),
            ("description", description),
            ("partner_id", partner_id),
            ("landing_page_id", landing_page_id),
        )
        if value is not _UNSET
    }
    values = _clean(conn, task.campaign_id, given)
    if values:
        conn.execute(update(tasks).where(tasks.c.id == task_id).values(**values))
    return get_task(conn, task_id)


def set_archived(conn: Connection, advertiser_id: int, task_id: int, archived: bool) -> Task:
    """Archive one of the advertiser's tasks (no new links; its links keep redirecting) or restore it."""
    task = get_task(conn, task_id)
    get_campaign_for_advertiser(conn, advertiser_id, task.campaign_id)
    if archived != task.archived:
        conn.execute(update(tasks).where(tasks.c.id == task_id).values(archived_at=utcnow() if archived else None))
    return get_task(conn, task_id)


def get_task(conn: Connection, task_id: int) -> Task:
    """Any task by id (callers check who may see it)."""
    row = conn.execute(_select().where(tasks.c.id == task_id)).first()
    if row is None:
        raise NotFound(Message("No such task."))
    return Task.from_row(row)


def list_tasks(conn: Connection, advertiser_id: int, campaign_id: int) -> list[Task]:
    """Every task of one of the advertiser's campaigns: the open ones first, newest first."""
    get_campaign_for_advertiser(conn, advertiser_id, campaign_id)
    rows = conn.execute(
        _select()
        .where(tasks.c.campaign_id == campaign_id)
        .order_by(tasks.c.archived_at.is_not(None), tasks.c.id.desc())
    )
    return [Task.from_row(row) for row in rows]


def _visible_to_partner(partner_id: int) -> ColumnElement[bool]:
    active = select(memberships.c.campaign_id).where(
        memberships.c.partner_id == partner_id, memberships.c.status == "active"
    )
    return and_(tasks.c.campaign_id.in_(active), or_(tasks.c.partner_id.is_(None), tasks.c.partner_id == partner_id))


def list_tasks_for_partner(conn: Connection, partner_id: int, campaign_id: int) -> list[Task]:
    """Tasks open to the partner in a campaign of an active membership, oldest first.

    Raises :class:`NotFound` when the partner has no active membership there,
    so nothing of a campaign the partner is not in can be seen.
    """
    status = conn.execute(
        select(memberships.c.status).where(
            memberships.c.partner_id == partner_id, memberships.c.campaign_id == campaign_id
        )
    ).scalar_one_or_none()
    if status != "active":
        raise NotFound(Message("No such campaign."))
    rows = conn.execute(
        _select().where(tasks.c.campaign_id == campaign_id, _visible_to_partner(partner_id)).order_by(tasks.c.id)
    )
    return [Task.from_row(row) for row in rows]


def get_task_for_partner(conn: Connection, partner_id: int, task_id: int) -> Task:
    """A task the partner may see (active membership, open to them), or :class:`NotFound`."""
    row = conn.execute(_select().where(tasks.c.id == task_id, _visible_to_partner(partner_id))).first()
    if row is None:
        raise NotFound(Message("No such task."))
    return Task.from_row(row)
