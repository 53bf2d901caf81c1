"""Campaigns: tracking and payout settings, and whether a partner may make links.

:func:`link_availability` is the one place that decides if a partner can
create a link for a task; the API, the extension (through the API) and the
admin all show the sentence it returns.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from types import EllipsisType
from typing import Any, Literal, get_args

from sqlalchemy import Connection, Row, Select, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import money, urls
from ..db import utcnow
from ..errors import Conflict, NotFound, RuleRefused, ValidationError
from ..i18n import Message
from ..schema import campaign_domains, campaigns, landing_pages, programs, tasks
from ..schema import memberships as membership_table
from . import accounts, earnings, memberships

CampaignStatus = Literal["active", "paused", "ended"]
PayoutModel = Literal["cpc", "cpa", "revshare"]
#: How a partner picks the landing page: any URL on the allowed domains, one of the pages, or the default.
LandingMode = Literal["manual", "choose", "default"]
#: Why links cannot be made, the first of these that applies (see :func:`link_availability`).
AvailabilityCode = Literal[
    "campaign_not_active",
    "membership_not_active",
    "task_not_open",
    "task_archived",
    "click_tracking_off",
    "conversion_tracking_off",
    "pay_for_performance_off",
]
STATUSES: tuple[CampaignStatus, ...] = get_args(CampaignStatus)
PAYOUT_MODELS: tuple[PayoutModel, ...] = get_args(PayoutModel)
LANDING_MODES: tuple[LandingMode, ...] = get_args(LandingMode)
_CLICK_ID_PARAM = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


@dataclass(frozen=True)
class Campaign:
    id: int
    program_id: int
    advertiser_id: int
    name: str
    status: str
    click_tracking: bool
    conversion_tracking: bool
    pay_for_performance: bool
    payout_model: str
    payout_value: int
    currency: str
    landing_mode: LandingMode
    attribution_window_days: int
    click_id_param: str
    daily_click_cap: int
    paused_pays: bool
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> Campaign:
        m = row._mapping
        return cls(**{name: m[name] for name in cls.__dataclass_fields__})

    @property
    def payout_amount(self) -> Decimal:
        """Money per click (cpc) or conversion (cpa), or the percent of the sale (revshare)."""
        if self.payout_model == "revshare":
            return (Decimal(self.payout_value) / 100).quantize(Decimal("0.01"))
        return money.from_minor(self.payout_value, self.currency)


@dataclass(frozen=True)
class Availability:
    """Whether links can be made; when not, ``code`` and a sentence for the partner."""

    available: bool
    code: AvailabilityCode | None = None
    reason: str | None = None


AVAILABLE = Availability(True)


def _select() -> Select[Any]:
    return select(campaigns, programs.c.advertiser_id).join(programs, programs.c.id == campaigns.c.program_id)


def get_campaign(conn: Connection, campaign_id: int) -> Campaign:
    """Any campaign by id (for services that already checked who is asking)."""
    row = conn.execute(_select().where(campaigns.c.id == campaign_id)).first()
    if row is None:
        raise NotFound(Message("No such campaign."))
    return Campaign.from_row(row)


def get_campaign_for_advertiser(conn: Connection, advertiser_id: int, campaign_id: int) -> Campaign:
    """One of the advertiser's campaigns, or :class:`NotFound` (also when it is someone else's)."""
    row = conn.execute(
        _select().where(campaigns.c.id == campaign_id, programs.c.advertiser_id == advertiser_id)
    ).first()
    if row is None:
        raise NotFound(Message("No such campaign."))
    return Campaign.from_row(row)


def list_campaigns(conn: Connection, advertiser_id: int, program_id: int | None = None) -> list[Campaign]:
    """The advertiser's campaigns, optionally of one program, by name."""
    query = _select().where(programs.c.advertiser_id == advertiser_id)
    if program_id is not None:
        query = query.where(campaigns.c.program_id == program_id)
    return [Campaign.from_row(row) for row in conn.execute(query.order_by(campaigns.c.name, campaigns.c.id))]


#: The on/off settings, as a sentence names them.
_SWITCHES = {
    "click_tracking": Message("Click tracking"),
    "conversion_tracking": Message("Conversion tracking"),
    "pay_for_performance": Message("Pay for performance"),
    "paused_pays": Message("Paused pays"),
}
PAYOUT_AMOUNT = Message("The payout amount")


def validate_settings(changes: Mapping[str, Any], current: Campaign | None = None) -> dict[str, Any]:
    """Check campaign settings and turn them into column values.

    Accepts any of: ``status``, ``click_tracking``, ``conversion_tracking``,
    ``pay_for_performance``, ``payout_model``, ``payout_amount`` (a decimal:
    money for cpc/cpa, percent for revshare), ``currency``, ``landing_mode``,
    ``attribution_window_days``, ``click_id_param``, ``daily_click_cap``
    (billable clicks per visitor address and UTC day), ``paused_pays``
    (whether clicks made while paused earn), ``name``. ``current`` is
    the campaign being changed, whose model and currency apply when not changed.
    """
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key in ("click_tracking", "conversion_tracking", "pay_for_performance", "paused_pays"):
            if not isinstance(value, bool):
                raise ValidationError(
                    Message("{setting} must be on or off.", setting=_SWITCHES[key]), "invalid_setting"
                )
            values[key] = value
        elif key == "status":
            if value not in STATUSES:
                raise ValidationError(
                    Message("Status must be one of {statuses}.", statuses=", ".join(STATUSES)), "invalid_setting"
                )
            values[key] = value
        elif key == "payout_model":
            if value not in PAYOUT_MODELS:
                raise ValidationError(Message("Payout model must be cpc, cpa or revshare."), "invalid_setting")
            values[key] = value
        elif key == "landing_mode":
            if value not in LANDING_MODES:
                raise ValidationError(
                    Message("Landing page mode must be manual, choose or default."), "invalid_setting"
                )
            values[key] = value
        elif key == "currency":
            values[key] = money.currency_code(value)
        elif key == "attribution_window_days":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
                raise ValidationError(Message("The attribution window must be 1 to 3650 days."), "invalid_setting")
            values[key] = value
        elif key == "daily_click_cap":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= earnings.MAX_DAILY_CLICK_CAP:
                raise ValidationError(
                    Message(
                        "The daily click cap must be 1 to {maximum} billable clicks per visitor.",
                        maximum=format(earnings.MAX_DAILY_CLICK_CAP, ","),
                    ),
                    "invalid_setting",
                )
            values[key] = value
        elif key == "click_id_param":
            if not isinstance(value, str) or not _CLICK_ID_PARAM.match(value):
                raise ValidationError(
                    Message("The click-id parameter must be 1 to 64 letters, digits, '_', '-' or '.'."),
                    "invalid_setting",
                )
            values[key] = value
        elif key == "name":
            values[key] = accounts.normalize_name(value, Message("Campaign name"))
        elif key != "payout_amount":
            raise ValidationError(Message("Unknown campaign setting: {key}.", key=key), "invalid_setting")
    if "payout_amount" in changes:
        model = values.get("payout_model", current.payout_model if current else "cpa")
        amount = money.parse_amount(changes["payout_amount"], PAYOUT_AMOUNT)
        if model == "revshare":
            if amount > 100:
                raise ValidationError(Message("A revenue share is a percent from 0 to 100."), "invalid_setting")
            values["payout_value"] = int((amount * 100).to_integral_value())
        else:
            currency = values.get("currency", current.currency if current else "USD")
            # Every click (cpc) or conversion (cpa) adds this up in the reports: bounded like a sale.
            values["payout_value"] = money.check_minor(
                money.to_minor(amount, currency), currency, PAYOUT_AMOUNT, "invalid_setting"
            )
    return values


def create_campaign(conn: Connection, advertiser_id: int, program_id: int, name: str, **settings: Any) -> Campaign:
    """Create a campaign in one of the advertiser's programs (everything off until enabled)."""
    owner = conn.execute(
        select(programs.c.id).where(programs.c.id == program_id, programs.c.advertiser_id == advertiser_id)
    ).first()
    if owner is None:
        raise NotFound(Message("No such program."))
    values = validate_settings({"name": name, **settings})
    try:
        with conn.begin_nested():
            new_id = conn.execute(
                insert(campaigns).values(program_id=program_id, created_at=utcnow(), **values).returning(campaigns.c.id)
            ).scalar_one()
    except IntegrityError as exc:
        raise Conflict(
            Message("The program already has a campaign named “{name}”.", name=values["name"]), "name_taken"
        ) from exc
    return get_campaign(conn, new_id)


# The two checks below read the landing pages table directly: landing_pages imports this
# module (Campaign, update_settings), so this module does not import it back.


def _check_mode_possible(conn: Connection, campaign_id: int, mode: str) -> None:
    """Refuse a landing mode the campaign's pages cannot serve (choose/default need a default page)."""
    if mode in ("choose", "default"):
        default = conn.execute(
            select(landing_pages.c.id).where(landing_pages.c.campaign_id == campaign_id, landing_pages.c.is_default)
        ).first()
        if default is None:
            raise RuleRefused(
                Message("Add a landing page before switching to {mode} mode.", mode=mode), "page_required"
            )


def _check_click_id_param_possible(conn: Connection, campaign_id: int, click_id_param: str) -> None:
    """Refuse a click-id parameter name that one of the campaign's landing pages already carries.

    Links already made are not refused: the redirect removes the name from
    every landing URL, whatever it was called when the link was made.
    """
    pages = conn.execute(
        select(landing_pages.c.name, landing_pages.c.url)
        .where(landing_pages.c.campaign_id == campaign_id)
        .order_by(landing_pages.c.is_default.desc(), landing_pages.c.name, landing_pages.c.id)
    )
    for name, url in pages:
        found = urls.find_param(url, click_id_param)
        if found is not None:
            if found == click_id_param:
                message = Message(
                    "The landing page “{name}” already carries a parameter “{param}”, so its visitors would arrive "
                    "with two click ids: choose another click-id parameter name, or remove that parameter from "
                    "the page first.",
                    name=name,
                    param=click_id_param,
                )
            else:
                message = Message(
                    "The landing page “{name}” already carries a parameter “{param}” (written “{found}”), so its "
                    "visitors would arrive with two click ids: choose another click-id parameter name, or remove "
                    "that parameter from the page first.",
                    name=name,
                    param=click_id_param,
                    found=found,
                )
            raise RuleRefused(message, "click_id_param_in_url")


def update_settings(conn: Connection, advertiser_id: int, campaign_id: int, **changes: Any) -> Campaign:
    """Change a campaign's settings; all are checked before anything is written."""
    campaign = get_campaign_for_advertiser(conn, advertiser_id, campaign_id)
    values = validate_settings(changes, campaign)
    changes_units = (
        values.get("payout_model", campaign.payout_model) != campaign.payout_model
        or values.get("currency", campaign.currency) != campaign.currency
    )
    if changes_units and "payout_amount" not in changes:
        # The stored number means money or percent by model and currency; a
        # change of either without the amount would silently change the payout.
        raise ValidationError(
            Message("Give the payout amount together with a new payout model or currency."), "invalid_setting"
        )
    if values.get("landing_mode", campaign.landing_mode) != campaign.landing_mode:
        _check_mode_possible(conn, campaign_id, values["landing_mode"])
    if values.get("click_id_param", campaign.click_id_param) != campaign.click_id_param:
        _check_click_id_param_possible(conn, campaign_id, values["click_id_param"])
    if values:
        try:
            with conn.begin_nested():
                conn.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(**values))
        except IntegrityError as exc:
            raise Conflict(Message("Another campaign of this program already has that name."), "name_taken") from exc
    return replace(campaign, **{k: v for k, v in values.items() if k in Campaign.__dataclass_fields__})


_STATUS_REASONS = {
    "paused": Message("The advertiser has paused this campaign, so no new links can be made."),
    "ended": Message("This campaign has ended, so no new links can be made."),
}
_MEMBERSHIP_REASONS = {
    None: Message("You are not a member of this campaign."),
    "pending": Message("Your membership in this campaign is pending the advertiser's approval."),
    "declined": Message("Your application to this campaign was declined."),
    "ended": Message("Your membership in this campaign has ended."),
    "invited": Message("You are invited to this campaign: accept the invitation in Tasklink to make links."),
}


def link_availability(
    conn: Connection,
    campaign: Campaign,
    partner_id: int,
    task_partner_id: int | EllipsisType | None = ...,
    membership: str | EllipsisType | None = ...,
    task_archived: bool = False,
) -> Availability:
    """Can ``partner_id`` make a link in ``campaign`` (for a task assigned to ``task_partner_id``)?

    The conditions are checked in the order the product defines and the first one that
    fails is the reason: campaign not active, membership not active, task not
    open to the partner, task archived, click tracking off, conversion tracking off, pay for
    performance off. Pass ``task_partner_id`` to include the task check (``None``
    means open to all) and ``membership`` when the caller already knows it.
    """
    if campaign.status == "active" and membership is ...:
        membership = memberships.membership_status(conn, partner_id, campaign.id)
    return availability(
        campaign.status,
        campaign.click_tracking,
        campaign.conversion_tracking,
        campaign.pay_for_performance,
        partner_id,
        task_partner_id,
        membership,
        task_archived,
    )


def availability(
    status: str,
    click_tracking: bool,
    conversion_tracking: bool,
    pay_for_performance: bool,
    partner_id: int,
    task_partner_id: int | object | None,
    membership: str | object | None,
    task_archived: bool,
) -> Availability:
    """The rules of :func:`link_availability` on values already read (link creation reads them in one query)."""
    if status != "active":
        return Availability(
            False, "campaign_not_active", _STATUS_REASONS.get(status, Message("This campaign is not active."))
        )
    if membership != "active":
        reason = _MEMBERSHIP_REASONS.get(membership if isinstance(membership, str) else None)
        return Availability(False, "membership_not_active", reason or _MEMBERSHIP_REASONS[None])
    if task_partner_id is not ... and task_partner_id is not None and task_partner_id != partner_id:
        return Availability(False, "task_not_open", Message("This task is assigned to another partner."))
    if task_archived:
        return Availability(False, "task_archived", Message("This task is archived: it takes no new links."))
    if not click_tracking:
        return Availability(
            False, "click_tracking_off", Message("The advertiser has not enabled click tracking for this campaign.")
        )
    if not conversion_tracking:
        return Availability(
            False,
            "conversion_tracking_off",
            Message("The advertiser has not enabled conversion tracking for this campaign."),
        )
    if not pay_for_performance:
        return Availability(
            False,
            "pay_for_performance_off",
            Message("The advertiser has not enabled pay for performance for this campaign."),
        )
    return AVAILABLE


def availability_for_partners(conn: Connection, campaign: Campaign) -> Availability:
    """Can the campaign's active partners make links now, and if not, the API's sentence why.

    The advertiser's view of :func:`link_availability`: the campaign-wide
    conditions only (status, the three switches), for a partner whose
    membership is active and a task open to them.
    """
    return link_availability(conn, campaign, partner_id=0, membership="active")


@dataclass(frozen=True)
class Check:
    """One item of :func:`readiness`: what is needed, whether it is there, and what to do if not."""

    label: str
    ok: bool
    hint: str = ""


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]
    availability: Availability  # what the API tells an active partner now (:func:`availability_for_partners`)

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)


def readiness(conn: Connection, campaign: Campaign) -> Readiness:
    """What the campaign needs before a partner can make a link, each item checked.

    The campaign-wide conditions of :func:`link_availability` (status, the three
    switches) plus what a link is made of: a landing page, an allowed domain,
    a task open for links and an active partner.
    """

    def there(table: Any, *where: Any) -> bool:
        return bool(conn.execute(select(exists().where(table.c.campaign_id == campaign.id, *where))).scalar())

    return Readiness(
        (
            Check(
                Message("Campaign active"), campaign.status == "active", Message("set Status to Active in section 1")
            ),
            Check(Message("Click tracking on"), campaign.click_tracking, Message("turn it on in section 1")),
            Check(Message("Conversion tracking on"), campaign.conversion_tracking, Message("turn it on in section 1")),
            Check(Message("Pay for performance on"), campaign.pay_for_performance, Message("turn it on in section 1")),
            Check(Message("A landing page"), there(landing_pages), Message("add one in section 2")),
            Check(
                Message("An allowed domain"), there(campaign_domains), Message("add your site's domain in section 2")
            ),
            Check(
                Message("A task"),
                there(tasks, *_open_task_conditions()),
                Message("create one in section 3 (archived ones do not count)"),
            ),
            Check(
                Message("An active partner"),
                there(membership_table, membership_table.c.status == "active"),
                Message("add or approve one in section 4"),
            ),
        ),
        availability_for_partners(conn, campaign),
    )


def _open_task_conditions() -> tuple[Any, ...]:
    """The conditions of a task that still offers new links."""
    return (tasks.c.archived_at.is_(None),)


@dataclass(frozen=True)
class PartnerCampaign:
    """A campaign as one partner sees it: membership status and whether links can be made."""

    campaign: Campaign
    program_name: str
    membership: memberships.MembershipStatus
    availability: Availability


def list_campaigns_for_partner(
    conn: Connection,
    partner_id: int,
    program_id: int | None = None,
    statuses: tuple[str, ...] = ("active", "pending"),
) -> list[PartnerCampaign]:
    """The partner's campaigns whose membership has one of ``statuses``, by program and name.

    Pending ones are included by default so the extension can show them
    disabled with the reason instead of hiding them.
    """
    query = (
        _select()
        .add_columns(programs.c.name.label("program_name"), membership_table.c.status.label("membership_status"))
        .join(membership_table, membership_table.c.campaign_id == campaigns.c.id)
        .where(membership_table.c.partner_id == partner_id, membership_table.c.status.in_(statuses))
        .order_by(programs.c.name, campaigns.c.name, campaigns.c.id)
    )
    if program_id is not None:
        query = query.where(campaigns.c.program_id == program_id)
    result = []
    for row in conn.execute(query):
        campaign = Campaign.from_row(row)
        status = row.membership_status
        result.append(
            PartnerCampaign(
                campaign, row.program_name, status, link_availability(conn, campaign, partner_id, membership=status)
            )
        )
    return result
