"""Clicks: who clicked (cleaned at the edge), whether it is a bot, whether it is unique, and saving it.

The redirect (:mod:`api.http.tracking`) resolves the link
(:mod:`api.services.redirects`), decides whether to track, and calls
:func:`record_click`. Everything here is a small function that can be tested
alone; the only SQL is the insert (which applies the uniqueness rule), written for the
raw DBAPI connection (:class:`api.rawsql.Raw`) because they run on every click.
"""
from __future__ import annotations

import base64
import datetime as dt
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping
from urllib.parse import quote

from .. import urls
from ..rawsql import Raw, naive_utc, sqlite_text
from ..schema import REFERRER_MAX, SUB_ID_MAX, USER_AGENT_MAX

#: The maintained list of crawler / unfurler / script user-agent tokens (data, not code).
BOT_LIST = Path(__file__).resolve().parent.parent / "data" / "bot_user_agents.txt"
#: A visitor's later clicks on the same link within this time are not unique.
UNIQUE_WINDOW = dt.timedelta(hours=24)
#: Query parameters of the clicked URL that carry reporting info → column order.
REPORTING_PARAMS = ("subId1", "subId2", "subId3", "sharedid")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --- bots ---------------------------------------------------------------------

def load_bot_tokens(path: Path = BOT_LIST) -> tuple[str, ...]:
    """The lower-case substrings of :data:`BOT_LIST` (comments and blank lines skipped)."""
    tokens = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            tokens.append(line.lower())
    return tuple(tokens)


def bot_matcher(tokens: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled alternation of the tokens (plain substrings, escaped)."""
    return re.compile("|".join(re.escape(token) for token in tokens))


_BOT_PATTERN = bot_matcher(load_bot_tokens())


@lru_cache(maxsize=4096)
def is_bot(user_agent: str | None) -> bool:
    """Whether a user agent is a known crawler, link unfurler or HTTP tool.

    No user agent at all is a bot too: every browser sends one. Cached,
    because real traffic repeats a few thousand user agents endlessly.
    """
    if not user_agent:
        return True
    return _BOT_PATTERN.search(user_agent.lower()) is not None


# --- request data, cleaned at the edge -----------------------------------------

def clean_text(value: str | None, limit: int) -> str | None:
    """Cut a header or parameter to ``limit`` characters, drop control characters; ``None`` when empty.

    Never raises: whatever a visitor's browser sends, the click is recorded.
    """
    if not value:
        return None
    if _CONTROL.search(value):
        value = _CONTROL.sub("", value)
    value = value[:limit]
    return value or None


def clean_user_agent(value: str | None) -> str | None:
    """The user agent as stored (at most 512 characters)."""
    return clean_text(value, USER_AGENT_MAX)


def clean_referrer(value: str | None) -> str | None:
    """The referrer as stored (at most 1024 characters)."""
    return clean_text(value, REFERRER_MAX)


def reporting_for_click(
    query: Mapping[str, str], link_reporting: tuple[str | None, str | None, str | None, str | None]
) -> tuple[str | None, str | None, str | None, str | None]:
    """Sub IDs and Shared ID of a click: each from the clicked URL's query, else the link's own.

    Values are cut to 255 characters, never refused.
    """
    values = []
    for name, fallback in zip(REPORTING_PARAMS, link_reporting):
        value = clean_text(query.get(name), SUB_ID_MAX)
        values.append(value if value is not None else fallback)
    return values[0], values[1], values[2], values[3]


def hash_ip(key: bytes, address: str | None) -> str:
    """Keyed hash (HMAC-SHA256, hex) of the client address; the address itself is never stored."""
    return hmac.digest(key, (address or "unknown").encode(), "sha256").hex()


def visitor_hash(key: bytes, ip_hash: str, user_agent: str | None) -> str:
    """The visitor of the uniqueness rule: keyed hash of IP hash and user agent."""
    return hmac.digest(key, f"{ip_hash}\n{user_agent or ''}".encode(), "sha256").hex()


@dataclass(frozen=True, slots=True)
class Visit:
    """One click's request data, already cleaned and hashed."""

    user_agent: str | None
    referrer: str | None
    ip_hash: str
    visitor_hash: str
    is_bot: bool
    reporting: tuple[str | None, str | None, str | None, str | None]


def visit_from_request(
    key: bytes,
    user_agent: str | None,
    referrer: str | None,
    address: str | None,
    query: Mapping[str, str],
    link_reporting: tuple[str | None, str | None, str | None, str | None],
) -> Visit:
    """Build the :class:`Visit` of a request from its raw parts."""
    agent = clean_user_agent(user_agent)
    ip = hash_ip(key, address)
    return Visit(
        user_agent=agent,
        referrer=clean_referrer(referrer),
        ip_hash=ip,
        visitor_hash=visitor_hash(key, ip, agent),
        is_bot=is_bot(agent),
        reporting=reporting_for_click(query, link_reporting),
    )


# --- the click id on the landing URL ---------------------------------------------

def new_click_id() -> str:
    """A new click id: 128 random bits (``secrets``) behind the time in milliseconds; 30 URL-safe characters.

    Unguessable all the same (the random part alone is a 22-character token);
    the time in front makes ids of consecutive clicks sort together, so the
    unique index on ``click_id`` is written at its end, on one page per batch,
    instead of on a random page per click.
    """
    stamp = (time.time_ns() // 1_000_000).to_bytes(6, "big")
    return base64.urlsafe_b64encode(stamp).decode() + secrets.token_urlsafe(16)


def click_id_time(click_id: str) -> dt.datetime | None:
    """When a click id was made, from its time prefix (``None`` for an id of another shape)."""
    if len(click_id) != 30:
        return None
    try:
        millis = int.from_bytes(base64.urlsafe_b64decode(click_id[:8]), "big")
    except (ValueError, TypeError):
        return None
    return dt.datetime.fromtimestamp(millis / 1000, dt.timezone.utc)


def add_click_id(url: str, param: str, click_id: str) -> str:
    """The landing URL with ``param=click_id`` added, its own query and fragment kept.

    Every parameter that a lenient server could read as ``param`` (any case,
    percent-encoded, ``param[]``, in the fragment, after a ``;``: see
    :func:`api.urls.find_param`) is removed first, so the landing page sees
    exactly one click id, this one. A URL without the name costs one
    substring test.
    """
    url = urls.without_param(url, param)
    base, hash_mark, fragment = url.partition("#")
    if "?" not in base:
        joiner = "?"
    elif base.endswith(("?", "&")):
        joiner = ""
    else:
        joiner = "&"
    return f"{base}{joiner}{_quoted(param)}={click_id}{hash_mark}{fragment}"


@lru_cache(maxsize=256)
def _quoted(param: str) -> str:
    """The parameter name as it goes on the URL (validated names need no quoting; stored rows are not trusted)."""
    return quote(param, safe="")


# --- uniqueness, payout, and saving ----------------------------------------------

#: The uniqueness rule in SQL: no click of this visitor on this link since the given time.
_FIRST_IN_WINDOW = "NOT EXISTS (SELECT 1 FROM clicks WHERE link_id = ? AND visitor_hash = ? AND created_at > ?)"


def is_unique_click(raw: Raw, link_id: int, visitor: str, now: dt.datetime) -> bool:
    """Would a click of this visitor on this link now be unique (none in the last 24 hours)?"""
    row = raw.one(f"SELECT {_FIRST_IN_WINDOW}", (link_id, visitor, raw.time(now - UNIQUE_WINDOW)))
    return bool(row and row[0])


def click_payout(payout_model: str, payout_value: int, pay_for_performance: bool, billable: bool, live: bool) -> int:
    """cpc earnings of one click in minor units.

    Only a billable click (unique, not a bot) on a live link (not disabled,
    campaign not ended, landing page still allowed) of a cpc campaign that
    pays for performance earns; the amount is fixed when the click happens.
    """
    if payout_model != "cpc" or not pay_for_performance or not billable or not live:
        return 0
    return payout_value


# One statement decides uniqueness and inserts; run in order inside one transaction,
# each click sees the ones before it. A click whose link is gone (its campaign
# deleted since) is skipped, and so is a click id already stored, so folding the
# same record twice (see api.clicklog) can never make a second row.
_INSERT = (
    "INSERT INTO clicks (click_id, link_id, campaign_id, partner_id, task_id, created_at, sub_id1, sub_id2, "
    "sub_id3, shared_id, user_agent, referrer, ip_hash, visitor_hash, is_bot, is_unique, payout_minor) "
    "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, u.is_first, CASE WHEN u.is_first THEN ? ELSE 0 END "
    f"FROM (SELECT {_FIRST_IN_WINDOW} AS is_first) u "
    "WHERE EXISTS (SELECT 1 FROM links WHERE id = ?) "
    "ON CONFLICT (click_id) DO NOTHING"
)

#: A click as logged and stored: the values of :data:`_INSERT`'s first sixteen
#: placeholders, all JSON-friendly (``created_at`` as naive-UTC ISO text).
ClickRecord = tuple


def click_record(
    *,
    link_id: int,
    campaign_id: int,
    partner_id: int,
    task_id: int,
    visit: Visit,
    payout_model: str,
    payout_value: int,
    pay_for_performance: bool,
    live: bool,
    now: dt.datetime,
    click_id: str | None = None,
) -> ClickRecord:
    """Everything about one click that is known when it happens, ready to log and to store.

    The unique flag is not in it: :func:`store_clicks` decides it against the
    stored history (``payout_if_unique`` is what the click earns if it is unique).
    """
    payout = click_payout(payout_model, payout_value, pay_for_performance, not visit.is_bot, live)
    sub1, sub2, sub3, shared = visit.reporting
    created = sqlite_text(naive_utc(now))  # the log's time format, whatever the database
    return (
        click_id or new_click_id(), link_id, campaign_id, partner_id, task_id, created, sub1, sub2, sub3, shared,
        visit.user_agent, visit.referrer, visit.ip_hash, visit.visitor_hash, visit.is_bot, payout,
    )


def click_time(record: ClickRecord) -> dt.datetime:
    """When a recorded click happened (aware UTC)."""
    return dt.datetime.fromisoformat(record[5]).replace(tzinfo=dt.timezone.utc)


def store_clicks(raw: Raw, records: list[ClickRecord]) -> int:
    """Insert clicks in the order given (unique flags and cpc payouts decided here); return how many were new.

    Run inside the caller's write transaction; records of a link that no
    longer exists, and click ids already stored, are skipped.
    """
    rows = []
    stored_time = raw.naive_time
    window = UNIQUE_WINDOW
    parse = dt.datetime.fromisoformat
    for record in records:
        link_id, visitor = record[1], record[13]
        when = parse(record[5])  # naive UTC, as logged
        rows.append((*record[:5], stored_time(when), *record[6:], link_id, visitor, stored_time(when - window), link_id))
    if not rows:
        return 0
    return raw.run_many(_INSERT, rows)


def record_click(raw: Raw, **click: object) -> str:
    """Store one click at once (arguments as :func:`click_record`); return its click id.

    The redirect does not use this: it logs clicks (:mod:`api.clicklog`) and
    they are stored in batches. Seeding, imports and tests store directly.
    """
    record = click_record(**click)  # type: ignore[arg-type]
    store_clicks(raw, [record])
    return str(record[0])
