"""Load a model version into the feature store, then activate it (`omnioffer materialize`).

Loading happens under the version's own namespace while the previous version keeps
serving; activation is one atomic switch at the end, so a crash half-way leaves
the store serving exactly what it served before (re-running restarts the load).

The store's tombstones are honoured: a version created before a customer's erasure
(trained on history that still held them) loads neither that customer's batch row nor
its identity links, so re-materializing an older version brings no erased customer back.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

from omnioffer.contracts import serving as sf
from omnioffer.contracts.erasure import customer_digest, identifier_digest
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
    erased = erased_since(await store.tombstones(), loaded.manifest.created_at)
    await store.begin_version(name)
    await store.put_globals(name, {CATALOG: encode_catalog(build_catalog(loaded))})
    count = 0
    for chunk in customer_batches(loaded):
        rows = [r for r in chunk if customer_digest(r[0]) not in erased] if erased else chunk
        await store.put_customers(name, rows)
        count += len(rows)
    identities = loaded.file(sf.rel(sf.IDENTITIES))
    await _put_identities(store, identities, erased)
    await store.finish_version(name, {"customers": str(count), "models_dir": str(models_dir)})
    if activate:
        await store.activate(name)
    return name, count


def erased_since(tombstones: dict[str, float], created_at: str) -> set[str]:
    """The digests of ids erased at or after a version's creation (ISO 8601)."""
    created = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return {d for d, at in tombstones.items() if at >= created.timestamp()}


def _erased(erased: set[str], id_type: str, id_value: str, customer_id: str) -> bool:
    return customer_digest(customer_id) in erased or identifier_digest(id_type, id_value) in erased


async def _put_identities(
    store: FeatureStore, path: Path, erased: set[str], chunk: int = 20_000
) -> None:
    import polars as pl

    rows = pl.read_parquet(path).select("id_type", "id_value", "customer_key").rows()
    if erased:
        rows = [(t, v, c) for t, v, c in rows if not _erased(erased, t, v, c)]
    for lo in range(0, len(rows), chunk):
        await store.put_identities(rows[lo : lo + chunk])
