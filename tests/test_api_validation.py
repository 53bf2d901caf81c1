"""Request validation from the API's models: a 400 names the field, and the document says what is accepted.

Requests and responses are declared once (``api/http/models.py``); these
tests check what a client sees of that: the error's code and message, and a
document whose enumerations are the very codes the API answers with.
"""

from __future__ import annotations

from typing import get_args

import pytest

from api.services import campaigns, conversions, earnings, links, reports
from openapi_check import document_of


def error_of(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.get_data(as_text=True)
    return response.json["error"]["code"], response.json["error"]["message"]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({}, "missing_field", "task_id is required."),
        ({"task_id": None}, "missing_field", "task_id is required."),
        ({"task_id": "1"}, "invalid_field", "task_id must be a positive whole number."),
        ({"task_id": 1.5}, "invalid_field", "task_id must be a positive whole number."),
        ({"task_id": 1, "subId1": "x" * 256}, "invalid_field", "subId1 must be at most 255 characters."),
        ({"task_id": 1, "landing_url": 5}, "invalid_field", "landing_url must be a string."),
        ({"task_id": 1, "sharedid": "\ud800"}, "invalid_field", "sharedid must be valid Unicode text."),
        ({"task_id": 1, "size": 2, "color": "red"}, "unknown_field", "Unknown field(s): color, size."),
        ({"task_id": 1, "kind": "long"}, "invalid_kind", "kind must be short or regular."),
    ],
)
def test_a_refused_link_request_names_the_field(client, auth, world, body, code, message) -> None:
    answer = client.post("/api/v1/links", json=body, headers=auth(world.partner))
    assert error_of(answer) == (code, message)


def test_a_whole_number_written_with_a_zero_fraction_is_that_number(client, auth, world) -> None:
    # JSON Schema (OpenAPI 3.1) counts 7.0 as an integer; so does the API.
    answer = client.post("/api/v1/links", json={"task_id": float(world.task.id)}, headers=auth(world.partner))
    assert answer.status_code == 201 and answer.json["task_id"] == world.task.id


def test_a_refused_update_names_the_field(client, auth, world) -> None:
    link = client.post("/api/v1/links", json={"task_id": world.task.id}, headers=auth(world.partner)).json
    answer = client.patch(f"/api/v1/links/{link['id']}", json={"disabled": "yes"}, headers=auth(world.partner))
    assert error_of(answer) == ("invalid_field", "disabled must be true or false.")


def test_credentials_are_checked_before_the_body(client) -> None:
    """Without a token, a malformed body is still a 401: nothing about the body is told to a stranger."""
    answer = client.post("/api/v1/links", data=b"{not json", headers={"Content-Type": "application/json"})
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit must be a whole number from 1 to 100."),
        ("limit=1e3", "limit must be a whole number from 1 to 100."),
        ("offset=-1", "offset must be a whole number from 0 to 2147483647."),
        ("task_id=abc", "task_id must be a positive whole number."),
    ],
)
def test_a_refused_query_names_the_parameter(client, auth, world, query, message) -> None:
    answer = client.get(f"/api/v1/links?{query}", headers=auth(world.partner))
    assert error_of(answer) == ("invalid_query", message)


def test_empty_and_undeclared_query_parameters_are_ignored(client, auth, world) -> None:
    answer = client.get("/api/v1/links?limit=&offset=&colour=red", headers=auth(world.partner))
    assert answer.status_code == 200 and (answer.json["limit"], answer.json["offset"]) == (20, 0)


def test_a_report_group_the_caller_may_not_use_names_the_callers_choices(client, auth, world) -> None:
    answer = client.get("/api/v1/reports/summary?group_by=partner", headers=auth(world.partner))
    assert error_of(answer) == ("invalid_query", f"group_by must be one of {', '.join(reports.PARTNER_GROUPS)}.")


def test_conversion_fields_keep_the_rules_own_codes(client, world) -> None:
    headers = {"Authorization": f"Bearer {world.api_key}"}
    body = {"click_id": "x" * 36, "order_id": "A-1", "amount": "1.00", "currency": "USD"}
    for field, value, code in [
        ("click_id", 5, "invalid_click_id"),
        ("click_id", None, "invalid_click_id"),
        ("order_id", "\x00", "invalid_order_id"),
        ("amount", "1e3", "invalid_amount"),
        ("amount", True, "invalid_amount"),
        ("currency", "usd", "invalid_currency"),
    ]:
        answer = client.post("/api/v1/conversions", json={**body, field: value}, headers=headers)
        assert error_of(answer)[0] == code, (field, value)
    absent = client.post(
        "/api/v1/conversions", json={k: v for k, v in body.items() if k != "currency"}, headers=headers
    )
    assert error_of(absent) == ("missing_field", "currency is required.")
    too_precise = client.post("/api/v1/conversions", json={**body, "amount": "1.005"}, headers=headers)
    assert error_of(too_precise)[0] == "invalid_amount"


def test_the_documents_enumerations_are_the_codes_the_rules_use(app) -> None:
    """A client generating code from the document gets every code the API can answer with, and no other."""
    schemas = document_of(app)["components"]["schemas"]

    def enum(schema):  # type: ignore[no-untyped-def]
        variants = schema.get("anyOf", [schema])
        return [value for variant in variants for value in variant.get("enum", [])]

    assert enum(schemas["Campaign"]["properties"]["reason_code"]) == list(get_args(campaigns.AvailabilityCode))
    assert set(enum(schemas["Conversion"]["properties"]["payout_reason"])) == earnings.NO_EARNINGS
    assert set(earnings.REASONS) >= earnings.NO_EARNINGS  # a payout reason is always a click's reason
    assert enum(schemas["Conversion"]["properties"]["status"]) == list(conversions.STATUSES)
    assert schemas["Figures"]["properties"]["invalid_clicks"]["propertyNames"]["enum"] == list(earnings.REASONS)
    assert enum(schemas["Link"]["properties"]["kind"]) == list(links.KINDS)
    assert enum(schemas["LinkOptions"]["properties"]["mode"]) == list(campaigns.LANDING_MODES)


def test_every_request_body_refuses_fields_it_does_not_declare(app) -> None:
    document = document_of(app)
    bodies = [
        operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        for operations in document["paths"].values()
        for operation in operations.values()
        if "requestBody" in operation
    ]
    assert sorted(set(bodies)) == [
        "ConversionRequest",
        "LinkRequest",
        "LinkUpdate",
        "LoginRequest",
        "PostbackTemplateUpdate",
    ]
    for name in bodies:
        assert document["components"]["schemas"][name]["additionalProperties"] is False, name
