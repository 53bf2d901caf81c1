"""Links: issuing short and regular (signed) tracking links for a partner's task.

A short link is ``{base}/s/{code}`` with a random base62 code; a regular link
is ``{base}/c/{token}`` where the token, signed with itsdangerous, carries what
the redirect needs. Reporting info (Sub IDs, Shared ID) is stored with the
link and appended to ``url`` but never to ``display_url``.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import quote, urlencode, urlsplit

from sqlalchemy import Connection, Row, Select, func, select, update

from .. import urls
from ..db import utcnow
from ..errors import Conflict, LinkUnavailable, NotFound, PermissionDenied, RuleRefused, ValidationError
from ..i18n import Message
from ..rawsql import Raw
from ..schema import SUB_ID_MAX, clicks, conversions, links, programs
from ..schema import campaigns as campaign_table
from ..signing import link_serializer
from . import campaigns, landing_pages, tasks

BASE62 = string.digits + string.ascii_letters
CODE_LENGTH = 7
CODE_ATTEMPTS = 8
#: A short link (/s/CODE, the landing URL stored) or a regular one (/c/TOKEN, the landing URL signed into it).
LinkKind = Literal["short", "regular"]
KINDS: tuple[LinkKind, ...] = get_args(LinkKind)
#: Who disabled a link: a link the advertiser disabled cannot be enabled by the partner.
DisabledBy = Literal["partner", "advertiser"]
_CODES = len(BASE62) ** CODE_LENGTH
#: API field name → column name, in the order they are appended to a URL.
REPORTING_FIELDS = {"subId1": "sub_id1", "subId2": "sub_id2", "subId3": "sub_id3", "sharedid": "shared_id"}
#: The longest path and query (in bytes, as sent) a link's ``url`` may have.
#: A browser following the link sends them in the request line
#: ``GET <path?query> HTTP/1.1``, and gunicorn answers 414 to a request line
#: over 4,094 bytes (its default ``limit_request_line``): a longer link could
#: be issued but never followed. 3,800 leaves about 280 bytes for what a
#: platform appends to a shared link (``fbclid``, ``gclid``, ``utm_*``).
MAX_REQUEST_TARGET = 3800
#: The request target's characters that go on the wire as they are (the rest is percent-encoded).
_TARGET_SAFE = "/%:@!$&'()*+,;=-._~?"


@dataclass(frozen=True)
class Link:
    id: int
    partner_id: int
    task_id: int
    campaign_id: int
    kind: str
    code: str | None
    landing_url: str
    sub_id1: str | None
    sub_id2: str | None
    sub_id3: str | None
    shared_id: str | None
    disabled: bool
    created_at: dt.datetime
    disabled_by: str | None = None  # "partner" or "advertiser" while disabled
    clicks: int = 0
    billable_clicks: int = 0
    conversions: int = 0

    @classmethod
    def from_row(cls, row: Row[Any]) -> Link:
        m = row._mapping
        return cls(**{name: m[name] for name in cls.__dataclass_fields__ if name in m})

    @property
    def reporting(self) -> dict[str, str | None]:
        """The reporting info under its API names (``subId1``…, ``sharedid``)."""
        return {api: getattr(self, column) for api, column in REPORTING_FIELDS.items()}


def new_code() -> str:
    """A random short code from ``secrets`` (62^7 ≈ 3.5·10^12 possibilities, each as likely).

    One draw of a number below 62^7, written in base 62: one read of the
    system's randomness rather than one per character.
    """
    number = secrets.randbelow(_CODES)
    digits = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(digits)


def clean_reporting(values: Mapping[str, object]) -> dict[str, str | None]:
    """Check Sub IDs and Shared ID at creation: strings of at most 255 printable characters.

    Returns column names → value (``None`` for absent or empty).
    """
    cleaned: dict[str, str | None] = {}
    for api_name, column in REPORTING_FIELDS.items():
        value = values.get(api_name)
        if value is None or value == "":
            cleaned[column] = None
            continue
        if not isinstance(value, str):
            raise ValidationError(Message("{field} must be a string.", field=api_name), "invalid_reporting")
        if len(value) > SUB_ID_MAX:
            raise ValidationError(
                Message("{field} must be at most {limit} characters.", field=api_name, limit=SUB_ID_MAX),
                "invalid_reporting",
            )
        if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in value):
            raise ValidationError(
                Message("{field} must not contain control characters.", field=api_name), "invalid_reporting"
            )
        cleaned[column] = value
    return cleaned


def with_reporting(url: str, reporting: Mapping[str, str | None]) -> str:
    """Append reporting info (API names → values) to the end of a URL as query parameters."""
    params = [(name, value) for name, value in reporting.items() if value]
    if not params:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(params)


def regular_token(keys: Sequence[str], link: Link) -> str:
    """The signed token of a regular link: partner, task, link and landing URL."""
    return link_serializer(keys).dumps({"l": link.id, "p": link.partner_id, "t": link.task_id, "u": link.landing_url})


def link_urls(link: Link, base_url: str, keys: Sequence[str]) -> tuple[str, str]:
    """``(url, display_url)``: the full link with reporting info, and the shareable one without."""
    base = base_url.rstrip("/")
    display = f"{base}/s/{link.code}" if link.kind == "short" else f"{base}/c/{regular_token(keys, link)}"
    return with_reporting(display, link.reporting), display


def request_target_bytes(url: str) -> int:
    """How many bytes of the request line ``url`` takes: its path and query, percent-encoded as browsers send them."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return len(quote(target, safe=_TARGET_SAFE).encode("ascii"))


def check_followable(link: Link, base_url: str, keys: Sequence[str]) -> None:
    """Refuse (422 ``link_too_long``) a link whose ``url`` is too long to be followed.

    Run on a new link before its transaction commits, so a refused link is
    never stored: only then are its id (part of a regular link's token) and
    so its exact length known. Reporting values count percent-encoded, as
    they are sent.
    """
    url, _display = link_urls(link, base_url, keys)
    size = request_target_bytes(url)
    if size > MAX_REQUEST_TARGET:
        if link.kind == "regular":
            message = Message(
                "This link would be too long to follow: its path and query take {size} bytes, more than the "
                "{limit} web servers reliably accept. Use a shorter landing URL, a short link, or shorter Sub IDs "
                "or Shared ID (characters other than ASCII letters and digits take up to 12 bytes each once "
                "percent-encoded).",
                size=format(size, ","),
                limit=format(MAX_REQUEST_TARGET, ","),
            )
        else:
            message = Message(
                "This link would be too long to follow: its path and query take {size} bytes, more than the "
                "{limit} web servers reliably accept. Use shorter Sub IDs or Shared ID (characters other than "
                "ASCII letters and digits take up to 12 bytes each once percent-encoded).",
                size=format(size, ","),
                limit=format(MAX_REQUEST_TARGET, ","),
            )
        raise RuleRefused(message, "link_too_long")


# Every rule of link creation reads from this one query (one round trip): the task
# if the partner may see it (an active membership of its campaign, open to them),
# the campaign's switches and landing settings, and the three pages a link may
# land on: the task's own, the campaign's default (at most one, by a unique
# index) and the one asked for by id, if it is the campaign's. The allowed
# domains come as one text, only when a landing URL is given.
_RULES = (
    "SELECT t.campaign_id, t.partner_id, t.archived_at, c.status, c.click_tracking, c.conversion_tracking, "
    "c.pay_for_performance, c.landing_mode, c.click_id_param, tp.id, tp.url, dp.id, dp.url, rp.id, rp.url{domains} "
    "FROM tasks t "
    "JOIN memberships m ON m.campaign_id = t.campaign_id AND m.partner_id = ? AND m.status = 'active' "
    "JOIN campaigns c ON c.id = t.campaign_id "
    "LEFT JOIN landing_pages tp ON tp.id = t.landing_page_id "
    "LEFT JOIN landing_pages dp ON dp.campaign_id = t.campaign_id AND dp.is_default "
    "LEFT JOIN landing_pages rp ON rp.id = ? AND rp.campaign_id = t.campaign_id "
    "WHERE t.id = ? AND (t.partner_id IS NULL OR t.partner_id = ?)"
)
_DOMAINS = ", (SELECT {aggregate}(d.domain, ' ') FROM campaign_domains d WHERE d.campaign_id = t.campaign_id)"
_RULES_SQL = {
    (sqlite, with_domains): _RULES.format(
        domains=_DOMAINS.format(aggregate="group_concat" if sqlite else "string_agg") if with_domains else ""
    )
    for sqlite in (True, False)
    for with_domains in (True, False)
}
# A colliding short code inserts nothing (and returns no id) instead of failing,
# so a retry needs no savepoint. Only the code's uniqueness is waived: any other
# constraint still raises.
_INSERT = (
    "INSERT INTO links (partner_id, task_id, campaign_id, kind, code, landing_url, sub_id1, sub_id2, sub_id3, "
    "shared_id, disabled, disabled_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?) "
    "ON CONFLICT (code) DO NOTHING RETURNING id"
)


def create_link(
    conn: Connection,
    partner_id: int,
    task_id: int,
    *,
    kind: str = "short",
    landing_url: object = None,
    landing_page_id: object = None,
    reporting: Mapping[str, object] | None = None,
) -> Link:
    """Make a link for a task of the partner, after every rule of link creation.

    Order: the task must be the partner's to see (else 404); then link
    availability (campaign, membership, task, click/conversion tracking, pay
    for performance: 422 naming the first missing); then the landing page by
    the campaign's mode; then the reporting info. Everything is read in one
    query and the link written in one more, both in the caller's transaction.
    """
    if kind not in KINDS:
        raise ValidationError(Message("kind must be short or regular."), "invalid_kind")
    raw = Raw.of(conn)
    row = raw.one(
        _RULES_SQL[raw.sqlite, landing_url is not None],
        (partner_id, landing_page_id if landing_pages.is_page_id(landing_page_id) else None, task_id, partner_id),
    )
    if row is None:
        raise NotFound(Message("No such task."))
    (
        campaign_id,
        task_partner_id,
        archived_at,
        status,
        click_tracking,
        conversion_tracking,
        pay_for_performance,
        mode,
        click_id_param,
        task_page_id,
        task_page_url,
        default_id,
        default_url,
        page_id,
        page_url,
    ) = row[:15]
    # The query only finds a task of an active membership that is open to the partner.
    availability = campaigns.availability(
        status,
        click_tracking,
        conversion_tracking,
        pay_for_performance,
        partner_id,
        task_partner_id,
        "active",
        archived_at is not None,
    )
    if not availability.available:
        raise LinkUnavailable(availability.reason or Message("Links cannot be made for this task."), availability.code)
    url, _page_id = landing_pages.pick_landing_url(
        mode,
        click_id_param,
        landing_url,
        landing_page_id,
        requested_page=None if page_id is None else (page_id, page_url),
        task_page=None if task_page_id is None else (task_page_id, task_page_url),
        default_page=None if default_id is None else (default_id, default_url),
        domains=sorted((row[15] or "").split()) if landing_url is not None else (),
    )
    cleaned = clean_reporting(reporting or {})
    created_at = utcnow()
    params = [
        partner_id,
        task_id,
        campaign_id,
        kind,
        None,
        url,
        cleaned["sub_id1"],
        cleaned["sub_id2"],
        cleaned["sub_id3"],
        cleaned["shared_id"],
        False,
        raw.time(created_at),
    ]
    for _ in range(CODE_ATTEMPTS):
        code = params[4] = new_code() if kind == "short" else None
        inserted = raw.one(_INSERT, params)
        if inserted is not None:
            # A new link has no clicks or conversions yet: no need to read it back.
            return Link(
                id=int(inserted[0]),
                partner_id=partner_id,
                task_id=task_id,
                campaign_id=campaign_id,
                kind=kind,
                code=code,
                landing_url=url,
                sub_id1=cleaned["sub_id1"],
                sub_id2=cleaned["sub_id2"],
                sub_id3=cleaned["sub_id3"],
                shared_id=cleaned["shared_id"],
                disabled=False,
                disabled_by=None,
                created_at=created_at,
            )
    raise Conflict(Message("Could not find a free short code; please try again."), "code_exhausted")


@dataclass(frozen=True)
class LinkOptions:
    """What the link form needs for one task: the campaign's mode, pages and domains, and availability."""

    mode: campaigns.LandingMode
    landing_pages: list[landing_pages.LandingPage]
    default_landing_page_id: int | None
    allowed_domains: list[str]
    availability: campaigns.Availability


def campaign_link_options(conn: Connection, partner_id: int, campaign: campaigns.Campaign) -> LinkOptions:
    """The options of a campaign for the partner (before any task is picked)."""
    pages = landing_pages.list_landing_pages(conn, campaign.id)
    default = next((page.id for page in pages if page.is_default), None)
    return LinkOptions(
        mode=campaign.landing_mode,
        landing_pages=pages,
        default_landing_page_id=default,
        allowed_domains=landing_pages.list_allowed_domains(conn, campaign.id),
        availability=campaigns.link_availability(conn, campaign, partner_id),
    )


def task_link_options(conn: Connection, partner_id: int, task: tasks.Task, base: LinkOptions) -> LinkOptions:
    """A task's options: the task's own page is its default, and an assigned task is checked."""
    availability = base.availability
    if availability.available and not task.open_to(partner_id):
        availability = campaigns.Availability(
            False, "task_not_open", Message("This task is assigned to another partner.")
        )
    elif availability.available and task.archived:
        availability = campaigns.Availability(
            False, "task_archived", Message("This task is archived: it takes no new links.")
        )
    default = base.default_landing_page_id
    if task.landing_page_id is not None and any(page.id == task.landing_page_id for page in base.landing_pages):
        default = task.landing_page_id
    return LinkOptions(base.mode, base.landing_pages, default, base.allowed_domains, availability)


def link_options(conn: Connection, partner_id: int, task: tasks.Task) -> LinkOptions:
    """The options of one task the partner can see (see :func:`tasks.get_task_for_partner`)."""
    campaign = campaigns.get_campaign(conn, task.campaign_id)
    return task_link_options(conn, partner_id, task, campaign_link_options(conn, partner_id, campaign))


@dataclass(frozen=True)
class MatchRule:
    """Pages on which the extension offers a link for a campaign: host patterns of its domains and pages."""

    campaign_id: int
    campaign_name: str
    program_id: int
    mode: str
    domains: list[str]
    allowed_domains: list[str]
    click_id_param: str


def match_rules(conn: Connection, partner_id: int) -> list[MatchRule]:
    """One rule per link-available campaign of the partner.

    ``domains`` holds the allowed domains (``brand.com`` is that host only,
    ``*.brand.com`` its subdomains) plus the hosts of the campaign's landing
    pages, so a campaign in choose or default mode, which may list no
    domains, still matches its own pages; ``allowed_domains`` alone are where
    the current page may be the landing URL (manual mode); ``click_id_param``
    is the campaign's click-id parameter, which the extension leaves out of
    "this page" URLs (a visit's click id is not part of the page).
    """
    rules = []
    for entry in campaigns.list_campaigns_for_partner(conn, partner_id, statuses=("active",)):
        if not entry.availability.available:
            continue
        campaign = entry.campaign
        allowed = landing_pages.list_allowed_domains(conn, campaign.id)
        hosts = set(allowed)
        hosts.update(urls.url_host(page.url) for page in landing_pages.list_landing_pages(conn, campaign.id))
        rules.append(
            MatchRule(
                campaign.id,
                campaign.name,
                campaign.program_id,
                campaign.landing_mode,
                sorted(hosts),
                allowed,
                campaign.click_id_param,
            )
        )
    return rules


def _with_counts() -> Select[Any]:
    """Links with their click and (non-reversed) conversion counts.

    Correlated subqueries, so a page of links costs its own rows' counts
    (through the ``link_id`` indexes) rather than an aggregate over every click.
    """
    global _WITH_COUNTS
    if _WITH_COUNTS is None:
        click_count = select(func.count()).where(clicks.c.link_id == links.c.id).correlate(links).scalar_subquery()
        billable_count = (
            select(func.count())
            .where(clicks.c.link_id == links.c.id, clicks.c.billable)
            .correlate(links)
            .scalar_subquery()
        )
        conversion_count = (
            select(func.count())
            .where(conversions.c.link_id == links.c.id, conversions.c.status != "reversed")
            .correlate(links)
            .scalar_subquery()
        )
        _WITH_COUNTS = select(
            links,
            click_count.label("clicks"),
            billable_count.label("billable_clicks"),
            conversion_count.label("conversions"),
        )
    return _WITH_COUNTS


_WITH_COUNTS: Select[Any] | None = None


def get_link(conn: Connection, partner_id: int, link_id: int) -> Link:
    """One of the partner's links with its counts, or :class:`NotFound`."""
    row = conn.execute(_with_counts().where(links.c.id == link_id, links.c.partner_id == partner_id)).first()
    if row is None:
        raise NotFound(Message("No such link."))
    return Link.from_row(row)


def list_links(
    conn: Connection, partner_id: int, task_id: int | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Link], int]:
    """The partner's links (all, or one task's), newest first, a page at a time; and the total."""
    where = [links.c.partner_id == partner_id]
    if task_id is not None:
        where.append(links.c.task_id == task_id)
    total = conn.execute(select(func.count()).select_from(links).where(*where)).scalar_one()
    rows = conn.execute(
        _with_counts().where(*where).order_by(links.c.created_at.desc(), links.c.id.desc()).limit(limit).offset(offset)
    )
    return [Link.from_row(row) for row in rows], int(total)


def set_disabled(conn: Connection, partner_id: int, link_id: int, disabled: bool) -> Link:
    """The partner disables or enables one of their links (a disabled link sends visitors to the default page).

    A link the advertiser disabled stays disabled: only the advertiser can
    enable it again (403 ``disabled_by_advertiser``), or a partner could undo
    the advertiser's decision to stop paying for it.
    """
    link = get_link(conn, partner_id, link_id)
    if link.disabled_by == "advertiser":
        raise PermissionDenied(
            Message("The advertiser disabled this link; only the advertiser can enable it again."),
            "disabled_by_advertiser",
        )
    if link.disabled != disabled:
        conn.execute(
            update(links)
            .where(links.c.id == link_id, links.c.partner_id == partner_id)
            .values(disabled=disabled, disabled_by="partner" if disabled else None)
        )
    return get_link(conn, partner_id, link_id)


def _owned_link_ids(advertiser_id: int):  # type: ignore[no-untyped-def]
    """Links in the advertiser's campaigns (a subquery)."""
    return (
        select(links.c.id)
        .join(campaign_table, campaign_table.c.id == links.c.campaign_id)
        .join(programs, programs.c.id == campaign_table.c.program_id)
        .where(programs.c.advertiser_id == advertiser_id)
    )


def advertiser_set_disabled(conn: Connection, advertiser_id: int, link_id: int, disabled: bool) -> Link:
    """The advertiser disables (or enables again) one link in their campaigns.

    From the next click on (within the redirect cache's bound), the link's
    clicks are ``link_disabled``: its visitors go to the campaign's default
    page and nobody earns from them. What was earned before stays.
    """
    row = conn.execute(
        _with_counts().where(links.c.id == link_id, links.c.id.in_(_owned_link_ids(advertiser_id)))
    ).first()
    if row is None:
        raise NotFound(Message("No such link in your campaigns."))
    conn.execute(
        update(links)
        .where(links.c.id == link_id)
        .values(disabled=disabled, disabled_by="advertiser" if disabled else None)
    )
    return get_link(conn, row.partner_id, link_id)


def advertiser_disable_partner_links(conn: Connection, advertiser_id: int, campaign_id: int, partner_id: int) -> int:
    """The advertiser disables every link of one partner in one of their campaigns; returns how many changed."""
    result = conn.execute(
        update(links)
        .where(
            links.c.campaign_id == campaign_id,
            links.c.partner_id == partner_id,
            links.c.id.in_(_owned_link_ids(advertiser_id)),
            (links.c.disabled_by.is_(None)) | (links.c.disabled_by != "advertiser"),
        )
        .values(disabled=True, disabled_by="advertiser")
    )
    return int(result.rowcount)


def list_campaign_links(conn: Connection, advertiser_id: int, campaign_id: int, limit: int = 200) -> list[Link]:
    """The links partners made in one of the advertiser's campaigns, newest first, with their counts."""
    rows = conn.execute(
        _with_counts()
        .where(links.c.campaign_id == campaign_id, links.c.id.in_(_owned_link_ids(advertiser_id)))
        .order_by(links.c.created_at.desc(), links.c.id.desc())
        .limit(limit)
    )
    return [Link.from_row(row) for row in rows]
