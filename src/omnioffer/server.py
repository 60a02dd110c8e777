"""Run the HTTP service under uvicorn (one process or several workers).

Workers are separate processes that build their own app through the
`app_from_env` factory, so settings travel to them as OMNIOFFER_* environment
variables. With several workers, Prometheus values live in a fresh temporary
PROMETHEUS_MULTIPROC_DIR (stale files from an earlier run would corrupt counters),
removed when the server exits. The listener is patched to give every connection
TCP_NODELAY (see `nodelay`).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from omnioffer.api.metrics import MULTIPROC_ENV
from omnioffer.api.nodelay import patch_uvicorn_nodelay
from omnioffer.settings import CONFIG_ENV, Settings, settings_to_env

APP_FACTORY = "omnioffer.service:app_from_env"
HEAD_SLACK_BYTES = 16_384  # request line and room past max_header_bytes (h11 only)


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set variables for the server's lifetime (workers inherit them), then restore."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


@contextmanager
def _worker_environment(settings: Settings) -> Iterator[None]:
    env = settings_to_env(settings)
    if settings.workers <= 1:
        with _environment(env):
            yield
        return
    with (
        tempfile.TemporaryDirectory(prefix="omnioffer-metrics-") as metrics_dir,
        _environment({**env, MULTIPROC_ENV: metrics_dir}),
    ):
        yield


def run_server(settings: Settings, config: Path | None = None) -> None:
    """Serve until interrupted (blocking). `config`: the settings file, handed to the
    workers (OMNIOFFER_CONFIG) so each re-reads its [policy] when it changes."""
    with (
        _environment({CONFIG_ENV: str(config.resolve())} if config else {}),
        _worker_environment(settings),
    ):
        run_uvicorn(
            APP_FACTORY,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level=settings.log_level,
            access_log=False,
            max_header_bytes=settings.max_header_bytes,
        )  # fmt: skip  (the app logs each request itself)


def run_uvicorn(
    factory: str,
    *,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    app_dir: str | None = None,
    access_log: bool = True,
    max_header_bytes: int | None = None,
) -> None:
    """uvicorn on an app factory as `omnioffer serve` runs it (benchmarks/floor_app.py
    serves its floor through this too): the listener patched for TCP_NODELAY, and
    uvloop/httptools when installed. `max_header_bytes`: the app refuses larger headers
    with a 431 problem (api/header_limit); h11, if it is the parser, stops reading a
    request head HEAD_SLACK_BYTES past that (the request line and some room, so the
    app's answer is the one given up to there). httptools has no such bound."""
    import uvicorn

    patch_uvicorn_nodelay()
    uvicorn.run(
        factory,
        factory=True,
        app_dir=app_dir,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
        loop="uvloop" if _importable("uvloop") else "asyncio",
        http="httptools" if _importable("httptools") else "h11",
        h11_max_incomplete_event_size=None if max_header_bytes is None
        else max_header_bytes + HEAD_SLACK_BYTES,
    )  # fmt: skip
