"""The postback sender: delivers the outbox (:mod:`api.services.postbacks`) to partners, at least once.

Each round takes the rows due now, claims each with a lease (one conditional
UPDATE: two senders, on one node or many, never hold the same row at once),
sends it, and records the outcome: delivered on a 2xx answer; otherwise
retried with exponential backoff and jitter until the policy's last attempt,
then ``failed``. A sender that dies mid-request leaves its lease to expire;
another sender sends the row again (at least once, never lost).

Every request is a GET of the rendered URL, signed (``X-Tasklink-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>.<url>">``, ``X-Tasklink-Timestamp``)
with the partner's secret. Redirects are not followed (a 3xx is a failed
attempt); connect and read timeouts are short.

Server-side request forgery guard: the host is resolved, and *every* address
it resolves to must be public (not private, loopback, link-local, multicast,
reserved or unspecified), unless ``TASKLINK_POSTBACKS_ALLOW_PRIVATE`` is set
(the demo and the tests, whose receivers run on 127.0.0.1). The connection
then goes to a vetted address itself, with the URL's host name in the
``Host`` header and for TLS (SNI and certificate check), so a second DNS
answer cannot switch the request to another address (DNS rebinding).

Runs as a thread in each serving process (started with its first request, as
the click log's flusher) and as ``flask --app api send-postbacks``. Only the
standard library's ``http.client`` is used: it follows no redirects by
itself and lets the connection be opened to the vetted address.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import os
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine

from . import db, outages
from .i18n import N_, Message
from .rawsql import Raw
from .services import postbacks

log = logging.getLogger(__name__)

#: Seconds to open a connection, and to wait for each read of the answer.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
#: Seconds between two rounds of a serving process's sender thread.
SEND_INTERVAL = 1.0
#: At most this many rows per round.
BATCH = 50
#: The most of an answer's body that is read (it is not used; reading lets the connection close cleanly).
MAX_BODY = 64 * 1024
USER_AGENT = "Tasklink-Postback/1"

Resolver = Callable[[str, int], Sequence[str]]


# What a delivery's last_error says, for the partner: stored in English, shown in the reader's
# language by :func:`explain`, which recognises the sentence these templates made.
ONLY_HTTP = N_("only http and https URLs with a host are requested")
DOES_NOT_RESOLVE_BECAUSE = N_("{host} does not resolve: {error}")
DOES_NOT_RESOLVE = N_("{host} does not resolve")
REFUSED_ADDRESS = N_(
    "refused: {host} resolves to {reason} (postbacks go to public addresses only unless "
    "TASKLINK_POSTBACKS_ALLOW_PRIVATE is set)"
)
NO_ADDRESS_ANSWERED = N_("no address answered")
CANNOT_CONNECT = N_("cannot connect to {address}: {error}")
REDIRECT_NOT_FOLLOWED = N_("HTTP {code}: redirects are not followed")
NOT_PUBLIC = N_("{address}, not a public address")
_KINDS = (
    ("is_loopback", N_("{address}, a loopback address")),
    ("is_link_local", N_("{address}, a link-local address")),
    ("is_multicast", N_("{address}, a multicast address")),
    ("is_unspecified", N_("{address}, an unspecified address")),
    ("is_reserved", N_("{address}, a reserved address")),
    ("is_private", N_("{address}, a private address")),
)
#: Sentences a reason inside :data:`REFUSED_ADDRESS` may be.
_REASONS = (NOT_PUBLIC, *(template for _test, template in _KINDS))
_ERRORS = (
    ONLY_HTTP,
    DOES_NOT_RESOLVE_BECAUSE,
    DOES_NOT_RESOLVE,
    REFUSED_ADDRESS,
    NO_ADDRESS_ANSWERED,
    CANNOT_CONNECT,
    REDIRECT_NOT_FOLLOWED,
)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile(
        "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+)" for index, part in enumerate(parts)) + "$",
        re.DOTALL,
    )


def _recognise(text: str, templates: Sequence[str]) -> str:
    for template in templates:
        found = _pattern(template).match(text)
        if found is not None:
            values: dict[str, object] = dict(found.groupdict())
            if "reason" in values:
                values["reason"] = _recognise(str(values["reason"]), _REASONS)
            return Message(template, **values)
    return text


def explain(error: str | None) -> str | None:
    """A stored ``last_error`` as the :class:`Message` it was made from, to be shown in the reader's language.

    An error the templates did not make (an HTTP status, a network library's own words) is returned as it is.
    """
    return None if error is None else _recognise(error, _ERRORS)


class Forbidden(Exception):
    """The URL may not be requested: a scheme other than http(s), or a host resolving to a forbidden address."""


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (TCP), in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def forbidden_reason(address: str) -> str | None:
    """Why a request may not go to ``address`` (``None``: a public address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, template in _KINDS:
        if getattr(ip, test):
            return Message(template, address=address)
    if not ip.is_global:  # shared address space (100.64/10) and the like
        return Message(NOT_PUBLIC, address=address)
    return None


def vet(url: str, allow_private: bool, resolver: Resolver = resolve) -> tuple[str, int, list[str]]:
    """The host, port and the addresses a request to ``url`` may connect to; :class:`Forbidden` otherwise.

    Every address the host resolves to is checked: one forbidden address
    refuses the URL (a resolver could otherwise be made to answer it later).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise Forbidden(Message(ONLY_HTTP))
    port = parts.port or (443 if scheme == "https" else 80)
    try:
        addresses = list(resolver(parts.hostname, port))
    except OSError as error:
        raise OSError(Message(DOES_NOT_RESOLVE_BECAUSE, host=parts.hostname, error=error)) from error
    if not addresses:
        raise OSError(Message(DOES_NOT_RESOLVE, host=parts.hostname))
    if not allow_private:
        for address in addresses:
            reason = forbidden_reason(address)
            if reason is not None:
                raise Forbidden(Message(REFUSED_ADDRESS, host=parts.hostname, reason=reason))
    return parts.hostname, port, addresses


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to a vetted address, sending the URL's own host name."""

    def __init__(self, host: str, port: int, address: str, connect_timeout: float, read_timeout: float) -> None:
        super().__init__(host, port, timeout=read_timeout)
        self._address, self._connect_timeout = address, connect_timeout

    def _open(self) -> socket.socket:
        sock = socket.create_connection((self._address, self.port), self._connect_timeout)
        sock.settimeout(self.timeout)
        return sock

    def connect(self) -> None:
        self.sock = self._open()


class _PinnedHTTPS(_PinnedHTTP):
    """HTTPS to a vetted address: SNI and the certificate check use the URL's host name."""

    default_port = 443

    def __init__(
        self, host: str, port: int, address: str, connect_timeout: float, read_timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, address, connect_timeout, read_timeout)
        self._context = context

    def connect(self) -> None:
        self.sock = self._context.wrap_socket(self._open(), server_hostname=self.host)


@dataclass(frozen=True)
class Outcome:
    """One attempt: delivered (a 2xx answer) or not, the answer's status code, and what went wrong."""

    delivered: bool
    status_code: int | None = None
    error: str | None = None


@dataclass
class Transport:
    """How requests go out: the guard's setting, the resolver, timeouts (tests replace the resolver)."""

    allow_private: bool = False
    resolver: Resolver = resolve
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    tls: ssl.SSLContext = field(default_factory=ssl.create_default_context)

    def send(self, url: str, headers: dict[str, str]) -> Outcome:
        """GET ``url`` once through the guard; never raises for network trouble (the outcome says it)."""
        try:
            host, port, addresses = vet(url, self.allow_private, self.resolver)
        except Forbidden as refused:
            return Outcome(False, None, refused.args[0])
        except OSError as error:
            given = error.args[0] if len(error.args) == 1 else None
            return Outcome(False, None, given if isinstance(given, Message) else str(error))
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        error_text: str = Message(NO_ADDRESS_ANSWERED)
        for address in addresses:  # each one vetted; the next only when one cannot be reached
            connection: _PinnedHTTP = (
                _PinnedHTTPS(host, port, address, self.connect_timeout, self.read_timeout, self.tls)
                if parts.scheme.lower() == "https"
                else _PinnedHTTP(host, port, address, self.connect_timeout, self.read_timeout)
            )
            try:
                try:
                    connection.connect()
                except OSError as error:
                    error_text = Message(CANNOT_CONNECT, address=address, error=str(error) or type(error).__name__)
                    continue
                connection.request("GET", target, headers={"User-Agent": USER_AGENT, **headers})
                answer = connection.getresponse()
                answer.read(MAX_BODY)
                code = answer.status
            except (OSError, http.client.HTTPException) as error:
                return Outcome(False, None, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
            finally:
                connection.close()
            if 200 <= code < 300:
                return Outcome(True, code)
            if 300 <= code < 400:
                return Outcome(False, code, Message(REDIRECT_NOT_FOLLOWED, code=code))
            return Outcome(False, code, f"HTTP {code}")
        return Outcome(False, None, error_text)


def signed_headers(secret: str, url: str, now: float | None = None) -> dict[str, str]:
    """The signature and timestamp headers of a request to ``url``."""
    timestamp = str(int(now if now is not None else time.time()))
    return {postbacks.TIMESTAMP_HEADER: timestamp, postbacks.SIGNATURE_HEADER: postbacks.sign(secret, timestamp, url)}


@dataclass
class Round:
    """What one round did: attempts sent, delivered, to be retried, failed for good."""

    sent: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    def add(self, other: Round) -> None:
        """Add another round's figures to these."""
        self.sent += other.sent
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed


def send_due(engine: Engine, transport: Transport, policy: postbacks.Policy | None = None, batch: int = BATCH) -> Round:
    """One round: claim the rows due now, one by one, send each and record its outcome.

    Each claim and each outcome is its own short transaction: nothing is held
    open while a partner's server answers.
    """
    policy = policy or postbacks.Policy()
    figures = Round()
    with db.reading(engine) as conn:
        candidates = postbacks.due(Raw.of(conn), db.utcnow(), batch)
    for outbox_id in candidates:
        with db.transaction(engine) as conn:
            claimed = postbacks.claim(Raw.of(conn), outbox_id, db.utcnow(), policy)
        if claimed is None:
            continue  # another sender has it, or an earlier event of its conversion is still pending
        outcome = transport.send(claimed.url, signed_headers(claimed.secret, claimed.url))
        with db.transaction(engine) as conn:
            status = postbacks.record(
                Raw.of(conn), claimed, outcome.delivered, outcome.status_code, outcome.error, db.utcnow(), policy
            )
        figures.sent += 1
        if status == "delivered":
            figures.delivered += 1
        elif status == "failed":
            figures.failed += 1
            log.info("postback %d failed for good after %d attempts: %s", claimed.id, claimed.attempts, outcome.error)
        else:
            figures.retrying += 1
    return figures


def send_all_due(engine: Engine, transport: Transport, policy: postbacks.Policy | None = None) -> Round:
    """Rounds until one sends nothing (rows whose turn comes only after a row delivered in the same run included)."""
    total = Round()
    while True:
        figures = send_due(engine, transport, policy)
        total.add(figures)
        if figures.sent == 0:
            return total


class Sender:
    """A serving process's sender thread: a round every :data:`SEND_INTERVAL` seconds."""

    def __init__(self, engine: Engine, transport: Transport, interval: float = SEND_INTERVAL) -> None:
        self.engine = engine
        self.transport = transport
        self.interval = interval
        self._pid = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Run this process's sender thread (once per process; again in a forked child)."""
        with self._lock:
            if self._pid == os.getpid() or self._stop.is_set():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="tasklink-postback-sender", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                send_due(self.engine, self.transport)
            except Exception as error:
                outages.report("postback-sender", "sending partner postbacks failed; they wait in the outbox", error)

    def close(self) -> None:
        """Stop the thread (the rows it had not sent stay due for the next sender)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=10)


EXTENSION_KEY = "tasklink.postback_sender"


def transport_for(config: Any) -> Transport:
    """The transport an app's settings ask for (``POSTBACKS_ALLOW_PRIVATE``)."""
    return Transport(allow_private=bool(config.get("POSTBACKS_ALLOW_PRIVATE")))
