"""The composition root: settings -> store -> model holder -> decision service -> app.

The one place that knows every wing: it opens the store the settings name, builds
the DecisionService over it and hands a builder to the HTTP app factory, which runs
it in each worker's lifespan. `app_from_env` is the uvicorn factory worker processes
use (settings come from the OMNIOFFER_* environment the server process wrote).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
from collections.abc import Callable, Container
from datetime import UTC, datetime
from pathlib import Path

from litestar import Litestar

from omnioffer.api.app import create_app
from omnioffer.api.metered_store import MeteredStore
from omnioffer.api.metrics import Metrics
from omnioffer.contracts.experiments import Definitions
from omnioffer.decide.experiment_defs import load_experiments_file
from omnioffer.decide.experiment_source import ExperimentSource, check_servable
from omnioffer.decide.policy import load_policy
from omnioffer.decide.policy_source import PolicySource
from omnioffer.decide.resolve import not_materialized
from omnioffer.decide.service import DecisionService
from omnioffer.errors import InputError, UsageError
from omnioffer.jobs.results_cache import CachedResults
from omnioffer.settings import CONFIG_ENV, Settings, load_settings
from omnioffer.store import StoreOptions, describe_store, open_store
from omnioffer.store.base import FeatureStore, StoreUnavailable
from omnioffer.store.password import store_password
from omnioffer.version.holder import ModelHolder

log = logging.getLogger("omnioffer.serve")


def _serving(holder: ModelHolder) -> tuple[str, Container[str]] | None:
    """What Metrics bounds offer labels by: the served version and its offer ids."""
    model = holder.model
    return None if model is None else (model.name, model.data.offer_index)


def make_clock(
    as_of: str | None, *, moving: bool = True, ticker: Callable[[], float] | None = None
) -> Callable[[], float]:
    """The wall clock, or a replay clock (ISO 8601, naive = UTC) that starts at `as_of`
    now and advances with wall time (`moving`, as `ticker`, default time.monotonic,
    advances), or stays at `as_of`."""
    if as_of is None:
        return time.time
    try:
        parsed = datetime.fromisoformat(as_of)
    except ValueError:
        raise UsageError(f"as_of: not an ISO 8601 timestamp: {as_of!r}") from None
    start = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    if not moving:
        return lambda: start
    tick = time.monotonic if ticker is None else ticker
    began = tick()
    return lambda: start + (tick() - began)


def check_settings(settings: Settings) -> None:
    """What each worker's lifespan would refuse, refused up front (UsageError naming the
    key), so a bad `[policy]` or `as_of` is one line before uvicorn starts, not a
    traceback from every worker."""
    load_policy(settings.policy)
    make_clock(settings.as_of)
    experiments_file(settings)


def experiments_file(settings: Settings) -> Definitions | None:
    """The experiments file's set (UsageError naming the file and the field), or None."""
    if settings.experiments_file is None:
        return None
    return load_experiments_file(Path(settings.experiments_file), settings.channels)


def startup_warning(settings: Settings) -> str | None:
    """What an operator must hear before the first request: the store holds nothing to
    serve (every decision would be a 503), or cannot be reached (degraded answers)."""
    import asyncio

    async def active() -> str | None:
        store = open_service_store(settings)
        try:
            return await asyncio.wait_for(store.active_version(), settings.store_timeout_s * 8)
        finally:
            await store.close()

    label = describe_store(settings.store_url)
    try:
        version = asyncio.run(active())
    except (StoreUnavailable, TimeoutError) as exc:
        return f"{label} is unreachable ({exc}); serving degraded answers until it is back"
    return not_materialized(label) if version is None else None


def open_service_store(settings: Settings) -> FeatureStore:
    password = store_password(settings.store_password, settings.store_password_file)
    options = StoreOptions(timeout_s=settings.store_timeout_s,
                           log_max_len=settings.event_log_max_len, password=password)  # fmt: skip
    return open_store(settings.store_url, options)


def make_service(
    settings: Settings,
    store: FeatureStore,
    policy_file: Path | None = None,
    metrics: Metrics | None = None,
    clock: Callable[[], float] | None = None,
) -> DecisionService:
    """`policy_file`: the settings file whose [policy] is re-read live (None: fixed);
    `metrics`: what the store calls and the served model report to (None: nothing);
    `clock`: the decisions' clock (None: the settings' as_of, else the wall clock; a
    replay sets it per decision, jobs/replay.py)."""
    if clock is None:
        clock = make_clock(settings.as_of, moving=settings.replay_clock == "moving")
    if metrics is not None:
        store = MeteredStore(store, metrics, clock)
    holder = ModelHolder(store, Path(settings.models_dir), settings.model_poll_s)
    if metrics is not None:
        metrics.follow(functools.partial(_serving, holder))
    policy = PolicySource(load_policy(settings.policy), policy_file, poll_s=settings.model_poll_s)
    experiments = ExperimentSource(store, poll_s=settings.model_poll_s,
                                   timeout_s=settings.store_timeout_s,
                                   channels=settings.channels)  # fmt: skip
    return DecisionService(
        store,
        holder,
        channels=settings.channels,
        policy=policy,
        clock=clock,
        store_timeout_s=settings.store_timeout_s,
        store_label=describe_store(settings.store_url),
        max_skew_s=settings.max_clock_skew_s,
        experiments=experiments,
        count_log_failure=metrics.count_log_failure if metrics else lambda: None,
    )


async def build_decider(
    settings: Settings, policy_file: Path | None = None, metrics: Metrics | None = None
) -> DecisionService:
    service = make_service(settings, open_service_store(settings), policy_file, metrics)
    await service.holder.refresh()  # load the active model now if the store is up
    await seed_experiments(service, experiments_file(settings))
    return service


async def seed_experiments(service: DecisionService, defs: Definitions | None) -> None:
    """The file's set into the store when it differs (docs/experiments.md, "Serving"),
    checked against what this service can serve; a store that is down keeps it in this
    worker only, until the store answers with its own."""
    source = service.experiments
    if defs is None:
        with contextlib.suppress(StoreUnavailable, TimeoutError):
            await source.refresh_now()
        return
    model = service.holder.model
    try:
        for i, e in enumerate(defs.experiments):
            check_servable(e, [model.name] if model else [], f"experiments[{i}]")
    except InputError as exc:
        raise UsageError(f"experiments file: {exc.field}: {exc.message}") from exc
    try:
        await source.seed(defs)
    except (StoreUnavailable, TimeoutError) as exc:
        log.warning("cannot store the experiments file's definitions, serving them here: %s",
                    exc)  # fmt: skip
        source.use(defs)


def create_service_app(
    settings: Settings,
    policy_file: Path | None = None,
    *,
    monotonic: Callable[[], float] = time.monotonic,
) -> Litestar:
    """The real service: the HTTP app over a decision service built in each worker, its
    store calls and served model reported to the app's metrics. `monotonic`: the rate
    limits' clock (tests freeze it)."""
    metrics = Metrics(settings.channels)
    build = functools.partial(build_decider, policy_file=policy_file, metrics=metrics)
    return create_app(settings, build=build, metrics=metrics, monotonic=monotonic,
                      build_results=build_results)  # fmt: skip


def build_results(settings: Settings) -> CachedResults:
    """The experiment results route's source: its own store connection, cached reads."""
    return CachedResults(open_service_store(settings))


def app_from_env() -> Litestar:
    """uvicorn factory (`factory=True`): settings from OMNIOFFER_* variables, and the
    settings file (OMNIOFFER_CONFIG) whose [policy] follows edits."""
    config = os.environ.get(CONFIG_ENV, "").strip()
    return create_service_app(load_settings(), Path(config) if config else None)
