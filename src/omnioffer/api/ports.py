"""What the HTTP layer needs from the decision service (the app depends on this only).

The service satisfies it structurally: decide/ never imports api/."""

from __future__ import annotations

from typing import Protocol

from omnioffer.contracts.experiment_results import ExperimentResults, Query
from omnioffer.contracts.experiments import Definitions
from omnioffer.contracts.http import (
    DecisionRequest,
    DecisionResponse,
    EventsRequest,
    EventsResponse,
    FeedbackRequest,
    FeedbackResponse,
    PolicyReloaded,
    Readiness,
    RecommendationRequest,
    RecommendationResponse,
    SimilarResponse,
)


class Decider(Protocol):
    """The decision service. Raises InputError, NotFound, or StoreUnavailable (503)."""

    async def decide(self, request: DecisionRequest) -> DecisionResponse: ...

    async def recommend(self, request: RecommendationRequest) -> RecommendationResponse: ...

    async def similar(self, item_id: str, k: int) -> SimilarResponse: ...

    async def ingest(self, request: EventsRequest) -> EventsResponse: ...

    async def feedback(self, request: FeedbackRequest) -> FeedbackResponse: ...

    async def readiness(self) -> Readiness: ...

    async def reload_policy(self) -> PolicyReloaded:
        """Re-read the settings file's [policy] now; ConfigRefused keeps the old one."""
        ...

    async def close(self) -> None: ...


class ResultsSource(Protocol):
    """Experiment results (the results route's); NotFound for an unknown experiment."""

    async def results(self, experiment_id: str, query: Query) -> ExperimentResults: ...

    async def definitions(self) -> Definitions:
        """The experiments defined now (the dashboard lists them)."""
        ...

    async def close(self) -> None: ...
