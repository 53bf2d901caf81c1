"""Sign-in, sign-out and who may call what: the identity × endpoint matrix."""

from __future__ import annotations

import datetime as dt

import pytest

from api import db
from api.services import partners, sessions
from conftest import PASSWORD, SECRET_KEYS, short_id


def login(client, email, password=PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def test_login_returns_a_token_that_works_and_expires_in_30_days(client, world) -> None:
    response = login(client, world.partner.email.upper() + "  ")
    assert response.status_code == 200
    expires = dt.datetime.fromisoformat(response.json["expires_at"].replace("Z", "+00:00"))
    assert response.json["expires_at"].endswith("Z")
    assert abs(expires - (dt.datetime.now(dt.UTC) + dt.timedelta(days=30))) < dt.timedelta(seconds=5)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {response.json['token']}"})
    assert me.status_code == 200 and me.json["id"] == world.partner.id


def test_wrong_password_and_unknown_email_get_the_same_answer(client, world) -> None:
    wrong = login(client, world.partner.email, "not the password")
    unknown = login(client, "nobody@test.example", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json == {"error": {"code": "bad_credentials", "message": "Wrong e-mail or password."}}


def test_an_advertiser_cannot_sign_in_as_a_partner(client, world) -> None:
    assert login(client, world.advertiser.email).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b'{"email": "a@b.test"}',
        b'{"password": "x"}',
        b'{"email": 5, "password": "x"}',
        b'{"email": "a@b.test", "password": null}',
        b'{"email": "a@b.test", "password": "x", "remember": true}',
        b'{"email": "' + b"a" * 300 + b'@b.test", "password": "x"}',
        b'{"email": "\\ud800@b.test", "password": "x"}',
        b'{"email": "a@b.test", "password": "\\udfff"}',
        b"[" * 60_000,
        b'{"email": ' + b"{" * 60_000,
    ],
    ids=short_id,
)
def test_malformed_login_is_400(client, body) -> None:
    response = client.post("/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json["error"]["code"] in {"invalid_json", "missing_field", "invalid_field", "unknown_field"}


def test_logout_revokes_every_token_of_the_partner(client, world) -> None:
    first = login(client, world.partner.email).json["token"]
    second = login(client, world.partner.email).json["token"]
    assert client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {first}"}).status_code == 204
    for token in (first, second):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and response.json["error"]["code"] == "token_revoked"
    fresh = login(client, world.partner.email).json["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def delete_partner_and_reuse_its_id(engine, make, partner: partners.Partner, email: str) -> partners.Partner:
    """Delete the partner, then create another that gets the same id and token version.

    SQLite hands a deleted last row's id to the next insert by itself; on
    PostgreSQL the sequence is set back, as a restore or a reset would.
    """
    from sqlalchemy import delete, text

    from api.schema import partners as partners_table

    with db.transaction(engine) as conn:
        conn.execute(delete(partners_table).where(partners_table.c.id == partner.id))
        if engine.dialect.name == "postgresql":
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence('partners', 'id'), :id, false)"), {"id": partner.id}
            )
    newcomer = make.partner(email)
    assert (newcomer.id, newcomer.token_version) == (partner.id, partner.token_version)
    return newcomer


def test_a_deleted_partners_token_never_authenticates_a_new_partner_with_the_same_id(client, engine, make) -> None:
    leaver = make.partner("leaver@test.example")
    token = login(client, leaver.email).json["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json["id"] == leaver.id
    newcomer = delete_partner_and_reuse_its_id(engine, make, leaver, "newcomer@test.example")
    answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and answer.json["error"]["code"] == "token_revoked"
    assert "newcomer" not in answer.get_data(as_text=True)
    fresh = login(client, newcomer.email).json["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh}"})
    assert me.status_code == 200 and me.json == {"id": newcomer.id, "name": newcomer.name, "email": newcomer.email}


def test_a_password_change_signs_every_session_out(client, engine, world) -> None:
    from sqlalchemy import update

    from api.schema import partners as partners_table
    from api.services import accounts

    token = login(client, world.partner.email).json["token"]
    with db.transaction(engine) as conn:
        conn.execute(
            update(partners_table)
            .where(partners_table.c.id == world.partner.id)
            .values(password_hash=accounts.hash_password("a brand new password"))
        )
    answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and answer.json["error"]["code"] == "token_revoked"
    fresh = login(client, world.partner.email, "a brand new password").json["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_a_token_without_the_account_fingerprint_is_refused(client, world) -> None:
    """Rightly signed but carrying only id and version: a token from before fingerprints, or forged without one."""
    from api.signing import partner_session_serializer

    bare = partner_session_serializer(SECRET_KEYS).dumps({"p": world.partner.id, "v": world.partner.token_version})
    answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {bare}"})
    assert answer.status_code == 401
    wrong = partner_session_serializer(SECRET_KEYS).dumps(
        {"p": world.partner.id, "v": world.partner.token_version, "a": "AAAAAAAAAAAAAAAAAAAAAA"}
    )
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401


def test_expiry_is_checked_against_the_clock_passed_in(engine, world) -> None:
    token, expires_at = sessions.issue_partner_token(SECRET_KEYS, world.partner)
    with db.reading(engine) as conn:
        assert sessions.partner_from_token(conn, SECRET_KEYS, token, now=expires_at - dt.timedelta(seconds=1)).id
        with pytest.raises(Exception) as info:
            sessions.partner_from_token(conn, SECRET_KEYS, token, now=expires_at + dt.timedelta(seconds=1))
    assert getattr(info.value, "code", None) == "token_expired"


def test_a_session_token_is_not_a_link_token(engine, world) -> None:
    """One salt per purpose: a session token never verifies as a regular link, and back."""
    from api.signing import BadSignature, load_link_token

    token, _ = sessions.issue_partner_token(SECRET_KEYS, world.partner)
    with pytest.raises(BadSignature):
        load_link_token(SECRET_KEYS, token)


# --- the identity × endpoint matrix ----------------------------------------------

# (name, method, path template, json body, status for the owner, status for the other partner)
ENDPOINTS = [
    ("me", "GET", "/api/v1/me", None, 200, 200),
    ("programs", "GET", "/api/v1/programs", None, 200, 200),
    ("campaigns", "GET", "/api/v1/campaigns", None, 200, 200),
    ("campaign tasks", "GET", "/api/v1/campaigns/{campaign}/tasks", None, 200, 404),
    ("task", "GET", "/api/v1/tasks/{task}", None, 200, 404),
    ("create link", "POST", "/api/v1/links", {"task_id": "{task}"}, 201, 404),
    ("list links", "GET", "/api/v1/links", None, 200, 200),
    ("get link", "GET", "/api/v1/links/{link}", None, 200, 404),
    ("update link", "PATCH", "/api/v1/links/{link}", {"disabled": True}, 200, 404),
    ("match rules", "GET", "/api/v1/match-rules", None, 200, 200),
    ("logout", "POST", "/api/v1/auth/logout", None, 204, 204),
]
IDENTITIES = [
    "owner",
    "other partner",
    "no token",
    "not bearer",
    "garbage",
    "tampered",
    "expired",
    "revoked",
    "advertiser key",
    "other salt",
]


@pytest.fixture
def setup(client, world, auth, monkeypatch):  # type: ignore[no-untyped-def]
    owner_headers = auth(world.partner)
    link = client.post("/api/v1/links", headers=owner_headers, json={"task_id": world.task.id}).json
    ids = {"campaign": world.campaign.id, "task": world.task.id, "link": link["id"]}
    return world, ids, owner_headers


def headers_for(identity, world, owner_headers, engine, monkeypatch):  # type: ignore[no-untyped-def]
    token = owner_headers["Authorization"].split(" ", 1)[1]
    if identity == "owner":
        return owner_headers
    if identity == "other partner":
        other, _ = sessions.issue_partner_token(SECRET_KEYS, world.other_partner)
        return {"Authorization": f"Bearer {other}"}
    if identity == "no token":
        return {}
    if identity == "not bearer":
        return {"Authorization": f"Basic {token}"}
    if identity == "garbage":
        return {"Authorization": "Bearer " + "x" * 40}
    if identity == "tampered":
        flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
        return {"Authorization": f"Bearer {flipped}"}
    if identity == "expired":
        # Freeze the clock 31 days ahead instead of sleeping.
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
        monkeypatch.setattr(sessions, "utcnow", lambda: later)
        return owner_headers
    if identity == "revoked":
        with db.transaction(engine) as conn:
            partners.revoke_tokens(conn, world.partner.id)
        return owner_headers
    if identity == "advertiser key":
        return {"Authorization": f"Bearer {world.api_key}"}
    if identity == "other salt":
        from api.signing import link_serializer

        return {"Authorization": f"Bearer {link_serializer(SECRET_KEYS).dumps({'p': world.partner.id, 'v': 1})}"}
    raise AssertionError(identity)


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_identity_matrix(client, engine, setup, monkeypatch, identity, endpoint) -> None:
    world, ids, owner_headers = setup
    _name, method, template, body, owner_status, other_status = endpoint
    headers = headers_for(identity, world, owner_headers, engine, monkeypatch)
    path = template.format(**ids)
    if body is not None:
        body = {k: (int(v.format(**ids)) if isinstance(v, str) else v) for k, v in body.items()}
    response = client.open(path, method=method, headers=headers, json=body)
    expected = {"owner": owner_status, "other partner": other_status}.get(identity, 401)
    assert response.status_code == expected, (identity, response.get_data(as_text=True))
    if expected >= 400:
        assert set(response.json["error"]) == {"code", "message"}
    if identity == "other partner" and method == "GET" and expected == 200:
        # Nothing of the owner's leaks: the other partner's lists are empty.
        assert response.json == OTHER_PARTNER_SEES.get(template, {**response.json, "id": world.other_partner.id})


OTHER_PARTNER_SEES = {
    "/api/v1/programs": {"programs": []},
    "/api/v1/campaigns": {"campaigns": []},
    "/api/v1/links": {"links": [], "total": 0, "limit": 20, "offset": 0},
    "/api/v1/match-rules": {"rules": []},
}
