"""Resolving a tracking link and deciding where its visitor goes (SPEC §4).

Step one of the redirect (Shlink's three steps: resolve → decide whether to
track → record). A link resolves to a :class:`Target`: the link and its
campaign's tracking settings, read fresh from the database on every click so
disabling a link, ending a campaign or switching click tracking off takes
effect on the very next click. :func:`destination` re-validates the landing
URL against the campaign's current mode, pages and domains every time: the
service never redirects to a URL that is not allowed *now*.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple, Sequence

from itsdangerous import BadData

from .. import urls
from ..rawsql import Raw
from ..signing import load_link_token

_SELECT = (
    "SELECT l.id, l.partner_id, l.task_id, l.campaign_id, l.landing_url, l.sub_id1, l.sub_id2, l.sub_id3, "
    "l.shared_id, l.disabled, c.status, c.click_tracking, c.click_id_param, c.payout_model, c.payout_value, "
    "c.pay_for_performance FROM links l JOIN campaigns c ON c.id = l.campaign_id "
)
_BY_CODE = _SELECT + "WHERE l.code = ?"
_BY_ID = _SELECT + "WHERE l.id = ? AND l.kind = 'regular'"
# What decides where a link's visitor may go, in one round trip: the campaign's
# pages (with the default flag), allowed domains and landing mode, and the
# task's own page (valid in default mode). The first column says which is which.
_PAGE, _DOMAIN, _MODE, _TASK_PAGE = 1, 0, 2, 3
_LANDING = (
    "SELECT 1, url, is_default FROM landing_pages WHERE campaign_id = ? "
    "UNION ALL SELECT 0, domain, NULL FROM campaign_domains WHERE campaign_id = ? "
    "UNION ALL SELECT 2, landing_mode, NULL FROM campaigns WHERE id = ? "
    "UNION ALL SELECT 3, p.url, NULL FROM tasks t JOIN landing_pages p ON p.id = t.landing_page_id "
    "WHERE t.id = ? AND p.campaign_id = ?"
)
MAX_CODE_LENGTH = 32
MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved link with what its redirect and its click need."""

    link_id: int
    partner_id: int
    task_id: int
    campaign_id: int
    landing_url: str
    reporting: tuple[str | None, str | None, str | None, str | None]
    disabled: bool
    campaign_status: str
    click_tracking: bool
    click_id_param: str
    payout_model: str
    payout_value: int
    pay_for_performance: bool

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> "Target":
        return cls(
            row[0], row[1], row[2], row[3], row[4], (row[5], row[6], row[7], row[8]), bool(row[9]), row[10],
            bool(row[11]), row[12], row[13], int(row[14]), bool(row[15]),
        )

    @property
    def live(self) -> bool:
        """Not disabled and the campaign not ended (a paused campaign still redirects)."""
        return not self.disabled and self.campaign_status != "ended"


def resolve_code(raw: Raw, code: str) -> Target | None:
    """The short link with this code, or ``None``."""
    # Codes are base62; anything else (NUL bytes, quotes, non-ASCII) cannot be one.
    if not code or len(code) > MAX_CODE_LENGTH or not code.isascii() or not code.isalnum():
        return None
    row = raw.one(_BY_CODE, (code,))
    return None if row is None else Target.from_row(row)


def resolve_token(raw: Raw, keys: Sequence[str], token: str) -> Target | None:
    """The regular link a signed token names, or ``None`` when unknown or tampered with."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        payload = load_link_token(keys, token)
    except BadData:  # a bad signature, or a signed payload that is not ours (BadSignature's parent)
        return None
    link_id = payload.get("l")
    if isinstance(link_id, bool) or not isinstance(link_id, int) or not 0 < link_id < 2**31:
        return None
    row = raw.one(_BY_ID, (link_id,))
    if row is None:
        return None
    target = Target.from_row(row)
    # The token must describe this very link (a reused id after a reset must not redirect).
    if payload.get("p") != target.partner_id or payload.get("t") != target.task_id:
        return None
    return target


class LandingSettings(NamedTuple):
    """Where a campaign's links may send visitors now (pages and domains sorted, so they make stable cache keys)."""

    mode: str
    pages: tuple[str, ...]
    domains: tuple[str, ...]
    default: str | None
    task_page: str | None

    def link_pages(self) -> tuple[str, ...]:
        """The pages a link may use in this mode: all of them (choose), the default and the task's own (default).

        Manual mode takes any URL on the domains, pages included: no list needed.
        """
        if self.mode == "choose":
            return self.pages
        if self.mode == "default":
            return tuple(url for url in (self.default, self.task_page) if url is not None)
        return ()


def landing_settings(raw: Raw, campaign_id: int, task_id: int) -> LandingSettings:
    """The campaign's landing mode, page URLs, allowed domains and default page, and the task's own page, now."""
    pages: list[str] = []
    domains: list[str] = []
    default = task_page = None
    mode = ""
    for kind, value, is_default in raw.all(_LANDING, (campaign_id, campaign_id, campaign_id, task_id, campaign_id)):
        if kind == _PAGE:
            pages.append(value)
            if is_default:
                default = value
        elif kind == _DOMAIN:
            domains.append(value)
        elif kind == _MODE:
            mode = value
        else:
            task_page = value
    return LandingSettings(mode, tuple(sorted(pages)), tuple(sorted(domains)), default, task_page)


@lru_cache(maxsize=8192)
def allowed_url(url: str, mode: str, pages: tuple[str, ...], domains: tuple[str, ...]) -> str | None:
    """Pure and memoised: ``url`` in its normalised form if the campaign allows it now, else ``None``.

    On ``domains`` in every mode; in ``choose`` and ``default`` mode also one
    of ``pages``, the pages a link may use in that mode
    (:meth:`LandingSettings.link_pages`). A link made in manual mode (a deep
    link) therefore stops going to its own URL once the campaign leaves
    manual mode. The redirect goes to the normalised form, so what was
    checked is exactly what is sent (plain ASCII, nothing a browser could
    read another way).
    """
    return urls.allowed_landing_url(url, mode, pages, domains)


@lru_cache(maxsize=1024)
def safe_default(url: str | None, domains: tuple[str, ...]) -> str | None:
    """The default page URL re-validated: ``None`` if it no longer passes the URL rules or is off the domains."""
    if url is None:
        return None
    return urls.allowed_landing_url(url, "default", (url,), domains)


def destination(raw: Raw, target: Target) -> tuple[str | None, bool]:
    """Where the visitor goes, and whether that is the link's own landing URL.

    The link's landing URL when the link is live and the URL is allowed
    under the campaign's current mode, pages and domains (:func:`allowed_url`);
    otherwise the campaign's default landing page; ``None`` when there is no
    (valid) default page either — the caller answers a "link no longer
    active" page then, never a redirect to somewhere unchecked.
    """
    settings = landing_settings(raw, target.campaign_id, target.task_id)
    if target.live:
        url = allowed_url(target.landing_url, settings.mode, settings.link_pages(), settings.domains)
        if url is not None:
            return url, True
    return safe_default(settings.default, settings.domains), False


# --- what a worker may remember between clicks -------------------------------------

@dataclass(frozen=True, slots=True)
class Resolved:
    """A link resolved with its destination decided (what the cache keeps)."""

    target: Target
    url: str | None
    live: bool


def resolve_and_decide(raw: Raw, target: Target | None) -> Resolved | None:
    """Step one in full: the target and where its visitor goes now."""
    if target is None:
        return None
    url, live = destination(raw, target)
    return Resolved(target, url, live)


class RedirectCache:
    """Per worker: resolved links for ``ttl`` seconds, so most clicks need no read at all.

    The bound on staleness is ``ttl``: disabling a link, ending a campaign,
    switching click tracking off or changing landing pages or domains reaches
    every worker within ``ttl`` seconds (1 by default,
    ``TASKLINK_REDIRECT_CACHE_SECONDS``; 0 turns the cache off). Unknown links
    are never cached, and the cache is bounded (it empties itself when full)
    so a flood of distinct links cannot grow it.
    """

    __slots__ = ("ttl", "max_entries", "clock", "_entries")

    def __init__(self, ttl: float, max_entries: int = 20_000, clock: Any = None) -> None:
        import time

        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock or time.monotonic
        self._entries: dict[Any, tuple[float, Resolved]] = {}

    def get(self, key: Any) -> Resolved | None:
        """The entry for ``key`` if it is younger than ``ttl``."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self.clock():
            return None
        return entry[1]

    def put(self, key: Any, resolved: Resolved) -> None:
        """Remember a resolved link (nothing when the cache is off)."""
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (self.clock() + self.ttl, resolved)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
