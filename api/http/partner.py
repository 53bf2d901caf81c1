"""What a signed-in partner can see: me, programs, campaigns, tasks with link options, match rules, invitations.

Thin views: declaration → service → model. Anything not the partner's is
a 404 from the services, never someone else's data.
"""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from .. import db
from ..services import campaigns, links, memberships, postbacks, programs, tasks
from ..services.partners import Partner
from . import models
from .apidoc import Answer, operation, respond

bp = Blueprint("partner", __name__, url_prefix="/api/v1")


@bp.get("/me")
@operation("getMe", "The signed-in partner", responses={200: Answer("The partner", models.Partner)})
def me(caller: Partner) -> ResponseReturnValue:
    """The signed-in partner."""
    return respond(models.Partner.model_validate(caller))


@bp.get("/programs")
@operation(
    "listPrograms",
    "Programs where the partner has active campaigns",
    responses={200: Answer("Programs", models.ProgramList)},
)
def list_programs(caller: Partner) -> ResponseReturnValue:
    """Programs in which the partner has an active campaign membership."""
    with db.reading() as conn:
        found = programs.list_programs_for_partner(conn, caller.id)
    return respond(models.ProgramList(programs=found))  # type: ignore[arg-type]


@bp.get("/campaigns")
@operation(
    "listCampaigns",
    "The partner's active and pending campaigns with link availability",
    query=models.CampaignQuery,
    responses={200: Answer("Campaigns", models.CampaignList)},
)
def list_campaigns(caller: Partner, query: models.CampaignQuery) -> ResponseReturnValue:
    """The partner's active and pending campaigns, each saying whether links can be made and why not."""
    with db.reading() as conn:
        found = campaigns.list_campaigns_for_partner(conn, caller.id, query.program_id)
    return respond(models.CampaignList(campaigns=[models.Campaign.of(entry) for entry in found]))


@bp.get("/campaigns/<id:campaign_id>/tasks")
@operation(
    "listCampaignTasks",
    "Tasks open to the partner in a campaign of an active membership",
    responses={200: Answer("Tasks", models.TaskList)},
    errors=(404,),
)
def list_campaign_tasks(caller: Partner, campaign_id: int) -> ResponseReturnValue:
    """Tasks open to the partner in one campaign of an active membership, with their link options."""
    with db.reading() as conn:
        found = tasks.list_tasks_for_partner(conn, caller.id, campaign_id)
        base = links.campaign_link_options(conn, caller.id, campaigns.get_campaign(conn, campaign_id))
        shaped = [
            models.Task.of(task, links.task_link_options(conn, caller.id, task, base), caller.id) for task in found
        ]
    return respond(models.TaskList(tasks=shaped))


@bp.get("/tasks/<id:task_id>")
@operation("getTask", "A task with its link options", responses={200: Answer("The task", models.Task)}, errors=(404,))
def get_task(caller: Partner, task_id: int) -> ResponseReturnValue:
    """One task with its link options: mode, pages, default, domains, availability."""
    with db.reading() as conn:
        task = tasks.get_task_for_partner(conn, caller.id, task_id)
        shaped = models.Task.of(task, links.link_options(conn, caller.id, task), caller.id)
    return respond(shaped)


@bp.get("/match-rules")
@operation(
    "getMatchRules",
    "Host patterns of the partner's link-available campaigns",
    responses={200: Answer("Rules", models.MatchRuleList)},
)
def match_rules(caller: Partner) -> ResponseReturnValue:
    """Host patterns of the partner's link-available campaigns, for matching pages in the extension."""
    with db.reading() as conn:
        rules = links.match_rules(conn, caller.id)
    return respond(models.MatchRuleList(rules=rules))  # type: ignore[arg-type]


@bp.get("/invitations")
@operation(
    "listInvitations",
    "Advertisers' invitations waiting for the partner's answer, with the campaigns' terms",
    responses={200: Answer("Invitations", models.InvitationList)},
)
def list_invitations(caller: Partner) -> ResponseReturnValue:
    """The campaigns the partner is invited to and has not answered yet."""
    with db.reading() as conn:
        found = campaigns.list_campaigns_for_partner(conn, caller.id, statuses=("invited",))
    return respond(models.InvitationList(invitations=[models.Invitation.of(entry) for entry in found]))


def _answer(caller: Partner, campaign_id: int, accept: bool) -> ResponseReturnValue:
    with db.transaction() as conn:
        membership = memberships.answer_invitation(conn, caller.id, campaign_id, accept)
    return respond(
        models.InvitationAnswer(campaign_id=membership.campaign_id, membership="active" if accept else "declined")
    )


@bp.post("/invitations/<id:campaign_id>/accept")
@operation(
    "acceptInvitation",
    "Accept an invitation: the membership becomes active",
    description="409 not_invited when the membership is not an unanswered invitation.",
    responses={200: Answer("The membership", models.InvitationAnswer)},
    errors=(404, 409),
)
def accept_invitation(caller: Partner, campaign_id: int) -> ResponseReturnValue:
    """Join the campaign the partner was invited to."""
    return _answer(caller, campaign_id, accept=True)


@bp.post("/invitations/<id:campaign_id>/decline")
@operation(
    "declineInvitation",
    "Decline an invitation: the membership becomes declined",
    description="409 not_invited when the membership is not an unanswered invitation.",
    responses={200: Answer("The membership", models.InvitationAnswer)},
    errors=(404, 409),
)
def decline_invitation(caller: Partner, campaign_id: int) -> ResponseReturnValue:
    """Decline the invitation to the campaign (the advertiser cannot turn it into a membership)."""
    return _answer(caller, campaign_id, accept=False)


# --- postbacks: templates, secret, delivery log -----------------------------------------------


@bp.get("/postbacks")
@operation(
    "getPostbackSettings",
    "The partner's postback templates, signing secret and macros",
    responses={200: Answer("The postback setup", models.PostbackSettings)},
)
def get_postback_settings(caller: Partner) -> ResponseReturnValue:
    """The partner's postback setup (the first look makes their signing secret)."""
    with db.transaction() as conn:
        found = postbacks.get_settings(conn, caller.id)
    return respond(models.PostbackSettings.of(found))


@bp.put("/postbacks")
@operation(
    "setPostbackTemplate",
    "Set or remove the partner's global postback URL template",
    body=models.PostbackTemplateUpdate,
    responses={200: Answer("The postback setup", models.PostbackSettings)},
    errors=(422,),
)
def set_postback_template(caller: Partner, body: models.PostbackTemplateUpdate) -> ResponseReturnValue:
    """Set (or with null remove) the template used for every campaign without one of its own."""
    with db.transaction() as conn:
        found = postbacks.set_template(conn, caller.id, body.url_template)
    return respond(models.PostbackSettings.of(found))


@bp.put("/campaigns/<id:campaign_id>/postback")
@operation(
    "setCampaignPostbackTemplate",
    "Set or remove the partner's postback URL template for one campaign",
    body=models.PostbackTemplateUpdate,
    responses={200: Answer("The postback setup", models.PostbackSettings)},
    errors=(404, 422),
)
def set_campaign_postback_template(
    caller: Partner, campaign_id: int, body: models.PostbackTemplateUpdate
) -> ResponseReturnValue:
    """Set (or remove) the template of one campaign the partner is a member of."""
    with db.transaction() as conn:
        found = postbacks.set_campaign_template(conn, caller.id, campaign_id, body.url_template)
    return respond(models.PostbackSettings.of(found))


@bp.post("/postbacks/secret")
@operation(
    "rotatePostbackSecret",
    "Replace the partner's postback signing secret",
    description="Every postback sent from now on, including those still waiting for a retry, is signed "
    "with the new secret.",
    responses={200: Answer("The postback setup", models.PostbackSettings)},
)
def rotate_postback_secret(caller: Partner) -> ResponseReturnValue:
    """A new signing secret."""
    with db.transaction() as conn:
        found = postbacks.rotate_secret(conn, caller.id)
    return respond(models.PostbackSettings.of(found))


@bp.get("/postbacks/deliveries")
@operation(
    "listPostbackDeliveries",
    "The partner's postback deliveries, newest first",
    query=models.PostbackDeliveryQuery,
    responses={200: Answer("Deliveries", models.PostbackDeliveryList)},
)
def list_postback_deliveries(caller: Partner, query: models.PostbackDeliveryQuery) -> ResponseReturnValue:
    """The delivery log: each event's status, attempts, last error and status code, next attempt."""
    with db.reading() as conn:
        found = postbacks.list_deliveries(conn, caller.id, query.status, query.limit)
    return respond(models.PostbackDeliveryList(deliveries=[models.PostbackDelivery.model_validate(d) for d in found]))


@bp.post("/postbacks/deliveries/<id:delivery_id>/retry")
@operation(
    "retryPostbackDelivery",
    "Send a failed postback delivery again",
    description="For a receiver that was down longer than the retries lasted: the delivery is sent again "
    "from now, with every attempt anew, to the URL rendered when its event happened. 409 not_failed unless "
    "it failed (every attempt used); another partner's delivery is 404 like an unknown one.",
    responses={200: Answer("The delivery, pending again", models.PostbackDelivery)},
    errors=(404, 409),
)
def retry_postback_delivery(caller: Partner, delivery_id: int) -> ResponseReturnValue:
    """Put one of the partner's failed deliveries back in the outbox."""
    with db.transaction() as conn:
        retried = postbacks.retry_delivery(conn, caller.id, delivery_id)
    return respond(models.PostbackDelivery.model_validate(retried))
