"""Property-based fuzzing of every operation of every service's OpenAPI (schemathesis), on SQLite and PostgreSQL.

Each service runs over real HTTP (tests/services/live.py), seeded, with a token of broad roles on every site.
Every generated request must answer without a server error, with a status code and a content type the
operation documents. Bounded: EXAMPLES requests per strategy (valid, invalid, valid with seeded names) per
operation.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from tests.services.live import SERVICES, LiveService

# Per operation, valid and as many invalid; PM_FUZZ_EXAMPLES runs deeper (the suite keeps it to minutes).
EXAMPLES = int(os.environ.get("PM_FUZZ_EXAMPLES", "5"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]
# Seeded names (deploy/demo.yaml): a third strategy per operation uses them for its path parameters and its site
# query, so the fuzzer gets past the 404s into the routes' own work.
KNOWN = {
    "site": "harbour",
    "unit_id": "harbour-A-0101",
    "party_id": "harbour-A-0101-owner",
    "code": "engineering",
    "category": "water",
}


def seeded(operation: Any) -> Any | None:
    """A strategy with the seeded names, or None when the operation takes a parameter none is known for."""
    path = {p.name for p in operation.path_parameters}
    if not path <= KNOWN.keys():
        return None
    query = {"site": KNOWN["site"]} if any(p.name == "site" for p in operation.query) else None
    if not path and query is None:
        return None
    return operation.as_strategy(path_parameters={name: KNOWN[name] for name in path} or None, query=query)


def fuzz(live: LiveService) -> list[str]:
    """Every failure found, one line per operation (an operation stops at its first failing request)."""
    schema = schemathesis.openapi.from_dict(live.app.openapi())
    session = requests.Session()  # keep-alive: a request that breaks the connection breaks the next one
    headers = live.headers()
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in ("/healthz", "/readyz"):
            continue  # no input; /readyz answers 503 here by design: the runtime is not started
        operations += 1
        strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
        with contextlib.suppress(Exception):  # an operation may have nothing invalid to generate
            strategies.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        known = seeded(operation)
        if known is not None:
            strategies.append(known)

        @given(case=st.one_of(strategies))
        @settings(
            max_examples=len(strategies) * EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call(base_url=live.base_url, session=session, headers=headers, timeout=30)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collected: one report per operation
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations > 5, "the schema lists the service's operations"
    return failures


@pytest.mark.parametrize("service", SERVICES)
def test_no_server_error_and_no_undocumented_answer(
    service: str, database_urls: dict[str, str], tmp_path: Path
) -> None:
    with LiveService(service, database_urls[service], tmp_path) as live:
        failures = fuzz(live)
    assert not failures, "\n\n".join(failures)
