"""The Litestar application, assembled from small `_configure_*` steps.

`create_app(settings, decider)` serves a given Decider (tests, embedding; the caller
opens and closes it); `create_app(settings, build=...)` builds one in the app's
lifespan, in every worker, and closes it on shutdown. The HTTP layer knows the
Decider protocol only: the composition root (`omnioffer.service`) hands it the real
builder, so api/ never imports the decision path.
"""

from __future__ import annotations

import sys
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
from omnioffer.api.auth import authorize, is_loopback
from omnioffer.api.controllers import DEPENDENCIES, ROUTE_HANDLERS
from omnioffer.api.errors import exception_handlers
from omnioffer.api.metrics import Metrics, MetricsMiddleware
from omnioffer.api.ports import Decider
from omnioffer.api.strict_body import check_types, json_body
from omnioffer.api_keys import KeyRing
from omnioffer.settings import Settings

Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]

DeciderBuilder = Callable[[Settings], Awaitable[Decider]]


def _version() -> str:
    import omnioffer

    return str(getattr(omnioffer, "__version__", "0.1.0"))


def _configure_openapi() -> OpenAPIConfig:
    return OpenAPIConfig(title="omnioffer", version=_version(), path="/schema")


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


def _configure_state(*, settings: Settings, decider: Decider | None, metrics: Metrics) -> State:
    state = State({"settings": settings, "metrics": metrics})
    if decider is not None:
        state.decider = decider
    return state


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


def _configure_middleware(*, metrics: Metrics) -> list[ASGIMiddleware]:
    return [AccessLogMiddleware(), MetricsMiddleware(metrics)]


def _before_request(settings: Settings) -> Callable[[Request[Any, Any, Any]], Awaitable[None]]:
    """The API-key check (when a keys file is configured), then strict body types."""
    ring = None
    if settings.keys_file is not None:
        ring = KeyRing(Path(settings.keys_file), poll_s=settings.model_poll_s)
    open_probes = is_loopback(settings.host)

    async def check(request: Request[Any, Any, Any]) -> None:
        body = await json_body(request)  # decoded once, for both checks
        if ring is not None:
            authorize(request, ring, body, open_probes=open_probes)
        check_types(request, body)

    return check


def create_app(
    settings: Settings | None = None,
    decider: Decider | None = None,
    *,
    build: DeciderBuilder | None = None,
    metrics: Metrics | None = None,
) -> Litestar:
    """The HTTP service; `decider` given means the caller opens and closes it. `metrics`:
    the app's, when the builder reports to them too (None: a fresh set)."""
    settings = settings if settings is not None else Settings()
    metrics = metrics if metrics is not None else Metrics(settings.channels)
    lifespan = _configure_lifespan(settings=settings, decider=decider, build=build,
                                   metrics=metrics)  # fmt: skip
    return Litestar(
        route_handlers=list(ROUTE_HANDLERS),
        state=_configure_state(settings=settings, decider=decider, metrics=metrics),
        lifespan=list(lifespan),
        dependencies=DEPENDENCIES,
        middleware=_configure_middleware(metrics=metrics),
        exception_handlers=exception_handlers(),
        before_request=_before_request(settings),
        openapi_config=_configure_openapi(),
        logging_config=_configure_logging(settings=settings),
        request_max_body_size=settings.max_body_bytes,
        debug=False,
    )
