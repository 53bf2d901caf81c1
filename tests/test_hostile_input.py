"""Hostile input, kept as data in ``tests/data/hostile-*.json``, run through the real app.

Each corpus entry states the answer it must get. Whatever the input, the app
answers with a 4xx in the API's error shape (JSON under ``/api``, the
small HTML page on the redirect paths), never a 5xx or a stack trace, and a
refused request leaves nothing behind. Every ``/api/v1`` answer is also
checked against the OpenAPI document by the validating test client.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import func, select

from api.schema import clicks, links

DATA = Path(__file__).parent / "data"


@pytest.fixture
def app_config(app_config):  # type: ignore[no-untyped-def]
    """Every corpus case is a separate attempt; the link rate limit is tested elsewhere."""
    return {**app_config, "RATELIMIT_LINKS": "100000/minute"}


def corpus(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def expand(value: Any) -> Any:
    """``{"repeat": s, "times": n, "prefix": p, "suffix": q}`` → ``p + s*n + q``; anything else as is."""
    if isinstance(value, dict) and "repeat" in value:
        return value.get("prefix", "") + value["repeat"] * value["times"] + value.get("suffix", "")
    return value


def case_id(entry: dict[str, Any]) -> str:
    raw = next(
        (entry[key] for key in ("value", "query", "token", "headers", "body", "raw", "recipe") if key in entry), None
    )
    text = json.dumps(raw, ensure_ascii=True)[:60]
    return f"{entry.get('recipe', '')}:{text}" if "recipe" in entry else text


def assert_error_shape(response, status: int, code: str | None = None) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert isinstance(body["error"].get("code"), str) and body["error"]["code"]
    assert isinstance(body["error"].get("message"), str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body


def assert_not_found_page(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 404, (response.status_code, response.headers.get("Location"))
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "<script>" not in text
    assert "Location" not in response.headers


def click_count(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(clicks)).scalar_one())


def last_click(engine) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return dict(conn.execute(select(clicks).order_by(clicks.c.id.desc()).limit(1)).one()._mapping)


def create_link(client, world, auth, **fields):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/links", headers=auth(world.partner), json={"task_id": world.task.id, **fields})


# --- JSON that is not JSON text ----------------------------------------------------------

NOT_JSON_TEXT = [
    b'{"email": "\\ud800@test.example", "password": "x"}',
    b'{"email": "a@test.example", "password": "\\udfff"}',
    b'{"email": "a@test.example", "password": NaN}',
    b'{"email": "a@test.example", "password": "x", "extra": [Infinity]}',
    b'{"email": "a@test.example", "password": "x", "\\ud800": 1}',
    b'{"email": "\xed\xa0\x80@test.example", "password": "x"}',
]


@pytest.mark.parametrize("body", NOT_JSON_TEXT, ids=range(len(NOT_JSON_TEXT)))
def test_bodies_that_are_not_json_text_are_refused_before_anything_else(client, body) -> None:
    """Lone surrogates and NaN parse in Python but are not JSON text: 400, not a 500 further down."""
    response = client.post("/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"})
    assert_error_shape(response, 400)


# --- landing URLs --------------------------------------------------------------------

LANDING = corpus("hostile-landing-urls.json")["cases"]
OPEN_REDIRECT = [
    line for line in (DATA / "open-redirect-payloads.txt").read_text(encoding="utf-8").splitlines() if line
]


@pytest.mark.parametrize("entry", LANDING, ids=[case_id(e) for e in LANDING])
def test_landing_url_corpus(client, engine, world, auth, entry) -> None:
    response = create_link(client, world, auth, landing_url=expand(entry["value"]))
    if entry["status"] == 201:
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["landing_url"] == entry["stored"]
    else:
        assert_error_shape(response, entry["status"], entry.get("code"))
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(links)).scalar_one() == 0


def test_every_open_redirect_payload_is_refused_by_the_api(client, engine, world, auth) -> None:
    answers = {}
    for payload in OPEN_REDIRECT:
        response = create_link(client, world, auth, landing_url=payload)
        answers[payload] = response.status_code
        assert response.status_code in (400, 422), (payload, response.get_json())
        assert_error_shape(response, response.status_code)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(links)).scalar_one() == 0
    assert len(answers) > 200


# --- Sub IDs and Shared ID -----------------------------------------------------------

SUB_IDS = corpus("hostile-sub-ids.json")
REPORTING = ("subId1", "subId2", "subId3", "sharedid")


@pytest.mark.parametrize("entry", SUB_IDS["creation"], ids=[case_id(e) for e in SUB_IDS["creation"]])
def test_sub_id_corpus_at_creation(client, engine, world, auth, entry) -> None:
    value = expand(entry["value"])
    response = create_link(client, world, auth, **{name: value for name in REPORTING})
    if entry["status"] == 201:
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        expected = expand(entry["stored"])
        assert all(body[name] == expected for name in REPORTING)
        if expected:
            # Reporting info only ever adds its own query parameters to the link.
            query = urlsplit(body["url"]).query
            assert sorted(name for name, _, _ in (part.partition("=") for part in query.split("&"))) == sorted(
                REPORTING
            )
        assert "?" not in body["display_url"]
    else:
        assert_error_shape(response, entry["status"], entry.get("code"))


# --- clicks: reporting info typed onto a link by hand, hostile headers ----------------------


@pytest.fixture
def short_link(client, world, auth):  # type: ignore[no-untyped-def]
    response = create_link(client, world, auth, subId1="link-sub", sharedid="link-shared")
    assert response.status_code == 201
    return response.get_json()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path


def assert_redirected_to_campaign(response, world) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    host = urlsplit(response.headers["Location"]).hostname or ""
    assert host == "brand.test" or host.endswith(".brand.test"), response.headers["Location"]


@pytest.mark.parametrize("entry", SUB_IDS["click"], ids=[case_id(e) for e in SUB_IDS["click"]])
def test_sub_id_corpus_at_click_time(client, engine, world, short_link, entry) -> None:
    if "query" in entry:
        query = expand(entry["query"])
    else:
        value = expand(entry["value"])
        query = urlencode({"subId1": value, "sharedid": value})
    before = click_count(engine)
    response = client.get(f"{path_of(short_link['display_url'])}?{query}")
    assert_redirected_to_campaign(response, world)
    assert click_count(engine) == before + 1
    click = last_click(engine)
    for column in ("sub_id1", "shared_id", "sub_id2", "sub_id3"):
        recorded = click[column]
        assert recorded is None or (len(recorded) <= 255 and "\x00" not in recorded)
    expected = entry["recorded"]
    if expected == "link":
        assert (click["sub_id1"], click["shared_id"]) == ("link-sub", "link-shared")
    elif expected == "cut":
        value = expand(entry["value"])
        assert (click["sub_id1"], click["shared_id"]) == (value[:255], value[:255])
    elif expected != "any":
        expected = expand(expected)
        assert (click["sub_id1"], click["shared_id"]) == (expected, expected)


@pytest.mark.parametrize("entry", SUB_IDS["click_headers"], ids=[case_id(e) for e in SUB_IDS["click_headers"]])
def test_hostile_click_headers_are_cut_and_recorded(client, engine, world, short_link, entry) -> None:
    environ = {"HTTP_" + name.upper().replace("-", "_"): expand(value) for name, value in entry["headers"].items()}
    before = click_count(engine)
    response = client.get(path_of(short_link["display_url"]), environ_base=environ)
    assert_redirected_to_campaign(response, world)
    assert click_count(engine) == before + 1
    click = last_click(engine)
    assert click["user_agent"] is None or (len(click["user_agent"]) <= 512 and "\x00" not in click["user_agent"])
    assert click["referrer"] is None or (len(click["referrer"]) <= 1024 and "\x00" not in click["referrer"])


# --- tokens --------------------------------------------------------------------------

TOKENS = corpus("hostile-tokens.json")
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def flip(token: str, index: int) -> str:
    """The token with one character changed to one that changes its high bits too."""
    index %= len(token)
    char = token[index]
    replacement = BASE64URL[(BASE64URL.index(char) + 32) % 64] if char in BASE64URL else "A"
    return token[:index] + replacement + token[index + 1 :]


def signed(entry: dict[str, Any], payload: Any) -> str:
    serializer_class = URLSafeTimedSerializer if entry.get("serializer") == "timed" else URLSafeSerializer
    return serializer_class(list(reversed(entry["keys"])), salt=entry["salt"]).dumps(payload)


@pytest.fixture
def regular_link(client, world, auth):  # type: ignore[no-untyped-def]
    response = create_link(client, world, auth, kind="regular", landing_url="https://brand.test/spring")
    assert response.status_code == 201
    body = response.get_json()
    body["token"] = body["display_url"].split("/c/", 1)[1]
    return body


def link_token_for(entry: dict[str, Any], link: dict[str, Any], world) -> str:  # type: ignore[no-untyped-def]
    token = link["token"]
    recipe = entry["recipe"]
    payload = {"l": link["id"], "p": world.partner.id, "t": link["task_id"], "u": link["landing_url"]}
    if recipe == "valid":
        return token
    if recipe == "flip":
        return flip(token, entry["index"])
    if recipe == "flip_dot":
        return flip(token, token.rindex(".") + 1)
    if recipe == "truncate":
        return token[: -entry["n"]]
    if recipe == "payload_only":
        return token.rsplit(".", 1)[0]
    if recipe == "signature_only":
        return token.rsplit(".", 1)[1]
    if recipe == "append":
        return token + entry["text"]
    if recipe == "upper":
        return token.upper()
    if recipe == "literal":
        return expand(entry["token"])
    if recipe == "sign":
        value = entry["payload"]
        if value == "link":
            value = payload
        elif value == "link_evil_url":
            value = {**payload, "u": "https://evil.test/"}
        return signed(entry, value)
    raise AssertionError(f"unknown recipe {recipe}")


@pytest.mark.parametrize("entry", TOKENS["link"], ids=[case_id(e) for e in TOKENS["link"]])
def test_link_token_corpus(client, engine, world, regular_link, entry) -> None:
    token = link_token_for(entry, regular_link, world)
    before = click_count(engine)
    response = client.get(f"/c/{token}")
    if entry["status"] == 302:
        assert_redirected_to_campaign(response, world)
        assert click_count(engine) == before + 1
    elif entry["status"] == "not_off_site":
        if response.status_code == 302:
            assert_redirected_to_campaign(response, world)
        else:
            assert_not_found_page(response)
    else:
        assert_not_found_page(response)
        assert click_count(engine) == before


def test_short_link_codes_that_do_not_exist(client, engine, short_link) -> None:
    code = path_of(short_link["display_url"]).rsplit("/", 1)[1]
    for wrong in (code[:-1], code + "x", code.swapcase(), "%00", "..", "a" * 4000, "' OR '1'='1", "%F0%9F%99%82"):
        assert_not_found_page(client.get(f"/s/{wrong}"))
    assert click_count(engine) == 0


@pytest.mark.parametrize("entry", TOKENS["bearer"], ids=[case_id(e) for e in TOKENS["bearer"]])
def test_bearer_token_corpus(client, world, auth, regular_link, entry) -> None:
    session = auth(world.partner)["Authorization"].split(" ", 1)[1]
    recipe = entry["recipe"]
    if recipe == "valid_session":
        token = session
    elif recipe == "link_token":
        token = regular_link["token"]
    elif recipe == "flip_session":
        token = flip(session, entry["index"])
    elif recipe == "truncate_session":
        token = session[: -entry["n"]]
    elif recipe == "advertiser_key":
        token = world.api_key
    elif recipe == "sign":
        token = signed(entry, {"p": world.partner.id, "v": world.partner.token_version})
    else:
        token = expand(entry["token"])
    response = client.get("/api/v1/me", environ_base={"HTTP_AUTHORIZATION": f"Bearer {token}"})
    if entry["status"] == 200:
        assert response.status_code == 200
    else:
        assert_error_shape(response, entry["status"])


# --- conversion postbacks -------------------------------------------------------------

CONVERSIONS = corpus("hostile-conversions.json")
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def click_on(client, link: dict[str, Any], user_agent: str = BROWSER) -> str:  # type: ignore[no-untyped-def]
    """Follow a link like a visitor; the click id the landing page receives."""
    response = client.get(path_of(link["display_url"]), headers={"User-Agent": user_agent})
    assert response.status_code == 302
    return dict(part.split("=", 1) for part in urlsplit(response.headers["Location"]).query.split("&"))["clickid"]


@pytest.fixture
def postback(client, engine, make, world, auth):  # type: ignore[no-untyped-def]
    """Clicks of every kind the corpus names, and a sender that fills the placeholders in."""
    import datetime as dt

    from sqlalchemy import update

    from api import db
    from api.services import campaigns

    link = create_link(client, world, auth).get_json()
    other_campaign = make.campaign(world.other_advertiser.id, make.program(world.other_advertiser.id).id)
    make.membership(world.partner.id, other_campaign.id)
    other_task = make.task(world.other_advertiser.id, other_campaign.id)
    other_link = client.post("/api/v1/links", headers=auth(world.partner), json={"task_id": other_task.id}).get_json()
    off_campaign = make.campaign(world.advertiser.id, world.program.id)
    make.membership(world.partner.id, off_campaign.id)
    off_task = make.task(world.advertiser.id, off_campaign.id)
    off_link = client.post("/api/v1/links", headers=auth(world.partner), json={"task_id": off_task.id}).get_json()
    ids = {
        "$click": click_on(client, link),
        "$bot_click": click_on(client, link, "Googlebot/2.1 (+http://www.google.com/bot.html)"),
        "$old_click": click_on(client, link),
        "$other_click": click_on(client, other_link),
        "$off_click": click_on(client, off_link),
        **made_up_click_ids(client.application, link["id"], other_link["id"], off_link["id"]),
    }
    with db.transaction(engine) as conn:
        conn.execute(
            update(clicks)
            .where(clicks.c.click_id == ids["$old_click"])
            .values(created_at=db.utcnow() - dt.timedelta(days=31))
        )
        campaigns.update_settings(conn, world.advertiser.id, off_campaign.id, conversion_tracking=False)
    keys = {"advertiser": world.api_key, "other_advertiser": world.other_api_key, "junk": "x" * 40}

    def fill(value: Any) -> Any:
        if isinstance(value, dict) and "repeat" in value:
            return fill(expand(value))
        if isinstance(value, dict):
            return {name: fill(item) for name, item in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        if isinstance(value, str):
            for placeholder, click_id in ids.items():
                value = value.replace(placeholder, click_id)
        return value

    def send(entry: dict[str, Any]):  # type: ignore[no-untyped-def]
        who = entry.get("auth", "advertiser")
        if who == "partner":
            headers = auth(world.partner)
        elif who == "none":
            headers = {}
        else:
            headers = {"Authorization": f"Bearer {keys[who]}"}
        if "raw" in entry:
            data = fill(expand(entry["raw"])).encode("utf-8")
            return client.post(
                "/api/v1/conversions", data=data, headers={**headers, "Content-Type": "application/json"}
            )
        return client.post("/api/v1/conversions", json=fill(entry["body"]), headers=headers)

    return send


def made_up_click_ids(app, link_id: int, other_link_id: int, off_link_id: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Click ids whose click is not stored: ours made a moment ago (on their way from a click log), and fakes."""
    import datetime as dt

    from api.http.tracking import click_ids
    from api.services import clicks as click_service
    from api.services import conversions
    from test_conversions import forged_click_id, old_style_click_id

    ids = click_ids(app)
    stale = dt.datetime.now(dt.UTC) - conversions.WAITING_WINDOW - dt.timedelta(minutes=1)
    return {
        "$unstored": click_service.new_click_id(ids, link_id),
        "$other_unstored": click_service.new_click_id(ids, other_link_id),
        "$off_unstored": click_service.new_click_id(ids, off_link_id),
        "$stale": click_service.new_click_id(ids, link_id, int(stale.timestamp() * 1000)),
        "$forged": forged_click_id(link_id),
        "$old_style": old_style_click_id(),
    }


def conversion_count(engine) -> int:  # type: ignore[no-untyped-def]
    from api.schema import conversions

    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(conversions)).scalar_one())


@pytest.mark.parametrize("entry", CONVERSIONS["cases"], ids=[case_id(e) for e in CONVERSIONS["cases"]])
def test_conversion_corpus(engine, postback, entry) -> None:
    response = postback(entry)
    if entry["status"] in (200, 201, 202):
        assert response.status_code == entry["status"], response.get_data(as_text=True)[:500]
        body = response.get_json()
        for name, value in entry.get("expect", {}).items():
            assert body[name] == value, (name, body)
        assert conversion_count(engine) == (0 if entry["status"] == 202 else 1)  # 202: recorded with its click
    else:
        assert_error_shape(response, entry["status"], entry.get("code"))
        assert conversion_count(engine) == 0


@pytest.mark.parametrize("sequence", CONVERSIONS["sequences"], ids=[s["note"][:40] for s in CONVERSIONS["sequences"]])
def test_conversion_sequences(postback, sequence) -> None:
    answers = []
    for step in sequence["steps"]:
        response = postback(step)
        assert response.status_code == step["status"], response.get_data(as_text=True)[:500]
        answers.append(response.get_json())
        if "same_as" in step:
            assert answers[-1] == answers[step["same_as"]]
