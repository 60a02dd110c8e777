"""What the HTTP layer needs from the decision service (the app depends on this only).

The service satisfies it structurally: decide/ never imports api/."""

from __future__ import annotations

from typing import Protocol

from omnioffer.contracts.experiment_results import ExperimentResults, Query
from omnioffer.contracts.http import (
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


class Decider(Protocol):
    """The decision service. Raises InputError, NotFound, or StoreUnavailable (503)."""

    async def decide(self, request: DecisionRequest) -> DecisionResponse: ...

    async def recommend(self, request: RecommendationRequest) -> RecommendationResponse: ...

    async def similar(self, item_id: str, k: int) -> SimilarResponse: ...

    async def ingest(self, request: EventsRequest) -> EventsResponse: ...

    async def feedback(self, request: FeedbackRequest) -> FeedbackResponse: ...

    async def erase_customer(self, customer_id: str) -> ErasureResponse:
        """Remove every online trace of the customer and write its tombstone."""
        ...

    async def set_consent(self, customer_id: str, changes: dict[str, bool]) -> ConsentResponse:
        """Overlay per-channel consent now (InputError for an unknown channel)."""
        ...

    async def readiness(self) -> Readiness: ...

    async def reload_policy(self) -> PolicyReloaded:
        """Re-read the settings file's [policy] now; ConfigRefused keeps the old one."""
        ...

    # --- experiments (admin): bodies are raw JSON, validated with their JSON paths;
    # `if_match` a checksum (VersionMismatch, 412, when it is not the current one)
    async def list_experiments(self) -> ExperimentsOut: ...

    async def get_experiment(self, experiment_id: str) -> ExperimentOut: ...

    async def put_experiment(
        self, experiment_id: str, body: bytes, if_match: str | None
    ) -> ExperimentOut: ...

    async def stop_experiment(self, experiment_id: str, if_match: str | None) -> ExperimentOut: ...

    async def get_holdout(self) -> HoldoutOut: ...

    async def put_holdout(self, body: bytes, if_match: str | None) -> HoldoutOut: ...

    async def close(self) -> None: ...


class ResultsSource(Protocol):
    """Experiment results (the results route's); NotFound for an unknown experiment."""

    async def results(self, experiment_id: str, query: Query) -> ExperimentResults: ...

    async def close(self) -> None: ...
