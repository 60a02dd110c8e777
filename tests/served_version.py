"""Loading a trained version into a store and the settings that serve it (shared by
tests/service and tests/golden; a module of its own because `conftest` names clash across
test folders, importable from every folder because tests/conftest.py puts tests/ on the
path)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from omnioffer.contracts.payloads import CATALOG, decode_catalog
from omnioffer.jobs.materialize import materialize
from omnioffer.settings import Settings, load_settings
from omnioffer.store import open_store

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
