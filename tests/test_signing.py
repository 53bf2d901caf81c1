"""Signed tokens: any change refuses them, one salt per purpose, and key rotation."""

from __future__ import annotations

import random
import string

import pytest

from api import create_app, db
from api.services import sessions
from api.signing import BadSignature, link_serializer, load_link_token, partner_session_serializer

ALPHABET = string.ascii_letters + string.digits + "-_.="
PAYLOAD = {"l": 42, "p": 7, "t": 9, "u": "https://shop.brand.test/spring?utm=1#top"}


def mutations(token: str, count: int, seed: int = 20261129) -> list[str]:
    """``count`` distinct random edits of ``token``: substitutions, insertions, deletions, swaps, cuts."""
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < count:
        i = rng.randrange(len(token))
        kind = rng.choice(("substitute", "insert", "delete", "swap", "truncate", "double"))
        if kind == "substitute":
            mutated = token[:i] + rng.choice(ALPHABET.replace(token[i], "")) + token[i + 1 :]
        elif kind == "insert":
            mutated = token[:i] + rng.choice(ALPHABET) + token[i:]
        elif kind == "delete":
            mutated = token[:i] + token[i + 1 :]
        elif kind == "swap" and i + 1 < len(token) and token[i] != token[i + 1]:
            mutated = token[:i] + token[i + 1] + token[i] + token[i + 2 :]
        elif kind == "truncate":
            mutated = token[:i]
        else:
            mutated = token[:i] + token[i] * 2 + token[i + 1 :]
        if mutated != token:
            seen.add(mutated)
    return sorted(seen)


def test_a_thousand_random_mutations_of_a_regular_token_are_refused() -> None:
    keys = ["newest", "older"]
    token = link_serializer(keys).dumps(PAYLOAD)
    assert load_link_token(keys, token) == PAYLOAD
    accepted = []
    for mutated in mutations(token, 1000):
        try:
            load_link_token(keys, mutated)
            accepted.append(mutated)
        except BadSignature:
            pass
    assert accepted == []


@pytest.mark.parametrize("purpose", ["link", "session"])
def test_every_single_character_substitution_is_refused(purpose) -> None:
    """Exhaustive, including the spare bits of the signature's last base64 character."""
    keys = ["newest"]
    serializer = link_serializer(keys) if purpose == "link" else partner_session_serializer(keys)
    token = serializer.dumps(PAYLOAD)
    for i, original in enumerate(token):
        for replacement in ALPHABET.replace(original, ""):
            with pytest.raises(BadSignature):
                serializer.loads(token[:i] + replacement + token[i + 1 :])


def test_a_timed_token_with_the_link_salt_is_a_bad_signature_not_a_crash() -> None:
    """Its ``payload.timestamp`` verifies as a plain signed value but is no payload."""
    from itsdangerous import URLSafeTimedSerializer

    timed = URLSafeTimedSerializer(["newest"], salt="tasklink.link.v1").dumps(PAYLOAD)
    with pytest.raises(BadSignature):
        load_link_token(["newest"], timed)


def test_one_salt_per_purpose() -> None:
    keys = ["newest"]
    with pytest.raises(BadSignature):
        load_link_token(keys, partner_session_serializer(keys).dumps(PAYLOAD))
    with pytest.raises(BadSignature):
        partner_session_serializer(keys).loads(link_serializer(keys).dumps(PAYLOAD))


def test_rotation_old_links_verify_new_ones_use_the_first_key() -> None:
    old = link_serializer(["old-key"]).dumps(PAYLOAD)
    rotated = ["new-key", "old-key"]
    assert load_link_token(rotated, old) == PAYLOAD
    new = link_serializer(rotated).dumps(PAYLOAD)
    assert new != old
    assert load_link_token(["new-key"], new) == PAYLOAD
    with pytest.raises(BadSignature):
        load_link_token(["old-key"], new)
    # Dropping the old key retires its links.
    with pytest.raises(BadSignature):
        load_link_token(["new-key"], old)


def test_rotation_through_the_api(app_config, make) -> None:
    """A regular link made before a rotation keeps its token; links made after are signed with the new key."""
    world = make.world()

    def make_link(keys: list[str]) -> dict:
        app = create_app({**app_config, "SECRET_KEYS": keys})
        token, _ = sessions.issue_partner_token(keys, world.partner)
        client = app.test_client()
        link = client.post(
            "/api/v1/links",
            headers={"Authorization": f"Bearer {token}"},
            json={"task_id": world.task.id, "kind": "regular"},
        ).json
        listed = client.get("/api/v1/links", headers={"Authorization": f"Bearer {token}"}).json["links"]
        db.get_engine(app).dispose()
        return {"link": link, "listed": {item["id"]: item for item in listed}}

    before = make_link(["old-key"])
    after = make_link(["new-key", "old-key"])
    old_token = before["link"]["display_url"].split("/c/", 1)[1]
    new_token = after["link"]["display_url"].split("/c/", 1)[1]
    assert load_link_token(["new-key", "old-key"], old_token)["l"] == before["link"]["id"]
    assert load_link_token(["new-key"], new_token)["l"] == after["link"]["id"]
    with pytest.raises(BadSignature):
        load_link_token(["old-key"], new_token)
    # Sessions follow the same rule: a token from before the rotation still signs in.
    old_session, _ = sessions.issue_partner_token(["old-key"], world.partner)
    with db.reading(make.engine) as conn:
        assert sessions.partner_from_token(conn, ["new-key", "old-key"], old_session).id == world.partner.id


def test_mutated_regular_links_are_refused_by_the_redirect(app, client, world, auth, engine) -> None:
    """Through ``/c/``: the real link redirects, none of 1,000 mutations does, and none records a click."""
    from sqlalchemy import func, select

    from api.schema import clicks

    link = client.post(
        "/api/v1/links", headers=auth(world.partner), json={"task_id": world.task.id, "kind": "regular"}
    ).json
    token = link["display_url"].split("/c/", 1)[1]
    assert client.get(f"/c/{token}").status_code == 302
    with db.reading(engine) as conn:
        before = conn.execute(select(func.count()).select_from(clicks)).scalar_one()
    statuses = {client.get(f"/c/{mutated}").status_code for mutated in mutations(token, 1000)}
    assert statuses == {404}
    with db.reading(engine) as conn:
        assert conn.execute(select(func.count()).select_from(clicks)).scalar_one() == before
