"""CORS: only the configured extension origins, only under /api/."""

from __future__ import annotations

import pytest

from api import create_app, db

EXTENSION = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


@pytest.fixture
def cors_client(app_config, engine):  # type: ignore[no-untyped-def]
    app = create_app({**app_config, "EXTENSION_ORIGINS": [EXTENSION, "moz-extension://1234"]})
    yield app.test_client()
    db.get_engine(app).dispose()


def test_no_origins_configured_means_no_cors_headers(client) -> None:
    response = client.get("/api/v1/openapi.json", headers={"Origin": EXTENSION})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options(
        "/api/v1/links",
        headers={
            "Origin": EXTENSION,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_configured_extension_origin_is_admitted_with_preflight(cors_client) -> None:
    preflight = cors_client.options(
        "/api/v1/links",
        headers={
            "Origin": EXTENSION,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == EXTENSION
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    response = cors_client.post(
        "/api/v1/auth/login", json={"email": "x@y.test", "password": "nope"}, headers={"Origin": EXTENSION}
    )
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == EXTENSION


@pytest.mark.parametrize(
    "origin", ["https://evil.test", "chrome-extension://other", "null", EXTENSION + ".evil.test", "http://localhost"]
)
def test_other_origins_are_not_admitted(cors_client, origin) -> None:
    response = cors_client.get("/api/v1/openapi.json", headers={"Origin": origin})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = cors_client.options("/api/v1/me", headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_cors_stays_off_outside_the_api(cors_client) -> None:
    response = cors_client.get("/s/whatever", headers={"Origin": EXTENSION})
    assert "Access-Control-Allow-Origin" not in response.headers
