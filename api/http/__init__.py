"""HTTP layer: thin blueprints that parse input, call a service, and shape the answer.

``MODULES`` lists every blueprint module (each has a ``bp`` whose views are
declared with :func:`.apidoc.operation`, from which the OpenAPI document is
built); add a new module here and nowhere else. The redirect
(:mod:`.tracking`, not part of the JSON API) is mounted separately.
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.routing import BaseConverter

from . import conversions, cors, errors, health, limits, links, openapi, partner, reports, sessions, tracking
from .ids import id_from_digits

MODULES = [openapi, health, sessions, partner, links, conversions, reports]


class IdConverter(BaseConverter):
    """``<id:name>``: a database id; one out of range (0, or past 2^31-1, however long) becomes 0, which no row has.

    So the view answers its usual 404 rather than a database overflow error.
    (Refusing the value in the converter instead makes werkzeug answer 405
    for non-GET methods.)
    """

    regex = r"\d+"
    weight = 50

    def to_python(self, value: str) -> int:
        return id_from_digits(value)

    def to_url(self, value: object) -> str:
        return str(int(value))  # type: ignore[call-overload]


class NoCookieSessions(SessionInterface):
    """The API keeps no cookie sessions (partners and advertisers send bearer tokens).

    Flask's default interface builds an itsdangerous serializer on every
    request to look for a session cookie; that work is pure overhead here,
    most of all on the redirect.
    """

    def open_session(self, app: Flask, request: Request) -> None:
        return None  # Flask then uses make_null_session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


def register_http(app: Flask) -> None:
    """Error handlers first, then rate limits and CORS, then every blueprint."""
    app.session_interface = NoCookieSessions()
    app.url_map.converters["id"] = IdConverter
    errors.init_app(app)
    limits.init_app(app)
    cors.init_app(app)
    for module in MODULES:
        app.register_blueprint(module.bp)
    # The redirects (/s/, /c/) are served by their own minimal app in front of this one.
    tracking.mount(app)
    from .tag import bp as landing_tag  # GET /tag.js: the advertisers' landing tag, in every mode (api/http/tag.py)

    app.register_blueprint(landing_tag)
    if app.config.get("DEMO_SHOP"):  # the demo's brand shop (api/http/shop.py)
        from . import shop

        app.register_blueprint(shop.bp)
