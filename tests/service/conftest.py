"""A trained version materialised into a fresh store, served by the real app."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient

from omnioffer.api.app import create_app
from omnioffer.decide.catalog import decode_catalog
from omnioffer.decide.runtime import CATALOG
from omnioffer.materialize import materialize
from omnioffer.settings import Settings, load_settings
from omnioffer.store import open_store
from training.train import TrainOutcome

AS_OF_DAYS = 1  # serve one day after the last event of the history


def service_settings(store_url: str, models: Path, **extra: object) -> Settings:
    return load_settings(None, env={}, overrides={"store_url": store_url,
                                                  "models_dir": str(models), **extra})  # fmt: skip


def load_into(store_url: str, models: Path, version: str | None = None) -> float:
    """Materialise a version; returns its serving cutoff (epoch seconds)."""

    async def go() -> float:
        store = open_store(store_url)
        try:
            name, _ = await materialize(store, models, version)
            blob = await store.get_global(name, CATALOG)
            assert blob is not None
            return decode_catalog(blob).cutoff
        finally:
            await store.close()

    return asyncio.run(go())


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()


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
    settings = service_settings(embedded_url, models, as_of=iso(now))
    with TestClient(create_app(settings)) as client:
        yield client, now
