"""The partner endpoints: discovery (me, programs, campaigns, tasks, match rules) and links."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from api import db
from api.services import campaigns, landing_pages, memberships
from api.signing import load_link_token
from conftest import SECRET_KEYS, short_id

# --- discovery -----------------------------------------------------------------


def test_me_is_the_signed_in_partner(client, world, auth) -> None:
    response = client.get("/api/v1/me", headers=auth(world.partner))
    assert response.status_code == 200
    assert response.json == {"id": world.partner.id, "name": world.partner.name, "email": world.partner.email}


def test_programs_are_those_with_an_active_membership(client, make, world, auth) -> None:
    pending_program = make.program(world.advertiser.id)
    pending_campaign = make.campaign(world.advertiser.id, pending_program.id)
    make.membership(world.partner.id, pending_campaign.id, "pending")
    response = client.get("/api/v1/programs", headers=auth(world.partner))
    assert response.json == {"programs": [{"id": world.program.id, "name": world.program.name}]}
    assert client.get("/api/v1/programs", headers=auth(world.other_partner)).json == {"programs": []}


def test_campaigns_show_active_and_pending_with_the_reason(client, make, world, auth) -> None:
    pending = make.campaign(world.advertiser.id, world.program.id)
    make.membership(world.partner.id, pending.id, "pending")
    no_pay = make.campaign(world.advertiser.id, world.program.id, pay_for_performance=False)
    make.membership(world.partner.id, no_pay.id, "active")
    declined = make.campaign(world.advertiser.id, world.program.id)
    make.membership(world.partner.id, declined.id, "declined")

    response = client.get("/api/v1/campaigns", headers=auth(world.partner))
    assert response.status_code == 200
    by_id = {c["id"]: c for c in response.json["campaigns"]}
    assert set(by_id) == {world.campaign.id, pending.id, no_pay.id}
    mine = by_id[world.campaign.id]
    assert (mine["name"], mine["program_id"], mine["membership"]) == (world.campaign.name, world.program.id, "active")
    assert (mine["link_available"], mine["reason"], mine["reason_code"]) == (True, None, None)
    assert by_id[pending.id]["link_available"] is False
    assert by_id[pending.id]["reason_code"] == "membership_not_active"
    assert "pending" in by_id[pending.id]["reason"]
    assert by_id[no_pay.id]["reason_code"] == "pay_for_performance_off"
    assert "pay for performance" in by_id[no_pay.id]["reason"]


def test_campaigns_filter_by_program(client, make, world, auth) -> None:
    second = make.program(world.advertiser.id)
    other = make.campaign(world.advertiser.id, second.id)
    make.membership(world.partner.id, other.id)
    headers = auth(world.partner)
    only = client.get(f"/api/v1/campaigns?program_id={second.id}", headers=headers).json["campaigns"]
    assert [c["id"] for c in only] == [other.id]
    assert client.get("/api/v1/campaigns?program_id=999999", headers=headers).json == {"campaigns": []}
    assert client.get("/api/v1/campaigns?program_id=abc", headers=headers).status_code == 400


def test_campaign_tasks_only_open_ones_of_an_active_membership(client, make, world, auth) -> None:
    mine = make.task(world.advertiser.id, world.campaign.id, partner_id=world.partner.id)
    make.membership(world.other_partner.id, world.campaign.id)
    theirs = make.task(world.advertiser.id, world.campaign.id, partner_id=world.other_partner.id)
    response = client.get(f"/api/v1/campaigns/{world.campaign.id}/tasks", headers=auth(world.partner))
    assert response.status_code == 200
    listed = {t["id"]: t for t in response.json["tasks"]}
    assert set(listed) == {world.task.id, mine.id}
    assert listed[mine.id]["assigned_to_me"] is True
    assert listed[world.task.id]["link_options"]["link_available"] is True
    assert theirs.id not in listed


@pytest.mark.parametrize("status", ["pending", "declined", "ended", None])
def test_tasks_of_a_campaign_without_active_membership_are_not_found(client, make, world, auth, status) -> None:
    if status:
        make.membership(world.other_partner.id, world.campaign.id, status)
    headers = auth(world.other_partner)
    response = client.get(f"/api/v1/campaigns/{world.campaign.id}/tasks", headers=headers)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/tasks/{world.task.id}", headers=headers).status_code == 404


def test_task_details_in_manual_mode(client, world, auth) -> None:
    response = client.get(f"/api/v1/tasks/{world.task.id}", headers=auth(world.partner))
    assert response.status_code == 200
    task = response.json
    assert (task["id"], task["title"], task["campaign_id"]) == (world.task.id, world.task.title, world.campaign.id)
    options = task["link_options"]
    assert options["mode"] == "manual"
    assert options["allowed_domains"] == ["*.brand.test", "brand.test"]
    assert [(p["name"], p["url"], p["is_default"]) for p in options["landing_pages"]] == [
        ("Home", "https://brand.test/", True),
        ("Sale", "https://brand.test/sale", False),
    ]
    assert options["default_landing_page_id"] == options["landing_pages"][0]["id"]
    assert (options["link_available"], options["reason"]) == (True, None)


def test_task_with_its_own_page_defaults_to_it(client, make, engine, world, auth) -> None:
    with db.reading(engine) as conn:
        sale = next(p for p in landing_pages.list_landing_pages(conn, world.campaign.id) if p.name == "Sale")
    task = make.task(world.advertiser.id, world.campaign.id, landing_page_id=sale.id)
    options = client.get(f"/api/v1/tasks/{task.id}", headers=auth(world.partner)).json["link_options"]
    assert options["default_landing_page_id"] == sale.id


@pytest.mark.parametrize(
    ("settings", "code"),
    [
        ({"status": "paused"}, "campaign_not_active"),
        ({"status": "ended"}, "campaign_not_active"),
        ({"click_tracking": False}, "click_tracking_off"),
        ({"conversion_tracking": False}, "conversion_tracking_off"),
        ({"pay_for_performance": False}, "pay_for_performance_off"),
    ],
)
def test_unavailable_task_says_why_and_refuses_links(client, engine, world, auth, settings, code) -> None:
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, **settings)
    headers = auth(world.partner)
    options = client.get(f"/api/v1/tasks/{world.task.id}", headers=headers).json["link_options"]
    assert (options["link_available"], options["reason_code"]) == (False, code)
    assert options["reason"]
    response = client.post("/api/v1/links", headers=headers, json={"task_id": world.task.id})
    assert response.status_code == 422
    assert response.json["error"] == {"code": code, "message": options["reason"]}


def test_an_archived_task_takes_no_new_links_and_its_links_keep_redirecting(client, engine, world, auth) -> None:
    from api.services import tasks

    headers = auth(world.partner)
    made = client.post("/api/v1/links", headers=headers, json={"task_id": world.task.id})
    assert made.status_code == 201
    with db.transaction(engine) as conn:
        assert tasks.set_archived(conn, world.advertiser.id, world.task.id, True).archived
    options = client.get(f"/api/v1/tasks/{world.task.id}", headers=headers).json["link_options"]
    assert (options["link_available"], options["reason_code"]) == (False, "task_archived")
    response = client.post("/api/v1/links", headers=headers, json={"task_id": world.task.id})
    assert response.status_code == 422
    assert response.json["error"] == {
        "code": "task_archived",
        "message": "This task is archived: it takes no new links.",
    }
    visit = client.get(
        made.json["url"].removeprefix("http://localhost"),
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"},
    )
    assert visit.status_code == 302 and visit.headers["Location"].startswith("https://brand.test/")
    with db.transaction(engine) as conn:  # restored: links again
        assert not tasks.set_archived(conn, world.advertiser.id, world.task.id, False).archived
    assert client.post("/api/v1/links", headers=headers, json={"task_id": world.task.id}).status_code == 201


def test_match_rules_cover_link_available_campaigns_only(client, make, world, auth) -> None:
    choose = make.campaign(
        world.advertiser.id,
        world.program.id,
        domains=("*.outlet.test",),
        pages=(("Outlet", "https://www.outlet.test/o"),),
        mode="choose",
        click_id_param="ref",
    )
    make.membership(world.partner.id, choose.id)
    off = make.campaign(world.advertiser.id, world.program.id, domains=("off.test",), pages=(), click_tracking=False)
    make.membership(world.partner.id, off.id)
    pending = make.campaign(world.advertiser.id, world.program.id, domains=("pending.test",), pages=())
    make.membership(world.partner.id, pending.id, "pending")

    rules = client.get("/api/v1/match-rules", headers=auth(world.partner)).json["rules"]
    by_id = {r["campaign_id"]: r for r in rules}
    assert set(by_id) == {world.campaign.id, choose.id}
    assert by_id[world.campaign.id] == {
        "campaign_id": world.campaign.id,
        "campaign_name": world.campaign.name,
        "program_id": world.program.id,
        "mode": "manual",
        "domains": ["*.brand.test", "brand.test"],
        "allowed_domains": ["*.brand.test", "brand.test"],
        "click_id_param": "clickid",
    }
    # Host patterns: the allowed domains and the pages' own hosts.
    assert by_id[choose.id]["domains"] == ["*.outlet.test", "www.outlet.test"]
    assert by_id[choose.id]["allowed_domains"] == ["*.outlet.test"]
    # Each rule names its campaign's click-id parameter: the extension leaves it out of "this page".
    assert by_id[choose.id]["click_id_param"] == "ref"
    assert client.get("/api/v1/match-rules", headers=auth(world.other_partner)).json == {"rules": []}


# --- links ---------------------------------------------------------------------


def create(client, headers, **body):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/links", headers=headers, json=body)


def test_short_link_is_the_default_with_reporting_only_in_url(client, world, auth) -> None:
    response = create(
        client,
        auth(world.partner),
        task_id=world.task.id,
        landing_url="https://shop.brand.test/p?x=1",
        subId1="story 1",
        subId3="z",
        sharedid="s&co",
    )
    assert response.status_code == 201
    link = response.json
    assert response.headers["Location"] == f"/api/v1/links/{link['id']}"
    assert link["kind"] == "short"
    code = link["display_url"].rsplit("/s/", 1)[1]
    assert link["display_url"] == f"http://localhost/s/{code}" and len(code) >= 7 and code.isalnum()
    assert link["url"].startswith(link["display_url"] + "?")
    assert dict(parse_qsl(urlsplit(link["url"]).query)) == {"subId1": "story 1", "subId3": "z", "sharedid": "s&co"}
    assert (link["subId1"], link["subId2"], link["subId3"], link["sharedid"]) == ("story 1", None, "z", "s&co")
    assert link["landing_url"] == "https://shop.brand.test/p?x=1"
    assert (link["task_id"], link["disabled"], link["clicks"], link["conversions"]) == (world.task.id, False, 0, 0)
    assert link["created_at"].endswith("Z")


def test_regular_link_carries_a_signed_token(client, world, auth) -> None:
    link = create(client, auth(world.partner), task_id=world.task.id, kind="regular").json
    assert link["kind"] == "regular" and link["url"] == link["display_url"]
    token = link["display_url"].split("/c/", 1)[1]
    assert load_link_token(SECRET_KEYS, token) == {
        "l": link["id"],
        "p": world.partner.id,
        "t": world.task.id,
        "u": "https://brand.test/",
    }


def test_links_use_the_configured_base_url(app_config, engine, make) -> None:
    from api import create_app
    from api.services import sessions

    world = make.world()
    app = create_app({**app_config, "BASE_URL": "https://go.example"})
    token, _ = sessions.issue_partner_token(SECRET_KEYS, world.partner)
    link = (
        app.test_client()
        .post("/api/v1/links", headers={"Authorization": f"Bearer {token}"}, json={"task_id": world.task.id})
        .json
    )
    assert link["display_url"].startswith("https://go.example/s/")
    db.get_engine(app).dispose()


def test_an_empty_landing_url_means_the_default_page(client, world, auth) -> None:
    for empty in ("", "   ", None):
        response = create(client, auth(world.partner), task_id=world.task.id, landing_url=empty)
        assert response.status_code == 201 and response.json["landing_url"] == "https://brand.test/"


def test_choose_mode_takes_a_page_and_refuses_a_free_url(client, make, engine, world, auth) -> None:
    campaign = make.campaign(world.advertiser.id, world.program.id, mode="choose")
    make.membership(world.partner.id, campaign.id)
    task = make.task(world.advertiser.id, campaign.id)
    with db.reading(engine) as conn:
        sale = next(p for p in landing_pages.list_landing_pages(conn, campaign.id) if p.name == "Sale")
    headers = auth(world.partner)
    refused = create(client, headers, task_id=task.id, landing_url="https://brand.test/other")
    assert refused.status_code == 422 and refused.json["error"]["code"] == "landing_page_not_allowed"
    picked = create(client, headers, task_id=task.id, landing_page_id=sale.id)
    assert picked.status_code == 201 and picked.json["landing_url"] == "https://brand.test/sale"
    foreign = create(client, headers, task_id=task.id, landing_page_id=world.campaign.id + 10_000)
    assert foreign.status_code == 422


def test_default_mode_uses_the_default_or_the_tasks_page(client, make, engine, world, auth) -> None:
    campaign = make.campaign(world.advertiser.id, world.program.id, mode="default")
    make.membership(world.partner.id, campaign.id)
    with db.reading(engine) as conn:
        sale = next(p for p in landing_pages.list_landing_pages(conn, campaign.id) if p.name == "Sale")
    plain = make.task(world.advertiser.id, campaign.id)
    own = make.task(world.advertiser.id, campaign.id, landing_page_id=sale.id)
    headers = auth(world.partner)
    assert create(client, headers, task_id=plain.id).json["landing_url"] == "https://brand.test/"
    assert create(client, headers, task_id=own.id).json["landing_url"] == "https://brand.test/sale"
    assert create(client, headers, task_id=plain.id, landing_page_id=sale.id).status_code == 422
    assert create(client, headers, task_id=plain.id, landing_url="https://brand.test/x").status_code == 422


@pytest.mark.parametrize(
    "landing_url",
    [
        "https://evil.test/",
        "javascript:alert(1)",
        "ftp://brand.test/",
        "https://brand.test.evil.test/",
        "//evil.test/",
        "https://user@evil.test/",
    ],
)
def test_manual_mode_refuses_urls_off_the_allowed_domains(client, world, auth, landing_url) -> None:
    response = create(client, auth(world.partner), task_id=world.task.id, landing_url=landing_url)
    assert response.status_code in (400, 422)
    assert response.json["error"]["code"]


def test_task_of_another_partner_or_unknown_is_not_found(client, make, world, auth) -> None:
    make.membership(world.other_partner.id, world.campaign.id)
    theirs = make.task(world.advertiser.id, world.campaign.id, partner_id=world.other_partner.id)
    headers = auth(world.partner)
    for task_id in (theirs.id, 999_999):
        response = create(client, headers, task_id=task_id)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/tasks/{theirs.id}", headers=headers).status_code == 404
    # The other partner, not a member of the world's campaign before, sees nothing of it now either.
    assert create(client, auth(world.other_partner), task_id=theirs.id).status_code == 201


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b"", "invalid_json"),
        (b'"text"', "invalid_json"),
        (b'{"task_id": "1"}', "invalid_field"),
        (b'{"task_id": 1.5}', "invalid_field"),
        (b'{"task_id": true}', "invalid_field"),
        (b'{"task_id": -1}', "invalid_field"),
        (b'{"task_id": 0}', "invalid_field"),
        (b"{}", "missing_field"),
        (b'{"task_id": null}', "missing_field"),
        (b'{"task_id": 1, "color": "red"}', "unknown_field"),
        (b'{"task_id": 1, "kind": "long"}', "invalid_kind"),
        (b'{"task_id": 1, "kind": 7}', "invalid_field"),
        (b'{"task_id": 1, "landing_url": 5}', "invalid_field"),
        (b'{"task_id": 1, "landing_page_id": "3"}', "invalid_field"),
        (b'{"task_id": 1, "landing_page_id": 2.5}', "invalid_field"),
        (b'{"task_id": 1, "landing_page_id": false}', "invalid_field"),
        (b'{"task_id": 1, "landing_page_id": 0}', "invalid_field"),
        (b'{"task_id": 1e-3}', "invalid_field"),
        (b'{"task_id": -9223372036854775809}', "invalid_field"),
        (b'{"task_id": 1, "subId1": ["a"]}', "invalid_field"),
        (b'{"task_id": 1, "subId2": {"a": 1}}', "invalid_field"),
        (b'{"task_id": 1, "subId1": "\\ud800"}', "invalid_field"),
        (b'{"task_id": 1, "landing_url": "https://brand.test/\\udfff"}', "invalid_field"),
        (b"[" * 60_000, "invalid_json"),
        (b'{"task_id": ' + b"[" * 60_000, "invalid_json"),
        (b"\xff\xfe\x00garbage", "invalid_json"),
    ],
    ids=short_id,
)
def test_malformed_link_requests_are_400(client, world, auth, body, code) -> None:
    body = body.replace(b'"task_id": 1', f'"task_id": {world.task.id}'.encode())
    response = client.post(
        "/api/v1/links", headers={**auth(world.partner), "Content-Type": "application/json"}, data=body
    )
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == code


@pytest.mark.parametrize(
    "field",
    ["subId1", "subId2", "subId3", "sharedid"],
)
def test_reporting_info_over_255_characters_is_400(client, world, auth, field) -> None:
    headers = auth(world.partner)
    assert create(client, headers, task_id=world.task.id, **{field: "x" * 256}).status_code == 400
    assert create(client, headers, task_id=world.task.id, **{field: "x" * 255}).status_code == 201


def test_oversized_values_and_bodies_are_400(client, world, auth) -> None:
    headers = auth(world.partner)
    long_url = "https://brand.test/" + "a" * 3000
    assert create(client, headers, task_id=world.task.id, landing_url=long_url).status_code == 400
    huge = b'{"task_id": 1, "subId1": "' + b"x" * 70_000 + b'"}'
    response = client.post("/api/v1/links", headers={**headers, "Content-Type": "application/json"}, data=huge)
    assert response.status_code == 400 and response.json["error"]["code"] == "body_too_large"


def test_list_is_newest_first_paged_with_total_and_counts(client, make, world, auth) -> None:
    headers = auth(world.partner)
    second_task = make.task(world.advertiser.id, world.campaign.id)
    made = [create(client, headers, task_id=world.task.id).json["id"] for _ in range(4)]
    made.append(create(client, headers, task_id=second_task.id).json["id"])
    create(client, auth(world.other_partner), task_id=world.task.id)  # 404: not a member; makes nothing

    page = client.get("/api/v1/links?limit=2&offset=1", headers=headers).json
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    assert [link["id"] for link in page["links"]] == [made[3], made[2]]
    everything = client.get("/api/v1/links", headers=headers).json
    assert [link["id"] for link in everything["links"]] == list(reversed(made))
    assert all(link["clicks"] == 0 and link["conversions"] == 0 for link in everything["links"])
    one_task = client.get(f"/api/v1/links?task_id={second_task.id}", headers=headers).json
    assert [link["id"] for link in one_task["links"]] == [made[4]] and one_task["total"] == 1
    for query in (
        "limit=0",
        "limit=101",
        "offset=-1",
        "limit=x",
        "task_id=0",
        "limit=²",
        "offset=%D9%A3",
        "task_id=-5",
        "task_id=1.0",
        "task_id=abc",
        "task_id=%D9%A3",
    ):
        assert client.get(f"/api/v1/links?{query}", headers=headers).status_code == 400, query


def test_disable_and_enable_a_link(client, world, auth) -> None:
    headers = auth(world.partner)
    link = create(client, headers, task_id=world.task.id).json
    disabled = client.patch(f"/api/v1/links/{link['id']}", headers=headers, json={"disabled": True})
    assert disabled.status_code == 200 and disabled.json["disabled"] is True
    assert client.get(f"/api/v1/links/{link['id']}", headers=headers).json["disabled"] is True
    enabled = client.patch(f"/api/v1/links/{link['id']}", headers=headers, json={"disabled": False})
    assert enabled.json["disabled"] is False
    for body in ({}, {"disabled": "yes"}, {"disabled": 1}, {"disabled": True, "kind": "regular"}):
        assert client.patch(f"/api/v1/links/{link['id']}", headers=headers, json=body).status_code == 400


def test_another_partners_link_is_not_found(client, world, auth) -> None:
    link = create(client, auth(world.partner), task_id=world.task.id).json
    other = auth(world.other_partner)
    assert client.get(f"/api/v1/links/{link['id']}", headers=other).status_code == 404
    response = client.patch(f"/api/v1/links/{link['id']}", headers=other, json={"disabled": True})
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert client.get("/api/v1/links", headers=other).json == {"links": [], "total": 0, "limit": 20, "offset": 0}
    assert client.get(f"/api/v1/links/{link['id']}", headers=auth(world.partner)).json["disabled"] is False


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/links/0",
        "/api/v1/links/2147483648",
        "/api/v1/tasks/99999999999999999999",
        "/api/v1/campaigns/-1/tasks",
        "/api/v1/links/abc",
        "/api/v1/links/" + "9" * 5000,
        "/api/v1/tasks/" + "1" * 5000,
        "/api/v1/campaigns/" + "7" * 5000 + "/tasks",
    ],
    ids=short_id,
)
def test_out_of_range_ids_are_404_not_database_errors(client, world, auth, path) -> None:
    response = client.get(path, headers=auth(world.partner))
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


#: Positive whole numbers past any id: a 32-bit column, a 64-bit driver, and beyond both.
HUGE_IDS = [2**31, 2**63, 10**12, 10**30]


@pytest.mark.parametrize("task_id", HUGE_IDS)
def test_a_huge_task_id_is_an_unknown_task_404(client, world, auth, task_id) -> None:
    response = create(client, auth(world.partner), task_id=task_id)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found", response.json
    assert client.get(f"/api/v1/tasks/{task_id}", headers=auth(world.partner)).status_code == 404


@pytest.mark.parametrize("page_id", HUGE_IDS)
def test_a_huge_landing_page_id_is_answered_like_any_unknown_page(client, world, auth, page_id) -> None:
    headers = auth(world.partner)
    unknown = create(client, headers, task_id=world.task.id, landing_page_id=999_999)
    huge = create(client, headers, task_id=world.task.id, landing_page_id=page_id)
    assert (huge.status_code, huge.json["error"]["code"]) == (unknown.status_code, unknown.json["error"]["code"])
    assert huge.status_code == 422


@pytest.mark.parametrize("link_id", HUGE_IDS)
def test_a_huge_link_id_is_not_found_for_read_and_update(client, world, auth, link_id) -> None:
    headers = auth(world.partner)
    assert client.get(f"/api/v1/links/{link_id}", headers=headers).status_code == 404
    response = client.patch(f"/api/v1/links/{link_id}", headers=headers, json={"disabled": True})
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


@pytest.mark.parametrize("huge", [*map(str, HUGE_IDS), "9" * 5000, "000123456789012"], ids=short_id)
def test_huge_id_filters_match_nothing(client, world, auth, huge) -> None:
    headers = auth(world.partner)
    create(client, headers, task_id=world.task.id)
    links_page = client.get(f"/api/v1/links?task_id={huge}", headers=headers)
    assert links_page.status_code == 200 and (links_page.json["links"], links_page.json["total"]) == ([], 0)
    campaigns_list = client.get(f"/api/v1/campaigns?program_id={huge}", headers=headers)
    assert campaigns_list.status_code == 200 and campaigns_list.json["campaigns"] == []
    for identity in (headers, {"Authorization": f"Bearer {world.api_key}"}):
        report = client.get(f"/api/v1/reports/summary?campaign_id={huge}", headers=identity)
        assert report.status_code == 200 and report.json["rows"] == []
    # The same as an unknown id within range.
    assert client.get("/api/v1/campaigns?program_id=999999", headers=headers).json["campaigns"] == []


@pytest.mark.parametrize(
    "query", ["program_id=0", "program_id=-1", "program_id=x", "program_id=1.5", "program_id=%C2%B2"]
)
def test_malformed_id_filters_stay_400(client, world, auth, query) -> None:
    assert client.get(f"/api/v1/campaigns?{query}", headers=auth(world.partner)).status_code == 400


def test_a_membership_ending_keeps_the_links_listed_but_refuses_new_ones(client, engine, world, auth) -> None:
    headers = auth(world.partner)
    link = create(client, headers, task_id=world.task.id).json
    with db.transaction(engine) as conn:
        memberships.set_status_for(conn, world.partner.id, world.campaign.id, "ended")
    assert create(client, headers, task_id=world.task.id).status_code == 404
    assert [listed["id"] for listed in client.get("/api/v1/links", headers=headers).json["links"]] == [link["id"]]


# --- concurrency and codes ---------------------------------------------------------


@pytest.fixture
def busy_app(app_config, engine):  # type: ignore[no-untyped-def]
    from api import create_app

    app = create_app({**app_config, "RATELIMIT_LINKS": "100000/minute"})
    yield app
    db.get_engine(app).dispose()


def test_concurrent_link_creation_gives_distinct_codes_and_no_errors(busy_app, make, auth) -> None:
    import threading

    world = make.world()
    make.membership(world.other_partner.id, world.campaign.id)
    threads_n, per_thread = 8, 15
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()
    start = threading.Barrier(threads_n)

    def work(n: int) -> None:
        client = busy_app.test_client()
        headers = auth(world.partner if n % 2 else world.other_partner)
        start.wait()
        for i in range(per_thread):
            kind = "regular" if i % 5 == 0 else "short"
            response = client.post(
                "/api/v1/links", headers=headers, json={"task_id": world.task.id, "kind": kind, "subId1": f"t{n}-{i}"}
            )
            with lock:
                results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in results] == [201] * threads_n * per_thread, [b for s, b in results if s != 201][:3]
    urls = [body["display_url"] for _, body in results]
    ids = [body["id"] for _, body in results]
    assert len(set(urls)) == len(urls) and len(set(ids)) == len(ids)
    codes = [url.rsplit("/s/", 1)[1] for url in urls if "/s/" in url]
    assert len(codes) == threads_n * per_thread * 4 // 5 and all(len(code) >= 7 for code in codes)
    with db.reading(make.engine) as conn:
        from api.services import links

        assert links.list_links(conn, world.partner.id)[1] + links.list_links(conn, world.other_partner.id)[1] == len(
            ids
        )


def test_a_short_code_collision_retries_with_a_new_code(client, world, auth, monkeypatch) -> None:
    from api.services import links

    headers = auth(world.partner)
    first = create(client, headers, task_id=world.task.id).json
    taken = first["display_url"].rsplit("/s/", 1)[1]
    codes = iter([taken, taken, "Fresh01"])
    monkeypatch.setattr(links, "new_code", lambda: next(codes))
    second = create(client, headers, task_id=world.task.id)
    assert second.status_code == 201 and second.json["display_url"].endswith("/s/Fresh01")
