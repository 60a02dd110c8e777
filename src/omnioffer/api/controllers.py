"""Thin HTTP handlers: Litestar + msgspec decode and validate, the Decider decides.

Handlers only call the Decider found on `app.state` and record metrics; every error
they let through becomes a problem body in omnioffer.api.errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, cast

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from omnioffer.api.errors import PROBLEM_MEDIA_TYPE, Problem
from omnioffer.api.metrics import Metrics
from omnioffer.api.ports import Decider
from omnioffer.api.schemas import (
    DecisionRequest,
    DecisionResponse,
    EventsRequest,
    EventsResponse,
    FeedbackRequest,
    FeedbackResponse,
    Readiness,
    RecommendationRequest,
    RecommendationResponse,
    SimilarResponse,
)
from omnioffer.store.base import StoreUnavailable

_PROBLEM_DESCRIPTIONS = {
    400: "Malformed JSON or a value of the wrong type, range or size (errors[].field).",
    404: "The addressed resource does not exist.",
    413: "The request body is too large.",
    422: "Well-formed but semantically wrong input (errors[].field).",
    503: "The feature store is unavailable; retry after the Retry-After header.",
}


def _problems(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problem answers a route can give."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_PROBLEM_DESCRIPTIONS[status],
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }


def decider_of(state: State) -> Decider:
    return cast("Decider", state.decider)


def metrics_of(state: State) -> Metrics:
    return cast("Metrics", state.metrics)


@contextmanager
def _store_errors(state: State, operation: str) -> Iterator[None]:
    """Count StoreUnavailable by operation, then let it become a 503."""
    try:
        yield
    except StoreUnavailable:
        metrics_of(state).count_store_error(operation)
        raise


class DecisionController(Controller):
    """Reads: offers, recommendations and similar items."""

    path = "/v1"
    tags = ("decisions",)

    @post(
        "/decisions",
        operation_id="createDecision",
        summary="Rank the next best offers for a customer on a channel",
        status_code=HTTP_200_OK,
        responses=_problems(400, 413, 422, 503),
    )
    async def decide(self, data: JSONBody[DecisionRequest], state: State) -> DecisionResponse:
        with _store_errors(state, "decide"):
            response = await decider_of(state).decide(data)
        metrics_of(state).count_decision(response.channel, response.fallback)
        return response

    @post(
        "/recommendations",
        operation_id="createRecommendations",
        summary="Recommend items for a customer",
        status_code=HTTP_200_OK,
        responses=_problems(400, 413, 422, 503),
    )
    async def recommend(
        self, data: JSONBody[RecommendationRequest], state: State
    ) -> RecommendationResponse:
        with _store_errors(state, "recommend"):
            return await decider_of(state).recommend(data)

    @get(
        "/items/{item_id:str}/similar",
        operation_id="getSimilarItems",
        summary="Items similar to one item",
        responses=_problems(400, 404, 422, 503),
    )
    async def similar(
        self,
        item_id: Annotated[str, Parameter(min_length=1, max_length=200)],
        state: State,
        k: Annotated[int, Parameter(ge=1, le=100, description="How many items")] = 10,
    ) -> SimilarResponse:
        with _store_errors(state, "similar"):
            return await decider_of(state).similar(item_id, k)


class EventController(Controller):
    """Writes: behavioural events and offer feedback."""

    path = "/v1"
    tags = ("events",)

    @post(
        "/events",
        operation_id="ingestEvents",
        summary="Record a batch of events (idempotent per event_id)",
        status_code=HTTP_200_OK,
        responses=_problems(400, 413, 422, 503),
    )
    async def ingest(self, data: JSONBody[EventsRequest], state: State) -> EventsResponse:
        with _store_errors(state, "ingest"):
            return await decider_of(state).ingest(data)

    @post(
        "/feedback",
        operation_id="recordFeedback",
        summary="Record what a customer did with a served offer",
        status_code=HTTP_200_OK,
        responses=_problems(400, 404, 413, 422, 503),
    )
    async def feedback(self, data: JSONBody[FeedbackRequest], state: State) -> FeedbackResponse:
        with _store_errors(state, "feedback"):
            return await decider_of(state).feedback(data)


class Liveness(msgspec.Struct):
    status: str


class HealthController(Controller):
    """Probes and metrics for the platform; never touch customer data."""

    tags = ("operations",)

    @get("/health/live", operation_id="getLiveness", summary="The process is up")
    async def live(self) -> Liveness:
        return Liveness(status="ok")

    @get(
        "/health/ready",
        operation_id="getReadiness",
        summary="Ready to serve: store reachable and a model loaded (else 503)",
        responses={
            HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(
                data_container=Readiness, description="Not ready", generate_examples=False
            )
        },
    )
    async def ready(self, state: State) -> Response[Readiness]:
        try:
            readiness = await decider_of(state).readiness()
        except StoreUnavailable:
            metrics_of(state).count_store_error("readiness")
            readiness = Readiness(ready=False, store="unavailable", model_version=None)
        status = HTTP_200_OK if readiness.ready else HTTP_503_SERVICE_UNAVAILABLE
        return Response(readiness, status_code=status)

    @get(
        "/metrics",
        operation_id="getMetrics",
        summary="Prometheus metrics (text exposition format)",
        media_type="text/plain",
    )
    async def metrics(self, state: State) -> Response[bytes]:
        body, content_type = metrics_of(state).exposition()
        # Litestar appends the charset to text/* itself; don't send it twice
        return Response(body, media_type=content_type.replace("; charset=utf-8", ""))


ROUTE_HANDLERS = (DecisionController, EventController, HealthController)
