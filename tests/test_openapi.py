"""The OpenAPI document: valid OpenAPI 3, covers every route, and the API keeps to it.

Every response the test suite sees is checked against the document by the
test client (``openapi_check.ValidatingClient``, installed by conftest); here
the document itself is checked, and schemathesis throws generated requests at
the partner endpoints in-process.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate

from openapi_check import UndocumentedResponse, check_response, document_of, openapi_path

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def document(app):  # type: ignore[no-untyped-def]
    return document_of(app)


def test_served_document_is_valid_openapi_3(client, document) -> None:
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.json == document
    validate(document)
    assert document["openapi"].startswith("3.")


def served_operations(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in (rule.methods or set()) - IGNORED_METHODS
    }


def test_every_route_under_api_v1_is_documented_and_nothing_else(app, document) -> None:
    documented = {(path, method) for path, operations in document["paths"].items() for method in operations}
    served = served_operations(app)
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"


def test_every_operation_lists_its_errors_and_security(document) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("operationId"), (method, path)
            responses = operation["responses"]
            assert any(status.startswith("2") for status in responses), (method, path)
            if operation.get("security", document.get("security")) != []:
                assert "401" in responses, f"{method} {path} needs credentials but does not document 401"
            if "requestBody" in operation:
                assert "400" in responses, f"{method} {path} takes a body but does not document 400"


@pytest.mark.parametrize("name", ["Link", "Campaign", "Task", "Program", "Partner", "Error"])
def test_shared_components_exist(document, name) -> None:
    assert name in document["components"]["schemas"]


def test_the_checker_refuses_what_the_document_does_not_say(app, document, world, auth) -> None:
    """The validating client is only useful if it fails on a wrong answer: check that it does."""
    from flask.testing import FlaskClient

    raw = FlaskClient(app)
    ok = raw.get("/api/v1/me", headers=auth(world.partner))
    check_response(app, document, "GET", "/api/v1/me", ok)
    tampered = dict(document)
    tampered["paths"] = {
        **document["paths"],
        "/api/v1/me": {
            "get": {
                **document["paths"]["/api/v1/me"]["get"],
                "responses": {
                    "200": {
                        "description": "x",
                        "content": {"application/json": {"schema": {"type": "object", "required": ["nickname"]}}},
                    }
                },
            }
        },
    }
    with pytest.raises(UndocumentedResponse):
        check_response(app, tampered, "GET", "/api/v1/me", ok)
    unlisted = raw.get("/api/v1/me")  # 401 is documented in the real document, not in the tampered one
    with pytest.raises(UndocumentedResponse):
        check_response(app, tampered, "GET", "/api/v1/me", unlisted)


# --- schemathesis, in-process ------------------------------------------------------


@pytest.fixture
def api_schema(app, world, auth):  # type: ignore[no-untyped-def]
    """The served document, loaded by schemathesis against the app in this process."""
    app.config["SCHEMATHESIS_HEADERS"] = auth(world.partner)
    # Some requests need an existing link and task to reach their success path.
    app.test_client().post("/api/v1/links", headers=auth(world.partner), json={"task_id": world.task.id})
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_document(case, app) -> None:  # type: ignore[no-untyped-def]
    """No 5xx, every status documented, every body matching its schema, for generated requests.

    A valid partner token is sent with every case, so requests that are
    invalid only because the token is missing succeed: that one check
    (``negative_data_rejection``) is left out; unknown query parameters are
    ignored by design. Malformed bodies are still generated and must be
    answered without a 5xx and with a documented status.
    """
    case.call_and_validate(
        headers=dict(app.config["SCHEMATHESIS_HEADERS"]),
        excluded_checks=[schemathesis.checks.negative_data_rejection],
    )
