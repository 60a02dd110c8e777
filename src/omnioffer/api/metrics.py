"""Prometheus metrics of the HTTP service, exposed at GET /metrics.

Each app gets its own CollectorRegistry, so tests (or several apps in one process)
never clash on duplicate metric names.

Several uvicorn workers: set PROMETHEUS_MULTIPROC_DIR to an empty directory *before*
the worker processes start (`omnioffer serve --workers N` does this with a fresh
temporary directory). prometheus_client then keeps every worker's values in files
there, and /metrics aggregates all workers through a MultiProcessCollector instead
of reporting only the worker that happened to answer the scrape.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Answers take a few milliseconds; anything past a second is an outage, not a bucket.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
UNMATCHED_ROUTE = "unmatched"
OTHER_CHANNEL = "other"


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

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.request_latency.labels(route, method, str(status)).observe(seconds)

    def count_decision(self, channel: str, fallback: str | None) -> None:
        label = channel if channel in self._channels else OTHER_CHANNEL
        self.decisions.labels(label, (fallback or "none")[:64]).inc()

    def count_store_error(self, operation: str) -> None:
        self.store_errors.labels(operation).inc()

    def exposition(self) -> tuple[bytes, str]:
        """The text format body and its content type (all workers' values in multiprocess mode)."""
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
