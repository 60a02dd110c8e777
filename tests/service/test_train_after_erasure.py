"""Training after an erasure excludes the customer: `DELETE /v1/customers/{id}` through
the real app, `export-events` writes the tombstones, and `train` on the history folder
with them leaves the customer and every id linked to it out of what it trains on and of
every file of the version it writes (the same files of the version trained without the
tombstones do hold them, so the checks can fail)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from litestar.testing import TestClient

from omnioffer.contracts.validate import load_valid
from omnioffer.identity import build_identity_map
from omnioffer.jobs.export_events import export_events
from omnioffer.registry import get_current
from omnioffer.store import open_store
from training.prep.resolve import load_training_data

if TYPE_CHECKING:
    from training.train import TrainOutcome


def linked_group(data: Path) -> tuple[str, list[str], list[tuple[str, str]]]:
    """A customer of the history with several linked identifiers: its canonical id, every
    customer id merged into it, and its identifiers."""
    dataset = load_valid(data)
    identity = build_identity_map(dataset.identities, dataset.events)
    sizes = identity.identifiers.group_by("canonical_id").len().sort(["len", "canonical_id"])
    cid = str(sizes.filter(pl.col("len") >= 2).get_column("canonical_id")[0])
    ids = identity.customers.filter(pl.col("canonical_id") == cid).get_column("customer_id")
    idents = identity.identifiers.filter(pl.col("canonical_id") == cid)
    return cid, ids.to_list(), list(idents.select("id_type", "id_value").iter_rows())


def traces(version: Path, ids: list[str], values: list[str]) -> list[str]:
    """Where any of the ids (or identifier values) appear in a version's customer files."""
    serving = version / "serving"
    found = []
    vocab = set(np.load(version / "vocab" / "customers.npy").tolist())
    found += [f"vocab: {i}" for i in ids if i in vocab]
    for name, column in (("customers", "customer_key"), ("history", "customer_key"),
                         ("identities", "customer_key"), ("identities", "id_value")):  # fmt: skip
        present = set(pl.read_parquet(serving / f"{name}.parquet").get_column(column).to_list())
        found += [f"{name}.{column}: {v}" for v in [*ids, *values] if v in present]
    return found


def test_training_after_an_erasure_leaves_the_customer_out(
    served: tuple[TestClient, float],
    embedded_url: str,
    retail: Path,
    trained: tuple[Path, TrainOutcome],
    tmp_path: Path,
) -> None:
    from training.train import train

    client, _ = served
    history = retail / "data"
    cid, merged, identifiers = linked_group(history)
    values = [v for _, v in identifiers]
    before = trained[0] / get_current(trained[0])
    assert traces(before, merged, values), "trained without tombstones, the version has them"

    r = client.delete(f"/v1/customers/{cid}")
    assert r.status_code == 200 and r.json()["erased"] is True, r.text
    exported = export_events(open_store(embedded_url), tmp_path / "export")
    assert exported.tombstones == r.json()["tombstones"]

    folder = tmp_path / "data"
    shutil.copytree(history, folder)
    shutil.copy(tmp_path / "export" / "erasures.parquet", folder / "erasures.parquet")
    data = load_training_data(folder)
    assert data.excluded.customers >= 1 and data.excluded.events > 0
    keys = set(data.events.select("customer_key").collect().to_series().to_list())
    assert not keys & {cid, *merged, *(f"anon:{t}:{v}" for t, v in identifiers)}
    assert data.identity.customers.filter(pl.col("customer_id").is_in(merged)).height == 0
    assert data.identity.identifiers.filter(pl.col("id_value").is_in(values)).height == 0
    full = load_training_data(history)
    assert full.events.collect().height - data.events.collect().height == data.excluded.events

    models = tmp_path / "models"
    outcome = train(folder, models, force=True, progress=False)
    assert outcome.version is not None
    assert traces(models / outcome.version, merged, values) == []
