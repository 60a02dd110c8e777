"""What the HTTP layer needs from the decision service (the app depends on this only)."""

from __future__ import annotations

from typing import Protocol

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
from omnioffer.errors import OmniofferError


class InputError(OmniofferError):
    """A request is well-formed JSON of the right types but semantically wrong (422).

    `field` is the JSON path of the offending value, e.g. "$.events[3].item_id".
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(OmniofferError):  # noqa: N818 (public name, read as "404 Not Found")
    """The addressed resource (an item, a decision) does not exist (404)."""


class Decider(Protocol):
    """The decision service. Raises InputError, NotFound, or StoreUnavailable (503)."""

    async def decide(self, request: DecisionRequest) -> DecisionResponse: ...

    async def recommend(self, request: RecommendationRequest) -> RecommendationResponse: ...

    async def similar(self, item_id: str, k: int) -> SimilarResponse: ...

    async def ingest(self, request: EventsRequest) -> EventsResponse: ...

    async def feedback(self, request: FeedbackRequest) -> FeedbackResponse: ...

    async def readiness(self) -> Readiness: ...

    async def close(self) -> None: ...
