"""Who may earn from a click, and why not: the rules an advertiser's money follows.

Every click is recorded, and every visitor is redirected, whatever is decided
here: these rules only say whether the advertiser pays. A click is
*billable* or it carries exactly one reason, the first that applies in
:data:`REASONS` order:

======================  ===============================================  ==========  ====================
reason                  when                                             cpc pays    its conversions pay
======================  ===============================================  ==========  ====================
``not_paying``          the campaign's pay for performance is off        no          no
``campaign_ended``      the campaign is ended                            no          no
``campaign_paused``     paused, and the advertiser chose not to pay      no          no
``membership_ended``    the partner's membership is not active           no          no
``link_disabled``       the link is disabled (by partner or advertiser)  no          no
``bot``                 a crawler, unfurler or HTTP tool                 no          no
``prefetch``            a browser prefetch / prerender request           no          yes
``duplicate``           same visitor, same link, within 24 h of a        no          yes
                        billable click
``over_cap``            the visitor address already made the campaign's  no          yes
                        daily cap of billable clicks (UTC day)
======================  ===============================================  ==========  ====================

The first seven are decided when the click happens, from what the redirect
knows about the link (:func:`click_reason`); ``duplicate`` and ``over_cap``
need the stored history and are decided when the click is stored, in time
order (:mod:`api.services.clicks`). A sale proves a person, so the conversion
of a duplicate, capped or prefetched click pays; a click made where nobody
may earn never makes a conversion pay (:func:`conversion_payout_reason`).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from functools import lru_cache
from typing import Literal, Protocol, get_args

from ..i18n import Message

#: Every reason a click may not be billable, in the order they are checked: declared once, used by
#: the rules below, the reports and the API's document.
Reason = Literal[
    "not_paying",
    "campaign_ended",
    "campaign_paused",
    "membership_ended",
    "link_disabled",
    "bot",
    "prefetch",
    "duplicate",
    "over_cap",
]
#: The reasons under which nobody may earn: conversions of such clicks pay 0 (a conversion's payout_reason).
NoEarningsReason = Literal[
    "not_paying", "campaign_ended", "campaign_paused", "membership_ended", "link_disabled", "bot"
]

NOT_PAYING: Reason = "not_paying"
CAMPAIGN_ENDED: Reason = "campaign_ended"
CAMPAIGN_PAUSED: Reason = "campaign_paused"
MEMBERSHIP_ENDED: Reason = "membership_ended"
LINK_DISABLED: Reason = "link_disabled"
BOT: Reason = "bot"
PREFETCH: Reason = "prefetch"
DUPLICATE: Reason = "duplicate"
OVER_CAP: Reason = "over_cap"

REASONS: tuple[Reason, ...] = get_args(Reason)

#: Each reason in a few words, for people (admin tables, CSV exports).
REASON_LABELS: dict[str, str] = {
    NOT_PAYING: Message("pay for performance off"),
    CAMPAIGN_ENDED: Message("campaign ended"),
    CAMPAIGN_PAUSED: Message("campaign paused (not paying)"),
    MEMBERSHIP_ENDED: Message("membership not active"),
    LINK_DISABLED: Message("link disabled"),
    BOT: Message("bot or link preview"),
    PREFETCH: Message("browser prefetch"),
    DUPLICATE: Message("repeat click (24 h)"),
    OVER_CAP: Message("over the daily cap"),
}
NO_EARNINGS: frozenset[Reason] = frozenset(get_args(NoEarningsReason))
#: A later click of the same visitor on the same link within this time of a billable one is a duplicate.
DUPLICATE_WINDOW = dt.timedelta(hours=24)
#: Billable clicks per visitor address per campaign and UTC day, unless the campaign sets its own.
DEFAULT_DAILY_CLICK_CAP = 5
MAX_DAILY_CLICK_CAP = 100_000


def click_reason(
    *,
    pay_for_performance: bool,
    campaign_status: str,
    paused_pays: bool,
    membership_status: str | None,
    link_disabled: bool,
    is_bot: bool,
    is_prefetch: bool,
) -> Reason | None:
    """The reason a click is not billable that is known when it happens, or ``None`` (decided when stored)."""
    if not pay_for_performance:
        return NOT_PAYING
    if campaign_status == "ended":
        return CAMPAIGN_ENDED
    if campaign_status == "paused" and not paused_pays:
        return CAMPAIGN_PAUSED
    if membership_status != "active":
        return MEMBERSHIP_ENDED
    if link_disabled:
        return LINK_DISABLED
    if is_bot:
        return BOT
    if is_prefetch:
        return PREFETCH
    return None


def conversion_payout_reason(click_reason: str | None, pay_for_performance_now: bool) -> str | None:
    """Why a conversion of this click pays 0 although sales are tracked, or ``None`` when it pays.

    The click's own reason when nobody could earn from it; ``not_paying``
    when the campaign has stopped paying for performance since (the payout
    follows the campaign's terms at the time of the conversion). A link
    disabled or a membership ended *after* the click takes nothing back.
    """
    if click_reason in NO_EARNINGS:
        return click_reason
    if not pay_for_performance_now:
        return NOT_PAYING
    return None


# --- prefetch -------------------------------------------------------------------------

#: Request headers by which browsers mark speculative requests, lower-case.
_PURPOSE_HEADERS = ("Sec-Purpose", "Purpose", "X-Purpose", "X-Moz")


class HeaderLookup(Protocol):
    """Where a click's request headers are read from: a mapping, or the redirect's WSGI environ view."""

    def get(self, name: str, /) -> str | None:
        """The header's value, ``None`` when absent."""


def is_prefetch(headers: HeaderLookup) -> bool:
    """Whether the request is a browser's prefetch or prerender, not a person's click.

    Chromium sends ``Sec-Purpose: prefetch`` (``prefetch;prerender`` for a
    prerender), older browsers ``Purpose: prefetch``, Safari ``X-Purpose:
    preview`` and Firefox ``X-Moz: prefetch``.
    """
    for name in _PURPOSE_HEADERS:
        value = headers.get(name)
        if value and _speculative(value):
            return True
    return False


@lru_cache(maxsize=64)
def _speculative(value: str) -> bool:
    value = value.lower()
    return "prefetch" in value or "prerender" in value or "preview" in value


# --- the visitor ---------------------------------------------------------------------


@lru_cache(maxsize=4096)
def visitor_network(address: str | None) -> str:
    """The network that stands for one visitor: an IPv4 address, or the /64 of an IPv6 address.

    An IPv6 host picks any address of its /64 at will (privacy addresses), so
    the whole /64 counts as one visitor; an IPv4-mapped IPv6 address is its
    IPv4 address. Anything that is not an address (a test client, a broken
    proxy header) stands for itself.
    """
    if not address:
        return "unknown"
    if ":" not in address:
        return address  # IPv4 (the common case, no parsing)
    try:
        ip = ipaddress.IPv6Address(address.split("%", 1)[0])
    except ValueError:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))


def day_start(moment: dt.datetime) -> dt.datetime:
    """Midnight (UTC) of the day of ``moment`` (naive UTC in, naive UTC out): the daily cap's day."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)
