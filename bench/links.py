"""Link creation throughput: the real app against a bare Flask JSON endpoint, in the same run.

Both are served by gunicorn with the same settings (sync workers, one per
core by default) and loaded with ``wrk`` sending ``POST /api/v1/links``
with a partner's bearer token. The real app writes each link to the
database (a fresh SQLite file in WAL mode by default, or the PostgreSQL
database named by ``--database``), checks every rule and the rate limit
(raised out of the way), and signs nothing for short links.

    python bench/links.py                      # SQLite, 10 s per side
    python bench/links.py --seconds 20 --kind regular
    python bench/links.py --database "postgresql:///tasklink_bench?host=/var/run/postgresql"

Prints requests per second for each and the ratio (real / bare).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.serving import free_port, start_gunicorn, stop_gunicorn, wrk_figures  # noqa: E402

SECRET = "bench-secret-key-not-for-production"


def prepare_database(url: str) -> tuple[str, int]:
    """Create the schema and demo data; return a partner token and a link-available task id."""
    from api import create_app, db, demo, migrations
    from api.services import partners, sessions, tasks

    app = create_app({"SECRET_KEYS": [SECRET], "DATABASE_URL": url})
    engine = db.get_engine(app)
    migrations.upgrade(engine)
    with db.transaction(engine) as conn:
        demo.seed_demo(conn)
        partner = partners.find_by_email(conn, demo.PARTNER["email"])
        assert partner is not None
        campaign_id = next(iter(_available(conn, partner.id)))
        task = tasks.list_tasks_for_partner(conn, partner.id, campaign_id)[0]
    token, _ = sessions.issue_partner_token([SECRET], partner)
    engine.dispose()
    return token, task.id


def _available(conn, partner_id):  # type: ignore[no-untyped-def]
    from api.services import campaigns

    for entry in campaigns.list_campaigns_for_partner(conn, partner_id):
        if entry.availability.available and entry.campaign.landing_mode == "manual":
            yield entry.campaign.id


def load(port: int, body: dict, token: str, seconds: int, connections: int, workdir: Path) -> tuple[float, int, int]:
    """Run wrk; return requests per second, requests completed and non-2xx answers."""
    script = workdir / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
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
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/api/v1/links",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return wrk_figures(result.stdout)


def count_links(url: str) -> int:
    """How many links the database holds (to show every request really made one)."""
    from sqlalchemy import func, select

    from api import db
    from api.schema import links

    engine = db.make_engine(url)
    with db.reading(engine) as conn:
        count = conn.execute(select(func.count()).select_from(links)).scalar_one()
    engine.dispose()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--kind", choices=("short", "regular"), default="short")
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = args.database or f"sqlite:///{workdir / 'bench.db'}"
        token, task_id = prepare_database(url)
        before = count_links(url)
        body = {"task_id": task_id, "kind": args.kind, "subId1": "bench"}
        env = {
            "TASKLINK_DATABASE_URL": url,
            "TASKLINK_SECRET_KEYS": SECRET,
            "TASKLINK_RATELIMIT_LINKS": "100000000/minute",
            "TASKLINK_BASE_URL": "https://go.example",
        }
        results = {}
        for name, spec in (
            ("bare Flask JSON endpoint", "bench.baseline_app:app"),
            ("Tasklink POST /api/v1/links", "api:create_app()"),
        ):
            port = free_port()
            process = start_gunicorn(spec, port, env, workdir / f"{port}.log", workers=args.workers)
            try:
                results[name] = load(port, body, token, args.seconds, args.connections, workdir)
            finally:
                stop_gunicorn(process)

        stored = count_links(url) - before

    print(
        f"gunicorn {args.workers} sync workers, wrk 2 threads x {args.connections} connections, "
        f"{args.seconds} s each, {args.kind} links, database {'SQLite (fresh file)' if not args.database else args.database}"
    )
    for name, (rate, total, errors) in results.items():
        print(f"  {name:30s} {rate:9.1f} requests/s  ({total} requests, {errors} not 2xx)")
    print(
        f"  links stored by the real app: {stored} (requests still in flight when wrk stops are stored but not counted)"
    )
    bare = results["bare Flask JSON endpoint"][0]
    real = results["Tasklink POST /api/v1/links"][0]
    print(f"  ratio real / bare: {real / bare:.2f}  (the real app does {bare / real:.1f}x the work per request)")


if __name__ == "__main__":
    main()
