"""``GET /api/v1/health``: whether this node can serve, for load balancers and monitoring.

200 when the database answers and the click log accepts clicks; 503 (the
same body, saying what is wrong) otherwise, so a balancer stops sending
visitors to a node that could not record their clicks. Unauthenticated and
free of data: only the state of this node.
"""

from __future__ import annotations

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue

from .. import clicklog, db
from .apidoc import Answer, operation, respond
from .models import ClickLogState, Health

bp = Blueprint("health", __name__)


@bp.get("/api/v1/health")
@operation(
    "getHealth",
    "Whether this node can serve (database reachable, click log writable)",
    caller=None,
    tag="operations",
    responses={
        200: Answer("The node is healthy", Health),
        503: Answer("Something the node needs is missing; the body says what", Health),
    },
)
def health() -> ResponseReturnValue:
    """The node's checks: database reachable, click log writable, and how much of the log waits to be stored."""
    database = db.ping()
    click_log = clicklog.of(current_app)
    writable = click_log.writable()
    pending = None
    if database:
        try:
            pending = click_log.pending_bytes()
        except Exception:
            database = False
    quarantined = click_log.quarantined_lines()
    free = click_log.free_bytes() if writable else None
    enough_space = free is not None and free >= int(current_app.config.get("CLICK_LOG_MIN_FREE_BYTES") or 0)
    # Lines set aside as unreadable are clicks someone answered and nobody has stored:
    # an operator must look, so the node says so until the file is dealt with.
    healthy = database and writable and enough_space and not quarantined
    problems = [
        text
        for failed, text in (
            (not database, "the database is unreachable"),
            (not writable, "the click log folder cannot be written"),
            (writable and not enough_space, "the click log's disk is nearly full"),
            (bool(quarantined), "unreadable click log lines were set aside"),
        )
        if failed
    ]
    body = Health(
        status="ok" if healthy else "unavailable",
        database="ok" if database else "unreachable",
        click_log=ClickLogState(
            writable=writable, pending_bytes=pending, quarantined_lines=quarantined, free_bytes=free
        ),
        problems=problems,
    )
    return respond(body, 200 if healthy else 503, {"Cache-Control": "no-store"})
