"""Schemathesis (its pytest integration) over the live OpenAPI document of the real
service, `omnioffer serve` on a real port, on both stores (the embedded SQLite file and
a private redis-server), with an API key: every check on (no 5xx, every answer
conforms to the document: status, content type, headers and body schema; schema-valid
requests accepted, invalid ones refused; a request without the key refused). Requests
the fuzzer generates as schema-valid get real ids swapped in (fuzz_target.Realistic),
and the last test asserts that a real share of them reached the 200 paths.

Bounded for the suite by OMNIOFFER_FUZZ_EXAMPLES (hypothesis examples per operation and
phase, default 12); benchmarks/fuzz_api.py runs the same tests longer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fuzz_target import Realistic, Target, serve
from hypothesis import HealthCheck, settings

from redis_server import RedisServer, require_redis_server
from training.train import TrainOutcome

EXAMPLES = int(os.environ.get("OMNIOFFER_FUZZ_EXAMPLES", "12"))
REPORT = os.environ.get("OMNIOFFER_FUZZ_REPORT")  # a folder: <store>.json, every answer counted
MIN_POSITIVE_2XX = 0.5  # of the schema-valid requests, at least this share answered 2xx
OPERATIONS = {"POST /v1/decisions", "POST /v1/recommendations", "GET /v1/items/{item_id}/similar",
              "POST /v1/events", "POST /v1/feedback", "DELETE /v1/customers/{customer_id}",
              "PUT /v1/customers/{customer_id}/consent", "GET /health/live", "GET /health/ready",
              "GET /metrics", "POST /admin/policy/reload"}  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def target(
    request: pytest.FixtureRequest,
    trained: tuple[Path, TrainOutcome],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Target]:
    root = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    if request.param == "sqlite":
        with serve(trained[0], f"sqlite:///{root / 'store.sqlite'}", root) as served:
            yield served
        return
    require_redis_server()  # fails, never skips, without redis-server
    redis = RedisServer().start()
    try:
        with serve(trained[0], redis.url, root) as served:
            yield served
    finally:
        redis.cleanup()


@pytest.fixture(scope="module")
def api(target: Target) -> Any:
    config = schemathesis.Config.from_dict({
        "generation": {"max-examples": EXAMPLES, "database": "none"},
        "auth": {"openapi": {"bearer": {"bearer": target.key}, "apiKey": {"api_key": target.key}}},
    })  # fmt: skip
    return schemathesis.openapi.from_url(f"{target.url}/schema/openapi.json", config=config)


# The routes of issue 14; the experiment routes (issue 15) came later and are not fuzzed yet.
OPERATION_IDS = ["createDecision", "createRecommendations", "getSimilarItems", "ingestEvents",
                 "recordFeedback", "eraseCustomer", "setConsent", "getLiveness", "getReadiness",
                 "getMetrics", "reloadPolicy"]  # fmt: skip
schema = schemathesis.pytest.from_fixture("api").include(operation_id=OPERATION_IDS)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_the_service_keeps_every_promise_of_its_openapi_document(
    case: schemathesis.Case, target: Target
) -> None:
    mode = case.meta.generation.mode.value if case.meta else "explicit"
    if mode == "positive":
        realistic = Realistic(target.world, [case.path_parameters, case.query, case.body])
        realistic.path(case.path_parameters)
        realistic.body(case.body)
    response = case.call_and_validate()
    target.tally.add(case.operation.label, mode, response.status_code)
    if case.operation.label == "POST /v1/decisions" and response.status_code == 200:
        target.world.remember(response.json())


def test_the_fuzzer_reached_the_200_paths(target: Target) -> None:
    tally = target.tally
    assert tally.answers, "run with the fuzz test above (it counts the answers)"
    if REPORT:
        Path(REPORT, f"{target.store}.json").write_text(json.dumps(tally.as_json()), "utf-8")
    assert not [a for a in tally.answers if a[2] >= 500], tally.as_json()
    assert tally.share_2xx("positive") >= MIN_POSITIVE_2XX, tally.as_json()
    assert tally.operations_with_2xx() == OPERATIONS, tally.as_json()
    without_input = {"GET /health/live", "GET /health/ready", "GET /metrics",
                     "POST /admin/policy/reload"}  # fmt: skip
    negative = {op for op, mode, _ in tally.answers if mode == "negative"}
    assert negative >= OPERATIONS - without_input  # routes with input got invalid input too
