"""Every issued link can be followed: a link's path and query stay under the request-line limit of servers."""

from __future__ import annotations

import http.client
import os
import random
import signal
import string
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from api import db
from api.schema import links as links_table
from api.services import links
from test_tracking_durability import BROWSER, free_port, start_server

CAP = links.MAX_REQUEST_TARGET
#: gunicorn's default ``limit_request_line``: the longest request line it reads (without CRLF).
GUNICORN_LIMIT_REQUEST_LINE = 4094


@pytest.fixture
def app_config(app_config):  # type: ignore[no-untyped-def]
    """These tests make many links in a row; the link rate limit is tested elsewhere."""
    return {**app_config, "RATELIMIT_LINKS": "100000/minute"}


def long_landing_url(length: int = 2048, seed: int = 7) -> str:
    """A landing URL on the world's allowed domain, ``length`` characters, of letters that compress poorly."""
    prefix = "https://brand.test/"
    chance = random.Random(seed)
    return prefix + "".join(chance.choice(string.ascii_letters + string.digits) for _ in range(length - len(prefix)))


def create(client, headers, **body):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/links", headers=headers, json=body)


def target_bytes(url: str) -> int:
    """Path and query as they go on the wire (the API's URLs are ASCII already)."""
    parts = urlsplit(url)
    return len(parts.path.encode("ascii")) + (1 + len(parts.query.encode("ascii")) if parts.query else 0)


def request_line(url: str) -> str:
    parts = urlsplit(url)
    return f"GET {parts.path}?{parts.query} HTTP/1.1" if parts.query else f"GET {parts.path} HTTP/1.1"


def link_count(engine) -> int:  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(links_table)).scalar_one())


def test_the_cap_leaves_room_under_gunicorns_request_line_limit() -> None:
    assert len("GET ") + CAP + len(" HTTP/1.1") < GUNICORN_LIMIT_REQUEST_LINE - 200


def test_a_long_landing_url_with_long_plain_sub_ids_makes_a_regular_link(client, engine, world, auth) -> None:
    # The token is compressed, so even 2,048 characters of landing URL take about 2,200 bytes.
    reporting = {name: "a" * 255 for name in ("subId1", "subId2", "subId3", "sharedid")}
    answer = create(
        client, auth(world.partner), task_id=world.task.id, kind="regular", landing_url=long_landing_url(), **reporting
    )
    assert answer.status_code == 201, answer.json
    assert CAP - 800 < target_bytes(answer.json["url"]) <= CAP


@pytest.mark.parametrize("fill", ["é", "&", "日", "/"])
def test_a_long_landing_url_with_long_encoded_sub_ids_is_refused_on_a_regular_link(
    client, engine, world, auth, fill
) -> None:
    headers = auth(world.partner)
    before = link_count(engine)
    reporting = {name: fill * 255 for name in ("subId1", "subId2", "subId3", "sharedid")}
    answer = create(client, headers, task_id=world.task.id, kind="regular", landing_url=long_landing_url(), **reporting)
    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["code"] == "link_too_long"
    assert f"{CAP:,}" in answer.json["error"]["message"] and "shorter landing URL" in answer.json["error"]["message"]
    assert link_count(engine) == before  # refused before anything was stored
    # Less of it fits, on a regular link too.
    fits = create(
        client, headers, task_id=world.task.id, kind="regular", landing_url=long_landing_url(), subId1=fill * 100
    )
    assert fits.status_code == 201 and target_bytes(fits.json["url"]) <= CAP


def test_percent_encoded_sub_ids_count_as_sent_even_on_a_short_link(client, engine, world, auth) -> None:
    headers = auth(world.partner)
    # 255 CJK characters are 765 UTF-8 bytes, 2,295 once percent-encoded.
    answer = create(client, headers, task_id=world.task.id, subId1="日" * 255, sharedid="日" * 255)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "link_too_long"
    fits = create(client, headers, task_id=world.task.id, subId1="日" * 255)
    assert fits.status_code == 201 and target_bytes(fits.json["url"]) <= CAP


def test_the_service_measures_what_a_browser_sends(engine, world) -> None:
    with db.transaction(engine) as conn:
        link = links.create_link(conn, world.partner.id, world.task.id, reporting={"subId1": "a b&é"})
    url, _display = links.link_urls(link, "https://go.test/prefix", ["k"])
    assert links.request_target_bytes(url) == len(f"/prefix/s/{link.code}?subId1=a+b%26%C3%A9")
    # A base URL with a path counts too, percent-encoded.
    url, _display = links.link_urls(link, "https://go.test/dé", ["k"])
    assert links.request_target_bytes(url) == len(f"/d%C3%A9/s/{link.code}?subId1=a+b%26%C3%A9")


def test_the_cap_is_inclusive_to_the_byte(engine, world) -> None:
    from api.errors import RuleRefused

    with db.transaction(engine) as conn:
        link = links.create_link(conn, world.partner.id, world.task.id, reporting={"subId1": "x"})
    tail = len(f"/s/{link.code}?subId1=x")
    at_cap = "https://go.test/" + "p" * (CAP - tail - 1)
    url, _display = links.link_urls(link, at_cap, ["k"])
    assert links.request_target_bytes(url) == CAP
    links.check_followable(link, at_cap, ["k"])
    with pytest.raises(RuleRefused) as refused:
        links.check_followable(link, at_cap + "p", ["k"])
    assert refused.value.code == "link_too_long" and f"{CAP + 1:,} bytes" in refused.value.message


def link_at_the_cap(client: Any, headers: dict[str, str], task_id: int) -> dict[str, Any]:
    """A regular link whose url's path and query are exactly :data:`CAP` bytes, made through the API.

    The token's length depends on the new link's id (the token is compressed),
    so the last Sub ID is tuned over a few attempts: a 422 means one too many.
    """
    base = {"task_id": task_id, "kind": "regular", "landing_url": long_landing_url()}
    probe = create(client, headers, **base)
    assert probe.status_code == 201, probe.json
    room = CAP - target_bytes(probe.json["url"])
    # Encoded é is 6 bytes: fill most of the room with it, leave ~100 bytes for ASCII to tune.
    fill = {"subId1": "é" * min(255, (room - 200) // 6)}
    left = room - 200 - 6 * len(fill["subId1"])
    if left > 0:
        fill["subId2"] = "é" * min(255, left // 6)
    body = {**base, **fill}
    sized = create(client, headers, **body)
    assert sized.status_code == 201, sized.json
    tail = CAP - target_bytes(sized.json["url"]) - len("&subId3=")
    for _ in range(12):
        answer = create(client, headers, **body, subId3="t" * tail)
        if answer.status_code == 422:
            tail -= 1
            continue
        assert answer.status_code == 201, answer.json
        size = target_bytes(answer.json["url"])
        if size == CAP:
            return answer.json  # type: ignore[no-any-return]
        tail += CAP - size
    raise AssertionError("could not make a link of exactly the cap's length")


def test_a_few_bytes_more_than_a_link_at_the_cap_are_refused(client, world, auth) -> None:
    headers = auth(world.partner)
    at_cap = link_at_the_cap(client, headers, world.task.id)
    assert target_bytes(at_cap["url"]) == CAP
    # The same link with a few more Sub ID characters (the next id may change the token by a character
    # or two; the exact boundary is tested on the service below).
    over = create(
        client,
        headers,
        task_id=world.task.id,
        kind="regular",
        landing_url=at_cap["landing_url"],
        subId1=at_cap["subId1"],
        subId2=at_cap["subId2"],
        subId3=at_cap["subId3"] + "ttt",
    )
    assert over.status_code == 422 and over.json["error"]["code"] == "link_too_long"


@pytest.mark.slow
def test_a_link_at_the_cap_is_followed_through_a_real_gunicorn(client, world, auth, database_url, tmp_path) -> None:
    at_cap = link_at_the_cap(client, auth(world.partner), world.task.id)
    url = at_cap["url"]
    assert target_bytes(url) == CAP and len(request_line(url)) <= GUNICORN_LIMIT_REQUEST_LINE
    parts = urlsplit(url)
    port = free_port()
    server = start_server(database_url, port, tmp_path / "server.log")
    try:

        def get(target: str) -> int:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", target, headers={"User-Agent": BROWSER})
            answer = connection.getresponse()
            answer.read()
            location = answer.getheader("Location") or ""
            connection.close()
            if answer.status == 302:
                assert location.startswith(at_cap["landing_url"]), location
            return answer.status

        assert get(f"{parts.path}?{parts.query}") == 302
        # What the cap guards against: a request line past gunicorn's limit is never served.
        too_long = f"{parts.path}?{parts.query}&pad=" + "p" * (GUNICORN_LIMIT_REQUEST_LINE - len(request_line(url)))
        assert get(too_long) == 414
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
