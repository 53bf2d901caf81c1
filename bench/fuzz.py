"""Schemathesis over ``/api/v1/openapi.json`` against a running node, counting what it finds.

Used by ``tests/test_fuzz.py`` (which fails on any finding) and by
``bench/scale.py`` (which prints the counts). Every operation is fuzzed with
schema-valid (positive) and schema-breaking (negative) requests, each sent
with the credentials its ``security`` names (a partner token or the
advertiser's API key) so requests get past 401 and reach the code behind it.
Every answer goes through schemathesis' checks: no 5xx, a documented status,
a body matching its schema, the right content type and headers.
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

#: Checks left out, and why:
#: - negative_data_rejection: a "negative" case is often only negative because it
#:   drops the Authorization header we add back, or adds an unknown query
#:   parameter, which the API ignores by design (HTTP caches and trackers add them).
#: - positive_data_acceptance: random but schema-valid ids name rows that do not
#:   exist or are someone else's; the API answers 404 for those by design.
EXCLUDED_CHECKS = (schemathesis.checks.negative_data_rejection, schemathesis.checks.positive_data_acceptance)


@dataclass
class FuzzResult:
    """What the fuzzer saw over every operation."""

    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    per_operation: Counter[str] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        """How many requests were sent."""
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        """How many answers were a 5xx."""
        return sum(count for status, count in self.statuses.items() if status >= 500)


def login(base_url: str, email: str, password: str) -> str:
    """A partner session token from ``POST /api/v1/auth/login``."""
    request = urllib.request.Request(
        base_url + "/api/v1/auth/login",
        data=json.dumps({"email": email, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.load(response)["token"])


def _security_scheme(operation: Any, document: Mapping[str, Any]) -> str | None:
    security = operation.definition.raw.get("security", document.get("security", []))
    for requirement in security or []:
        for name in requirement:
            return str(name)
    return None


def fuzz(
    base_url: str,
    credentials: Mapping[str, Mapping[str, str]],
    max_examples: int = 25,
    seed: int = 1,
    modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    skip: Callable[[str, str], bool] = lambda method, path: False,
    overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> FuzzResult:
    """Fuzz every operation of the node at ``base_url``.

    ``credentials`` maps a security scheme name of the document
    (``partnerToken``, ``advertiserKey``) to the headers to send;
    ``overrides`` maps ``"METHOD /path"`` to other headers (for example a
    second partner's token for ``POST /api/v1/auth/logout``, which revokes
    the token it is sent with). Findings are
    collected, not raised, so one bad operation does not hide the others.
    """
    schema = schemathesis.openapi.from_url(base_url + "/api/v1/openapi.json")
    document = schema.raw_schema
    result = FuzzResult()
    session = requests.Session()
    seen: set[str] = set()
    for item in schema.get_all_operations():
        operation = item.ok()
        if skip(operation.method.upper(), operation.path):
            continue
        label = f"{operation.method.upper()} {operation.path}"
        headers = dict((overrides or {}).get(label) or credentials.get(_security_scheme(operation, document) or "", {}))
        for mode in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=max_examples,
                deadline=None,
                database=None,
                derandomize=False,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            # run is called below, in this same iteration: the loop variables it reads are this one's (B023).
            def run(case: Any) -> None:
                response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)  # noqa: B023
                result.statuses[response.status_code] += 1
                result.per_operation[label] += 1  # noqa: B023
                try:
                    case.validate_response(response, excluded_checks=list(EXCLUDED_CHECKS), headers=headers)  # noqa: B023
                except AssertionError as exc:  # schemathesis' failures are AssertionErrors
                    key = f"{label} [{mode.value}] {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"  # noqa: B023
                    if key not in seen:
                        seen.add(key)
                        result.failures.append(f"{key}\n    reproduce: {case.as_curl_command(headers)}"[:1500])  # noqa: B023

            from hypothesis import seed as hypothesis_seed
            from hypothesis.errors import Unsatisfiable

            try:
                hypothesis_seed(seed)(run)()
            except Unsatisfiable:
                # No invalid request exists for an operation without any input (GET /api/v1/health).
                if mode is not GenerationMode.NEGATIVE:
                    raise
    session.close()
    return result


def fuzz_as_demo(base_url: str, max_examples: int = 25) -> FuzzResult:
    """:func:`fuzz` with the demo's credentials (``seed-demo``): the partner's token, the advertiser's key.

    ``POST /api/v1/auth/logout`` revokes the token it is sent with, so it gets
    the other demo partner's token and the rest of the run stays signed in.
    """
    from api import demo

    partner = login(base_url, demo.PARTNER["email"], demo.PARTNER["password"])
    other = login(base_url, demo.OTHER["email"], demo.OTHER["password"])
    return fuzz(
        base_url,
        {
            "partnerToken": {"Authorization": f"Bearer {partner}"},
            "advertiserKey": {"Authorization": f"Bearer {demo.ADVERTISER['api_key']}"},
        },
        max_examples=max_examples,
        overrides={"POST /api/v1/auth/logout": {"Authorization": f"Bearer {other}"}},
    )
