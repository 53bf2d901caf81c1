"""Partner postbacks: URL templates, the signing secret, and the outbox the sender delivers from.

A partner sets a URL template (one global, and optionally one per campaign)
with macros such as ``{click_id}`` or ``{payout}``. When one of their
conversions is created, approved or reversed, :func:`enqueue` renders the
template with that moment's values and writes one outbox row, in the
transaction that changed the conversion: the conversion and its postback are
committed, or rolled back, together. :mod:`api.postback_sender` delivers the
rows at least once (claims with a lease, retries with backoff, a signature).

Ordering: a row is claimed only while no earlier row of the same conversion
is still pending, so ``created`` reaches the partner before ``approved`` or
``reversed``. A row that failed for good (every attempt used) no longer holds
the later ones back: the partner sees it failed in the delivery log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
import re
import secrets
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import quote, urlsplit

from sqlalchemy import Connection, delete, insert, select, update

from .. import money
from ..db import utcnow
from ..errors import Conflict, NotFound, RuleRefused
from ..i18n import Message
from ..rawsql import Raw
from ..schema import (
    POSTBACK_URL_MAX,
    memberships,
    postback_campaign_templates,
    postback_outbox,
    postback_settings,
)

PostbackEvent = Literal["created", "approved", "reversed"]
EVENTS: tuple[PostbackEvent, ...] = get_args(PostbackEvent)
DeliveryStatus = Literal["pending", "delivered", "failed"]

#: The macros a template may use, each replaced by its URL-encoded value.
MACROS: dict[str, str] = {
    "click_id": Message("The click id the landing page received"),
    "subId1": Message("The link's sub id 1 (empty when none)"),
    "subId2": Message("The link's sub id 2 (empty when none)"),
    "subId3": Message("The link's sub id 3 (empty when none)"),
    "sharedid": Message("The link's shared id (empty when none)"),
    "order_id": Message("The advertiser's order id"),
    "amount": Message("The sale amount, e.g. 40.00"),
    "payout": Message("Your payout, e.g. 5.00"),
    "currency": Message("ISO 4217 code of amount and payout"),
    "status": Message("The conversion's status after the event: pending, approved or reversed"),
    "event": Message("What happened: created, approved or reversed"),
    "campaign_id": Message("The campaign's id"),
    "conversion_id": Message("The conversion's id (the same for all of its events)"),
}
_MACRO = re.compile(r"\{([^{}]*)\}")

SIGNATURE_HEADER = "X-Tasklink-Signature"
TIMESTAMP_HEADER = "X-Tasklink-Timestamp"


# --- templates ------------------------------------------------------------------------------


def check_template(value: str) -> str:
    """A template as it is stored: an http(s) URL with a host and known macros only (422 naming what is wrong)."""
    template = value.strip()
    if not template:
        raise RuleRefused(Message("The postback URL is empty."), "invalid_postback_url")
    if len(template) > POSTBACK_URL_MAX:
        raise RuleRefused(
            Message("The postback URL is longer than {limit} characters.", limit=POSTBACK_URL_MAX),
            "invalid_postback_url",
        )
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in template):
        raise RuleRefused(Message("The postback URL contains spaces or control characters."), "invalid_postback_url")
    unknown = [name for name in _MACRO.findall(template) if name not in MACROS]
    if unknown:
        raise RuleRefused(
            Message(
                "Unknown macro {macro} in the postback URL; the macros are {macros}.",
                macro="{" + unknown[0] + "}",
                macros=", ".join(f"{{{name}}}" for name in MACROS),
            ),
            "unknown_macro",
        )
    if "{" in _MACRO.sub("", template) or "}" in _MACRO.sub("", template):
        raise RuleRefused(Message("The postback URL has an unmatched { or }."), "invalid_postback_url")
    # The host may not be a macro: a partner's values must never choose where a request goes.
    parts = urlsplit(_MACRO.sub("x", template))
    if parts.scheme.lower() not in ("http", "https") or not urlsplit(template).hostname:
        raise RuleRefused(
            Message("The postback URL must start with http:// or https:// and name a host."), "invalid_postback_url"
        )
    if "{" in (urlsplit(template).netloc or ""):
        raise RuleRefused(
            Message("Macros may be used in the path and query of the postback URL, not in its host."),
            "invalid_postback_url",
        )
    return template


def render(template: str, values: dict[str, str]) -> str:
    """``template`` with each macro replaced by its value, URL-encoded (every reserved character escaped)."""
    return _MACRO.sub(lambda match: quote(values.get(match.group(1), ""), safe=""), template)


def sign(secret: str, timestamp: str, url: str) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of ``timestamp.url`` keyed by the secret.

    The request is a GET with no body: the URL (with its query) is what is signed.
    """
    mac = hmac.new(secret.encode(), f"{timestamp}.{url}".encode(), hashlib.sha256).hexdigest()
    return f"sha256={mac}"


# --- a partner's settings -------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignTemplate:
    campaign_id: int
    url_template: str


@dataclass(frozen=True)
class Settings:
    """A partner's postback setup: the signing secret, the global template and the per-campaign ones."""

    partner_id: int
    secret: str
    url_template: str | None
    campaigns: list[CampaignTemplate]


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def _ensure(conn: Connection, partner_id: int) -> None:
    """Create the partner's settings row (a fresh secret, no template) unless it exists."""
    found = conn.execute(select(postback_settings.c.partner_id).where(postback_settings.c.partner_id == partner_id))
    if found.first() is None:
        conn.execute(
            insert(postback_settings).values(
                partner_id=partner_id, secret=_new_secret(), url_template=None, updated_at=utcnow()
            )
        )


def get_settings(conn: Connection, partner_id: int) -> Settings:
    """The partner's setup; the first look makes their secret (run in a write transaction)."""
    _ensure(conn, partner_id)
    row = conn.execute(select(postback_settings).where(postback_settings.c.partner_id == partner_id)).one()
    templates = conn.execute(
        select(postback_campaign_templates.c.campaign_id, postback_campaign_templates.c.url_template)
        .where(postback_campaign_templates.c.partner_id == partner_id)
        .order_by(postback_campaign_templates.c.campaign_id)
    )
    return Settings(
        partner_id,
        row.secret,
        row.url_template,
        [CampaignTemplate(int(t.campaign_id), t.url_template) for t in templates],
    )


def set_template(conn: Connection, partner_id: int, template: str | None) -> Settings:
    """Set (or with ``None`` remove) the partner's global template; 422 for an unknown macro or a bad URL."""
    checked = None if template is None else check_template(template)
    _ensure(conn, partner_id)
    conn.execute(
        update(postback_settings)
        .where(postback_settings.c.partner_id == partner_id)
        .values(url_template=checked, updated_at=utcnow())
    )
    return get_settings(conn, partner_id)


def set_campaign_template(conn: Connection, partner_id: int, campaign_id: int, template: str | None) -> Settings:
    """Set (or remove) the template for one campaign the partner is a member of (404 for any other)."""
    member = conn.execute(
        select(memberships.c.id).where(memberships.c.partner_id == partner_id, memberships.c.campaign_id == campaign_id)
    ).first()
    if member is None:
        raise NotFound(Message("No such campaign."))
    checked = None if template is None else check_template(template)
    _ensure(conn, partner_id)
    key = (
        postback_campaign_templates.c.partner_id == partner_id,
        postback_campaign_templates.c.campaign_id == campaign_id,
    )
    conn.execute(delete(postback_campaign_templates).where(*key))
    if checked is not None:
        conn.execute(
            insert(postback_campaign_templates).values(
                partner_id=partner_id, campaign_id=campaign_id, url_template=checked, updated_at=utcnow()
            )
        )
    return get_settings(conn, partner_id)


def rotate_secret(conn: Connection, partner_id: int) -> Settings:
    """A new signing secret; deliveries sent from now on are signed with it (also those already queued)."""
    _ensure(conn, partner_id)
    conn.execute(
        update(postback_settings)
        .where(postback_settings.c.partner_id == partner_id)
        .values(secret=_new_secret(), updated_at=utcnow())
    )
    return get_settings(conn, partner_id)


# --- the outbox -----------------------------------------------------------------------------

_EVENT_VALUES = (
    "SELECT c.partner_id, c.campaign_id, c.order_id, c.amount_minor, c.currency, c.payout_minor, c.status, "
    "k.click_id, k.sub_id1, k.sub_id2, k.sub_id3, k.shared_id, COALESCE(t.url_template, s.url_template) "
    "FROM conversions c JOIN clicks k ON k.id = c.click_pk "
    "LEFT JOIN postback_campaign_templates t ON t.partner_id = c.partner_id AND t.campaign_id = c.campaign_id "
    "LEFT JOIN postback_settings s ON s.partner_id = c.partner_id "
    "WHERE c.id = ?"
)


def enqueue(raw: Raw, conversion_id: int, event: PostbackEvent, now: dt.datetime | None = None) -> int | None:
    """Write the postback of ``event`` for a conversion into the outbox; its row id, or ``None`` with no template.

    Call it in the transaction that changed the conversion (a raw connection,
    as the click log's flush has no other): both are committed or neither.
    """
    row = raw.one(_EVENT_VALUES, (conversion_id,))
    if row is None or row[12] is None:
        return None
    (
        partner_id,
        campaign_id,
        order_id,
        amount_minor,
        currency,
        payout_minor,
        status,
        click_id,
        sub1,
        sub2,
        sub3,
        shared,
        template,
    ) = row
    values = {
        "click_id": click_id,
        "subId1": sub1 or "",
        "subId2": sub2 or "",
        "subId3": sub3 or "",
        "sharedid": shared or "",
        "order_id": order_id,
        "amount": str(money.from_minor(int(amount_minor), currency)),
        "payout": str(money.from_minor(int(payout_minor), currency)),
        "currency": currency,
        "status": status,
        "event": event,
        "campaign_id": str(campaign_id),
        "conversion_id": str(conversion_id),
    }
    stamp = raw.time(now or utcnow())
    rows = raw.all(
        "INSERT INTO postback_outbox (partner_id, conversion_id, campaign_id, event, url, status, attempts, "
        "next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?) RETURNING id",
        (int(partner_id), conversion_id, int(campaign_id), event, render(template, values), stamp, stamp, stamp),
    )
    return int(rows[0][0])


@dataclass(frozen=True)
class Delivery:
    """One row of the delivery log."""

    id: int
    conversion_id: int
    campaign_id: int
    event: str
    url: str
    status: str
    attempts: int
    last_error: str | None
    last_status_code: int | None
    next_attempt_at: dt.datetime | None  # None once delivered or failed
    created_at: dt.datetime
    delivered_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: Any) -> Delivery:
        m = row._mapping
        return cls(
            int(m["id"]),
            m["conversion_id"],
            m["campaign_id"],
            m["event"],
            m["url"],
            m["status"],
            m["attempts"],
            m["last_error"],
            m["last_status_code"],
            m["next_attempt_at"] if m["status"] == "pending" else None,
            m["created_at"],
            m["delivered_at"],
        )


def list_deliveries(conn: Connection, partner_id: int, status: str | None = None, limit: int = 50) -> list[Delivery]:
    """The partner's deliveries, newest first (optionally of one status)."""
    query = select(postback_outbox).where(postback_outbox.c.partner_id == partner_id)
    if status is not None:
        query = query.where(postback_outbox.c.status == status)
    rows = conn.execute(query.order_by(postback_outbox.c.id.desc()).limit(limit))
    return [Delivery.from_row(row) for row in rows]


def retry_delivery(conn: Connection, partner_id: int, delivery_id: int, now: dt.datetime | None = None) -> Delivery:
    """Send one of the partner's failed deliveries again from now, with every attempt anew.

    For a partner whose receiver was down longer than the retries lasted: once
    it answers again, the events it missed can be sent as they were rendered.
    Only a ``failed`` row can be retried, so each retry is one more series of
    attempts to the partner's own template's URL, never more. Another
    partner's delivery is not found, like an unknown one.
    """
    stamp = now or utcnow()
    mine = (postback_outbox.c.id == delivery_id) & (postback_outbox.c.partner_id == partner_id)
    changed = conn.execute(
        update(postback_outbox)
        .where(mine & (postback_outbox.c.status == "failed"))
        .values(
            status="pending", attempts=0, next_attempt_at=stamp, lease_until=None, lease_token=None, updated_at=stamp
        )
    ).rowcount
    row = conn.execute(select(postback_outbox).where(mine)).first()
    if row is None:
        raise NotFound(Message("No such postback delivery."), "not_found")
    if changed != 1:
        if row._mapping["status"] == "delivered":
            raise Conflict(Message("This postback was delivered; there is nothing to retry."), "not_failed")
        raise Conflict(
            Message("This postback is still being sent; it can be retried once it has failed."), "not_failed"
        )
    return Delivery.from_row(row)


# --- claiming and recording (the sender's side) --------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """How the sender retries: exponential backoff with jitter, then ``failed``."""

    max_attempts: int = 8
    base_delay: float = 30.0  # seconds before the second attempt (doubling each time)
    max_delay: float = 6 * 3600.0
    lease: float = 120.0  # longer than one attempt can take (connect + read timeouts)

    def delay(self, attempts: int) -> dt.timedelta:
        """The wait after the ``attempts``-th failed attempt: base × 2^(attempts-1), capped, times 0.5–1.5."""
        seconds = min(self.max_delay, self.base_delay * 2 ** max(0, attempts - 1))
        return dt.timedelta(seconds=seconds * random.uniform(0.5, 1.5))


@dataclass(frozen=True)
class Claimed:
    """An outbox row a sender owns until its lease ends."""

    id: int
    url: str
    secret: str
    attempts: int  # including this one
    token: str


_CLAIMABLE = (
    "status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) "
    "AND NOT EXISTS (SELECT 1 FROM postback_outbox e WHERE e.conversion_id = postback_outbox.conversion_id "
    "AND e.id < postback_outbox.id AND e.status = 'pending')"
)


def due(raw: Raw, now: dt.datetime, limit: int = 50) -> list[int]:
    """Ids of rows that may be sent now, oldest due first (claim each with :func:`claim`)."""
    stamp = raw.time(now)
    rows = raw.all(
        f"SELECT id FROM postback_outbox WHERE {_CLAIMABLE} ORDER BY next_attempt_at, id LIMIT ?", (stamp, stamp, limit)
    )
    return [int(row[0]) for row in rows]


def claim(raw: Raw, outbox_id: int, now: dt.datetime, policy: Policy) -> Claimed | None:
    """Take the row for one attempt (its lease), unless another sender has it or it is no longer due.

    One conditional UPDATE: of two senders racing for a row exactly one
    changes it. The attempt is counted now, so one whose sender died counts too.
    """
    stamp = raw.time(now)
    token = secrets.token_hex(16)
    changed = raw.run(
        f"UPDATE postback_outbox SET lease_until = ?, lease_token = ?, attempts = attempts + 1, updated_at = ? "
        f"WHERE id = ? AND {_CLAIMABLE}",
        (raw.time(now + dt.timedelta(seconds=policy.lease)), token, stamp, outbox_id, stamp, stamp),
    )
    if changed != 1:
        return None
    row = raw.one(
        "SELECT o.url, s.secret, o.attempts FROM postback_outbox o "
        "JOIN postback_settings s ON s.partner_id = o.partner_id WHERE o.id = ?",
        (outbox_id,),
    )
    assert row is not None, "just claimed; settings exist for every partner with a template"
    return Claimed(outbox_id, row[0], row[1], int(row[2]), token)


def record(
    raw: Raw,
    claimed: Claimed,
    delivered: bool,
    status_code: int | None,
    error: str | None,
    now: dt.datetime,
    policy: Policy,
) -> str:
    """Record an attempt's outcome (only while the lease is still this sender's); the row's status now."""
    stamp = raw.time(now)
    if delivered:
        status, next_at = "delivered", now
    elif claimed.attempts >= policy.max_attempts:
        status, next_at = "failed", now
    else:
        status, next_at = "pending", now + policy.delay(claimed.attempts)
    raw.run(
        "UPDATE postback_outbox SET status = ?, next_attempt_at = ?, lease_until = NULL, lease_token = NULL, "
        "last_status_code = ?, last_error = ?, updated_at = ?, delivered_at = ? WHERE id = ? AND lease_token = ?",
        (
            status,
            raw.time(next_at),
            status_code,
            None if error is None else error[:500],
            stamp,
            stamp if delivered else None,
            claimed.id,
            claimed.token,
        ),
    )
    return status
