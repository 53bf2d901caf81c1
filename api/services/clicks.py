"""Clicks: who clicked (cleaned at the edge), whether it is a bot, whether it is unique, and saving it.

The redirect (:mod:`api.http.tracking`) resolves the link
(:mod:`api.services.redirects`), decides whether to track, builds the click
with :func:`click_record` and logs it (:mod:`api.clicklog`), which stores it
later with :func:`store_clicks`. Everything here is a small function that can be tested
alone; the only SQL is the insert (which applies the uniqueness rule), written for the
raw DBAPI connection (:class:`api.rawsql.Raw`) because they run on every click.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import quote

from .. import urls
from ..bots import BOT_PATTERN
from ..rawsql import Raw, naive_utc, sqlite_text
from ..schema import REFERRER_MAX, SUB_ID_MAX, USER_AGENT_MAX
from . import earnings

#: Query parameters of the clicked URL that carry reporting info → column order.
REPORTING_PARAMS = ("subId1", "subId2", "subId3", "sharedid")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --- bots ---------------------------------------------------------------------


@lru_cache(maxsize=4096)
def is_bot(user_agent: str | None) -> bool:
    """Whether a user agent is a known crawler, link unfurler or HTTP tool.

    The patterns are the crawler-user-agents package's plus our additions
    (:mod:`api.bots`). No user agent at all is a bot too: every browser sends
    one. Cached, because real traffic repeats a few thousand user agents
    endlessly; the first call for a user agent costs one search of
    :data:`api.bots.BOT_PATTERN` (~10-30 µs).
    """
    if not user_agent:
        return True
    return BOT_PATTERN.search(user_agent) is not None


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
    for name, fallback in zip(REPORTING_PARAMS, link_reporting, strict=True):
        value = clean_text(query.get(name), SUB_ID_MAX)
        values.append(value if value is not None else fallback)
    return values[0], values[1], values[2], values[3]


def hash_ip(key: bytes, address: str | None) -> str:
    """Keyed hash (HMAC-SHA256, hex) of the client address; the address itself is never stored."""
    return hmac.digest(key, (address or "unknown").encode(), "sha256").hex()


def visitor_hash(key: bytes, address: str | None) -> str:
    """The visitor of the duplicate and daily-cap rules: keyed hash of the address's network.

    IPv4 /32 (then it equals :func:`hash_ip`), IPv6 /64. The user agent plays
    no part: a visitor can send any user agent it likes.
    """
    return hash_ip(key, earnings.visitor_network(address))


@dataclass(frozen=True, slots=True)
class Visit:
    """One click's request data, already cleaned and hashed."""

    user_agent: str | None
    referrer: str | None
    ip_hash: str
    visitor_hash: str
    is_bot: bool
    is_prefetch: bool
    reporting: tuple[str | None, str | None, str | None, str | None]


def visit_from_request(
    key: bytes,
    headers: earnings.HeaderLookup,
    address: str | None,
    query: Mapping[str, str],
    link_reporting: tuple[str | None, str | None, str | None, str | None],
) -> Visit:
    """Build the :class:`Visit` of a request from its headers, client address and query."""
    agent = clean_user_agent(headers.get("User-Agent"))
    ip = hash_ip(key, address)
    network = earnings.visitor_network(address)
    return Visit(
        user_agent=agent,
        referrer=clean_referrer(headers.get("Referer")),
        ip_hash=ip,
        visitor_hash=ip if network == address else hash_ip(key, network),
        is_bot=is_bot(agent),
        is_prefetch=earnings.is_prefetch(headers),
        reporting=reporting_for_click(query, link_reporting),
    )


# --- the click id on the landing URL ---------------------------------------------

#: A click id is 27 bytes in URL-safe base64 (36 characters, no padding): when it
#: was made (milliseconds since 1970, 6 bytes), the link clicked (4 bytes),
#: 88 random bits, and a 48-bit tag keyed with a secret key (keyed BLAKE2b).
CLICK_ID_LENGTH = 36
_STAMP_BYTES = 10  # time << 32 | link id
_RANDOM_BYTES = 11
_TAG_BYTES = 6
_CLICK_ID_TEXT = re.compile(rf"[A-Za-z0-9_-]{{{CLICK_ID_LENGTH}}}")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MILLISECOND = dt.timedelta(milliseconds=1)


class ClickIds:
    """The keys of click ids: the newest tags new ids, every one verifies (see :func:`api.signing.click_id_keys`)."""

    __slots__ = ("macs",)

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is required")
        # A keyed BLAKE2b state per key, prepared once and copied per id: a copy
        # costs about 0.5 µs, where hmac.digest (HMAC-SHA256) sets the key up
        # again on every call and costs about 3 µs on the redirect's hot path.
        self.macs = tuple(hashlib.blake2b(key=key, digest_size=_TAG_BYTES) for key in keys)


@dataclass(frozen=True, slots=True)
class ClickOrigin:
    """What a verified click id proves: we made it, at ``made_at``, for a click on link ``link_id``."""

    made_at: dt.datetime
    link_id: int


def new_click_id(ids: ClickIds, link_id: int, millis: int | None = None) -> str:
    """A new click id for a click on ``link_id`` now (or at ``millis``): 36 URL-safe characters.

    Unguessable (88 random bits from ``secrets``, and a tag only our keys
    make), and verifiable without the database (:func:`verify_click_id`), so
    a postback can tell a click answered a moment ago, still on its way from
    a click log to the ``clicks`` table, from a made-up id. The time in front
    makes ids of clicks made within a few seconds start alike, so a batch of
    them lands together in the unique index on ``click_id`` instead of on a
    random page per click.
    """
    if millis is None:
        millis = time.time_ns() // 1_000_000
    body = (millis << 32 | link_id).to_bytes(_STAMP_BYTES, "big") + secrets.token_bytes(_RANDOM_BYTES)
    mac = ids.macs[0].copy()
    mac.update(body)
    return base64.urlsafe_b64encode(body + mac.digest()).decode()


def verify_click_id(ids: ClickIds, click_id: str) -> ClickOrigin | None:
    """Where a click id of ours comes from; ``None`` for any other text (a made-up, altered or older-style id).

    Click ids made before ids were tagged (30 characters) are not verifiable:
    they are only ever found in the ``clicks`` table.
    """
    # The exact alphabet first: base64 decoding alone skips characters it does not know.
    if len(click_id) != CLICK_ID_LENGTH or _CLICK_ID_TEXT.fullmatch(click_id) is None:
        return None
    data = base64.urlsafe_b64decode(click_id)
    body, tag = data[:-_TAG_BYTES], data[-_TAG_BYTES:]
    for key in ids.macs:
        mac = key.copy()
        mac.update(body)
        if hmac.compare_digest(mac.digest(), tag):
            stamp = int.from_bytes(body[:_STAMP_BYTES], "big")
            try:
                made_at = dt.datetime.fromtimestamp((stamp >> 32) / 1000, dt.UTC)
            except (OverflowError, ValueError, OSError):  # pragma: no cover - we never tag such a time
                return None
            return ClickOrigin(made_at, stamp & 0xFFFFFFFF)
    return None


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


# --- the click record: what is logged and stored -------------------------------------

#: The version written in every click log line (``"v"``). Version 1 lines were
#: bare 16-element JSON arrays (before billable/reason); :func:`record_from_json`
#: still reads them, so a log left by an older deploy is stored, never dropped.
RECORD_VERSION = 2


class ClickRecord(NamedTuple):
    """Everything about one click known when it happens: one click log line, one ``clicks`` row to be.

    Whether a click without a ``reason`` yet is a duplicate or over the daily
    cap is decided when it is stored (:func:`store_clicks`), against the
    clicks stored before it.
    """

    click_id: str
    link_id: int
    campaign_id: int
    partner_id: int
    task_id: int
    created_at: str  # naive UTC, ISO text (the log's format, whatever the database)
    sub_id1: str | None
    sub_id2: str | None
    sub_id3: str | None
    shared_id: str | None
    user_agent: str | None
    referrer: str | None
    ip_hash: str
    visitor_hash: str
    is_bot: bool
    reason: str | None  # decided at click time (see api.services.earnings), or None
    payout_if_billable: int  # cpc earnings in minor units if it turns out billable
    daily_cap: int  # the campaign's daily cap of billable clicks per visitor, at click time

    def to_json(self) -> bytes:
        """The click log line (no newline): a JSON object with ``"v"`` and every field by name, ASCII only."""
        return _LINE_ENCODER.encode(dict(zip(_LINE_KEYS, (RECORD_VERSION, *self), strict=True))).encode()


_V1_FIELDS = ClickRecord._fields[:15]
#: One encoder for every line (json.dumps with separators builds a new one per call).
_LINE_ENCODER = json.JSONEncoder(separators=(",", ":"))
_LINE_KEYS = ("v", *ClickRecord._fields)


def record_from_json(value: Any) -> ClickRecord:
    """A click record from a parsed log line of any version; :class:`ValueError` when it is none.

    - version 2 and later (an object with ``"v"``): fields by name; fields a
      newer writer added are ignored, so a rolling deploy's newer lines are
      still stored by older nodes as long as the fields they know are there;
    - version 1 (a 16-element array: the first fifteen fields, then the cpc
      payout if unique): a bot is ``bot``, the rest is decided when stored.
    """
    if isinstance(value, dict):
        version = value.get("v")
        if not isinstance(version, int) or version < 2:
            raise ValueError("not a click record")
        try:
            record = ClickRecord(*(value[name] for name in ClickRecord._fields))
        except KeyError as missing:
            raise ValueError(f"click record without {missing}") from None
    elif isinstance(value, list) and len(value) == 16:
        fields = dict(zip(_V1_FIELDS, value, strict=False))  # value[15] is read below
        record = ClickRecord(
            **fields,
            reason=earnings.BOT if fields["is_bot"] else None,
            payout_if_billable=value[15],
            daily_cap=earnings.DEFAULT_DAILY_CLICK_CAP,
        )
    else:
        raise ValueError("not a click record")
    if not (
        isinstance(record.click_id, str)
        and isinstance(record.link_id, int)
        and isinstance(record.created_at, str)
        and (record.reason is None or record.reason in earnings.REASONS)
    ):
        raise ValueError("malformed click record")
    dt.datetime.fromisoformat(record.created_at)  # raises ValueError when it is not a time
    return record


def click_record(
    *,
    link_id: int,
    campaign_id: int,
    partner_id: int,
    task_id: int,
    visit: Visit,
    payout_model: str,
    payout_value: int,
    now: dt.datetime,
    reason: str | None = None,
    daily_cap: int = earnings.DEFAULT_DAILY_CLICK_CAP,
    click_ids: ClickIds | None = None,
    click_id: str | None = None,
) -> ClickRecord:
    """Everything about one click that is known when it happens, ready to log and to store.

    ``reason`` is the click-time reason from the link's state
    (:func:`api.services.earnings.click_reason`); without one, the visit's own
    (a bot, a prefetch) still applies. The click id is ``click_id`` when
    given (imports, tests), else a new one made with ``click_ids``.
    """
    if click_id is None:
        if click_ids is None:
            raise ValueError("a click id, or the keys to make one, is required")
        click_id = new_click_id(click_ids, link_id, (now - _EPOCH) // _MILLISECOND)  # the click's own time
    if reason is None and (visit.is_bot or visit.is_prefetch):
        reason = earnings.BOT if visit.is_bot else earnings.PREFETCH
    sub1, sub2, sub3, shared = visit.reporting
    return ClickRecord(
        click_id,
        link_id,
        campaign_id,
        partner_id,
        task_id,
        sqlite_text(naive_utc(now)),  # the log's time format, whatever the database
        sub1,
        sub2,
        sub3,
        shared,
        visit.user_agent,
        visit.referrer,
        visit.ip_hash,
        visit.visitor_hash,
        visit.is_bot,
        reason,
        payout_value if payout_model == "cpc" else 0,
        daily_cap,
    )


# --- storing: the store-time reasons ------------------------------------------------------

#: PostgreSQL advisory lock (transaction-level) taken by every flush batch, so
#: flushers on several hosts store clicks one batch after another (ids then
#: commit in order, and the uniqueness rule sees every earlier click), and by a
#: postback about to wait for its click (api.services.conversions).
STORE_LOCK = 0x7A5C11C5

# One statement per click decides its reason and inserts it. Run in time order
# inside one transaction (flushes are serialised: SQLite's write lock, a
# PostgreSQL advisory lock), each click sees every click stored before it, so
# duplicates and daily caps are exact under any concurrency. A click whose link
# is gone is skipped, and so is a click id already stored, so storing the same
# record twice (see api.clicklog) never makes a second row.
_INSERT = (
    "INSERT INTO clicks (click_id, link_id, campaign_id, partner_id, task_id, created_at, sub_id1, sub_id2, "
    "sub_id3, shared_id, user_agent, referrer, ip_hash, visitor_hash, is_bot, billable, reason, payout_minor) "
    "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, d.reason IS NULL, d.reason, "
    "CASE WHEN d.reason IS NULL THEN ? ELSE 0 END FROM (SELECT CASE "
    "WHEN CAST(? AS VARCHAR(16)) IS NOT NULL THEN CAST(? AS VARCHAR(16)) "
    "WHEN EXISTS (SELECT 1 FROM clicks WHERE link_id = ? AND visitor_hash = ? AND billable AND created_at > ?) "
    f"THEN '{earnings.DUPLICATE}' "
    "WHEN (SELECT count(*) FROM (SELECT 1 FROM clicks WHERE campaign_id = ? AND visitor_hash = ? AND billable "
    f"AND created_at >= ? LIMIT ?) capped) >= ? THEN '{earnings.OVER_CAP}' "
    "END AS reason) d "
    "WHERE EXISTS (SELECT 1 FROM links WHERE id = ?) "
    "ON CONFLICT (click_id) DO NOTHING"
)


def store_clicks(raw: Raw, records: list[ClickRecord]) -> int:
    """Insert clicks in the order given (store-time reasons and cpc payouts decided here); return how many were new.

    Run inside the caller's write transaction; records of a link that no
    longer exists, and click ids already stored, are skipped.
    """
    stored_time = raw.naive_time
    window = earnings.DUPLICATE_WINDOW
    parse = dt.datetime.fromisoformat
    rows = []
    for record in records:
        when = parse(record.created_at)  # naive UTC, as logged
        cap = max(1, int(record.daily_cap))
        rows.append(
            (
                *record[:5],
                stored_time(when),
                *record[6:15],
                record.payout_if_billable,
                record.reason,
                record.reason,
                record.link_id,
                record.visitor_hash,
                stored_time(when - window),
                record.campaign_id,
                record.visitor_hash,
                stored_time(earnings.day_start(when)),
                cap,
                cap,
                record.link_id,
            )
        )
    if not rows:
        return 0
    return raw.run_many(_INSERT, rows)
