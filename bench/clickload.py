"""A counting click client: threads with keep-alive ``http.client`` connections.

Sends exactly ``total`` ``GET`` requests for tracking links spread over the
given nodes, and keeps, for every ``302`` it receives, the click id the
redirect carried (the ``clickid`` parameter of ``Location``). A caller can
then check each answered click against the database, which is how "no
answered click is lost" is proved rather than estimated.

A request whose connection is refused never reached a node, so it is sent to
the next node instead (what a load balancer does with a dead backend). A
request that was sent but got no answer (the node died while handling it) is
counted as ``unanswered``: its click may or may not have been stored.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit


@dataclass
class LoadResult:
    """What the client saw."""

    statuses: Counter[int] = field(default_factory=Counter)
    click_ids: list[str] = field(default_factory=list)
    unanswered: int = 0
    failovers: int = 0
    per_node: Counter[int] = field(default_factory=Counter)
    elapsed: float = 0.0

    @property
    def answered(self) -> int:
        """Requests that got any HTTP answer."""
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        """Answers with a 5xx status."""
        return sum(count for status, count in self.statuses.items() if status >= 500)


def click_id_of(location: str, param: str = "clickid") -> str | None:
    """The click id a redirect carries in its ``Location`` (``None`` when absent)."""
    values = parse_qs(urlsplit(location).query).get(param)
    return values[-1] if values else None


def send_clicks(
    nodes: Sequence[tuple[str, int]],
    paths: Sequence[str],
    total: int,
    concurrency: int = 8,
    *,
    param: str = "clickid",
    headers: dict[str, str] | None = None,
    on_progress: Callable[[int], None] | None = None,
    timeout: float = 30.0,
) -> LoadResult:
    """Send ``total`` clicks, request ``n`` to node ``n % len(nodes)`` and path ``n % len(paths)``.

    ``on_progress(done)`` is called from the calling thread about every 50 ms
    while the load runs (for example to kill a node half-way); the load
    itself runs in ``concurrency`` threads.
    """
    result = LoadResult()
    lock = threading.Lock()
    next_request = iter(range(total))
    base_headers = {"User-Agent": "tasklink-clickload/1.0 (Mozilla/5.0 compatible)", **(headers or {})}
    done = [0]

    def take() -> int | None:
        with lock:
            return next(next_request, None)

    def worker() -> None:
        connections: dict[int, http.client.HTTPConnection] = {}
        statuses: Counter[int] = Counter()
        per_node: Counter[int] = Counter()
        ids: list[str] = []
        unanswered = failovers = 0
        while (n := take()) is not None:
            path = paths[n % len(paths)]
            node = n % len(nodes)
            for attempt in range(len(nodes) * 20):
                conn = connections.get(node)
                if conn is None:
                    conn = connections[node] = http.client.HTTPConnection(*nodes[node], timeout=timeout)
                try:
                    if conn.sock is None:
                        conn.connect()
                except OSError:
                    # Never reached the node: nothing was recorded, try the next node.
                    conn.close()
                    failovers += 1
                    node = (node + 1) % len(nodes)
                    if attempt >= len(nodes):
                        time.sleep(0.01)
                    continue
                try:
                    conn.request("GET", path, headers=base_headers)
                    response = conn.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    unanswered += 1
                    break
                statuses[response.status] += 1
                per_node[node] += 1
                if response.status == 302:
                    click_id = click_id_of(response.getheader("Location") or "", param)
                    if click_id:
                        ids.append(click_id)
                if response.will_close:
                    conn.close()
                break
            else:
                unanswered += 1
            with lock:
                done[0] += 1
        for conn in connections.values():
            conn.close()
        with lock:
            result.statuses.update(statuses)
            result.per_node.update(per_node)
            result.click_ids.extend(ids)
            result.unanswered += unanswered
            result.failovers += failovers

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        if on_progress is not None:
            on_progress(done[0])
        threads[0].join(0.05) if threads[0].is_alive() else time.sleep(0.05)
    for thread in threads:
        thread.join()
    result.elapsed = time.perf_counter() - started
    return result
