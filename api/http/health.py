"""``GET /api/v1/health``: whether this node can serve, for load balancers and monitoring.

200 when the database answers and the click log accepts clicks; 503 (the
same body, saying what is wrong) otherwise, so a balancer stops sending
visitors to a node that could not record their clicks. Unauthenticated and
free of data: only the state of this node.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from .. import clicklog, db
from .openapi import json_response, ref

bp = Blueprint("health", __name__)


@bp.get("/api/v1/health")
def health() -> ResponseReturnValue:
    """The node's checks: database reachable, click log writable, and how much of the log waits to be stored."""
    database = db.ping()
    click_log = clicklog.of(current_app)
    writable = click_log.writable()
    pending = None
    if database:
        try:
            pending = click_log.pending_bytes()
        except Exception:  # noqa: BLE001 - a database that fails between two queries: report, do not crash
            database = False
    quarantined = click_log.quarantined_lines()
    free = click_log.free_bytes() if writable else None
    enough_space = free is not None and free >= int(current_app.config.get("CLICK_LOG_MIN_FREE_BYTES") or 0)
    # Lines set aside as unreadable are clicks someone answered and nobody has stored:
    # an operator must look, so the node says so until the file is dealt with.
    healthy = database and writable and enough_space and not quarantined
    problems = [text for failed, text in (
        (not database, "the database is unreachable"),
        (not writable, "the click log folder cannot be written"),
        (writable and not enough_space, "the click log's disk is nearly full"),
        (bool(quarantined), "unreadable click log lines were set aside"),
    ) if failed]
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": "ok" if database else "unreachable",
        "click_log": {"writable": writable, "pending_bytes": pending, "quarantined_lines": quarantined,
                      "free_bytes": free},
        "problems": problems,
    }
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


# --- OpenAPI -----------------------------------------------------------------

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Health": {
        "type": "object",
        "additionalProperties": False,
        "required": ["status", "database", "click_log", "problems"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "database": {"type": "string", "enum": ["ok", "unreachable"]},
            "problems": {"type": "array", "items": {"type": "string"},
                         "description": "What makes the node unhealthy, in words (empty when healthy)"},
            "click_log": {
                "type": "object",
                "additionalProperties": False,
                "required": ["writable", "pending_bytes", "quarantined_lines", "free_bytes"],
                "properties": {
                    "writable": {"type": "boolean", "description": "Clicks can be appended to this node's log"},
                    "pending_bytes": {"type": "integer", "minimum": 0, "nullable": True,
                                      "description": "Bytes of this host's click log not stored yet (null: unknown)"},
                    "free_bytes": {"type": "integer", "minimum": 0, "nullable": True,
                                   "description": "Free space on the log's disk; below TASKLINK_CLICK_LOG_MIN_FREE_BYTES "
                                                  "the node is unhealthy"},
                    "quarantined_lines": {
                        "type": "integer", "minimum": 0,
                        "description": "Unreadable click log lines set aside in the log folder's quarantine.jsonl "
                                       "(any makes the node unhealthy until an operator has looked)",
                    },
                },
            },
        },
    }
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/health": {
        "get": {
            "summary": "Whether this node can serve (database reachable, click log writable)",
            "operationId": "getHealth",
            "tags": ["operations"],
            "security": [],
            "responses": {
                "200": json_response("The node is healthy", ref("Health")),
                "503": json_response("Something the node needs is missing; the body says what", ref("Health")),
            },
        }
    }
}
