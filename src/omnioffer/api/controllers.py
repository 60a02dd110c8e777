"""Thin HTTP handlers: Litestar + msgspec decode and validate, the Decider decides.

Handlers get the Decider and the Metrics by dependency injection (`Services`, provided
from `app.state` by the app factory's `DEPENDENCIES`), call the Decider and record metrics;
every error they let through becomes a problem body in omnioffer.api.errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, cast

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import Body, Dependency, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from omnioffer.api.access_log import hash_customer, note
from omnioffer.api.errors import PROBLEM_MEDIA_TYPE, Problem
from omnioffer.api.metrics import Metrics
from omnioffer.api.ports import Decider
from omnioffer.contracts.http import (
    NAME_PATTERN,
    ConsentRequest,
    ConsentResponse,
    DecisionRequest,
    DecisionResponse,
    ErasureResponse,
    EventsRequest,
    EventsResponse,
    ExperimentOut,
    ExperimentsOut,
    FeedbackRequest,
    FeedbackResponse,
    HoldoutOut,
    PolicyReloaded,
    Readiness,
    RecommendationRequest,
    RecommendationResponse,
    SimilarResponse,
)
from omnioffer.store.base import StoreUnavailable

_PROBLEM_DESCRIPTIONS = {
    400: "Malformed JSON or a value of the wrong type, range or size (errors[].field).",
    401: "No valid API key (with a keys file): Authorization: Bearer <key> or X-API-Key.",
    403: "The key lacks the route's scope, or a channel the body names.",
    404: "The addressed resource does not exist.",
    412: "If-Match names a version of the definitions that is no longer the current one.",
    413: "The request body is too large.",
    415: "The body is not sent as Content-Type: application/json (or application/*+json).",
    422: "Well-formed but semantically wrong input (errors[].field).",
    503: "The feature store is unavailable; retry after the Retry-After header.",
}


def _problems(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problem answers a route can give (the limits every route
    has, 429 and 431, are added by api/openapi.py)."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_PROBLEM_DESCRIPTIONS[status],
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }


@dataclass(frozen=True, slots=True)
class Services:
    """What a handler is given: the Decider, and the Metrics it records."""

    decider: Decider
    metrics: Metrics


def services_of(state: State) -> Services:
    return Services(cast("Decider", state.decider), cast("Metrics", state.metrics))


# One dependency, not one per object: Litestar resolves several independent dependencies
# of a handler in an anyio task group, about 80 us per request (measured), where one
# costs a call. Injected, not validated: they are the app's own objects.
ServicesDep = Annotated[Services, Dependency(skip_validation=True)]
DEPENDENCIES = {"services": Provide(services_of, sync_to_thread=False)}


@contextmanager
def _store_errors(metrics: Metrics, operation: str) -> Iterator[None]:
    """Count StoreUnavailable by operation, then let it become a 503."""
    try:
        yield
    except StoreUnavailable:
        metrics.count_store_error(operation)
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
        responses=_problems(400, 401, 403, 413, 415, 422, 503),
    )
    async def decide(
        self, data: JSONBody[DecisionRequest], services: ServicesDep
    ) -> DecisionResponse:
        with _store_errors(services.metrics, "decide"):
            response = await services.decider.decide(data)
        if not response.dry_run:
            services.metrics.count_decision(response.channel, response.fallback)
            services.metrics.count_served(response.channel, (o.offer_id for o in response.offers))
            exposures = [(x.id, x.variant) for x in response.experiments]
            if response.holdout:
                exposures.append(("holdout", "held_out"))
            services.metrics.count_experiments(exposures)
        note(customer=hash_customer(response.customer_id), channel=response.channel,
             decision_id=response.decision_id, model_version=response.model_version,
             fallback=response.fallback)  # fmt: skip
        return response

    @post(
        "/recommendations",
        operation_id="createRecommendations",
        summary="Recommend items for a customer",
        status_code=HTTP_200_OK,
        responses=_problems(400, 401, 403, 413, 415, 422, 503),
    )
    async def recommend(
        self, data: JSONBody[RecommendationRequest], services: ServicesDep
    ) -> RecommendationResponse:
        with _store_errors(services.metrics, "recommend"):
            response = await services.decider.recommend(data)
        note(customer=hash_customer(response.customer_id), channel=data.channel,
             model_version=response.model_version, fallback=response.fallback)  # fmt: skip
        return response

    @get(
        "/items/{item_id:str}/similar",
        operation_id="getSimilarItems",
        summary="Items similar to one item",
        responses=_problems(400, 401, 403, 404, 422, 503),
    )
    async def similar(
        self,
        item_id: Annotated[str, Parameter(min_length=1, max_length=200)],
        services: ServicesDep,
        k: Annotated[int, Parameter(ge=1, le=100, description="How many items")] = 10,
    ) -> SimilarResponse:
        with _store_errors(services.metrics, "similar"):
            return await services.decider.similar(item_id, k)


class EventController(Controller):
    """Writes: behavioural events and offer feedback."""

    path = "/v1"
    tags = ("events",)

    @post(
        "/events",
        operation_id="ingestEvents",
        summary="Record a batch of events (idempotent per event_id)",
        status_code=HTTP_200_OK,
        responses=_problems(400, 401, 403, 413, 415, 422, 503),
    )
    async def ingest(self, data: JSONBody[EventsRequest], services: ServicesDep) -> EventsResponse:
        with _store_errors(services.metrics, "ingest"):
            return await services.decider.ingest(data)

    @post(
        "/feedback",
        operation_id="recordFeedback",
        summary="Record what a customer did with a served offer",
        status_code=HTTP_200_OK,
        responses=_problems(400, 401, 403, 404, 413, 415, 422, 503),
    )
    async def feedback(
        self, data: JSONBody[FeedbackRequest], services: ServicesDep
    ) -> FeedbackResponse:
        with _store_errors(services.metrics, "feedback"):
            return await services.decider.feedback(data)


CustomerId = Annotated[
    str, Parameter(min_length=1, max_length=1024, pattern=r"^[^{}]+$",
                   description="A customer id, or an anonymous pseudo-id (anon:<type>:<value>)")
]  # fmt: skip


ConsentBody = Annotated[
    ConsentRequest,
    Body(
        description="Configured channel -> granted (true) or withdrawn (false)",
        schema_extra={"min_properties": 1, "max_properties": 64,
                      "property_names": Schema(type=OpenAPIType.STRING, min_length=1,
                                               max_length=64, pattern=NAME_PATTERN)},
    ),
]  # fmt: skip


class CustomerController(Controller):
    """Privacy: erase a customer, change their consent now (see docs/api.md)."""

    path = "/v1/customers"
    tags = ("privacy",)

    @delete(
        "/{customer_id:str}",
        operation_id="eraseCustomer",
        summary="Erase every online trace of a customer and write its tombstone (idempotent)",
        status_code=HTTP_200_OK,
        responses=_problems(400, 401, 403, 422, 503),
    )
    async def erase(self, customer_id: CustomerId, services: ServicesDep) -> ErasureResponse:
        with _store_errors(services.metrics, "erase"):
            return await services.decider.erase_customer(customer_id)

    @put(
        "/{customer_id:str}/consent",
        operation_id="setConsent",
        summary="Grant or withdraw a customer's consent per channel, from the next decision on",
        status_code=HTTP_200_OK,
        responses=_problems(400, 401, 403, 413, 415, 422, 503),
    )
    async def consent(
        self, customer_id: CustomerId, data: ConsentBody, services: ServicesDep
    ) -> ConsentResponse:
        with _store_errors(services.metrics, "consent"):
            return await services.decider.set_consent(customer_id, data)


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
            ),
            **_problems(401),  # off loopback, with a keys file
        },
    )
    async def ready(self, services: ServicesDep) -> Response[Readiness]:
        try:
            readiness = await services.decider.readiness()
        except StoreUnavailable:
            services.metrics.count_store_error("readiness")
            readiness = Readiness(ready=False, store="unavailable", model_version=None)
        status = HTTP_200_OK if readiness.ready else HTTP_503_SERVICE_UNAVAILABLE
        return Response(readiness, status_code=status)

    @get(
        "/metrics",
        operation_id="getMetrics",
        summary="Prometheus metrics (text exposition format)",
        media_type="text/plain",
        responses=_problems(401),  # off loopback, with a keys file
    )
    async def exposition(self, services: ServicesDep) -> Response[bytes]:
        body, content_type = services.metrics.exposition()
        # Litestar appends the charset to text/* itself; don't send it twice
        return Response(body, media_type=content_type.replace("; charset=utf-8", ""))


class AdminController(Controller):
    """The operator's routes, not the channels' (so not under /v1)."""

    path = "/admin"
    tags = ("operations",)

    @post(
        "/policy/reload",
        operation_id="reloadPolicy",
        summary="Re-read [policy] from the settings file now; a bad one is refused",
        status_code=200,
        responses=_problems(401, 403, 422),
    )
    async def reload_policy(self, services: ServicesDep) -> PolicyReloaded:
        """This worker applies it at once; the others within `model_poll_s`."""
        return await services.decider.reload_policy()


IfMatch = Annotated[str | None, Parameter(header="If-Match", required=False, default=None)]


class ExperimentController(Controller):
    """Experiment definitions and the universal holdout (admin scope). Each answer
    carries the set's checksum; give it back as `If-Match` to refuse (412) a write
    based on an older set. Every worker serves a write within `model_poll_s`."""

    path = "/v1"
    tags = ("experiments",)

    @get("/experiments", operation_id="listExperiments", summary="Every experiment definition")
    async def list_experiments(self, services: ServicesDep) -> ExperimentsOut:
        with _store_errors(services.metrics, "experiments"):
            return await services.decider.list_experiments()

    @get("/experiments/{experiment_id:str}", operation_id="getExperiment",
         summary="One experiment definition", responses=_problems(404))  # fmt: skip
    async def get_experiment(self, experiment_id: str, services: ServicesDep) -> ExperimentOut:
        with _store_errors(services.metrics, "experiments"):
            return await services.decider.get_experiment(experiment_id)

    @put("/experiments/{experiment_id:str}", operation_id="putExperiment",
         summary="Create or replace an experiment",
         responses=_problems(400, 412, 422, 503))  # fmt: skip
    async def put_experiment(
        self, experiment_id: str, request: Request[Any, Any, Any], services: ServicesDep,
        if_match: IfMatch = None,
    ) -> ExperimentOut:  # fmt: skip
        body = await request.body()
        with _store_errors(services.metrics, "experiments"):
            return await services.decider.put_experiment(experiment_id, body, _tag(if_match))

    @post("/experiments/{experiment_id:str}/stop", operation_id="stopExperiment",
          summary="Stop an experiment: its customers return to the default policy",
          status_code=HTTP_200_OK, responses=_problems(404, 412, 503))  # fmt: skip
    async def stop_experiment(
        self, experiment_id: str, services: ServicesDep, if_match: IfMatch = None
    ) -> ExperimentOut:
        with _store_errors(services.metrics, "experiments"):
            return await services.decider.stop_experiment(experiment_id, _tag(if_match))

    @get("/holdout", operation_id="getHoldout", summary="The universal holdout")
    async def get_holdout(self, services: ServicesDep) -> HoldoutOut:
        with _store_errors(services.metrics, "experiments"):
            return await services.decider.get_holdout()

    @put("/holdout", operation_id="putHoldout", summary="Set the universal holdout",
         responses=_problems(400, 412, 422, 503))  # fmt: skip
    async def put_holdout(
        self, request: Request[Any, Any, Any], services: ServicesDep, if_match: IfMatch = None
    ) -> HoldoutOut:
        body = await request.body()
        with _store_errors(services.metrics, "experiments"):
            return await services.decider.put_holdout(body, _tag(if_match))


def _tag(if_match: str | None) -> str | None:
    """An If-Match value without the quotes of an HTTP entity tag."""
    return None if if_match is None else if_match.strip().removeprefix("W/").strip('"')


ROUTE_HANDLERS = (DecisionController, EventController, CustomerController, HealthController,
                  AdminController, ExperimentController)  # fmt: skip
