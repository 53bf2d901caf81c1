"""Landing pages and allowed domains of a campaign, and choosing a link's landing URL.

The URL rules themselves are in :mod:`api.urls`; this module applies them to
a campaign's data and keeps the one-default rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from .. import urls
from ..db import utcnow
from ..errors import LandingPageNotAllowed, NotFound, RuleRefused, ValidationError
from ..i18n import Message
from ..schema import campaign_domains, landing_pages, tasks
from . import accounts, campaigns
from .campaigns import Campaign, get_campaign_for_advertiser


@dataclass(frozen=True)
class LandingPage:
    id: int
    campaign_id: int
    name: str
    url: str
    is_default: bool
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> LandingPage:
        return cls(row.id, row.campaign_id, row.name, row.url, row.is_default, row.created_at)


def list_landing_pages(conn: Connection, campaign_id: int) -> list[LandingPage]:
    """The campaign's landing pages, default first, then by name."""
    rows = conn.execute(
        select(landing_pages)
        .where(landing_pages.c.campaign_id == campaign_id)
        .order_by(landing_pages.c.is_default.desc(), landing_pages.c.name, landing_pages.c.id)
    )
    return [LandingPage.from_row(row) for row in rows]


def list_allowed_domains(conn: Connection, campaign_id: int) -> list[str]:
    """The campaign's allowed domains, sorted."""
    rows = conn.execute(
        select(campaign_domains.c.domain)
        .where(campaign_domains.c.campaign_id == campaign_id)
        .order_by(campaign_domains.c.domain)
    )
    return [row[0] for row in rows]


def default_landing_page(conn: Connection, campaign_id: int) -> LandingPage | None:
    """The campaign's default landing page, if it has one."""
    row = conn.execute(
        select(landing_pages).where(landing_pages.c.campaign_id == campaign_id, landing_pages.c.is_default)
    ).first()
    return None if row is None else LandingPage.from_row(row)


def _clean_domains(domains: Iterable[object]) -> list[str]:
    """Allowed-domain entries as stored: checked, blank lines skipped, duplicates dropped, sorted."""
    return sorted(
        {urls.normalize_domain(domain) for domain in domains if not (isinstance(domain, str) and not domain.strip())}
    )


def _write_domains(conn: Connection, campaign_id: int, cleaned: list[str]) -> None:
    conn.execute(delete(campaign_domains).where(campaign_domains.c.campaign_id == campaign_id))
    if cleaned:
        conn.execute(insert(campaign_domains), [{"campaign_id": campaign_id, "domain": d} for d in cleaned])


def set_allowed_domains(conn: Connection, advertiser_id: int, campaign_id: int, domains: Iterable[object]) -> list[str]:
    """Replace the campaign's allowed domains; every entry is checked before any is written.

    Landing pages are on the allowed domains in every mode, so a domain a
    saved page still needs cannot go: the refusal names the page.
    """
    get_campaign_for_advertiser(conn, advertiser_id, campaign_id)
    cleaned = _clean_domains(domains)
    for page in list_landing_pages(conn, campaign_id):
        host = urls.url_host(page.url)
        if not urls.host_allowed(host, cleaned):
            raise RuleRefused(
                Message(
                    "The landing page “{name}” ({url}) is on {host}, which these allowed domains no longer cover: "
                    "change or remove the page first, or keep its domain.",
                    name=page.name,
                    url=page.url,
                    host=host,
                ),
                "domain_in_use",
            )
    _write_domains(conn, campaign_id, cleaned)
    return cleaned


def _clean_page(campaign: Campaign, domains: list[str], name: object, url: object) -> tuple[str, str]:
    """A page's name and URL as stored, or the sentence why the campaign cannot have it.

    Pages are on the allowed domains in every mode: the redirect sends
    visitors to them, and choose or default mode must not be a way around
    the domains.
    """
    name = accounts.normalize_name(name, Message("Landing page name"))
    url = urls.normalize_url(url)
    host = urls.url_host(url)
    if not domains:
        raise LandingPageNotAllowed(
            Message(
                "The landing page “{name}” is on {host}, but the campaign has no allowed domains yet: "
                "add {host} to the allowed domains first.",
                name=name,
                host=host,
            )
        )
    if not urls.host_allowed(host, domains):
        raise LandingPageNotAllowed(
            Message(
                "The landing page “{name}” is not allowed: {reason}. "
                "Landing pages must be on the allowed domains; add its domain first if it is yours.",
                name=name,
                reason=urls.not_on_domains_reason(host, domains),
            )
        )
    urls.refuse_click_id_param(url, campaign.click_id_param, Message("The landing page “{name}”", name=name))
    return name, url


def add_landing_page(
    conn: Connection, advertiser_id: int, campaign_id: int, name: str, url: str, is_default: bool = False
) -> LandingPage:
    """Add a landing page; the first page of a campaign, or one marked default, becomes the default."""
    campaign = get_campaign_for_advertiser(conn, advertiser_id, campaign_id)
    name, url = _clean_page(campaign, list_allowed_domains(conn, campaign_id), name, url)
    if default_landing_page(conn, campaign_id) is None:
        is_default = True
    if is_default:
        conn.execute(update(landing_pages).where(landing_pages.c.campaign_id == campaign_id).values(is_default=False))
    new_id = conn.execute(
        insert(landing_pages)
        .values(campaign_id=campaign_id, name=name, url=url, is_default=is_default, created_at=utcnow())
        .returning(landing_pages.c.id)
    ).scalar_one()
    return _get(conn, campaign_id, new_id)


def _get(conn: Connection, campaign_id: int, page_id: int) -> LandingPage:
    row = conn.execute(
        select(landing_pages).where(landing_pages.c.id == page_id, landing_pages.c.campaign_id == campaign_id)
    ).first()
    if row is None:
        raise NotFound(Message("No such landing page in this campaign."))
    return LandingPage.from_row(row)


def replace_landing_pages(
    conn: Connection, advertiser_id: int, campaign_id: int, pages: Sequence[Mapping[str, Any]]
) -> list[LandingPage]:
    """Save the admin's whole table at once: rows with an ``id`` are updated, others added, missing ones removed.

    Each row has ``name``, ``url``, ``is_default`` and optionally ``id``.
    Exactly one row must be the default when there are rows (a single row
    not marked becomes the default). Every row,
    kept ones too, is checked against the allowed domains as saved now,
    before anything is written, so a bad row saves nothing.
    """
    campaign = get_campaign_for_advertiser(conn, advertiser_id, campaign_id)
    existing = {p.id: p for p in list_landing_pages(conn, campaign_id)}
    domains = list_allowed_domains(conn, campaign_id)
    cleaned = []
    for index, row in enumerate(pages, start=1):
        try:
            name, url = _clean_page(campaign, domains, row.get("name"), row.get("url"))
        except (ValidationError, RuleRefused) as exc:
            raise type(exc)(Message("Row {index}: {problem}", index=index, problem=exc.message), exc.code) from exc
        page_id = row.get("id")
        if page_id is not None and page_id not in existing:
            raise NotFound(Message("Row {index}: no such landing page in this campaign.", index=index))
        cleaned.append((page_id, name, url, bool(row.get("is_default"))))
    defaults = sum(1 for *_, is_default in cleaned if is_default)
    if len(cleaned) == 1 and not defaults:  # a single page is the default; nothing else could be
        page_id, name, url, _ = cleaned[0]
        cleaned[0] = (page_id, name, url, True)
        defaults = 1
    if cleaned and defaults != 1:
        raise ValidationError(Message("Mark exactly one landing page as the default."), "default_required")
    if not cleaned and campaign.landing_mode != "manual":
        raise RuleRefused(
            Message("The campaign is in {mode} mode and needs at least one landing page.", mode=campaign.landing_mode),
            "page_required",
        )
    kept = {page_id for page_id, *_ in cleaned if page_id is not None}
    removed = [page_id for page_id in existing if page_id not in kept]
    if removed:
        conn.execute(update(tasks).where(tasks.c.landing_page_id.in_(removed)).values(landing_page_id=None))
        conn.execute(delete(landing_pages).where(landing_pages.c.id.in_(removed)))
    # Clear defaults first so the one-default index never sees two.
    conn.execute(update(landing_pages).where(landing_pages.c.campaign_id == campaign_id).values(is_default=False))
    for page_id, name, url, is_default in cleaned:
        if page_id is None:
            conn.execute(
                insert(landing_pages).values(
                    campaign_id=campaign_id, name=name, url=url, is_default=is_default, created_at=utcnow()
                )
            )
        else:
            conn.execute(
                update(landing_pages)
                .where(landing_pages.c.id == page_id)
                .values(name=name, url=url, is_default=is_default)
            )
    return list_landing_pages(conn, campaign_id)


def save_landing_setup(
    conn: Connection,
    advertiser_id: int,
    campaign_id: int,
    *,
    mode: str,
    pages: Sequence[Mapping[str, Any]],
    domains: Iterable[object],
) -> tuple[str, list[LandingPage], list[str]]:
    """Save the admin's landing section at once: mode, the pages table and the allowed domains.

    Returns ``(mode, pages, domains)`` as saved. The caller's transaction
    makes it all or nothing; the order lets any valid combination through
    (leaving choose mode while removing every page, adding the first page
    while entering it, adding a domain and a page on it, removing a page and
    the domain it needed): the domains are written first, then every row of
    the table is checked against them.
    """
    get_campaign_for_advertiser(conn, advertiser_id, campaign_id)
    saved_domains = _clean_domains(domains)
    if mode == "manual":
        campaigns.update_settings(conn, advertiser_id, campaign_id, landing_mode=mode)
    # No page check here: replace_landing_pages checks every page that stays.
    _write_domains(conn, campaign_id, saved_domains)
    saved_pages = replace_landing_pages(conn, advertiser_id, campaign_id, pages)
    if mode != "manual":
        campaigns.update_settings(conn, advertiser_id, campaign_id, landing_mode=mode)
    return mode, saved_pages, saved_domains


def choose_landing_url(
    conn: Connection,
    campaign: Campaign,
    task_landing_page_id: int | None,
    landing_url: object = None,
    landing_page_id: object = None,
) -> tuple[str, int | None]:
    """The landing URL for a new link, by the campaign's mode; returns ``(url, page id or None)``.

    Reads the pages and domains :func:`pick_landing_url` may need and lets it decide.
    """
    requested = None
    if is_page_id(landing_page_id):
        requested = conn.execute(
            select(landing_pages.c.id, landing_pages.c.url).where(
                landing_pages.c.id == landing_page_id, landing_pages.c.campaign_id == campaign.id
            )
        ).first()
    task_page = None
    if task_landing_page_id is not None:
        task_page = conn.execute(
            select(landing_pages.c.id, landing_pages.c.url).where(landing_pages.c.id == task_landing_page_id)
        ).first()
    default = default_landing_page(conn, campaign.id)
    return pick_landing_url(
        campaign.landing_mode,
        campaign.click_id_param,
        landing_url,
        landing_page_id,
        requested_page=None if requested is None else (requested.id, requested.url),
        task_page=None if task_page is None else (task_page.id, task_page.url),
        default_page=None if default is None else (default.id, default.url),
        domains=list_allowed_domains(conn, campaign.id) if landing_url is not None else (),
    )


#: The largest id a query may be given (SQLite's integers are 64-bit); larger ones match no page.
_MAX_QUERY_ID = 2**63 - 1


def is_page_id(value: object) -> bool:
    """Whether ``value`` can be looked up as a landing page id (a whole number a database integer holds)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_QUERY_ID


def pick_landing_url(
    mode: str,
    click_id_param: str,
    landing_url: object,
    landing_page_id: object,
    *,
    requested_page: tuple[int, str] | None,
    task_page: tuple[int, str] | None,
    default_page: tuple[int, str] | None,
    domains: Iterable[str],
) -> tuple[str, int | None]:
    """The landing URL rules of link creation, on what was read: returns ``(url, page id or None)``.

    - manual: a typed URL on an allowed domain, or one of the pages by id; with
      neither, the task's page or the default;
    - choose: one of the campaign's pages by id (a free URL is refused); with
      none, the task's page or the default;
    - default: the task's own page, else the campaign's default; anything given is refused.

    ``requested_page`` is the page ``landing_page_id`` names when it is one of
    the campaign's; ``task_page`` the task's own page; ``default_page`` the
    campaign's default (each ``(id, url)`` or ``None``); ``domains`` the allowed
    domains (needed only when a ``landing_url`` is given).
    """
    if landing_page_id is not None and (isinstance(landing_page_id, bool) or not isinstance(landing_page_id, int)):
        raise ValidationError(Message("landing_page_id must be a whole number."), "invalid_input")
    if landing_url is not None and landing_page_id is not None:
        raise ValidationError(Message("Give either landing_url or landing_page_id, not both."), "invalid_input")
    if landing_url is not None:
        if mode != "manual":
            raise LandingPageNotAllowed(
                Message(
                    "This campaign does not allow your own landing URLs (choose mode); pick one of the advertiser's landing pages."
                )
                if mode == "choose"
                else Message(
                    "This campaign does not allow your own landing URLs ({mode} mode); its default page is used.",
                    mode=mode,
                )
            )
        return urls.check_landing_url(landing_url, domains, click_id_param), None
    if landing_page_id is not None:
        if mode == "default":
            raise LandingPageNotAllowed(
                Message("This campaign uses its default landing page; no other page can be chosen.")
            )
        if requested_page is None:
            raise LandingPageNotAllowed(Message("That landing page is not one of this campaign's pages."))
        return requested_page[1], requested_page[0]
    if task_page is not None:
        return task_page[1], task_page[0]
    if default_page is None:
        raise LandingPageNotAllowed(
            Message(
                "The advertiser has not set a default landing page for this campaign. "
                "Enter a landing URL on one of its allowed domains."
            )
            if mode == "manual"
            else Message("The advertiser has not set a default landing page for this campaign.")
        )
    return default_page[1], default_page[0]
