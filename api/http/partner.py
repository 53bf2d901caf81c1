"""What a signed-in partner can see: me, programs, campaigns, tasks with link options, match rules.

Thin views: parse → service → shape. Anything not the partner's is
a 404 from the services, never someone else's data.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .. import db
from ..services import campaigns, links, programs, tasks
from ..services.landing_pages import LandingPage
from .auth import current_partner
from .openapi import ID_INPUT_SCHEMA, ID_SCHEMA, errors, json_response, ref
from .parsing import query_id

bp = Blueprint("partner", __name__, url_prefix="/api/v1")


def availability_json(availability: campaigns.Availability) -> dict[str, Any]:
    """``link_available``, ``reason`` (a sentence, null when available) and ``reason_code``."""
    return {
        "link_available": availability.available,
        "reason": availability.reason,
        "reason_code": availability.code,
    }


def page_json(page: LandingPage) -> dict[str, Any]:
    """A landing page as the link form shows it."""
    return {"id": page.id, "name": page.name, "url": page.url, "is_default": page.is_default}


def options_json(options: links.LinkOptions) -> dict[str, Any]:
    """The ``link_options`` of a task."""
    return {
        "mode": options.mode,
        "landing_pages": [page_json(page) for page in options.landing_pages],
        "default_landing_page_id": options.default_landing_page_id,
        "allowed_domains": options.allowed_domains,
        **availability_json(options.availability),
    }


def task_json(task: tasks.Task, options: links.LinkOptions, partner_id: int) -> dict[str, Any]:
    """The task shape of the partner API."""
    return {
        "id": task.id,
        "title": task.title,
        "description": task.description,
        "campaign_id": task.campaign_id,
        "assigned_to_me": task.partner_id == partner_id,
        "link_options": options_json(options),
    }


@bp.get("/me")
def me() -> ResponseReturnValue:
    """The signed-in partner."""
    partner = current_partner()
    return jsonify({"id": partner.id, "name": partner.name, "email": partner.email})


@bp.get("/programs")
def list_programs() -> ResponseReturnValue:
    """Programs in which the partner has an active campaign membership."""
    partner = current_partner()
    with db.reading() as conn:
        found = programs.list_programs_for_partner(conn, partner.id)
    return jsonify({"programs": [{"id": p.id, "name": p.name} for p in found]})


@bp.get("/campaigns")
def list_campaigns() -> ResponseReturnValue:
    """The partner's active and pending campaigns, each saying whether links can be made and why not."""
    partner = current_partner()
    program_id = query_id("program_id")
    with db.reading() as conn:
        found = campaigns.list_campaigns_for_partner(conn, partner.id, program_id)
    return jsonify(
        {
            "campaigns": [
                {
                    "id": entry.campaign.id,
                    "name": entry.campaign.name,
                    "program_id": entry.campaign.program_id,
                    "program_name": entry.program_name,
                    "membership": entry.membership,
                    "landing_mode": entry.campaign.landing_mode,
                    **availability_json(entry.availability),
                }
                for entry in found
            ]
        }
    )


@bp.get("/campaigns/<id:campaign_id>/tasks")
def list_campaign_tasks(campaign_id: int) -> ResponseReturnValue:
    """Tasks open to the partner in one campaign of an active membership, with their link options."""
    partner = current_partner()
    with db.reading() as conn:
        found = tasks.list_tasks_for_partner(conn, partner.id, campaign_id)
        base = links.campaign_link_options(conn, partner.id, campaigns.get_campaign(conn, campaign_id))
        shaped = [task_json(task, links.task_link_options(conn, partner.id, task, base), partner.id) for task in found]
    return jsonify({"tasks": shaped})


@bp.get("/tasks/<id:task_id>")
def get_task(task_id: int) -> ResponseReturnValue:
    """One task with its link options: mode, pages, default, domains, availability."""
    partner = current_partner()
    with db.reading() as conn:
        task = tasks.get_task_for_partner(conn, partner.id, task_id)
        shaped = task_json(task, links.link_options(conn, partner.id, task), partner.id)
    return jsonify(shaped)


@bp.get("/match-rules")
def match_rules() -> ResponseReturnValue:
    """Host patterns of the partner's link-available campaigns, for matching pages in the extension."""
    partner = current_partner()
    with db.reading() as conn:
        rules = links.match_rules(conn, partner.id)
    return jsonify(
        {
            "rules": [
                {
                    "campaign_id": rule.campaign_id,
                    "campaign_name": rule.campaign_name,
                    "program_id": rule.program_id,
                    "mode": rule.mode,
                    "domains": rule.domains,
                    "allowed_domains": rule.allowed_domains,
                    "click_id_param": rule.click_id_param,
                }
                for rule in rules
            ]
        }
    )


# --- OpenAPI -----------------------------------------------------------------

_ID = ID_SCHEMA
_AVAILABILITY = {
    "link_available": {"type": "boolean"},
    "reason": {"type": "string", "nullable": True, "description": "Why links cannot be made (null when they can)"},
    "reason_code": {
        "type": "string",
        "nullable": True,
        "enum": [
            None,
            "campaign_not_active",
            "membership_not_active",
            "task_not_open",
            "task_archived",
            "click_tracking_off",
            "conversion_tracking_off",
            "pay_for_performance_off",
        ],
    },
}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Partner": {
        "type": "object",
        "required": ["id", "name", "email"],
        "properties": {"id": _ID, "name": {"type": "string"}, "email": {"type": "string"}},
    },
    "Program": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": _ID, "name": {"type": "string"}},
    },
    "Campaign": {
        "type": "object",
        "required": ["id", "name", "program_id", "link_available", "reason"],
        "properties": {
            "id": _ID,
            "name": {"type": "string"},
            "program_id": _ID,
            "program_name": {"type": "string"},
            "membership": {"type": "string", "enum": ["active", "pending"]},
            "landing_mode": {"type": "string", "enum": ["manual", "choose", "default"]},
            **_AVAILABILITY,
        },
    },
    "LandingPage": {
        "type": "object",
        "required": ["id", "name", "url", "is_default"],
        "properties": {
            "id": _ID,
            "name": {"type": "string"},
            "url": {"type": "string"},
            "is_default": {"type": "boolean"},
        },
    },
    "LinkOptions": {
        "type": "object",
        "required": [
            "mode", "landing_pages", "default_landing_page_id", "allowed_domains", "link_available", "reason",
        ],
        "properties": {
            "mode": {"type": "string", "enum": ["manual", "choose", "default"]},
            "landing_pages": {"type": "array", "items": ref("LandingPage")},
            "default_landing_page_id": {"type": "integer", "nullable": True},
            "allowed_domains": {"type": "array", "items": {"type": "string"}},
            **_AVAILABILITY,
        },
    },
    "Task": {
        "type": "object",
        "required": ["id", "title", "campaign_id", "link_options"],
        "properties": {
            "id": _ID,
            "title": {"type": "string"},
            "description": {"type": "string"},
            "campaign_id": _ID,
            "assigned_to_me": {"type": "boolean"},
            "link_options": ref("LinkOptions"),
        },
    },
    "MatchRule": {
        "type": "object",
        "required": ["campaign_id", "campaign_name", "program_id", "mode", "domains", "allowed_domains", "click_id_param"],
        "properties": {
            "campaign_id": _ID,
            "campaign_name": {"type": "string"},
            "program_id": _ID,
            "mode": {"type": "string", "enum": ["manual", "choose", "default"]},
            "domains": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Host patterns to match pages: 'brand.com' is that host only, "
                "'*.brand.com' its subdomains; includes the landing pages' hosts",
            },
            "allowed_domains": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Where the current page may be the landing URL (manual mode)",
            },
            "click_id_param": {
                "type": "string",
                "description": "The campaign's click-id parameter (default 'clickid'): the redirect adds it to the "
                "landing URL, so the extension leaves it out, in any spelling, when the current page becomes one",
            },
        },
    },
}


def _list(name: str, item: str) -> dict[str, Any]:
    return {"type": "object", "required": [name], "properties": {name: {"type": "array", "items": ref(item)}}}


def _get(summary: str, operation_id: str, ok: dict[str, Any], *statuses: int, **extra: Any) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "tags": ["partner"],
            "security": [{"partnerToken": []}],
            **extra,
            "responses": {"200": ok, **errors(*statuses)},
        }
    }


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": ID_INPUT_SCHEMA}


OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/me": _get("The signed-in partner", "getMe", json_response("The partner", ref("Partner")), 401),
    "/api/v1/programs": _get(
        "Programs where the partner has active campaigns",
        "listPrograms",
        json_response("Programs", _list("programs", "Program")),
        401,
    ),
    "/api/v1/campaigns": _get(
        "The partner's active and pending campaigns with link availability",
        "listCampaigns",
        json_response("Campaigns", _list("campaigns", "Campaign")),
        400,
        401,
        parameters=[
            {"name": "program_id", "in": "query", "required": False, "schema": ID_INPUT_SCHEMA}
        ],
    ),
    "/api/v1/campaigns/{campaign_id}/tasks": _get(
        "Tasks open to the partner in a campaign of an active membership",
        "listCampaignTasks",
        json_response("Tasks", _list("tasks", "Task")),
        401,
        404,
        parameters=[_path_id("campaign_id")],
    ),
    "/api/v1/tasks/{task_id}": _get(
        "A task with its link options",
        "getTask",
        json_response("The task", ref("Task")),
        401,
        404,
        parameters=[_path_id("task_id")],
    ),
    "/api/v1/match-rules": _get(
        "Host patterns of the partner's link-available campaigns",
        "getMatchRules",
        json_response("Rules", _list("rules", "MatchRule")),
        401,
    ),
}
