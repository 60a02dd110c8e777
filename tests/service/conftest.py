"""A trained version materialised into a fresh store, served by the real app."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient

from omnioffer.service import create_service_app
from redis_server import RedisServer, require_redis_server
from served_version import AS_OF_DAYS, iso, load_into, service_settings
from training.train import TrainOutcome


@pytest.fixture
def embedded_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


@pytest.fixture
def served(
    trained: tuple[Path, TrainOutcome], embedded_url: str
) -> Iterator[tuple[TestClient, float]]:
    """(client, now): the real app over an embedded store, with a replay clock."""
    models, _ = trained
    cutoff = load_into(embedded_url, models)
    now = cutoff + timedelta(days=AS_OF_DAYS).total_seconds()
    settings = service_settings(embedded_url, models, as_of=iso(now), replay_clock="frozen")
    with TestClient(create_service_app(settings)) as client:
        yield client, now


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    """A private redis-server for this test alone (it may stop, pause or kill it)."""
    require_redis_server()  # fails (never skips) when redis-server is missing
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.cleanup()
