"""The HTTP contract over a FakeDecider: shapes, status codes, metrics, OpenAPI, lifespan."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from omnioffer.api.app import create_app
from omnioffer.contracts.http import (
    DecisionRequest,
    DecisionResponse,
    EventsResponse,
    FeedbackResponse,
    Readiness,
    RecommendationResponse,
    SimilarResponse,
)
from omnioffer.errors import NotFound
from omnioffer.settings import Settings
from omnioffer.store.base import StoreUnavailable

Client = TestClient[Litestar]
ValidBody = Callable[[str], dict[str, Any]]
ProblemFields = Callable[[Any], list[str]]

RESPONSE_TYPES: dict[str, type[Any]] = {
    "/v1/decisions": DecisionResponse,
    "/v1/recommendations": RecommendationResponse,
    "/v1/events": EventsResponse,
    "/v1/feedback": FeedbackResponse,
}

OPERATIONS = {
    ("/v1/decisions", "post"): "createDecision",
    ("/v1/recommendations", "post"): "createRecommendations",
    ("/v1/items/{item_id}/similar", "get"): "getSimilarItems",
    ("/v1/events", "post"): "ingestEvents",
    ("/v1/feedback", "post"): "recordFeedback",
    ("/v1/customers/{customer_id}", "delete"): "eraseCustomer",
    ("/v1/customers/{customer_id}/consent", "put"): "setConsent",
    ("/health/live", "get"): "getLiveness",
    ("/health/ready", "get"): "getReadiness",
    ("/metrics", "get"): "getMetrics",
    ("/admin/policy/reload", "post"): "reloadPolicy",
    ("/v1/experiments", "get"): "listExperiments",
    ("/v1/experiments/{experiment_id}", "get"): "getExperiment",
    ("/v1/experiments/{experiment_id}/results", "get"): "getExperimentResults",
    ("/v1/experiments/{experiment_id}", "put"): "putExperiment",
    ("/v1/experiments/{experiment_id}/stop", "post"): "stopExperiment",
    ("/v1/holdout", "get"): "getHoldout",
    ("/v1/holdout", "put"): "putHoldout",
}


@pytest.mark.parametrize("path", sorted(RESPONSE_TYPES))
def test_post_endpoints_answer_200_with_their_response_shape(
    client: Client, valid_body: ValidBody, path: str
) -> None:
    response = client.post(path, json=valid_body(path))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    msgspec.json.decode(response.content, type=RESPONSE_TYPES[path])


def test_decision_request_reaches_the_decider_decoded(
    client: Client, fake: Any, valid_body: ValidBody
) -> None:
    body = valid_body("/v1/decisions")
    del body["k"]
    response = client.post("/v1/decisions", json=body)
    assert response.status_code == 200
    operation, request = fake.calls[-1]
    assert operation == "decide"
    assert isinstance(request, DecisionRequest)
    assert request.k == 5  # the contract's default
    assert request.context is not None and request.context.cart == ["i9"]
    assert response.json()["offers"][0]["rank"] == 1


def test_similar_passes_item_and_default_k(client: Client, fake: Any) -> None:
    response = client.get("/v1/items/sku-42/similar")
    assert response.status_code == 200
    assert msgspec.json.decode(response.content, type=SimilarResponse).item_id == "sku-42"
    assert fake.calls[-1] == ("similar", ("sku-42", 10))
    assert client.get("/v1/items/sku-42/similar", params={"k": 100}).status_code == 200
    assert fake.calls[-1] == ("similar", ("sku-42", 100))


def test_liveness(client: Client) -> None:
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_is_200_when_ready_and_503_when_not(client: Client, fake: Any) -> None:
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert msgspec.json.decode(ready.content, type=Readiness).ready
    fake.ready = False
    not_ready = client.get("/health/ready")
    assert not_ready.status_code == 503
    assert not_ready.json()["ready"] is False


def test_readiness_is_503_when_the_store_is_down(client: Client, fake: Any) -> None:
    fake.error = StoreUnavailable("connection refused")
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json() == {"ready": False, "store": "unavailable", "model_version": None}


def test_store_unavailable_on_events_is_503_with_retry_after(
    client: Client, fake: Any, valid_body: ValidBody, problem_fields: ProblemFields
) -> None:
    fake.error = StoreUnavailable("redis at 10.1.2.3:6379 timed out")
    response = client.post("/v1/events", json=valid_body("/v1/events"))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert problem_fields(response) == []
    assert "10.1.2.3" not in response.text  # no internals
    metrics = client.get("/metrics").text
    assert 'omnioffer_store_errors_total{operation="ingest"} 1.0' in metrics


def test_not_found_from_the_decider_is_404(
    client: Client, fake: Any, problem_fields: ProblemFields
) -> None:
    fake.error = NotFound("no item 'nope' in model v1")
    response = client.get("/v1/items/nope/similar")
    assert response.status_code == 404
    problem_fields(response)
    assert response.json()["type"].endswith("/not-found")


def test_unexpected_errors_are_500_problems_without_internals_and_logged(
    client: Client,
    fake: Any,
    valid_body: ValidBody,
    problem_fields: ProblemFields,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.error = RuntimeError("secret: password=hunter2")
    with caplog.at_level(logging.ERROR, logger="omnioffer.api"):
        response = client.post("/v1/decisions", json=valid_body("/v1/decisions"))
    assert response.status_code == 500
    problem_fields(response)
    assert "hunter2" not in response.text and "Traceback" not in response.text
    assert any(record.exc_info for record in caplog.records)


def test_metrics_report_latency_and_decisions_by_channel(
    client: Client, valid_body: ValidBody
) -> None:
    body = valid_body("/v1/decisions")
    for _ in range(2):
        assert client.post("/v1/decisions", json=body).status_code == 200
    anonymous = {"channel": "app"}
    assert client.post("/v1/decisions", json=anonymous).status_code == 200
    unknown_channel = {"channel": "carrier-pigeon", "customer_id": "c1"}
    assert client.post("/v1/decisions", json=unknown_channel).status_code == 200
    assert client.post("/v1/decisions", json={"channel": 1}).status_code == 400

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE omnioffer_http_request_duration_seconds histogram" in text
    assert (
        'omnioffer_http_request_duration_seconds_bucket{le="0.0005",method="POST",'
        'route="/v1/decisions",status="200"}'
    ) in text
    assert 'route="/v1/decisions",status="400"' in text
    assert 'omnioffer_decisions_total{channel="web",fallback="none"} 2.0' in text
    assert 'omnioffer_decisions_total{channel="app",fallback="unknown_customer"} 1.0' in text
    assert 'omnioffer_decisions_total{channel="other",fallback="none"} 1.0' in text
    # no catalog followed here: every offer label is bounded to "other"
    assert 'omnioffer_offers_served_total{channel="other",offer="other"} 2.0' in text
    assert 'omnioffer_offers_served_total{channel="web",offer="other"} 4.0' in text
    assert 'channel="carrier-pigeon"' not in text and 'offer="o1"' not in text


def test_apps_have_separate_registries(fake: Any, valid_body: ValidBody) -> None:
    first, second = create_app(Settings(), decider=fake), create_app(Settings(), decider=fake)
    with TestClient(first) as one, TestClient(second) as two:
        one.post("/v1/decisions", json=valid_body("/v1/decisions"))
        assert "omnioffer_decisions_total{" in one.get("/metrics").text
        assert "omnioffer_decisions_total{" not in two.get("/metrics").text


def test_openapi_lists_every_route_with_its_operation_id(client: Client) -> None:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "omnioffer"
    found = {
        (path, method): operation.get("operationId")
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    assert found == OPERATIONS
    decisions = schema["paths"]["/v1/decisions"]["post"]["responses"]
    assert "application/problem+json" in decisions["400"]["content"]


def test_lifespan_builds_and_closes_the_decider(fake: Any, valid_body: ValidBody) -> None:
    seen: list[Settings] = []

    async def build_decider(settings: Settings) -> Any:
        seen.append(settings)
        return fake

    settings = Settings(port=9999)
    with TestClient(create_app(settings, build=build_decider)) as client:
        assert seen == [settings]
        assert client.post("/v1/feedback", json=valid_body("/v1/feedback")).status_code == 200
        assert not fake.closed
    assert fake.closed


def test_a_given_decider_is_left_open(app: Litestar, fake: Any) -> None:
    with TestClient(app) as client:
        assert client.get("/health/live").status_code == 200
    assert not fake.closed  # the caller owns it


def test_an_app_without_decider_or_builder_is_refused() -> None:
    with pytest.raises(ValueError, match="decider or a builder"):
        create_app(Settings())
