"""The redirect, the hot path: ``GET|HEAD /s/<code>`` and ``GET|HEAD /c/<token>``.

Three steps, as Shlink does it:

1. **resolve** the link (:mod:`api.services.redirects`): unknown code or bad
   signature → 404 page, nothing recorded;
2. **decide whether to track**: only a ``GET`` on a campaign with click
   tracking on records a click (``HEAD`` answers the same redirect and records
   nothing);
3. **record** the click: append it to the click log (:mod:`api.clicklog`)
   *before* the 302 is sent, so an answered redirect is never a lost click;
   the log's folder stores it in the ``clicks`` table within a moment.

The client address is the WSGI ``REMOTE_ADDR``: behind reverse proxies set
``TASKLINK_TRUSTED_PROXIES`` (``ProxyFix`` then reads exactly the
``X-Forwarded-For`` entries our proxies appended), so the address hashed is
the visitor's and not the proxy's, and a client cannot pick its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from flask import Flask
from sqlalchemy import event
from werkzeug.datastructures import MultiDict

from .. import clicklog, clickstore, db, outages
from ..errors import NotFound, ServiceUnavailable, TasklinkError
from ..i18n import Message
from ..postback_sender import EXTENSION_KEY as SENDER_KEY
from ..postback_sender import Sender, transport_for
from ..rawsql import Raw
from ..services import clicks, redirects
from ..services.redirects import Target
from ..signing import click_id_keys, ip_hash_key
from . import errors

CACHE_KEY = "tasklink.redirect-cache"
CLICK_IDS_KEY = "tasklink.click-ids"


def init_app(app: Flask) -> None:
    """What the redirect keeps per process: the link cache, the IP-hash key and the click-id keys.

    (The click pipeline is create_app's.)
    """
    app.extensions[CACHE_KEY] = redirects.RedirectCache(float(app.config.get("REDIRECT_CACHE_SECONDS", 1.0)))
    app.extensions["tasklink.ip-key"] = ip_hash_key(app.config["SECRET_KEYS"])
    app.extensions[CLICK_IDS_KEY] = clicks.ClickIds(click_id_keys(app.config["SECRET_KEYS"]))


def click_ids(app: Flask) -> clicks.ClickIds:
    """The keys an app makes and verifies click ids with (the conversion postback verifies them too)."""
    return app.extensions[CLICK_IDS_KEY]  # type: ignore[no-any-return]


def should_track(method: str, target: Target) -> bool:
    """Step two: record a click only for a GET on a campaign with click tracking on."""
    return method == "GET" and target.click_tracking


#: The 302's headers after ``Location``: never cached, so every visit comes back through here.
_REDIRECT_HEADERS = [("Cache-Control", "private, no-store"), ("Content-Length", "0")]


class EnvironHeaders:
    """The few request headers a click reads, straight from the WSGI environ.

    werkzeug's ``request.headers.get`` normalises the name on every call
    (about 2.5 µs); a click reads six headers, so a plain dict lookup of the
    environ key saves some 15 µs of the redirect.
    """

    __slots__ = ("environ",)
    _KEYS: ClassVar[dict[str, str]] = {
        name: "HTTP_" + name.upper().replace("-", "_")
        for name in ("User-Agent", "Referer", "Sec-Purpose", "Purpose", "X-Purpose", "X-Moz")
    }

    def __init__(self, environ: dict[str, str]) -> None:
        self.environ = environ

    def get(self, name: str, default: str | None = None) -> str | None:
        """The header's value (``default`` when absent)."""
        key = self._KEYS.get(name) or "HTTP_" + name.upper().replace("-", "_")
        return self.environ.get(key, default)


def query_of(environ: dict[str, Any]) -> Mapping[str, str]:
    """The clicked URL's query parameters (the first value of each name), as Flask's ``request.args`` reads them.

    Most clicks carry no query: then nothing is parsed. Bytes that are not
    UTF-8 never fail a click (they become U+FFFD).
    """
    query = environ.get("QUERY_STRING")
    if not query:
        return {}
    return MultiDict(parse_qsl(query.encode("latin-1").decode("utf-8", "replace"), keep_blank_values=True))


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        Message("This link cannot be followed right now; please try again in a moment."), "service_unavailable"
    )


class _AfterResponse:
    """An empty WSGI body whose ``close()`` (called by the server once the answer is sent) runs ``then``."""

    __slots__ = ("then",)

    def __init__(self, then: Callable[[], object]) -> None:
        self.then = then

    def __iter__(self) -> Iterator[bytes]:
        return iter(())

    def close(self) -> None:
        self.then()


class RedirectApp:
    """The redirect as a WSGI application of its own: resolve → decide → record → 302.

    It shares the API's settings and extensions (link cache, keys, click log,
    click store) but none of a web framework's per-request machinery: no
    request context, URL map, hooks or response object on the way to a 302.
    That machinery cost about as much as everything the redirect does
    (``bench/redirect.py``). Its only paths are ``/s/<code>`` and
    ``/c/<token>`` (``GET``, ``HEAD``; ``OPTIONS`` answers ``Allow``); every error is the
    same small HTML page the API serves outside ``/api/``.
    """

    ALLOW = "GET, HEAD, OPTIONS"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.extensions = app.extensions
        self.config = app.config
        self.cache: redirects.RedirectCache = app.extensions[CACHE_KEY]
        self.ip_key: bytes = app.extensions["tasklink.ip-key"]
        self.click_ids: clicks.ClickIds = app.extensions[CLICK_IDS_KEY]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        try:
            if method not in ("GET", "HEAD"):
                return self._other_method(method, environ, start_response)
            path = environ.get("PATH_INFO", "")
            if not path.isascii():  # WSGI gives the path's bytes as latin-1 text
                path = path.encode("latin-1").decode("utf-8", "replace")
            kind, value = path[1], path[3:]
            if not value or "/" in value:
                raise NotFound(errors.LINK_NOT_FOUND_MESSAGE, "not_found")
            if kind == "s":
                return self.follow(
                    ("s", value), lambda raw: redirects.resolve_code(raw, value), method, environ, start_response
                )
            # The whole token is the key: a token is only ever cached after its signature verified.
            keys = self.config["SECRET_KEYS"]
            return self.follow(
                ("c", value), lambda raw: redirects.resolve_token(raw, keys, value), method, environ, start_response
            )
        except TasklinkError as error:
            page = errors.error_page(error.status, error.message, environ.get("HTTP_ACCEPT_LANGUAGE"))
            return page(environ, start_response)
        except errors.DATABASE_UNAVAILABLE as error:
            errors.report_database_unavailable(error)
            page = errors.error_page(503, errors.DATABASE_UNAVAILABLE_MESSAGE, environ.get("HTTP_ACCEPT_LANGUAGE"))
            return page(environ, start_response)
        except Exception:
            self.app.logger.exception("Unhandled error on %s %s", method, environ.get("PATH_INFO"))
            page = errors.error_page(500, errors.INTERNAL_ERROR_MESSAGE, environ.get("HTTP_ACCEPT_LANGUAGE"))
            return page(environ, start_response)

    def _other_method(
        self, method: str, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if method == "OPTIONS":
            start_response("200 OK", [("Allow", self.ALLOW), ("Content-Length", "0")])
            return []
        page = errors.error_page(405, errors.METHOD_NOT_ALLOWED_MESSAGE, environ.get("HTTP_ACCEPT_LANGUAGE"))
        page.headers["Allow"] = self.ALLOW
        return page(environ, start_response)

    def _read_version(self) -> int:
        store: clickstore.ClickStore = self.extensions[clickstore.EXTENSION_KEY]
        try:
            with store.autocommit() as raw:
                return redirects.change_version(raw)
        except Exception as error:
            outages.report(
                "redirect-database", "redirects: the database cannot be read; serving links from memory", error
            )
            raise

    def follow(
        self,
        key: object,
        resolve: Callable[[Raw], Target | None],
        method: str,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
    ) -> Iterable[bytes]:
        """Resolve (or reuse what this worker knows while nothing changed) → decide → record → 302.

        While the database is unreachable, a link this worker resolved recently
        keeps redirecting from memory (its clicks go to the click log as
        always); any other link is a small 503 page with ``Retry-After``, at once.
        """
        cache = self.cache
        resolved = cache.get(key) if cache.usable(self._read_version) else None
        if resolved is None:
            if cache.failing:  # the database just failed: do not wait on it for every unknown link
                raise _unavailable()
            store: clickstore.ClickStore = self.extensions[clickstore.EXTENSION_KEY]
            try:
                with store.autocommit() as raw:  # plain reads, no transaction needed
                    resolved = redirects.resolve_and_decide(raw, resolve(raw))
            except store.errors as error:
                outages.report("redirect-database", "redirects: the database cannot be read", error)
                raise _unavailable() from error
            if resolved is None:
                raise NotFound(errors.LINK_NOT_FOUND_MESSAGE, "link_not_found")
            cache.put(key, resolved)
        url = resolved.url
        if url is None:
            raise NotFound(Message("This link is no longer active."), "link_inactive")
        target = resolved.target
        if not should_track(method, target):
            start_response("302 Found", [("Location", url), *_REDIRECT_HEADERS])
            return []
        visit = clicks.visit_from_request(
            self.ip_key, EnvironHeaders(environ), environ.get("REMOTE_ADDR"), query_of(environ), target.reporting
        )
        record = clicks.click_record(
            link_id=target.link_id,
            campaign_id=target.campaign_id,
            partner_id=target.partner_id,
            task_id=target.task_id,
            visit=visit,
            reason=target.click_reason(visit.is_bot, visit.is_prefetch),
            payout_model=target.payout_model,
            payout_value=target.payout_value,
            daily_cap=target.daily_click_cap,
            now=db.utcnow(),
            click_ids=self.click_ids,
        )
        click_log: clicklog.ClickLog = self.extensions[clicklog.EXTENSION_KEY]
        click_log.append(record)  # durable before we answer
        # The Location is plain ASCII already (normalised and re-validated by
        # api.services.redirects.destination, plus a URL-safe click id).
        start_response(
            "302 Found",
            [("Location", clicks.add_click_id(url, target.click_id_param, record.click_id)), *_REDIRECT_HEADERS],
        )
        if click_log.due():
            # Store the batch once the answer is out: the visitor does not wait for it,
            # and the worker's request thread does it between requests, not beside them.
            return _AfterResponse(click_log.flush_quietly)
        return []


# --- serving: in front of the API ------------------------------------------------------

REDIRECT_PREFIXES = ("/s/", "/c/")


class PathDispatcher:
    """WSGI: ``/s/…`` and ``/c/…`` go to the redirect app, everything else to the API."""

    def __init__(
        self,
        redirects: RedirectApp,
        api: object,
        click_log: clicklog.ClickLog | None,
        postback_sender: Sender | None = None,
    ) -> None:
        self.redirects = redirects
        self.api = api
        #: Started with the first request this process serves (None: tests start it on the first click).
        self.click_log = click_log
        #: Likewise: partner postbacks are sent by every serving process (None in tests: they send explicitly).
        self.postback_sender = postback_sender

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        if self.click_log is not None:
            # A serving process stores what its log holds (a killed sibling's clicks
            # too) from its first request on, be it a click or a health check.
            self.click_log.start()
            self.click_log = None
        if self.postback_sender is not None:
            self.postback_sender.start()
            self.postback_sender = None
        if environ.get("PATH_INFO", "").startswith(REDIRECT_PREFIXES):
            return self.redirects(environ, start_response)
        return self.api(environ, start_response)  # type: ignore[operator]


def mount(api: Flask) -> RedirectApp:
    """Serve the redirects from :class:`RedirectApp`, in front of the API's WSGI callable.

    It is still one app to deploy: ``create_app()`` returns the API with the
    redirect mounted in front (and ``ProxyFix``, when configured, wraps both).
    """
    init_app(api)
    redirect_app = RedirectApp(api)
    sender = None
    if not api.testing:
        engine = db.get_engine(api)
        sender = Sender(engine, transport_for(api.config))
        api.extensions[SENDER_KEY] = sender
        event.listen(engine, "engine_disposed", lambda _engine: sender.close())
    api.wsgi_app = PathDispatcher(  # type: ignore[method-assign]
        redirect_app, api.wsgi_app, None if api.testing else clicklog.of(api), sender
    )
    return redirect_app
