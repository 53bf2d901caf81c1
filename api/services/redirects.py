"""Resolving a tracking link and deciding where its visitor goes.

Step one of the redirect (Shlink's three steps: resolve → decide whether to
track → record). A link resolves to a :class:`Target`: the link and its
campaign's tracking settings, read fresh from the database on every click so
disabling a link, ending a campaign or switching click tracking off takes
effect on the very next click. :func:`destination` re-validates the landing
URL against the campaign's current mode, pages and domains every time: the
service never redirects to a URL that is not allowed *now*.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from itsdangerous import BadData

from .. import urls
from ..rawsql import Raw
from ..signing import load_link_token
from . import earnings

_SELECT = (
    "SELECT l.id, l.partner_id, l.task_id, l.campaign_id, l.landing_url, l.sub_id1, l.sub_id2, l.sub_id3, "
    "l.shared_id, l.disabled, c.status, c.click_tracking, c.click_id_param, c.payout_model, c.payout_value, "
    "c.pay_for_performance, c.paused_pays, c.daily_click_cap, m.status "
    "FROM links l JOIN campaigns c ON c.id = l.campaign_id "
    "LEFT JOIN memberships m ON m.partner_id = l.partner_id AND m.campaign_id = l.campaign_id "
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
    paused_pays: bool
    daily_click_cap: int
    membership_status: str | None  # the partner's membership in the campaign (None: not a member)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Target:
        return cls(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            (row[5], row[6], row[7], row[8]),
            bool(row[9]),
            row[10],
            bool(row[11]),
            row[12],
            row[13],
            int(row[14]),
            bool(row[15]),
            bool(row[16]),
            int(row[17]),
            row[18],
        )

    @property
    def live(self) -> bool:
        """Whether the partner's own landing URL is honoured: link enabled, campaign not ended, membership active.

        A paused campaign still redirects to it. Otherwise the visitor goes to
        the campaign's default page: never punished, never sent where the
        partner chose once the partner may no longer send traffic.
        """
        return not self.disabled and self.campaign_status != "ended" and self.membership_status == "active"

    def click_reason(self, is_bot: bool, is_prefetch: bool) -> str | None:
        """Why a click on this link now is not billable, as far as it is known before storing it."""
        return earnings.click_reason(
            pay_for_performance=self.pay_for_performance,
            campaign_status=self.campaign_status,
            paused_pays=self.paused_pays,
            membership_status=self.membership_status,
            link_disabled=self.disabled,
            is_bot=is_bot,
            is_prefetch=is_prefetch,
        )


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


_CHANGE_VERSION = "SELECT version FROM change_counter WHERE id = 1"


def change_version(raw: Raw) -> int:
    """The change counter: moves with every change to links, campaigns, memberships, pages and domains."""
    row = raw.one(_CHANGE_VERSION)
    return int(row[0]) if row else 0


class RedirectCache:
    """Per worker: resolved links, kept until something they depend on changes.

    Instead of re-reading every link every second (which, with thousands of
    links clicked in a long-tailed mix, re-reads nearly all of them), the
    worker asks one question at most every ``check_every`` seconds: has the
    change counter moved (:func:`change_version`; database triggers move it
    on any change to links, campaigns, memberships, landing pages or allowed
    domains, whoever makes it)? If so it forgets everything. So a change
    reaches every worker within ``check_every`` seconds (1 by default,
    ``TASKLINK_REDIRECT_CACHE_SECONDS``, at most 5; 0 asks on every click).

    **Stale if error**: when the counter cannot be read (the database is down
    or locked), entries validated less than ``stale_if_error`` seconds ago
    (default an hour) keep serving, so links that were clicked recently keep
    redirecting through an outage; the counter is asked again after
    ``retry_after_error`` seconds, not on every click, so an outage costs no
    waiting. Unknown links are never cached; the cache is bounded (it empties
    itself when full) so a flood of distinct links cannot grow it.
    """

    __slots__ = (
        "_entries",
        "_failing",
        "_next_check",
        "_validated_at",
        "_version",
        "check_every",
        "clock",
        "max_entries",
        "retry_after_error",
        "stale_if_error",
    )

    def __init__(
        self,
        check_every: float,
        max_entries: int = 20_000,
        clock: Any = None,
        stale_if_error: float = 3600.0,
        retry_after_error: float = 1.0,
    ) -> None:
        import time

        self.check_every = check_every
        self.stale_if_error = stale_if_error
        self.retry_after_error = retry_after_error
        self.max_entries = max_entries
        self.clock = clock or time.monotonic
        self._entries: dict[Any, Resolved] = {}
        self._version: int | None = None
        self._validated_at = float("-inf")  # when the entries were last known to be current
        self._next_check = float("-inf")
        self._failing = False

    def usable(self, read_version: Any) -> bool:
        """Check the change counter when due; whether the entries may be used for this click.

        ``read_version()`` reads the counter; a database error from it is
        absorbed here (the entries serve while younger than ``stale_if_error``).
        """
        now = self.clock()
        if now < self._next_check:
            return not self._failing or now - self._validated_at <= self.stale_if_error
        try:
            version = read_version()
        except Exception:
            self._failing = True
            self._next_check = now + self.retry_after_error
            return now - self._validated_at <= self.stale_if_error
        if version != self._version:
            self._entries.clear()
            self._version = version
        self._failing = False
        self._validated_at = now
        self._next_check = now + self.check_every
        return True

    @property
    def failing(self) -> bool:
        """Whether the last counter check failed (the database is unreachable from this worker)."""
        return self._failing

    def get(self, key: Any) -> Resolved | None:
        """The entry for ``key`` (call :meth:`usable` first)."""
        return self._entries.get(key)

    def put(self, key: Any, resolved: Resolved) -> None:
        """Remember a resolved link."""
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = resolved

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
