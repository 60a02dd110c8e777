"""The Litestar application, assembled from small `_configure_*` steps.

`create_app(settings, decider)` serves a given Decider (tests, embedding; the caller
opens and closes it); `create_app(settings, build=...)` builds one in the app's
lifespan, in every worker, and closes it on shutdown. The HTTP layer knows the
Decider protocol only: the composition root (`omnioffer.service`) hands it the real
builder, so api/ never imports the decision path.
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.logging.config import LoggingConfig
from litestar.middleware import ASGIMiddleware
from litestar.openapi import OpenAPIConfig

from omnioffer.api.access_log import AccessLogMiddleware, JsonFormatter
from omnioffer.api.auth import authenticate, check_channels, is_loopback
from omnioffer.api.content_type import require_json
from omnioffer.api.controllers import DEPENDENCIES, ROUTE_HANDLERS
from omnioffer.api.cors import CorsMiddleware
from omnioffer.api.dashboard import DASHBOARD
from omnioffer.api.docs_ui import DOCS_PATH, render_plugins
from omnioffer.api.errors import exception_handlers
from omnioffer.api.header_limit import check_header_size
from omnioffer.api.metrics import Metrics, MetricsMiddleware
from omnioffer.api.openapi import state_rules
from omnioffer.api.ports import Decider, ResultsSource
from omnioffer.api.rate_limit import CallerLimits, Limit, RateLimiter
from omnioffer.api.results_routes import ExperimentResultsController
from omnioffer.api.security_headers import add_security_headers
from omnioffer.api.strict_body import check_types, json_body
from omnioffer.api_keys import KeyRing
from omnioffer.settings import Settings

Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]

DeciderBuilder = Callable[[Settings], Awaitable[Decider]]
ResultsBuilder = Callable[[Settings], ResultsSource]
LIVENESS = "/health/live"  # never limited, never authenticated


def _version() -> str:
    import omnioffer

    return str(getattr(omnioffer, "__version__", "0.1.0"))


def _configure_openapi() -> OpenAPIConfig:
    """The document at /schema/openapi.json (.yaml), Swagger UI at /schema, all local."""
    return OpenAPIConfig(title="omnioffer", version=_version(), path=DOCS_PATH,
                         render_plugins=render_plugins())  # fmt: skip


def _configure_logging(*, settings: Settings) -> LoggingConfig:
    """Root logger at the configured level; 500s are logged once, by the error handler.
    JSON lines (`log_format` json, or auto off a terminal) or the human format."""
    level = "DEBUG" if settings.log_level == "trace" else settings.log_level.upper()
    fmt = settings.log_format
    if fmt == "auto":
        fmt = "human" if sys.stderr.isatty() else "json"
    config = LoggingConfig(
        root={"level": level, "handlers": ["queue_listener"]}, log_exceptions="never"
    )
    if fmt == "json":
        config.formatters = {"standard": {"()": JsonFormatter}}
    return config


def _configure_state(
    *, settings: Settings, decider: Decider | None, metrics: Metrics,
    results: ResultsSource | None,
) -> State:  # fmt: skip
    state = State({"settings": settings, "metrics": metrics})
    if decider is not None:
        state.decider = decider
    if results is not None:
        state.results = results
    return state


def _results_lifespan(build: ResultsBuilder) -> Lifespan:
    """The experiment results' source, built in every worker and closed on shutdown."""

    @asynccontextmanager
    async def results_lifespan(app: Litestar) -> AsyncIterator[None]:
        source = build(app.state.settings)
        app.state.results = source
        try:
            yield
        finally:
            await source.close()

    return results_lifespan


def _configure_lifespan(
    *, settings: Settings, decider: Decider | None, build: DeciderBuilder | None, metrics: Metrics
) -> Sequence[Lifespan]:
    """Build (and always close) a Decider unless the caller brought and owns one."""
    if decider is not None:
        return ()
    if build is None:
        raise ValueError("create_app needs a decider or a builder (omnioffer.service builds one)")

    @asynccontextmanager
    async def decider_lifespan(app: Litestar) -> AsyncIterator[None]:
        built = await build(settings)
        app.state.decider = built
        try:
            yield
        finally:
            await built.close()
            metrics.close()

    return (decider_lifespan,)


def _configure_middleware(*, settings: Settings, metrics: Metrics) -> list[ASGIMiddleware]:
    """Logged and timed, every answer; CORS only for an allow-list (off by default)."""
    middleware: list[ASGIMiddleware] = [AccessLogMiddleware(), MetricsMiddleware(metrics)]
    if settings.cors_origins:
        middleware.append(CorsMiddleware(settings.cors_origins))
    return middleware


def _before_request(
    settings: Settings, metrics: Metrics, monotonic: Callable[[], float]
) -> Callable[[Request[Any, Any, Any]], Awaitable[None]]:
    """Before any handler, cheapest refusal first: header size (431), the API key (401,
    403 for the scope), the caller's rate limit (429), a JSON Content-Type on a body
    route (415), then the body, decoded once, for the key's channels (403) and strict
    types (400). `/health/live` only gets the header check."""
    ring = None
    if settings.keys_file is not None:
        ring = KeyRing(Path(settings.keys_file), poll_s=settings.model_poll_s)
    open_probes = is_loopback(settings.host)
    default = Limit.of(settings.rate_limit_per_s, settings.rate_limit_burst)
    limits = CallerLimits(default, RateLimiter(monotonic=monotonic), metrics.count_rate_limited)
    max_header_bytes = settings.max_header_bytes

    async def check(request: Request[Any, Any, Any]) -> None:
        check_header_size(request.scope["headers"], max_header_bytes)
        if request.scope["path"] == LIVENESS:
            return
        key = authenticate(request, ring, open_probes=open_probes) if ring is not None else None
        limits.check(request, key)
        require_json(request)
        body = await json_body(request)
        check_channels(body, key, request.url.path)
        check_types(request, body)

    return check


def create_app(
    settings: Settings | None = None,
    decider: Decider | None = None,
    *,
    build: DeciderBuilder | None = None,
    metrics: Metrics | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    results: ResultsSource | None = None,
    build_results: ResultsBuilder | None = None,
) -> Litestar:
    """The HTTP service; `decider` given means the caller opens and closes it. `metrics`:
    the app's, when the builder reports to them too (None: a fresh set). `monotonic`:
    the rate limits' clock (tests freeze it). The experiment results route reads
    `results` (the caller's) or one `build_results` makes per worker (None of both:
    that route answers 503)."""
    settings = settings if settings is not None else Settings()
    metrics = metrics if metrics is not None else Metrics(settings.channels)
    lifespan = _configure_lifespan(settings=settings, decider=decider, build=build,
                                   metrics=metrics)  # fmt: skip
    if build_results is not None and results is None:
        lifespan = [*lifespan, _results_lifespan(build_results)]
    app = Litestar(
        route_handlers=[*ROUTE_HANDLERS, ExperimentResultsController, DASHBOARD],
        state=_configure_state(
            settings=settings, decider=decider, metrics=metrics, results=results
        ),
        lifespan=list(lifespan),
        dependencies=DEPENDENCIES,
        middleware=_configure_middleware(settings=settings, metrics=metrics),
        exception_handlers=exception_handlers(),
        before_request=_before_request(settings, metrics, monotonic),
        before_send=[add_security_headers],
        openapi_config=_configure_openapi(),
        logging_config=_configure_logging(settings=settings),
        request_max_body_size=settings.max_body_bytes,
        debug=False,
    )
    state_rules(app, settings)  # before the document is first served
    return app
