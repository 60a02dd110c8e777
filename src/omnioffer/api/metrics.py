"""Prometheus metrics of the HTTP service, exposed at GET /metrics.

Each app gets its own CollectorRegistry, so tests (or several apps in one process)
never clash on duplicate metric names.

Several uvicorn workers: set PROMETHEUS_MULTIPROC_DIR to an empty directory *before*
the worker processes start (`omnioffer serve --workers N` does this with a fresh
temporary directory). prometheus_client then keeps every worker's values in files
there, and /metrics aggregates all workers through a MultiProcessCollector instead
of reporting only the worker that happened to answer the scrape. `omnioffer_model_info`
is a "livemax" gauge there: a version is 1 while any live worker serves it, and a worker
that stops cleanly takes its values with it (`close`).

Offer labels are bounded by the catalog of the version the worker serves (`follow`),
channel labels by the configured channels; anything else is counted as `other`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Container, Iterable

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Answers take a few milliseconds; anything past a second is an outage, not a bucket.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
# A store call takes 0.1-2 ms; the read budget (store_timeout_s) is 250 ms by default.
STORE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
# Events arrive from real time (seconds) to nightly batches (a day) and late backfills.
LAG_BUCKETS = (1.0, 10.0, 60.0, 300.0, 900.0, 3600.0, 14_400.0, 86_400.0, 604_800.0, 2_592_000.0)
UNMATCHED_ROUTE = "unmatched"
OTHER_CHANNEL = "other"
OTHER_OFFER = "other"

# The model a worker serves now: (version name, its catalog's offer ids), None before one.
ServingView = Callable[[], "tuple[str, Container[str]] | None"]


def _nothing_served() -> tuple[str, Container[str]] | None:
    return None


class Metrics:
    """The service's metrics; label values are bounded so clients cannot explode series."""

    def __init__(self, channels: Iterable[str], registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._channels = frozenset(channels)
        self.request_latency = Histogram(
            "omnioffer_http_request_duration_seconds",
            "HTTP request latency by route template, method and status.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.decisions = Counter(
            "omnioffer_decisions",
            "Decisions served, by channel and fallback reason ('none' for the model).",
            ["channel", "fallback"],
            registry=self.registry,
        )
        self.store_errors = Counter(
            "omnioffer_store_errors",
            "Requests that failed because the feature store was unavailable, by operation.",
            ["operation"],
            registry=self.registry,
        )
        self.served = Counter(
            "omnioffer_offers_served",
            "Offers returned by decisions (dry runs excluded), by offer and channel.",
            ["offer", "channel"],
            registry=self.registry,
        )
        self.outcomes = Counter(
            "omnioffer_offer_outcomes",
            "Offer events the store accepted (events and feedback), by offer, channel, outcome.",
            ["offer", "channel", "outcome"],
            registry=self.registry,
        )
        self.model_info = Gauge(
            "omnioffer_model_info",
            "1 for the model version served, 0 for one served before.",
            ["version"],
            multiprocess_mode="livemax",
            registry=self.registry,
        )
        self.store_latency = Histogram(
            "omnioffer_store_duration_seconds",
            "Feature store call latency by operation (failures and timeouts included).",
            ["operation"],
            buckets=STORE_BUCKETS,
            registry=self.registry,
        )
        self.ingest_lag = Histogram(
            "omnioffer_event_ingest_lag_seconds",
            "Service clock minus the event's timestamp when the store accepted it (>= 0).",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "omnioffer_rate_limited",
            "Requests refused 429 by the rate limit, by API key id ('address' without a key).",
            ["key"],
            registry=self.registry,
        )
        self.experiment_decisions = Counter(
            "omnioffer_experiment_decisions",
            "Decisions (dry runs excluded) by experiment and variant; the universal "
            "holdout counts as experiment 'holdout', variant 'held_out'.",
            ["experiment", "variant"],
            registry=self.registry,
        )
        self.log_failures = Counter(
            "omnioffer_decision_log_failures",
            "Decisions whose record (decision-log row, feedback link) the store lost.",
            registry=self.registry,
        )
        # labelled children by label values: `labels()` costs more than the increment
        self._served_of: dict[tuple[str, str], Counter] = {}
        self._store_of: dict[str, Histogram] = {}
        self._serving: ServingView = _nothing_served
        self._version: str | None = None
        self._offers: Container[str] = frozenset()

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.request_latency.labels(route, method, str(status)).observe(seconds)

    def count_decision(self, channel: str, fallback: str | None) -> None:
        self.decisions.labels(self._channel(channel), (fallback or "none")[:64]).inc()

    def count_experiments(self, exposures: Iterable[tuple[str, str]]) -> None:
        """Ids and variant names are validated names (contracts/experiments.Name)."""
        for experiment, variant in exposures:
            self.experiment_decisions.labels(experiment, variant).inc()

    def count_log_failure(self) -> None:
        self.log_failures.inc()

    def count_store_error(self, operation: str) -> None:
        self.store_errors.labels(operation).inc()

    def count_rate_limited(self, key: str) -> None:
        """Keys are bounded by the keys file; callers without one share `address`."""
        self.rate_limited.labels(key[:64]).inc()

    def follow(self, serving: ServingView) -> None:
        """Bound offer labels by, and report model_info for, what `serving` says is served."""
        self._serving = serving
        self._sync()

    def _sync(self) -> None:
        """Notice a model switch (one call and a string comparison when there is none)."""
        now = self._serving()
        if now is None or now[0] == self._version:
            return
        if self._version is not None:
            self.model_info.labels(self._version).set(0)
        self._version, self._offers = now
        self.model_info.labels(self._version).set(1)

    def _offer(self, offer_id: str) -> str:
        return offer_id if offer_id in self._offers else OTHER_OFFER

    def _channel(self, channel: str) -> str:
        return channel if channel in self._channels else OTHER_CHANNEL

    def count_served(self, channel: str, offer_ids: Iterable[str]) -> None:
        self._sync()
        label = self._channel(channel)
        for offer_id in offer_ids:
            key = (self._offer(offer_id), label)
            child = self._served_of.get(key)
            if child is None:
                child = self._served_of[key] = self.served.labels(*key)
            child.inc()

    def count_outcome(self, offer_id: str, channel: str, outcome: str) -> None:
        self.outcomes.labels(self._offer(offer_id), self._channel(channel), outcome[:32]).inc()

    def observe_store(self, operation: str, seconds: float) -> None:
        child = self._store_of.get(operation)
        if child is None:
            child = self._store_of[operation] = self.store_latency.labels(operation)
        child.observe(seconds)

    def observe_ingest_lag(self, seconds: float) -> None:
        self.ingest_lag.observe(max(seconds, 0.0))

    def close(self) -> None:
        """A stopping worker's live gauges leave the aggregate (multiprocess mode)."""
        if os.environ.get(MULTIPROC_ENV):
            mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    def exposition(self) -> tuple[bytes, str]:
        """The text format body and its content type (all workers' values in multiprocess mode)."""
        self._sync()
        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware(ASGIMiddleware):
    """Times every routed HTTP request; the status is whatever was finally sent.

    Litestar turns exceptions into responses inside this middleware, so error answers
    are counted with their real status. Unknown paths never reach route middleware.
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        start = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await next_app(scope, receive, send_and_note)
        finally:
            route = scope.get("path_template") or UNMATCHED_ROUTE
            method = str(scope.get("method", "GET"))
            self.metrics.observe_request(route, method, status, time.perf_counter() - start)
