"""Redirect throughput with every click durably recorded, against bare Flask, in the same run.

    python bench/redirect.py                                  # SQLite: 3 rounds x 10 s, plus the report timing
    python bench/redirect.py --postgres "postgresql:///tasklink_bench?host=/var/run/postgresql"
    python bench/redirect.py --rounds 5 --seconds 8 --connections 16 --report-clicks 0
    python bench/redirect.py --links 5000 --zipf 1.0 --report-clicks 0    # many links, a long-tailed mix

For each database (a fresh SQLite file; and PostgreSQL when ``--postgres``
names an empty database to use — its tables are dropped and recreated):

1. builds demo data (``seed-demo``) and 60 short links of the demo partners;
2. serves the real app (``api:create_app()``) and the bare Flask app
   (``bench/bare_redirect_app.py``, the same codes in a dict) with the same
   server settings (2 processes; ``--server``: gunicorn's sync workers by default, as
   the figures in the README's Performance section were measured, or any server of
   ``bench/serving.py``, ``gevent`` being the production one);
3. drives each with the same ``wrk`` load (2 threads, N connections, a
   browser User-Agent, the codes in turn), alternating bare / real for
   ``--rounds`` rounds so both see the same machine, and prints req/s of
   each, the ratio of every round, and the spread;
4. checks the real app stored one click row per 302 it answered;
5. generates ``--report-clicks`` clicks (default 1,000,000) over 30 days and
   times the summary report: straight from the clicks table, the one-off fold
   into the daily rollups, and the report after the fold.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.serving import SERVERS, free_port, group_cpu_seconds, start_server, stop_server, wrk_figures  # noqa: E402

SECRET = "bench-secret-key-not-for-production"
WORKERS = 2
AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
LINKS = 60


def prepare(url: str, count: int = LINKS) -> dict[str, str]:
    """Fresh schema, demo data and ``count`` short links of the demo partners; return code → landing URL."""
    from sqlalchemy import text

    from api import create_app, db, demo, migrations
    from api.schema import metadata
    from api.services import campaigns, links, partners, tasks

    app = create_app({"SECRET_KEYS": [SECRET], "DATABASE_URL": url})
    engine = db.get_engine(app)
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    migrations.upgrade(engine)
    codes: dict[str, str] = {}
    with db.transaction(engine) as conn:
        demo.seed_demo(conn)
        slots = []  # (partner, task) pairs where links can be made
        for email in (demo.PARTNER["email"], demo.OTHER["email"]):
            partner = partners.find_by_email(conn, email)
            assert partner is not None
            for entry in campaigns.list_campaigns_for_partner(conn, partner.id):
                if entry.availability.available:
                    slots.extend(
                        (partner.id, task.id)
                        for task in tasks.list_tasks_for_partner(conn, partner.id, entry.campaign.id)
                    )
        for n in range(count):
            partner_id, task_id = slots[n % len(slots)]
            link = links.create_link(conn, partner_id, task_id, reporting={"subId1": f"sub{n % 3}"})
            codes[link.code] = link.landing_url  # type: ignore[index]
    engine.dispose()
    return codes


def zipf_cdf(count: int, exponent: float) -> list[float]:
    """Cumulative probabilities of ranks 1..count under Zipf's law (rank r weighs 1 / r^exponent)."""
    weights = [1 / rank**exponent for rank in range(1, count + 1)]
    total = sum(weights)
    cdf, running = [], 0.0
    for weight in weights:
        running += weight
        cdf.append(running / total)
    cdf[-1] = 1.0
    return cdf


def wrk(
    port: int, codes: list[str], seconds: int, connections: int, workdir: Path, zipf: float = 0.0, close: bool = False
) -> tuple[float, int, int, float]:
    """Run wrk over the codes; return req/s, requests, answers other than 302, and the p99 latency in ms.

    ``zipf`` 0 takes the codes in turn; above 0 each request draws a code by
    Zipf's law with that exponent (a few links hot, a long tail of rare ones:
    what real traffic over many links looks like), in Lua, inside wrk.
    ``close``: every request on a new connection (``Connection: close``), as
    visitors following links arrive, instead of wrk's kept-alive connections.
    """
    script = workdir / "codes.lua"
    cdf = zipf_cdf(len(codes), zipf) if zipf > 0 else []
    script.write_text(
        "local codes = {" + ",".join(json.dumps(c) for c in codes) + "}\n"
        "local cdf = {" + ",".join(f"{p:.9f}" for p in cdf) + "}\n"
        "local i = 0\n"
        "request = function()\n"
        "  local n\n"
        "  if #cdf > 0 then\n"
        "    local u, lo, hi = math.random(), 1, #cdf\n"
        "    while lo < hi do local mid = math.floor((lo + hi) / 2)\n"
        "      if cdf[mid] < u then lo = mid + 1 else hi = mid end end\n"
        "    n = lo\n"
        "  else i = i + 1; n = (i % #codes) + 1 end\n"
        "  return wrk.format('GET', '/s/' .. codes[n])\n"
        "end\n"
        "local other = 0\n"
        "response = function(status, headers, body)\n"
        "  if status ~= 302 then other = other + 1 end\n"
        "end\n"
    )
    result = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "-H",
            f"User-Agent: {AGENT}",
            *(["-H", "Connection: close"] if close else []),
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rate, total, other = wrk_figures(result.stdout)
    socket_errors = re.search(r"Socket errors: (.*)", result.stdout)
    if socket_errors:
        print(f"    wrk socket errors: {socket_errors.group(1)}")
    return rate, total, other, p99_ms(result.stdout)


def p99_ms(report: str) -> float:
    """wrk's 99th percentile latency (``--latency``) in milliseconds."""
    match = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", report)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def count_clicks(url: str) -> int:
    from sqlalchemy import func, select

    from api import db
    from api.schema import clicks

    engine = db.make_engine(url)
    with db.reading(engine) as conn:
        count = int(conn.execute(select(func.count()).select_from(clicks)).scalar_one())
    engine.dispose()
    return count


def throughput(label: str, url: str, args: argparse.Namespace, workdir: Path) -> list[float]:
    codes = prepare(url, args.links)
    codes_file = workdir / "codes.json"
    codes_file.write_text(json.dumps(codes))
    env = {
        "TASKLINK_DATABASE_URL": url,
        "TASKLINK_SECRET_KEYS": SECRET,
        "BENCH_CODES": str(codes_file),
        "TASKLINK_CLICK_LOG_DIR": str(workdir / "click-log"),
    }
    order = list(codes)
    mix = f"Zipf-distributed (exponent {args.zipf})" if args.zipf > 0 else "in turn"
    print(
        f"\n== {label}: {args.server}, {WORKERS} processes, wrk 2 threads x {args.connections} connections, "
        f"{args.seconds} s per side, {args.rounds} rounds, {len(order)} links clicked {mix}"
    )
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    bare_rates: list[float] = []
    real_rates: list[float] = []
    p99_ratios: list[float] = []
    answered = 0
    stored_total = 0
    for round_no in range(1, args.rounds + 1):
        rates = {}
        p99: dict[str, float] = {}
        cpu_per_request: dict[str, float] = {}
        for name, spec in (("bare", "bench.bare_redirect_app:app"), ("real", "api:create_app()")):
            port = free_port()
            process = start_server(args.server, spec, port, env, workdir / f"{name}.log", workers=WORKERS)
            try:
                # Warm up first: workers finish booting, connections open, caches fill.
                wrk(port, order, 2, args.connections, workdir, args.zipf)
                before = count_clicks(url) if name == "real" else 0
                cpu_before = group_cpu_seconds(process.pid)
                rate, total, other, p99[name] = wrk(port, order, args.seconds, args.connections, workdir, args.zipf)
                cpu_per_request[name] = (group_cpu_seconds(process.pid) - cpu_before) / max(total, 1) * 1e6
            finally:
                stop_server(process)
            if name == "real":
                stored = count_clicks(url) - before
                stored_total += stored
                answered += total - other
                # wrk counts only answers it read; a click in flight when it stops is stored but not counted.
                if stored < total - other:
                    print(f"    !! {total - other} redirects answered but only {stored} clicks stored")
            if other:
                print(f"    !! {name}: {other} answers were not 302")
            rates[name] = rate
        ratio = rates["real"] / rates["bare"]
        cpu_ratio = cpu_per_request["bare"] / cpu_per_request["real"]
        cpu_ratios.append(cpu_ratio)
        bare_rates.append(rates["bare"])
        real_rates.append(rates["real"])
        ratios.append(ratio)
        p99_ratios.append(p99["real"] / p99["bare"])
        print(
            f"  round {round_no}: bare Flask {rates['bare']:7.0f} req/s   Tasklink /s/<code> {rates['real']:7.0f} req/s"
            f"   ratio {ratio:.2f}   | server CPU per request: bare {cpu_per_request['bare']:5.0f} us, "
            f"Tasklink {cpu_per_request['real']:5.0f} us, ratio {cpu_ratio:.2f}   | p99: bare {p99['bare']:.1f} ms, "
            f"Tasklink {p99['real']:.1f} ms ({p99_ratios[-1]:.2f}x)"
        )
    print(
        f"  bare median {statistics.median(bare_rates):.0f} req/s, Tasklink median {statistics.median(real_rates):.0f}"
        f" req/s; ratio median {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})"
    )
    print(
        f"  CPU-per-request ratio (bare / Tasklink; steadier on a shared machine) median "
        f"{statistics.median(cpu_ratios):.2f} (min {min(cpu_ratios):.2f}, max {max(cpu_ratios):.2f})"
    )
    print(
        f"  p99 Tasklink / bare median {statistics.median(p99_ratios):.2f}x "
        f"(min {min(p99_ratios):.2f}, max {max(p99_ratios):.2f})"
    )
    print(f"  clicks stored by the real app during the measured runs: {stored_total} for {answered} redirects wrk read")
    return ratios


def generate_clicks(url: str, count: int) -> None:
    """``count`` clicks over the last 30 days on the bench links, in SQL (5 % bots, ~60 % unique)."""
    from sqlalchemy import text

    from api import db

    engine = db.make_engine(url)
    postgres = engine.dialect.name == "postgresql"
    with db.transaction(engine) as conn:
        link_rows = conn.execute(text("SELECT id, campaign_id, partner_id, task_id FROM links ORDER BY id")).all()
        conn.execute(
            text(
                "CREATE TEMPORARY TABLE bench_links (n INTEGER PRIMARY KEY, id INTEGER, campaign_id INTEGER, "
                "partner_id INTEGER, task_id INTEGER)"
            )
        )
        for n, row in enumerate(link_rows):
            conn.execute(
                text("INSERT INTO bench_links VALUES (:n, :id, :c, :p, :t)"),
                {"n": n, "id": row[0], "c": row[1], "p": row[2], "t": row[3]},
            )
        links_count = len(link_rows)
        if postgres:
            series = f"SELECT g AS i FROM generate_series(1, {count}) g"
            created = "(now() at time zone 'utc') - (i % 2592000) * interval '1 second'"
            click_id = "md5(i::text || 'c')"
            bot = "(i % 20 = 0)"
            unique = "(i % 5 < 3)"
        else:
            series = (
                f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {count}) SELECT i FROM s"
            )
            created = "strftime('%Y-%m-%d %H:%M:%f000', 'now', '-' || (i % 2592000) || ' seconds')"
            click_id = "lower(hex(randomblob(11)))"
            bot = "(i % 20 = 0)"
            unique = "(i % 5 < 3)"
        conn.execute(
            text(
                "INSERT INTO clicks (click_id, link_id, campaign_id, partner_id, task_id, created_at, sub_id1, sub_id2, "
                "sub_id3, shared_id, user_agent, referrer, ip_hash, visitor_hash, is_bot, billable, reason, payout_minor) "
                f"SELECT {click_id}, l.id, l.campaign_id, l.partner_id, l.task_id, {created}, "
                "'sub' || (i % 7), NULL, NULL, CASE WHEN i % 3 = 0 THEN 'shared' END, 'bench', NULL, 'ip', "
                f"'v' || (i % 1000), {bot}, {unique} AND NOT {bot}, "
                f"CASE WHEN {bot} THEN 'bot' WHEN NOT {unique} THEN 'duplicate' END, 0 "
                f"FROM ({series}) s JOIN bench_links l ON l.n = i % {links_count}"
            )
        )
    engine.dispose()


def time_reports(url: str, count: int) -> None:
    import datetime as dt

    from sqlalchemy import text

    from api import db, demo
    from api.services import partners, reports

    engine = db.make_engine(url)
    with db.transaction(engine) as conn:  # start from the raw clicks table: no rollups yet
        conn.execute(text("DELETE FROM click_rollups"))
        conn.execute(text("DELETE FROM click_rollup_state"))
    started = time.perf_counter()
    generate_clicks(url, count)
    print(f"  generated {count:,} clicks in {time.perf_counter() - started:.1f} s")
    today = dt.datetime.now(dt.UTC).date()
    window = {"date_from": today - dt.timedelta(days=29), "date_to": today}
    with db.reading(engine) as conn:
        partner = partners.find_by_email(conn, demo.PARTNER["email"])
        from api.services import advertisers

        brand = advertisers.find_by_email(conn, demo.ADVERTISER["email"])
    assert partner is not None and brand is not None

    def run(label: str) -> None:
        for who, kwargs in (
            ("partner by day", {"partner_id": partner.id, "group_by": "day"}),
            ("partner by subId1", {"partner_id": partner.id, "group_by": "subId1"}),
            ("advertiser by partner", {"advertiser_id": brand.id, "group_by": "partner"}),
        ):
            timings = []
            for _ in range(3):
                started = time.perf_counter()
                with db.reading(engine) as conn:
                    report = reports.summary(conn, **window, **kwargs)
                timings.append(time.perf_counter() - started)
            print(
                f"  {label:34s} {who:22s} {min(timings) * 1000:9.1f} ms  (totals: {report['totals']['clicks']:,} clicks)"
            )

    run("report straight from clicks")
    started = time.perf_counter()
    with db.transaction(engine) as conn:
        folded = reports.fold_clicks(conn, settle=dt.timedelta(0))
    print(f"  one-off fold of {folded:,} clicks into daily rollups: {time.perf_counter() - started:.1f} s")
    run("report from rollups + tail")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--links", type=int, default=LINKS, help="how many short links to click (default 60)")
    parser.add_argument(
        "--zipf",
        type=float,
        default=0.0,
        help="click the links by Zipf's law with this exponent (e.g. 1.0) instead of in turn",
    )
    parser.add_argument("--postgres", help="also run on this PostgreSQL database (its tables are replaced)")
    parser.add_argument("--report-clicks", type=int, default=1_000_000)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--server",
        choices=SERVERS,
        default="sync",
        help="how both apps are served (default: gunicorn sync workers; gevent is production)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        targets = [] if args.skip_sqlite else [("SQLite (fresh file, WAL)", f"sqlite:///{workdir / 'bench.db'}")]
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        for label, url in targets:
            throughput(label, url, args, workdir)
            if args.report_clicks:
                print(f"\n== {label}: summary report over {args.report_clicks:,} clicks")
                time_reports(url, args.report_clicks)


if __name__ == "__main__":
    main()
