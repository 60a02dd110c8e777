"""The committed golden version, materialised into a fresh embedded store and served."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from golden_script import MODELS
from litestar.testing import TestClient

from omnioffer.contracts.payloads import CATALOG, decode_catalog
from omnioffer.jobs.materialize import materialize
from omnioffer.service import create_service_app
from omnioffer.settings import load_settings
from omnioffer.store import open_store


def _load(url: str) -> float:
    async def go() -> float:
        store = open_store(url)
        try:
            name, _ = await materialize(store, MODELS)
            blob = await store.get_global(name, CATALOG)
            assert blob is not None
            return decode_catalog(blob).cutoff
        finally:
            await store.close()

    return asyncio.run(go())


@contextmanager
def golden_client(tmp: Path) -> Iterator[tuple[TestClient, float]]:
    """(client, now): the real app over the golden version, one day after its cutoff."""
    url = f"sqlite:///{tmp / 'golden.sqlite'}"
    now = _load(url) + timedelta(days=1).total_seconds()
    as_of = datetime.fromtimestamp(now, tz=UTC).isoformat()
    overrides = {"store_url": url, "models_dir": str(MODELS), "as_of": as_of}
    with TestClient(create_service_app(load_settings(None, env={}, overrides=overrides))) as client:
        yield client, now
