"""The HTTP layer alone: the real app over a FakeDecider with fixed-shape answers."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from omnioffer.api.app import create_app
from omnioffer.contracts.http import (
    ConsentResponse,
    DecisionRequest,
    DecisionResponse,
    ErasureResponse,
    EventsRequest,
    EventsResponse,
    FeedbackRequest,
    FeedbackResponse,
    ItemOut,
    OfferOut,
    PolicyReloaded,
    Readiness,
    RecommendationRequest,
    RecommendationResponse,
    SimilarResponse,
)
from omnioffer.settings import Settings

EVENT: dict[str, Any] = {
    "timestamp": "2024-05-01T10:00:00",
    "event_type": "purchase",
    "channel": "web",
    "customer_id": "c1",
    "item_id": "i1",
    "quantity": 2,
    "revenue": 19.9,
    "event_id": "e1",
}

# One valid body per POST endpoint; bad-input tests start from these.
VALID_BODIES: dict[str, dict[str, Any]] = {
    "/v1/decisions": {
        "customer_id": "c1",
        "channel": "web",
        "k": 3,
        "placement": "home",
        "context": {"device": "mobile", "cart": ["i9"]},
    },
    "/v1/recommendations": {"customer_id": "c1", "channel": "app", "k": 4, "exclude": ["i2"]},
    "/v1/events": {"events": [EVENT]},
    "/v1/feedback": {
        "decision_id": "d-1",
        "offer_id": "o1",
        "outcome": "click",
        "channel": "web",
    },
}


class FakeDecider:
    """A Decider with canned answers; set `error` to make every call raise it."""

    def __init__(self) -> None:
        self.error: Exception | None = None
        self.ready = True
        self.closed = False
        self.calls: list[tuple[str, Any]] = []

    def _enter(self, operation: str, argument: Any) -> None:
        self.calls.append((operation, argument))
        if self.error is not None:
            raise self.error

    async def decide(self, request: DecisionRequest) -> DecisionResponse:
        self._enter("decide", request)
        offers = [
            OfferOut(
                offer_id=f"o{rank}",
                title=f"Offer {rank}",
                rank=rank,
                propensity=0.5,
                value=10.0,
                priority=1.0,
                reasons=["model"],
            )
            for rank in range(1, min(request.k, 2) + 1)
        ]
        fallback = None if request.customer_id else "unknown_customer"
        return DecisionResponse(
            decision_id="d-1",
            customer_id=request.customer_id,
            channel=request.channel,
            model_version="v1",
            offers=offers,
            fallback=fallback,
            experiments=[],
        )

    async def recommend(self, request: RecommendationRequest) -> RecommendationResponse:
        self._enter("recommend", request)
        items = [ItemOut(item_id="i1", score=0.9, reasons=["popular"])]
        return RecommendationResponse(
            customer_id=request.customer_id, model_version="v1", items=items, fallback=None
        )

    async def similar(self, item_id: str, k: int) -> SimilarResponse:
        self._enter("similar", (item_id, k))
        items = [ItemOut(item_id="i2", score=0.8, reasons=["co-purchased"])]
        return SimilarResponse(item_id=item_id, model_version="v1", items=items)

    async def ingest(self, request: EventsRequest) -> EventsResponse:
        self._enter("ingest", request)
        return EventsResponse(accepted=len(request.events), duplicates=0)

    async def feedback(self, request: FeedbackRequest) -> FeedbackResponse:
        self._enter("feedback", request)
        return FeedbackResponse(accepted=True, duplicate=False)

    async def erase_customer(self, customer_id: str) -> ErasureResponse:
        self._enter("erase_customer", customer_id)
        return ErasureResponse(customer_id=customer_id, erased=False, removed={}, tombstones=1,
                               detail="nothing was stored")  # fmt: skip

    async def set_consent(self, customer_id: str, changes: dict[str, bool]) -> ConsentResponse:
        self._enter("set_consent", (customer_id, changes))
        return ConsentResponse(customer_id=customer_id, consent=changes)

    async def reload_policy(self) -> PolicyReloaded:
        self._enter("reload_policy", None)
        return PolicyReloaded(source="settings.toml", policy={"daily_cap": 6})

    async def readiness(self) -> Readiness:
        self._enter("readiness", None)
        store = "ok" if self.ready else "no active model version"
        return Readiness(ready=self.ready, store=store, model_version="v1" if self.ready else None)

    async def close(self) -> None:
        self.closed = True


@pytest.fixture
def settings() -> Settings:
    return Settings(channels=("web", "app", "store"))


@pytest.fixture
def fake() -> FakeDecider:
    return FakeDecider()


@pytest.fixture
def app(settings: Settings, fake: FakeDecider) -> Litestar:
    return create_app(settings, decider=fake)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _problem_fields(response: Any) -> list[str]:
    """The JSON paths a problem body blames (asserting it is a well-formed problem body)."""
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == response.status_code
    assert body["type"].startswith("https://omnioffer.dev/problems/")
    assert body["title"] and body["detail"]
    return [error["field"] for error in body["errors"]]


@pytest.fixture
def problem_fields() -> Callable[[Any], list[str]]:
    return _problem_fields


@pytest.fixture
def valid_body() -> Callable[[str], dict[str, Any]]:
    """A fresh (deep-copied) valid body for a POST endpoint, safe to corrupt."""
    return lambda path: copy.deepcopy(VALID_BODIES[path])
