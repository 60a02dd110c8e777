"""Load a model version into the feature store, then activate it (`omnioffer materialize`).

Loading happens under the version's own namespace while the previous version keeps
serving; activation is one atomic switch at the end, so a crash half-way leaves
the store serving exactly what it served before (re-running restarts the load).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from omnioffer.contracts import serving as sf
from omnioffer.contracts.payloads import CATALOG, encode_catalog
from omnioffer.jobs.serving_files import build_catalog, customer_batches
from omnioffer.registry import load_version
from omnioffer.store.base import FeatureStore

log = logging.getLogger("omnioffer.materialize")


async def materialize(
    store: FeatureStore, models_dir: Path, version: str | None = None, *, activate: bool = True
) -> tuple[str, int]:
    """Write a version's catalog, customers and identities; returns (version, customers)."""
    loaded = await asyncio.to_thread(load_version, models_dir, version)
    name = loaded.name
    for info in await store.list_versions():
        if info.name == name and info.active and info.state == "ready":
            log.info("%s is already materialized and active", name)
            return name, info.customers
    await store.begin_version(name)
    await store.put_globals(name, {CATALOG: encode_catalog(build_catalog(loaded))})
    count = 0
    for chunk in customer_batches(loaded):
        await store.put_customers(name, chunk)
        count += len(chunk)
    identities = loaded.file(sf.rel(sf.IDENTITIES))
    await _put_identities(store, identities)
    await store.finish_version(name, {"customers": str(count), "models_dir": str(models_dir)})
    if activate:
        await store.activate(name)
    return name, count


async def _put_identities(store: FeatureStore, path: Path, chunk: int = 20_000) -> None:
    import polars as pl

    rows = pl.read_parquet(path).select("id_type", "id_value", "customer_key").rows()
    for lo in range(0, len(rows), chunk):
        await store.put_identities(rows[lo : lo + chunk])
