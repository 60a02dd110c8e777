"""Parity-test fixtures (the data set and the trained version live in tests/conftest.py).

`both` pairs the version's online view (Catalog model and materialised per-customer
records, exactly as the service reads them) with an offline training Snapshot at the
same serving cutoff built from the version's own factors: the input of the parity tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from omnioffer.jobs.serving_files import build_catalog, customer_batches
from omnioffer.registry import LoadedVersion, load_version
from omnioffer.version.model import VersionModel
from omnioffer.vocab import Vocabulary
from training.items.cf import CFModel
from training.prep.interactions import Interactions
from training.prep.resolve import TrainingData, load_training_data
from training.prep.snapshot import Snapshot
from training.train import TrainOutcome


@pytest.fixture(scope="session")
def training_data(retail: Path) -> TrainingData:
    return load_training_data(retail / "data")


def offline_snapshot(
    data: TrainingData, loaded: LoadedVersion, cutoff: datetime, channels: tuple[str, ...]
) -> Snapshot:
    hist = data.events.filter(~pl.col("anonymous") & (pl.col("timestamp") < cutoff))
    customers = Vocabulary(str(c) for c in loaded.arrays["vocab/customers.npy"].tolist())
    items = Vocabulary(str(i) for i in loaded.arrays["vocab/items.npy"].tolist())
    matrix = sp.csr_matrix((len(customers), len(items)), dtype=np.float32)
    cf = CFModel(
        loaded.arrays["factors/customers.npy"].astype(np.float32),
        loaded.arrays["factors/items.npy"].astype(np.float32),
    )
    inter = Interactions(matrix, customers, items, cutoff)
    return Snapshot(cutoff, hist, data.items, inter, cf, channels)


@pytest.fixture(scope="session")
def both(
    training_data: TrainingData, trained: tuple[Path, TrainOutcome]
) -> tuple[VersionModel, dict[str, bytes], Snapshot]:
    models, _ = trained
    loaded = load_version(models)
    catalog = build_catalog(loaded)
    records = {cid: blob for chunk in customer_batches(loaded) for cid, blob in chunk}
    cutoff = datetime.fromtimestamp(catalog.cutoff, tz=UTC)
    return (
        VersionModel.from_catalog(catalog),
        records,
        offline_snapshot(training_data, loaded, cutoff, tuple(catalog.channels)),
    )
