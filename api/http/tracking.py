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

The client address is ``request.remote_addr``: behind reverse proxies set
``TASKLINK_TRUSTED_PROXIES`` (``ProxyFix`` then reads exactly the
``X-Forwarded-For`` entries our proxies appended), so the address hashed is
the visitor's and not the proxy's, and a client cannot pick its own.
"""
from __future__ import annotations

from typing import Callable

from flask import Blueprint, Flask, Response, current_app, request

from .. import clicklog, clickstore, db, outages
from . import errors
from ..errors import NotFound, ServiceUnavailable
from ..rawsql import Raw
from ..services import clicks, redirects
from ..services.redirects import Target
from ..signing import click_id_keys, ip_hash_key

bp = Blueprint("tracking", __name__)
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


class Redirect(Response):
    """A bare 302 whose headers go out as they are.

    werkzeug would re-encode ``Location`` as an IRI on every answer; ours is
    always plain ASCII already (normalised and re-validated by
    :func:`api.services.redirects.destination`, plus a URL-safe click id).
    """

    def get_wsgi_headers(self, environ):  # type: ignore[no-untyped-def, override]
        return self.headers


def redirect_to(url: str) -> Response:
    """A bare 302 (no body); never cached, so every visit comes back through here."""
    return Redirect(status=302, headers={"Location": url, "Cache-Control": "private, no-store", "Content-Length": "0"})


class EnvironHeaders:
    """The few request headers a click reads, straight from the WSGI environ.

    werkzeug's ``request.headers.get`` normalises the name on every call
    (about 2.5 µs); a click reads six headers, so a plain dict lookup of the
    environ key saves some 15 µs of the redirect.
    """

    __slots__ = ("environ",)
    _KEYS = {name: "HTTP_" + name.upper().replace("-", "_") for name in (
        "User-Agent", "Referer", "Sec-Purpose", "Purpose", "X-Purpose", "X-Moz")}

    def __init__(self, environ: dict[str, str]) -> None:
        self.environ = environ

    def get(self, name: str, default: str | None = None) -> str | None:
        """The header's value (``default`` when absent)."""
        key = self._KEYS.get(name) or "HTTP_" + name.upper().replace("-", "_")
        return self.environ.get(key, default)


def _read_version(store: clickstore.ClickStore) -> int:
    try:
        with store.autocommit() as raw:
            return redirects.change_version(raw)
    except Exception as error:
        outages.report("redirect-database", "redirects: the database cannot be read; serving links from memory",
                       error)
        raise


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable("This link cannot be followed right now; please try again in a moment.",
                              "service_unavailable")


def follow(key: object, resolve: Callable[[Raw], Target | None]) -> Response:
    """Resolve (or reuse what this worker knows while nothing changed) → decide → record → 302.

    While the database is unreachable, a link this worker resolved recently
    keeps redirecting from memory (its clicks go to the click log as
    always); any other link is a small 503 page with ``Retry-After``, at once.
    """
    extensions = current_app.extensions
    store: clickstore.ClickStore = extensions[clickstore.EXTENSION_KEY]
    cache: redirects.RedirectCache = extensions[CACHE_KEY]
    resolved = cache.get(key) if cache.usable(lambda: _read_version(store)) else None
    if resolved is None:
        if cache.failing:  # the database just failed: do not wait on it for every unknown link
            raise _unavailable()
        try:
            with store.autocommit() as raw:  # plain reads, no transaction needed
                resolved = redirects.resolve_and_decide(raw, resolve(raw))
        except store.errors as error:
            outages.report("redirect-database", "redirects: the database cannot be read", error)
            raise _unavailable() from error
        if resolved is None:
            raise NotFound("This link does not exist or is no longer valid.", "link_not_found")
        cache.put(key, resolved)
    url = resolved.url
    if url is None:
        raise NotFound("This link is no longer active.", "link_inactive")
    target = resolved.target
    req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup, not six
    if should_track(req.method, target):
        visit = clicks.visit_from_request(
            extensions["tasklink.ip-key"],
            EnvironHeaders(req.environ),
            req.remote_addr,
            req.args if req.query_string else {},  # most clicks carry no query: skip parsing
            target.reporting,
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
            click_ids=extensions[CLICK_IDS_KEY],
        )
        click_log: clicklog.ClickLog = extensions[clicklog.EXTENSION_KEY]
        click_log.append(record)  # durable before we answer
        response = redirect_to(clicks.add_click_id(url, target.click_id_param, record.click_id))
        if click_log.due():
            # Store the batch once the answer is out: the visitor does not wait for it,
            # and the worker's request thread does it between requests, not beside them.
            response.call_on_close(click_log.flush_quietly)
        return response
    return redirect_to(url)


@bp.route("/s/<code>", methods=["GET"])
def short_link(code: str) -> Response:
    """A short link."""
    return follow(("s", code), lambda raw: redirects.resolve_code(raw, code))


@bp.route("/c/<token>", methods=["GET"])
def regular_link(token: str) -> Response:
    """A regular (signed) link."""
    # The whole token is the key: a token is only ever cached after its signature verified.
    return follow(("c", token), lambda raw: redirects.resolve_token(raw, current_app.config["SECRET_KEYS"], token))


# --- serving: the redirect's own minimal Flask app ------------------------------------

REDIRECT_PREFIXES = ("/s/", "/c/")


class PathDispatcher:
    """WSGI: ``/s/…`` and ``/c/…`` go to the redirect app, everything else to the API."""

    def __init__(self, redirects: Flask, api: object, click_log: clicklog.ClickLog | None) -> None:
        self.redirects = redirects
        self.api = api
        #: Started with the first request this process serves (None: tests start it on the first click).
        self.click_log = click_log

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        if self.click_log is not None:
            # A serving process stores what its log holds (a killed sibling's clicks
            # too) from its first request on, be it a click or a health check.
            self.click_log.start()
            self.click_log = None
        if environ.get("PATH_INFO", "").startswith(REDIRECT_PREFIXES):
            return self.redirects.wsgi_app(environ, start_response)
        return self.api(environ, start_response)  # type: ignore[operator]


def mount(api: Flask, session_interface: object) -> Flask:
    """Serve the redirects from a minimal Flask app sharing the API's config and extensions.

    The hot path then runs none of the API's per-request machinery (rate
    limiter hooks, CORS, the blueprints' URL map): Flask, the three steps, and
    the shared error pages. It is still one app to deploy: ``create_app()``
    returns the API with this app mounted in front of its WSGI callable (and
    ``ProxyFix``, when configured, wraps both).
    """
    init_app(api)
    # Same instance folder as the API (Flask would derive another from this module's name).
    redirects = Flask(__name__, static_folder=None, instance_path=api.instance_path)
    redirects.config = api.config  # type: ignore[assignment]
    redirects.extensions = api.extensions
    redirects.json = api.json  # type: ignore[misc]
    redirects.session_interface = session_interface  # type: ignore[assignment]
    errors.init_app(redirects)
    redirects.register_blueprint(bp)
    api.wsgi_app = PathDispatcher(  # type: ignore[method-assign]
        redirects, api.wsgi_app, None if api.testing else clicklog.of(api))
    return redirects
