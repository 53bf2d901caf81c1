"""Two app nodes sharing one PostgreSQL and one Redis, under load and with a node killed (issue 7 §2).

Runs on PostgreSQL only (CI's second pass): a fresh database is created for
the module and dropped afterwards; Redis and two app nodes (the production server) are started
by ``bench/cluster.py`` on free loopback ports. The clicks come from
``bench/clickload.py``: threads with keep-alive connections that keep the
click id of every redirect they receive, so "no answered click was lost" is
checked click by click against the database.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.clickload import click_id_of, send_clicks  # noqa: E402
from bench.cluster import Cluster, fresh_database, is_postgresql  # noqa: E402

SERVER = os.environ.get("TASKLINK_TEST_DATABASE_URL")
CLICKS = int(os.environ.get("TASKLINK_SCALE_CLICKS", "20000"))
KILL_CLICKS = int(os.environ.get("TASKLINK_SCALE_KILL_CLICKS", "6000"))
LOGIN_LIMIT = 3
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not is_postgresql(SERVER), reason="the scale-out test runs on PostgreSQL (TASKLINK_TEST_DATABASE_URL)"
    ),
]


def call(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """One JSON request; ``(status, parsed body)``."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def follow(url: str) -> tuple[int, str | None]:
    """GET a tracking link without following it: ``(status, Location)``."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"User-Agent": BROWSER})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers.get("Location")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location")


class Setup:
    """The running cluster and what the tests share."""

    def __init__(self, cluster: Cluster, url: str) -> None:
        from api import demo

        self.cluster = cluster
        self.database_url = url
        self.a, self.b = (node.url for node in cluster.nodes)
        # Sign in before the rate-limit test locks this address out.
        status, body = call(
            self.a, "POST", "/api/v1/auth/login", {"email": demo.PARTNER["email"], "password": demo.PARTNER["password"]}
        )
        assert status == 200, body
        self.token = body["token"]
        self.api_key = demo.ADVERTISER["api_key"]
        self.task_id = self._manual_task()

    def _manual_task(self) -> int:
        status, body = call(self.a, "GET", "/api/v1/campaigns", token=self.token)
        assert status == 200, body
        for campaign in body["campaigns"]:
            if not campaign["link_available"]:
                continue
            status, tasks = call(self.a, "GET", f"/api/v1/campaigns/{campaign['id']}/tasks", token=self.token)
            for task in tasks["tasks"]:
                if task["link_options"]["link_available"]:
                    return int(task["id"])
        raise AssertionError("the demo data has no task a link can be made for")

    def make_link(self, node: str, kind: str = "short", **extra: Any) -> dict[str, Any]:
        status, body = call(node, "POST", "/api/v1/links", {"task_id": self.task_id, "kind": kind, **extra}, self.token)
        assert status == 201, body
        return body  # type: ignore[no-any-return]

    def sql(self, statement: str, **params: Any) -> list[tuple[Any, ...]]:
        from sqlalchemy import text

        from api import db

        engine = db.make_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(text(statement), params)]
        finally:
            engine.dispose()

    def click_ids(self, link_ids: list[int]) -> list[str]:
        rows = self.sql("SELECT click_id FROM clicks WHERE link_id = ANY(:ids)", ids=link_ids)
        return [row[0] for row in rows]

    def stored_click_ids(self, link_ids: list[int], expected: set[str], timeout: float = 60) -> list[str]:
        """The click ids stored, once ``expected`` are all there (or ``timeout`` passed).

        A node stores its logged clicks within a fraction of a second (api/clicklog.py).
        """
        deadline = time.monotonic() + timeout
        while True:
            stored = self.click_ids(link_ids)
            if expected <= set(stored) or time.monotonic() > deadline:
                return stored
            time.sleep(0.1)


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    env = {"TASKLINK_RATELIMIT_LOGIN": f"{LOGIN_LIMIT}/minute", "TASKLINK_RATELIMIT_LINKS": "100000/minute"}
    with (
        fresh_database(SERVER, f"tasklink_scale_out_{os.getpid()}") as url,  # type: ignore[arg-type]
        Cluster(url, nodes_count=2, workers=2, env=env) as cluster,
    ):
        cluster.flask("seed-demo", "--force")
        yield Setup(cluster, url)


def path_of(url: str) -> str:
    return urlsplit(url).path + (f"?{urlsplit(url).query}" if urlsplit(url).query else "")


def test_a_link_made_on_one_node_resolves_on_the_other(setup: Setup) -> None:
    for kind in ("short", "regular"):
        link = setup.make_link(setup.a, kind, subId1="cross-node")
        status, location = follow(setup.b + path_of(link["url"]))
        assert status == 302, (kind, status)
        assert location and location.startswith(link["landing_url"].split("?")[0])
        click_id = click_id_of(location)
        assert click_id and setup.stored_click_ids([link["id"]], {click_id}, timeout=10) == [click_id]
        assert setup.sql("SELECT sub_id1 FROM clicks WHERE click_id = :c", c=click_id) == [("cross-node",)]
        # Either node reports it.
        for node in (setup.a, setup.b):
            status, body = call(node, "GET", f"/api/v1/links/{link['id']}", token=setup.token)
            assert status == 200 and body["clicks"] == 1


def test_a_conversion_reported_to_both_nodes_at_once_counts_once(setup: Setup) -> None:
    link = setup.make_link(setup.a)
    click_ids = [click_id_of(follow(setup.a + path_of(link["url"]))[1] or "") for _ in range(40)]
    answers: dict[str, list[int]] = {click_id: [] for click_id in click_ids if click_id}
    assert len(answers) == 40

    def report(node: str, click_id: str) -> None:
        body = {"click_id": click_id, "order_id": f"order-{click_id}", "amount": "20.00", "currency": "USD"}
        answers[click_id].append(call(node, "POST", "/api/v1/conversions", body, setup.api_key)[0])

    threads = [
        threading.Thread(target=report, args=(node, click_id)) for click_id in answers for node in (setup.a, setup.b)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Each order once: recorded by one postback (201) and found by the other (200), or accepted
    # by either or both while its click was still in node A's click log (202) and recorded
    # by the flush that stored it.
    assert all(sorted(statuses) in ([200, 201], [200, 202], [201, 202], [202, 202]) for statuses in answers.values()), (
        answers
    )
    deadline = time.monotonic() + 10
    while (rows := setup.sql("SELECT count(*) FROM conversions WHERE link_id = :l", l=link["id"])) != [(40,)]:
        assert time.monotonic() < deadline, rows
        time.sleep(0.1)


def test_twenty_thousand_clicks_over_two_nodes_make_exactly_that_many_rows(setup: Setup) -> None:
    links = [setup.make_link(setup.a, kind) for kind in ("short", "short", "regular", "regular")]
    nodes = [("127.0.0.1", node.port) for node in setup.cluster.nodes]
    result = send_clicks(
        nodes, [path_of(link["url"]) for link in links], CLICKS, concurrency=8, headers={"User-Agent": BROWSER}
    )
    print(
        f"\n{CLICKS} clicks in {result.elapsed:.1f} s: {CLICKS / result.elapsed:.0f}/s, per node {dict(result.per_node)}"
    )
    assert result.statuses == {302: CLICKS} and result.unanswered == 0
    assert all(count >= CLICKS * 0.4 for count in result.per_node.values()), result.per_node
    assert len(set(result.click_ids)) == CLICKS
    stored = setup.stored_click_ids([link["id"] for link in links], set(result.click_ids))
    assert len(stored) == CLICKS
    assert set(stored) == set(result.click_ids)


def test_a_node_killed_half_way_loses_no_answered_click(setup: Setup) -> None:
    links = [setup.make_link(setup.b, kind) for kind in ("short", "regular")]
    nodes = [("127.0.0.1", node.port) for node in setup.cluster.nodes]
    killed: list[int] = []

    def kill_half_way(done: int) -> None:
        if not killed and done >= KILL_CLICKS // 2:
            setup.cluster.kill(0)
            killed.append(done)

    result = send_clicks(
        nodes,
        [path_of(link["url"]) for link in links],
        KILL_CLICKS,
        concurrency=8,
        headers={"User-Agent": BROWSER},
        on_progress=kill_half_way,
    )
    print(
        f"\nkilled node 0 after {killed} clicks; statuses {dict(result.statuses)}, unanswered {result.unanswered}, "
        f"failovers {result.failovers}"
    )
    assert killed and not setup.cluster.nodes[0].alive
    assert result.server_errors == 0 and set(result.statuses) == {302}
    assert result.failovers > 0, "requests should have been refused by the dead node"
    # The node comes back, stores what it had logged before it died, and serves again.
    setup.cluster.restart(0)
    status, location = follow(setup.a + path_of(links[0]["url"]))
    assert status == 302 and click_id_of(location or "")
    answered = set(result.click_ids)
    stored = set(setup.stored_click_ids([link["id"] for link in links], answered))
    assert len(answered) == len(result.click_ids) == result.statuses[302]
    assert answered <= stored, f"{len(answered - stored)} answered clicks are missing"
    # Clicks the dead node logged but could not answer are real clicks too; nothing beyond
    # those and the one click after the restart.
    assert len(stored) - len(answered) <= result.unanswered + 1
    assert result.statuses[302] + result.unanswered == KILL_CLICKS


def test_the_database_has_no_orphans_and_no_duplicates(setup: Setup) -> None:
    assert setup.sql("SELECT count(*) FROM clicks k LEFT JOIN links l ON l.id = k.link_id WHERE l.id IS NULL") == [(0,)]
    assert setup.sql(
        "SELECT count(*) FROM conversions v LEFT JOIN clicks k ON k.id = v.click_pk WHERE k.id IS NULL"
    ) == [(0,)]
    assert setup.sql("SELECT click_id FROM clicks GROUP BY click_id HAVING count(*) > 1") == []
    assert (
        setup.sql("SELECT campaign_id, order_id FROM conversions GROUP BY campaign_id, order_id HAVING count(*) > 1")
        == []
    )
    # Every click's denormalised columns agree with its link.
    assert setup.sql(
        "SELECT count(*) FROM clicks k JOIN links l ON l.id = k.link_id "
        "WHERE k.campaign_id <> l.campaign_id OR k.partner_id <> l.partner_id OR k.task_id <> l.task_id"
    ) == [(0,)]
    assert setup.sql("SELECT count(*) FROM clicks")[0][0] >= CLICKS


def test_rate_limits_are_shared_through_redis(setup: Setup) -> None:
    """Failed sign-ins on node A count on node B (limit 3 a minute, one Redis)."""
    import redis

    attempt = {"email": "nobody@demo.test", "password": "wrong"}
    statuses = [call(node, "POST", "/api/v1/auth/login", attempt)[0] for node in (setup.a, setup.b, setup.a)]
    assert statuses == [401] * LOGIN_LIMIT
    status, body = call(setup.b, "POST", "/api/v1/auth/login", attempt)
    assert status == 429 and body["error"]["code"] == "rate_limited"
    status, _ = call(setup.a, "POST", "/api/v1/auth/login", attempt)
    assert status == 429
    # The counters live in Redis, not in either node.
    store = redis.Redis(host="127.0.0.1", port=setup.cluster.redis_port)
    assert any(b"login" in key for key in store.keys("*"))
    store.close()


def test_without_redis_sign_in_keeps_working_with_limits_per_process(setup: Setup) -> None:
    """Redis killed: no 500s; each worker process counts in its own memory (and so still limits)."""
    from api import demo

    setup.cluster.stop_redis()
    try:
        right = {"email": demo.OTHER["email"], "password": demo.OTHER["password"]}
        assert call(setup.a, "POST", "/api/v1/auth/login", right)[0] == 200
        wrong = {"email": "nobody-else@demo.test", "password": "wrong"}
        statuses = [
            call(setup.a, "POST", "/api/v1/auth/login", wrong)[0]
            for _ in range(LOGIN_LIMIT * setup.cluster.workers + 1)
        ]
        assert set(statuses) <= {401, 429} and statuses[:LOGIN_LIMIT] == [401] * LOGIN_LIMIT
        assert 429 in statuses, statuses
        # Node B never saw those attempts: its own count.
        assert call(setup.b, "POST", "/api/v1/auth/login", wrong)[0] == 401
    finally:
        setup.cluster.start_redis()
