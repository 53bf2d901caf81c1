"""Can slow clients stall the redirect? Each candidate server, measured in the same run.

    python bench/slow_clients.py                        # every candidate, SQLite, 50 slow clients
    python bench/slow_clients.py --servers sync,gevent --slow 500 --rounds 0     # latency only
    python bench/slow_clients.py --postgres "postgresql:///tasklink_bench?host=/var/run/postgresql"

A *slow-header client* opens a connection and sends its request line and
headers one byte every ``--interval`` seconds, never finishing (slowloris);
a *slow-body client* sends a sign-in's headers at once, then its body the
same way. A server that gives each such connection a worker (gunicorn's
sync workers) or a thread (gthread while headers come in; granian while a
body comes in) runs out of them, and every visitor's redirect waits. For
each candidate of :data:`bench.serving.SERVERS` (``--servers``; sync first,
the baseline), with the same database, demo data and short links
(``bench/redirect.py``'s ``prepare``):

1. **latency**: the real app (``api:create_app()``) is served; ``--clients``
   visitor threads follow the short links at ``--rate`` redirects a second
   in all, a new connection each (as a browser following a link does), for
   ``--seconds``: p50/p99 and failures (an error, no answer within
   ``--timeout``, or not a 302). Then ``--slow`` slow-header clients connect
   (a connection the server closes is opened again, as an attacker would)
   and the same load runs again beside them; then the same with ``--slow``
   slow-body clients.
2. **throughput**: the real app and the bare Flask app
   (``bench/bare_redirect_app.py``) served the same way, ``wrk`` at full
   speed (``bench/redirect.py``'s load; ``--close``: a new connection per
   request, as visitors arrive, so servers that keep connections alive gain
   nothing from it), alternating bare / real for
   ``--rounds`` rounds: req/s of each and their ratio, and the server's CPU
   time per request (user + system of its process group) and its ratio,
   the steadier figure on a shared machine.

The machine is shared and noisy: read figures within one run, and the
ratios rather than req/s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.serving import SERVERS, free_port, group_cpu_seconds, start_server, stop_server  # noqa: E402

AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
#: What a slow-header client sends, one byte at a time: its last header never ends.
SLOW_HEADERS = b"GET /s/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\nX-Padding: " + b"a" * 100_000
#: A slow-body client sends these headers at once, then its body one byte at a time, never all of it.
#: Sign-in reads its body before anything else (no credentials are needed to send one); the
#: length is under the API's 64 KiB bound (api/http/validation.py), which is answered 413 unread.
SLOW_BODY_HEADERS = (
    b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n"
    b"Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n"
)
SLOW_BODY = b'{"email": "' + b"a" * 59_000


class SlowClients:
    """``count`` connections that each send one byte every ``interval`` seconds and never finish their request.

    ``kind`` ``"header"``: the request's headers trickle (slowloris);
    ``"body"``: complete headers of a sign-in, then its body trickles. One
    thread keeps them all (they are cheap for the client, which is the
    point). A connection the server closes (or that it does not accept) is
    counted in :attr:`closed_by_server` and opened again on its next turn, so
    ``count`` are always trying.
    """

    def __init__(self, port: int, count: int, interval: float = 2.0, kind: str = "header") -> None:
        if kind not in ("header", "body"):
            raise ValueError(f"kind is header or body, not {kind!r}")
        self.port = port
        self.count = count
        self.interval = interval
        self.prefix, self.trickle = (b"", SLOW_HEADERS) if kind == "header" else (SLOW_BODY_HEADERS, SLOW_BODY)
        self.closed_by_server = 0
        self.opened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"slow-{kind}-clients", daemon=True)
        self._sockets: list[tuple[socket.socket | None, int]] = []

    def __enter__(self) -> SlowClients:
        self._sockets = [(self._connect(), 0) for _ in range(self.count)]
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for sock, _sent in self._sockets:
            if sock is not None:
                sock.close()

    def _connect(self) -> socket.socket | None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
            # The first byte at once: the connection looks like a request from the start.
            sock.sendall(self.prefix + self.trickle[:1])
        except OSError:
            self.closed_by_server += 1
            return None
        sock.setblocking(False)
        self.opened += 1
        return sock

    def _send_next(self, index: int) -> None:
        sock, sent = self._sockets[index]
        if sock is None:
            self._sockets[index] = (self._connect(), 0)
            return
        try:
            try:
                if sock.recv(65536) == b"":
                    raise ConnectionResetError("closed by the server")
            except BlockingIOError:
                pass  # nothing to read: still open
            # Whatever the server answered (a 408, say), the connection stays open
            # only as long as it reads: keep trickling until it closes.
            sock.send(self.trickle[sent + 1 : sent + 2])
            self._sockets[index] = (sock, sent + 1)
        except OSError:
            sock.close()
            self.closed_by_server += 1
            self._sockets[index] = (self._connect(), 0)

    def _run(self) -> None:
        # The sends are spread over the interval, so the server sees a steady trickle.
        step = self.interval / max(self.count, 1)
        index = 0
        while not self._stop.wait(step):
            self._send_next(index)
            index = (index + 1) % self.count


@dataclass
class Latencies:
    """Redirects of the visitor threads: seconds per answered 302, and failures."""

    seconds: list[float] = field(default_factory=list)
    failures: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def quantile(self, q: float) -> float:
        """The ``q`` quantile in milliseconds (nearest rank), or infinity when nothing was answered."""
        if not self.seconds:
            return float("inf")
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000


def paced_redirects(
    port: int, paths: list[str], seconds: float, rate: float, clients: int, timeout: float = 5.0
) -> Latencies:
    """``clients`` threads following ``paths`` at ``rate`` redirects/s in all, a new connection each.

    A redirect's time runs from connecting to having read the whole answer.
    A thread that falls behind (a slow answer) does not catch up in a burst.
    """
    result = Latencies()
    lock = threading.Lock()
    period = clients / rate
    start = time.monotonic() + 0.05
    end = start + seconds

    def visitor(n: int) -> None:
        due = start + period * n / clients  # the threads take turns, evenly spread
        i = n
        while due < end:
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            path = paths[i % len(paths)]
            i += clients
            began = time.monotonic()
            failure = None
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
                connection.request("GET", path, headers={"User-Agent": AGENT, "Connection": "close"})
                answer = connection.getresponse()
                answer.read()
                connection.close()
                if answer.status != 302:
                    failure = f"HTTP {answer.status}"
            except (OSError, http.client.HTTPException) as error:
                failure = type(error).__name__
            took = time.monotonic() - began
            with lock:
                if failure is None:
                    result.seconds.append(took)
                else:
                    result.failures += 1
                    result.errors[failure] = result.errors.get(failure, 0) + 1
            due = max(due + period, time.monotonic())

    threads = [threading.Thread(target=visitor, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


@dataclass
class Throughput:
    """wrk rounds on one server: req/s and server CPU µs per request of each side, and their ratios."""

    bare_rates: list[float] = field(default_factory=list)
    real_rates: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    bare_cpu: list[float] = field(default_factory=list)
    real_cpu: list[float] = field(default_factory=list)
    cpu_ratios: list[float] = field(default_factory=list)


@dataclass
class Exposure:
    """Visitors' redirects beside one kind of slow client, and how many of those the server cut off."""

    visits: Latencies
    closed_by_server: int


@dataclass
class Outcome:
    """One candidate's figures."""

    server: str
    alone: Latencies
    slow_header: Exposure
    slow_body: Exposure
    throughput: Throughput


def measure_latency(
    server: str, env: dict[str, str], paths: list[str], args: argparse.Namespace, workdir: Path
) -> tuple[Latencies, Exposure, Exposure]:
    """Visitors' redirects on ``server`` alone, then beside ``args.slow`` slow-header, then slow-body clients."""
    port = free_port()
    process = start_server(
        server, "api:create_app()", port, env, workdir / f"{server}-latency.log", workers=args.workers
    )

    def visits() -> Latencies:
        return paced_redirects(port, paths, args.seconds, args.rate, args.clients, args.timeout)

    exposures = []
    try:
        paced_redirects(port, paths, 2, args.rate, args.clients, args.timeout)  # warm-up
        alone = visits()
        for kind in ("header", "body"):
            with SlowClients(port, args.slow, args.interval, kind) as slow:
                time.sleep(2 * args.interval)  # each has sent a few bytes: whatever they hold, they hold now
                exposures.append(Exposure(visits(), slow.closed_by_server))
            # A server stalled by the slow clients frees itself when they hang up; give it a moment.
            time.sleep(1)
    finally:
        stop_server(process, grace=10)
    return alone, exposures[0], exposures[1]


def measure_throughput(
    server: str, env: dict[str, str], codes: list[str], args: argparse.Namespace, workdir: Path
) -> Throughput:
    """Real against bare on ``server``: ``args.rounds`` alternating wrk rounds, req/s and server CPU per request."""
    from bench.redirect import wrk

    figures = Throughput()
    for _ in range(args.rounds):
        rates: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for name, spec in (("bare", "bench.bare_redirect_app:app"), ("real", "api:create_app()")):
            port = free_port()
            process = start_server(server, spec, port, env, workdir / f"{server}-{name}.log", workers=args.workers)
            try:
                wrk(port, codes, 2, args.connections, workdir, close=args.close)  # warm-up
                cpu_before = group_cpu_seconds(process.pid)
                rate, total, other, _p99 = wrk(
                    port, codes, args.wrk_seconds, args.connections, workdir, close=args.close
                )
                cpu[name] = (group_cpu_seconds(process.pid) - cpu_before) / max(total, 1) * 1e6
            finally:
                stop_server(process, grace=10)
            if other:
                print(f"    !! {server} {name}: {other} answers were not 302")
            rates[name] = rate
        figures.bare_rates.append(rates["bare"])
        figures.real_rates.append(rates["real"])
        figures.ratios.append(rates["real"] / rates["bare"])
        figures.bare_cpu.append(cpu["bare"])
        figures.real_cpu.append(cpu["real"])
        figures.cpu_ratios.append(cpu["bare"] / cpu["real"])
    return figures


def run(label: str, url: str, args: argparse.Namespace, workdir: Path) -> list[Outcome]:
    """Every candidate on one database."""
    from bench.redirect import prepare

    codes = prepare(url)
    codes_file = workdir / "codes.json"
    codes_file.write_text(json.dumps(codes))
    env = {
        "TASKLINK_DATABASE_URL": url,
        "TASKLINK_SECRET_KEYS": "bench-secret-key-not-for-production",
        "BENCH_CODES": str(codes_file),
        "TASKLINK_CLICK_LOG_DIR": str(workdir / "click-log"),
    }
    order = list(codes)
    paths = [f"/s/{code}" for code in order]
    random.Random(7).shuffle(paths)
    print(
        f"\n== {label}: {args.workers} processes per server; visitors: {args.clients} threads, {args.rate:g} "
        f"redirects/s, {args.seconds:g} s; beside {args.slow} slow-header, then {args.slow} slow-body clients "
        f"(one byte every {args.interval:g} s); wrk 2 threads x {args.connections} "
        f"{'new connections per request' if args.close else 'kept-alive connections'}, "
        f"{args.wrk_seconds} s, {args.rounds} rounds per side"
    )
    outcomes = []
    for server in args.servers:
        alone, slow_header, slow_body = measure_latency(server, env, paths, args, workdir)
        print(f"  {server:9s} latency: alone {_ms(alone)} ({_count(alone)})")
        for kind, exposure in (("slow-header", slow_header), ("slow-body", slow_body)):
            print(
                f"  {server:9s} latency: beside {args.slow} {kind} clients {_ms(exposure.visits)} "
                f"({_count(exposure.visits)}); slow connections the server closed: {exposure.closed_by_server}",
                flush=True,
            )
        figures = measure_throughput(server, env, order, args, workdir)
        if not figures.ratios:  # --rounds 0: latency only
            outcomes.append(Outcome(server, alone, slow_header, slow_body, figures))
            continue
        print(
            f"  {server:9s} throughput: bare {statistics.median(figures.bare_rates):6.0f} req/s, Tasklink "
            f"{statistics.median(figures.real_rates):6.0f} req/s, ratio median {statistics.median(figures.ratios):.2f} "
            f"({' '.join(f'{r:.2f}' for r in figures.ratios)}) | server CPU per request: bare "
            f"{statistics.median(figures.bare_cpu):.0f} us, Tasklink {statistics.median(figures.real_cpu):.0f} us, "
            f"ratio median {statistics.median(figures.cpu_ratios):.2f} "
            f"({' '.join(f'{r:.2f}' for r in figures.cpu_ratios)})",
            flush=True,
        )
        outcomes.append(Outcome(server, alone, slow_header, slow_body, figures))
    return outcomes


def _count(latencies: Latencies) -> str:
    """``N answered, M failed`` and why they failed."""
    errors = f" {latencies.errors}" if latencies.errors else ""
    return f"{len(latencies.seconds)} answered, {latencies.failures} failed{errors}"


def _ms(latencies: Latencies) -> str:
    """``p50 / p99 ms``, or what went wrong when no redirect was answered."""
    if not latencies.seconds:
        return "none answered"
    return f"{latencies.quantile(0.5):.1f} / {latencies.quantile(0.99):.1f} ms"


def _spread(values: list[float]) -> str:
    """``**median** (min–max)``, or a dash when nothing was measured."""
    if not values:
        return "–"
    return f"**{statistics.median(values):.2f}** ({min(values):.2f}–{max(values):.2f})"


def _median(values: list[float], unit: str = "") -> str:
    """The median with thousands separators, or a dash when nothing was measured."""
    return f"{statistics.median(values):,.0f}{unit}" if values else "–"


def table(label: str, outcomes: list[Outcome], slow: int) -> str:
    """The figures as a Markdown table (as the README shows them)."""
    lines = [
        f"\n{label}\n",
        f"| server | redirect p50 / p99 alone | beside {slow} slow-header clients | beside {slow} slow-body "
        "clients | failed redirects (alone; header; body) | bare / Tasklink req/s | req/s ratio, median "
        "(min–max) | CPU per request bare / Tasklink | CPU ratio, median (min–max) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def failed(latencies: Latencies) -> str:
        return f"{latencies.failures}/{len(latencies.seconds) + latencies.failures}"

    for o in outcomes:
        t = o.throughput
        lines.append(
            f"| {o.server} | {_ms(o.alone)} | {_ms(o.slow_header.visits)} | {_ms(o.slow_body.visits)} | "
            f"{failed(o.alone)}; {failed(o.slow_header.visits)}; {failed(o.slow_body.visits)} | "
            f"{_median(t.bare_rates)} / {_median(t.real_rates)} | {_spread(t.ratios)} | "
            f"{_median(t.bare_cpu)} / {_median(t.real_cpu, ' µs')} | {_spread(t.cpu_ratios)} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse the arguments, run every candidate on each database, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help=f"comma-separated, from {', '.join(SERVERS)} (default: all, sync first as the baseline)",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="processes per server (waitress: one, with as many threads)"
    )
    parser.add_argument("--slow", type=int, default=50, help="slow clients of each kind (header, body)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between two bytes of a slow client")
    parser.add_argument("--clients", type=int, default=8, help="visitor threads")
    parser.add_argument("--rate", type=float, default=50.0, help="redirects per second, all visitors together")
    parser.add_argument("--seconds", type=float, default=10.0, help="each latency measurement")
    parser.add_argument("--timeout", type=float, default=5.0, help="a redirect not answered by then failed")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds per side")
    parser.add_argument("--wrk-seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--close",
        action="store_true",
        help="wrk opens a new connection per request (Connection: close) instead of keeping them alive",
    )
    parser.add_argument("--postgres", help="also run on this PostgreSQL database (its tables are replaced)")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    args.servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = set(args.servers) - set(SERVERS)
    if unknown:
        raise SystemExit(f"unknown servers: {', '.join(sorted(unknown))}")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    # The servers run in their own sessions: on SIGTERM, unwind so each one is stopped (finally blocks).
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    tables = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        targets = [] if args.skip_sqlite else [("SQLite (fresh file, WAL)", f"sqlite:///{workdir / 'bench.db'}")]
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        for label, url in targets:
            tables.append(table(label, run(label, url, args, workdir), args.slow))
    print("\n".join(tables))


if __name__ == "__main__":
    main()
