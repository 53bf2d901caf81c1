"""Partner postbacks: templates, the outbox written with the conversion, signed at-least-once delivery, the SSRF guard.

Every receiver here listens on 127.0.0.1 only; requests meant for forbidden
addresses are refused before any connection is opened.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

import test_conversions as tc
from api import db, postback_sender
from api.postback_sender import Transport
from api.schema import postback_outbox
from api.services import conversions, links, postbacks
from test_conversions import post, record_a_click

node = tc.node
flushes = tc.flushes

#: Retries at once, so a test runs every attempt in a moment.
QUICK = postbacks.Policy(max_attempts=30, base_delay=0.0, lease=30.0)


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 recording each request; ``answer(path)`` chooses the status."""

    answer: Callable[[str], int] = lambda _path: 200
    requests: list[tuple[str, dict[str, str], int]] = field(default_factory=list)
    delay: float = 0.0
    port: int = 0

    def url(self, path: str = "/pb") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def delivered(self) -> list[dict[str, str]]:
        """The queries of requests answered 2xx, in order."""
        return [
            {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
            for path, _headers, status in self.requests
            if 200 <= status < 300
        ]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(state.delay)
            with lock:
                status = state.answer(self.path)
                state.requests.append((self.path, dict(self.headers.items()), status))
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", f"http://127.0.0.1:{state.port}/elsewhere")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that timed out on purpose closed the connection first

    server = Server(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


LOCAL = Transport(allow_private=True)
TEMPLATE = "?e={event}&s={status}&c={click_id}&o={order_id}&p={payout}&cur={currency}&id={conversion_id}"


def set_template(client, auth, partner, url: str):  # type: ignore[no-untyped-def]
    return client.put("/api/v1/postbacks", json={"url_template": url}, headers=auth(partner))


def convert(client, engine, world, order_id: str) -> int:  # type: ignore[no-untyped-def]
    """A click and its conversion through the API; the conversion's id."""
    click_id = record_a_click(engine, world, at=db.utcnow())
    answer = post(client, world.api_key, click_id=click_id, order_id=order_id, amount="40.00", currency="USD")
    assert answer.status_code == 201, answer.json
    return int(answer.json["id"])


def set_status(engine, world, conversion_id: int, status: str) -> None:  # type: ignore[no-untyped-def]
    with db.transaction(engine) as conn:
        conversions.set_conversion_status(conn, world.advertiser.id, conversion_id, status)


def outbox(engine) -> list[Any]:  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        return list(conn.execute(select(postback_outbox).order_by(postback_outbox.c.id)))


# --- templates ---------------------------------------------------------------------------------


def test_an_unknown_macro_is_refused_when_the_template_is_saved_naming_it(client, auth, world) -> None:
    answer = set_template(client, auth, world.partner, "https://tracker.example/pb?c={click_id}&x={clickid}")
    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "unknown_macro"
    assert "{clickid}" in answer.json["error"]["message"] and "{click_id}" in answer.json["error"]["message"]
    assert client.get("/api/v1/postbacks", headers=auth(world.partner)).json["url_template"] is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://tracker.example/pb",
        "javascript:alert(1)//{click_id}",
        "tracker.example/pb?c={click_id}",
        "https://{subId1}.example/pb",
        "https://tracker.example/pb?c={click_id",
        "https://tracker.example/a b",
    ],
)
def test_only_http_urls_with_a_fixed_host_are_saved(client, auth, world, url) -> None:
    answer = set_template(client, auth, world.partner, url)
    assert answer.status_code == 422, url
    assert answer.json["error"]["code"] == "invalid_postback_url"


def test_templates_global_and_per_campaign_and_the_secret_rotates(client, auth, world, make) -> None:
    headers = auth(world.partner)
    first = client.get("/api/v1/postbacks", headers=headers).json
    assert len(first["secret"]) >= 40 and first["url_template"] is None and first["campaigns"] == []
    assert {m["name"] for m in first["macros"]} >= {
        "click_id",
        "subId1",
        "subId2",
        "subId3",
        "sharedid",
        "order_id",
        "payout",
        "currency",
        "status",
        "campaign_id",
    }
    assert client.get("/api/v1/postbacks", headers=headers).json["secret"] == first["secret"]
    saved = set_template(client, auth, world.partner, "https://tracker.example/all?c={click_id}").json
    assert saved["url_template"] == "https://tracker.example/all?c={click_id}"
    per = client.put(
        f"/api/v1/campaigns/{world.campaign.id}/postback",
        json={"url_template": "https://tracker.example/one?c={click_id}"},
        headers=headers,
    )
    assert per.status_code == 200
    assert per.json["campaigns"] == [
        {"campaign_id": world.campaign.id, "url_template": "https://tracker.example/one?c={click_id}"}
    ]
    # Not the partner's campaign: 404, the same as one that does not exist.
    elsewhere = make.world()
    for campaign_id in (elsewhere.campaign.id, 10**6):
        answer = client.put(
            f"/api/v1/campaigns/{campaign_id}/postback",
            json={"url_template": "https://tracker.example/x"},
            headers=headers,
        )
        assert answer.status_code == 404
    removed = client.put(
        f"/api/v1/campaigns/{world.campaign.id}/postback", json={"url_template": None}, headers=headers
    )
    assert removed.json["campaigns"] == []
    rotated = client.post("/api/v1/postbacks/secret", headers=headers).json
    assert rotated["secret"] != first["secret"]
    # Another partner has a secret of their own and sees nothing of this one's.
    theirs = client.get("/api/v1/postbacks", headers=auth(world.other_partner)).json
    assert theirs["secret"] not in (first["secret"], rotated["secret"]) and theirs["url_template"] is None


def test_macro_values_are_url_encoded_and_the_campaign_template_wins(client, engine, auth, world) -> None:
    set_template(client, auth, world.partner, "https://tracker.example/global?o={order_id}")
    client.put(
        f"/api/v1/campaigns/{world.campaign.id}/postback",
        headers=auth(world.partner),
        json={
            "url_template": "https://tracker.example/pb?o={order_id}&s1={subId1}&sh={sharedid}"
            "&p={payout}&cur={currency}&cmp={campaign_id}&s={status}"
        },
    )
    with db.transaction(engine) as conn:
        link = links.create_link(
            conn, world.partner.id, world.task.id, reporting={"subId1": "a&b=c d/é?#", "sharedid": "x+y"}
        )
    followed = client.get(f"/s/{link.code}", headers={"User-Agent": tc.BROWSER})  # the click, with the link's sub ids
    click_id = parse_qs(urlsplit(followed.headers["Location"]).query)["clickid"][0]
    assert (
        post(client, world.api_key, click_id=click_id, order_id="A&B=1 2/é", amount="40.00", currency="USD").status_code
        == 201
    )
    [row] = outbox(engine)
    assert row.url == (
        "https://tracker.example/pb?o=A%26B%3D1%202%2F%C3%A9&s1=a%26b%3Dc%20d%2F%C3%A9%3F%23"
        f"&sh=x%2By&p=5.00&cur=USD&cmp={world.campaign.id}&s=pending"
    )
    assert (row.event, row.status, row.partner_id) == ("created", "pending", world.partner.id)


def test_no_template_no_outbox_row(client, engine, world) -> None:
    convert(client, engine, world, "A-1")
    assert outbox(engine) == []


# --- the outbox is written with the conversion ------------------------------------------------------


def test_the_outbox_row_is_written_with_the_conversion_and_rolled_back_with_it(client, engine, auth, world) -> None:
    set_template(client, auth, world.partner, "https://tracker.example/pb?c={click_id}&e={event}")
    click_id = record_a_click(engine, world, at=db.utcnow())

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), db.transaction(engine) as conn:
        tc.record_conversion(conn, world.advertiser.id, click_id, "A-1", "40.00", "USD")
        assert conn.execute(select(func.count()).select_from(postback_outbox)).scalar_one() == 1
        raise Abandon  # something later in the same unit of work fails
    assert outbox(engine) == []
    assert tc.conversion_count(engine) == 0

    with db.transaction(engine) as conn:
        conversion, _created = tc.record_conversion(conn, world.advertiser.id, click_id, "A-1", "40.00", "USD")
    assert [row.event for row in outbox(engine)] == ["created"]
    with pytest.raises(Abandon), db.transaction(engine) as conn:
        conversions.set_conversion_status(conn, world.advertiser.id, conversion.id, "approved")
        raise Abandon
    assert [row.event for row in outbox(engine)] == ["created"]
    set_status(engine, world, conversion.id, "approved")
    set_status(engine, world, conversion.id, "approved")  # no change, no event
    set_status(engine, world, conversion.id, "reversed")
    set_status(engine, world, conversion.id, "pending")  # back to pending: not an event partners get
    assert [(row.event, row.url.rsplit("=", 1)[1]) for row in outbox(engine)] == [
        ("created", "created"),
        ("approved", "approved"),
        ("reversed", "reversed"),
    ]


def test_a_conversion_recorded_when_its_click_is_flushed_enqueues_its_postback(
    client, engine, auth, world, node
) -> None:
    from api import clicklog

    set_template(client, auth, world.partner, "https://tracker.example/pb?c={click_id}&e={event}")
    link = tc.made_link(engine, world)
    click_id = tc.click_there(node, link)
    answer = post(client, world.api_key, click_id=click_id, order_id="W-1", amount="40.00", currency="USD")
    assert answer.status_code == 202
    assert outbox(engine) == []  # nothing happened yet for the partner
    clicklog.of(node).flush()  # the flush that stores the click records the conversion and its postback
    [row] = outbox(engine)
    [waiting] = tc.waiting_rows(engine)
    assert (row.event, row.conversion_id) == ("created", waiting.conversion_id)
    assert row.url == f"https://tracker.example/pb?c={click_id}&e=created"


# --- delivery -----------------------------------------------------------------------------------


def test_each_request_is_signed_with_the_partners_secret(client, engine, auth, world, receiver) -> None:
    set_template(client, auth, world.partner, receiver.url() + TEMPLATE)
    convert(client, engine, world, "S-1")
    figures = postback_sender.send_all_due(engine, LOCAL, QUICK)
    assert (figures.sent, figures.delivered) == (1, 1)
    [(path, headers, _status)] = receiver.requests
    secret = client.get("/api/v1/postbacks", headers=auth(world.partner)).json["secret"]
    stamp = headers["X-Tasklink-Timestamp"]
    assert abs(int(stamp) - time.time()) < 60
    expected = hmac.new(secret.encode(), f"{stamp}.{receiver.url(path)}".encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Tasklink-Signature"], f"sha256={expected}")
    wrong = hmac.new(b"another secret", f"{stamp}.{receiver.url(path)}".encode(), hashlib.sha256).hexdigest()
    assert headers["X-Tasklink-Signature"] != f"sha256={wrong}"
    log = client.get("/api/v1/postbacks/deliveries", headers=auth(world.partner)).json["deliveries"]
    assert [(d["event"], d["status"], d["attempts"], d["last_status_code"], d["next_attempt_at"]) for d in log] == [
        ("created", "delivered", 1, 200, None)
    ]
    assert client.get("/api/v1/postbacks/deliveries", headers=auth(world.other_partner)).json == {"deliveries": []}


def test_retries_after_a_failing_receiver_until_delivered_with_backoff(client, engine, auth, world, receiver) -> None:
    calls = iter([503, 500, 200])
    receiver.answer = lambda _path: next(calls)
    set_template(client, auth, world.partner, receiver.url() + TEMPLATE)
    convert(client, engine, world, "R-1")
    slow = postbacks.Policy(max_attempts=5, base_delay=60.0)
    assert postback_sender.send_due(engine, LOCAL, slow).retrying == 1
    [row] = outbox(engine)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("pending", 1, 503, "HTTP 503")
    wait = (row.next_attempt_at - row.updated_at).total_seconds()
    assert 30 <= wait <= 90  # 60 s with jitter
    assert postback_sender.send_due(engine, LOCAL, slow).sent == 0  # not due yet
    with db.transaction(engine) as conn:  # the minute has passed
        conn.execute(postback_outbox.update().values(next_attempt_at=db.utcnow()))
    for _ in range(2):
        postback_sender.send_due(engine, LOCAL, QUICK)
    [row] = outbox(engine)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 3, 200)
    assert [status for _path, _headers, status in receiver.requests] == [503, 500, 200]


def test_backoff_doubles_with_jitter_and_stops_at_the_last_attempt(client, engine, auth, world, receiver) -> None:
    policy = postbacks.Policy(max_attempts=3, base_delay=10.0, max_delay=25.0)
    for attempts, low, high in ((1, 5, 15), (2, 10, 30), (3, 12.5, 37.5), (9, 12.5, 37.5)):
        for _ in range(20):
            assert low <= policy.delay(attempts).total_seconds() <= high
    receiver.answer = lambda _path: 500
    set_template(client, auth, world.partner, receiver.url() + TEMPLATE)
    convert(client, engine, world, "F-1")
    quick_three = postbacks.Policy(max_attempts=3, base_delay=0.0)
    figures = postback_sender.send_all_due(engine, LOCAL, quick_three)
    assert (figures.sent, figures.retrying, figures.failed) == (3, 2, 1)
    [row] = outbox(engine)
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "HTTP 500")


def test_a_failed_delivery_is_retried_on_request_once_the_receiver_is_back(
    client, engine, auth, world, make, receiver
) -> None:
    """A receiver down for longer than the retries: the partner sends the events again, each once."""
    receiver.answer = lambda _path: 503
    set_template(client, auth, world.partner, receiver.url() + TEMPLATE)
    convert(client, engine, world, "R-1")
    quick_two = postbacks.Policy(max_attempts=2, base_delay=0.0)
    assert postback_sender.send_all_due(engine, LOCAL, quick_two).failed == 1
    [row] = outbox(engine)
    headers = auth(world.partner)
    retry = f"/api/v1/postbacks/deliveries/{row.id}/retry"
    # Another partner cannot touch it, nor tell it from an unknown one.
    stranger = client.post(retry, headers=auth(make.partner()))
    assert (stranger.status_code, stranger.json["error"]["code"]) == (404, "not_found")
    assert client.post("/api/v1/postbacks/deliveries/2000000000/retry", headers=headers).status_code == 404
    assert outbox(engine)[0].status == "failed"

    receiver.answer = lambda _path: 200
    again = client.post(retry, headers=headers)
    assert again.status_code == 200
    assert (again.json["status"], again.json["attempts"], again.json["next_attempt_at"] is not None) == (
        "pending",
        0,
        True,
    )
    # Pending: a second click on Retry sends nothing more.
    pending = client.post(retry, headers=headers)
    assert (pending.status_code, pending.json["error"]["code"]) == (409, "not_failed")
    figures = postback_sender.send_all_due(engine, LOCAL, quick_two)
    assert (figures.sent, figures.delivered) == (1, 1)
    [row] = outbox(engine)
    assert (row.status, row.attempts) == ("delivered", 1)
    assert [status for _path, _headers, status in receiver.requests] == [503, 503, 200]
    done = client.post(retry, headers=headers)
    assert (done.status_code, done.json["error"]["code"]) == (409, "not_failed")
    assert postback_sender.send_all_due(engine, LOCAL, quick_two).sent == 0
    assert len(receiver.delivered()) == 1


def test_created_is_delivered_before_approved(client, engine, auth, world, receiver) -> None:
    failures = {"created": 3}

    def answer(path: str) -> int:
        event = parse_qs(urlsplit(path).query)["e"][0]
        if failures.get(event, 0) > 0:
            failures[event] -= 1
            return 503
        return 200

    receiver.answer = answer
    set_template(client, auth, world.partner, receiver.url() + TEMPLATE)
    conversion_id = convert(client, engine, world, "O-1")
    set_status(engine, world, conversion_id, "approved")
    set_status(engine, world, conversion_id, "reversed")
    for _ in range(10):
        postback_sender.send_due(engine, LOCAL, QUICK)
    events = [parse_qs(urlsplit(path).query)["e"][0] for path, _h, _s in receiver.requests]
    # Nothing of a later event went out while "created" was undelivered.
    assert events == ["created"] * 4 + ["approved", "reversed"]
    assert [(d["e"], d["s"]) for d in receiver.delivered()] == [
        ("created", "pending"),
        ("approved", "approved"),
        ("reversed", "reversed"),
    ]


def test_a_receiver_failing_half_the_time_gets_everything_without_duplicates(
    client, engine, auth, world, receiver
) -> None:
    chance = random.Random(14)
    receiver.answer = lambda _path: 200 if chance.random() < 0.5 else 503
    set_template(client, auth, world.partner, receiver.url() + TEMPLATE)
    ids = [convert(client, engine, world, f"H-{n}") for n in range(30)]
    for conversion_id in ids[::2]:
        set_status(engine, world, conversion_id, "approved")
    figures = postback_sender.send_all_due(engine, LOCAL, QUICK)
    expected = len(ids) + len(ids[::2])
    got = Counter((d["id"], d["e"]) for d in receiver.delivered())
    duplicates = sum(count - 1 for count in got.values())
    print(
        f"\nflaky receiver: {expected} postbacks, {figures.sent} requests sent, {figures.retrying} retried, "
        f"{figures.delivered} delivered, {duplicates} duplicates"
    )
    assert figures.delivered == expected == len(got)
    assert figures.sent == len(receiver.requests) and figures.retrying == figures.sent - expected > 0
    assert duplicates == 0
    assert {row.status for row in outbox(engine)} == {"delivered"}


def test_two_concurrent_senders_never_send_a_row_twice(client, engine, auth, world, receiver) -> None:
    receiver.delay = 0.005
    set_template(client, auth, world.partner, receiver.url() + TEMPLATE)
    ids = [convert(client, engine, world, f"C-{n}") for n in range(40)]
    results: list[postback_sender.Round] = []
    start = threading.Barrier(2)

    def sender() -> None:
        start.wait()
        results.append(postback_sender.send_all_due(engine, LOCAL, QUICK))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    got = Counter(d["id"] for d in receiver.delivered())
    print(
        f"\ntwo senders: {[r.delivered for r in results]} delivered each, {len(receiver.requests)} requests for "
        f"{len(ids)} postbacks"
    )
    assert sorted(got) == sorted(str(i) for i in ids) and set(got.values()) == {1}
    assert sum(r.delivered for r in results) == len(ids) == len(receiver.requests)


def test_a_sender_that_died_mid_request_is_taken_over_after_its_lease(client, engine, auth, world, receiver) -> None:
    set_template(client, auth, world.partner, receiver.url() + TEMPLATE)
    convert(client, engine, world, "L-1")
    with db.transaction(engine) as conn:
        raw = postback_sender.Raw.of(conn)
        [outbox_id] = postbacks.due(raw, db.utcnow())
        claimed = postbacks.claim(raw, outbox_id, db.utcnow(), postbacks.Policy(lease=0.2))
    assert claimed is not None
    assert postback_sender.send_due(engine, LOCAL, QUICK).sent == 0  # leased: nobody else sends it
    time.sleep(0.3)
    assert postback_sender.send_due(engine, LOCAL, QUICK).delivered == 1
    # The dead sender's late outcome does not overwrite the row: its lease is gone.
    with db.transaction(engine) as conn:
        postbacks.record(postback_sender.Raw.of(conn), claimed, False, 500, "late", db.utcnow(), QUICK)
    [row] = outbox(engine)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 2, None)


def test_redirects_are_not_followed_and_slow_receivers_time_out(receiver) -> None:
    receiver.answer = lambda path: 302 if path.startswith("/pb") else 200
    outcome = LOCAL.send(receiver.url("/pb?x=1"), {})
    assert (outcome.delivered, outcome.status_code) == (False, 302)
    assert "redirects are not followed" in (outcome.error or "")
    assert [path for path, _h, _s in receiver.requests] == ["/pb?x=1"]
    receiver.delay = 1.0
    started = time.monotonic()
    slow = Transport(allow_private=True, read_timeout=0.2).send(receiver.url("/slow"), {})
    assert not slow.delivered and "timed out" in (slow.error or "")
    assert time.monotonic() - started < 0.9


# --- the guard against server-side request forgery ------------------------------------------------


def test_loopback_is_refused_unless_the_operator_allows_it(receiver) -> None:
    guarded = Transport(allow_private=False)
    for url in (receiver.url(), f"http://localhost:{receiver.port}/pb", f"http://[::1]:{receiver.port}/pb"):
        outcome = guarded.send(url, {})
        assert not outcome.delivered and outcome.status_code is None
        assert "refused" in (outcome.error or "") and "loopback" in (outcome.error or ""), outcome.error
    assert receiver.requests == []  # no connection was even opened
    assert LOCAL.send(receiver.url(), {}).delivered


def _resolving(answers: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    def resolver(host: str, _port: int) -> list[str]:
        return answers[host]

    return resolver


@pytest.mark.parametrize(
    ("addresses", "kind"),
    [
        (["127.0.0.1"], "loopback"),
        (["169.254.169.254"], "link-local"),
        (["10.1.2.3"], "private"),
        (["192.168.0.7"], "private"),
        (["224.0.0.1"], "multicast"),
        (["0.0.0.0"], "unspecified"),
        (["::ffff:127.0.0.1"], "loopback"),
        (["fe80::1"], "link-local"),
        (["fd00::1"], "private"),
        (["240.0.0.1"], "reserved"),
        # One forbidden address among public ones is enough to refuse the host.
        (["93.184.216.34", "127.0.0.1"], "loopback"),
    ],
)
def test_a_hostname_resolving_to_a_forbidden_address_is_refused(receiver, addresses, kind) -> None:
    transport = Transport(allow_private=False, resolver=_resolving({"tracker.example": addresses}))
    outcome = transport.send(f"http://tracker.example:{receiver.port}/pb", {})
    assert not outcome.delivered and kind in (outcome.error or ""), outcome.error
    assert receiver.requests == []


def test_the_request_goes_to_the_vetted_address_with_the_hosts_own_name(receiver) -> None:
    answers = {"tracker.example": ["127.0.0.1"]}
    transport = Transport(allow_private=True, resolver=_resolving(answers))
    looked_up: list[str] = []
    real = transport.resolver

    def once_then_rebind(host: str, port: int) -> list[str]:
        looked_up.append(host)
        found = real(host, port)
        answers[host] = ["169.254.169.254"]  # a rebinding resolver's second answer is never asked for
        return list(found)

    transport.resolver = once_then_rebind
    outcome = transport.send(f"http://tracker.example:{receiver.port}/pb?x=1", {})
    assert outcome.delivered and looked_up == ["tracker.example"]
    [(_path, headers, _status)] = receiver.requests
    assert headers["Host"] == f"tracker.example:{receiver.port}"


def test_no_postback_reaches_a_forbidden_address_through_the_outbox(client, engine, auth, world, receiver) -> None:
    set_template(client, auth, world.partner, receiver.url() + TEMPLATE)
    convert(client, engine, world, "X-1")
    guarded = Transport(allow_private=False)
    figures = postback_sender.send_all_due(engine, guarded, postbacks.Policy(max_attempts=2, base_delay=0.0))
    assert (figures.sent, figures.failed) == (2, 1)
    assert receiver.requests == []
    [delivery] = client.get("/api/v1/postbacks/deliveries?status=failed", headers=auth(world.partner)).json[
        "deliveries"
    ]
    assert delivery["status"] == "failed" and "loopback" in delivery["last_error"]


def test_send_postbacks_command(app, client, engine, auth, world, receiver, runner) -> None:
    set_template(client, auth, world.partner, receiver.url() + TEMPLATE)
    convert(client, engine, world, "K-1")
    refused = runner.invoke(args=["send-postbacks"])
    assert refused.exit_code == 0 and "0 delivered, 1 to retry later" in refused.output
    assert receiver.requests == []
    app.config["POSTBACKS_ALLOW_PRIVATE"] = True
    with db.transaction(engine) as conn:
        conn.execute(postback_outbox.update().values(next_attempt_at=db.utcnow()))
    sent = runner.invoke(args=["send-postbacks"])
    assert sent.exit_code == 0 and "Sent 1 postback: 1 delivered" in sent.output, sent.output
    assert len(receiver.delivered()) == 1


def test_the_setting_comes_from_the_environment(tmp_path) -> None:
    from api import config

    allowed = config.load_settings(tmp_path, {"TASKLINK_DEMO": "1", "TASKLINK_POSTBACKS_ALLOW_PRIVATE": "1"})
    assert allowed.flask_config()["POSTBACKS_ALLOW_PRIVATE"] is True
    assert config.load_settings(tmp_path, {"TASKLINK_DEMO": "1"}).flask_config()["POSTBACKS_ALLOW_PRIVATE"] is False
