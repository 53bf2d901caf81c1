"""Schemathesis against a running node (the production server): no 5xx, no answer the OpenAPI document does not describe.

The node serves the demo data on its own database (a fresh PostgreSQL
database when the suite runs on PostgreSQL, a SQLite file otherwise); every
operation is fuzzed with valid and invalid requests carrying the demo
partner's token or the demo advertiser's API key, so they reach past 401.
``bench/fuzz.py`` does the work; ``bench/scale.py`` prints the same counts.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.cluster import Cluster, fresh_database, is_postgresql  # noqa: E402
from bench.fuzz import fuzz_as_demo  # noqa: E402

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("TASKLINK_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def node_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One node on its own database with the demo data; limits raised so fuzzing is not throttled."""
    server = os.environ.get("TASKLINK_TEST_DATABASE_URL")
    env = {"TASKLINK_RATELIMIT_LOGIN": "1000000/minute", "TASKLINK_RATELIMIT_LINKS": "1000000/minute"}
    if is_postgresql(server):
        database = fresh_database(server, "tasklink_fuzz_" + str(os.getpid()))  # type: ignore[arg-type]
    else:
        database = contextlib.nullcontext(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
    with database as url, Cluster(url, nodes_count=1, workers=2, redis=False, env=env) as cluster:
        cluster.flask("seed-demo", "--force")
        yield cluster.nodes[0].url


def test_fuzzing_the_running_api_finds_nothing(node_url: str) -> None:
    result = fuzz_as_demo(node_url, max_examples=EXAMPLES)
    print(f"fuzzing: {result.requests} requests, statuses {dict(sorted(result.statuses.items()))}")
    assert result.server_errors == 0, "\n".join(result.failures)
    assert result.failures == [], "\n".join(result.failures)
    # It reached past authentication: successes on most operations.
    assert sum(count for status, count in result.statuses.items() if status < 300) > result.requests // 5
    assert len(result.per_operation) >= 10
