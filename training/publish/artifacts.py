"""Assemble a model version in a staging folder: vocabularies, factors, ONNX, card.

The registry (omnioffer.registry) then hashes and publishes it atomically.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from omnioffer.contracts.artifact import Manifest, RankerEntry, TrainingWindow, utc_now_iso
from omnioffer.contracts.problems import Dropped
from omnioffer.vocab import Vocabulary
from training.evaluate.scoreboard import Scoreboard
from training.features.offer_catalog import offer_vectors
from training.items.task import ItemTaskResult
from training.offers.task import OfferTaskResult
from training.prep.split import TimeSplit
from training.publish.dropped import dropped_rows
from training.publish.export_onnx import export_ranker

PARITY_ROWS = 2_000


def _save(path: Path, array: npt.NDArray[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, array, allow_pickle=False)


def write_cf_files(staging: Path, items: ItemTaskResult, offer_items: pl.DataFrame) -> None:
    """Vocabularies and float32 factor matrices of the test-cutoff snapshot."""
    snap = items.snapshot
    _save(staging / "vocab" / "customers.npy", snap.inter.customers.to_array())
    _save(staging / "vocab" / "items.npy", snap.inter.items.to_array())
    _save(staging / "factors" / "customers.npy", snap.cf.user_factors.astype(np.float32))
    _save(staging / "factors" / "items.npy", snap.cf.item_factors.astype(np.float32))
    offer_ids = offer_items.get_column("offer_id").unique().sort().to_list()
    if offer_ids:
        _save(staging / "vocab" / "offers.npy", Vocabulary(offer_ids).to_array())
        _save(staging / "factors" / "offers.npy", offer_vectors(offer_items, snap, offer_ids))


def export_rankers(
    staging: Path, rankers: Mapping[str, tuple[Any, list[str], npt.NDArray[np.float32]]]
) -> dict[str, RankerEntry]:
    """Export each (booster, feature names, parity rows) to rankers/<name>.onnx, parity-checked."""
    entries: dict[str, RankerEntry] = {}
    for name, (booster, names, rows) in rankers.items():
        rel = f"rankers/{name}.onnx"
        (staging / "rankers").mkdir(parents=True, exist_ok=True)
        report = export_ranker(booster, names, staging / rel, parity_rows=rows[:PARITY_ROWS])
        entries[name] = RankerEntry(
            feature_names=names,
            file=rel,
            onnx_max_abs_diff=report.max_abs_diff,
            latency_ms_100_rows=report.latency_ms_100_rows,
            objective=report.objective,
        )
    return entries


def metrics_of(
    boards: Mapping[str, Scoreboard], rankers: Mapping[str, RankerEntry]
) -> dict[str, dict[str, dict[str, float]]]:
    """The manifest's {task: {model: {metric: value}}}, with each ranker's ONNX parity."""
    metrics = {
        task: {m: dict(v) for m, v in board.overall.items()} for task, board in boards.items()
    }
    for task, entry in rankers.items():
        metrics[task]["ranker"]["onnx_max_abs_diff"] = entry.onnx_max_abs_diff
    return metrics


def write_per_channel(staging: Path, boards: Mapping[str, Scoreboard]) -> None:
    per_channel = {task: board.per_channel for task, board in boards.items()}
    text = json.dumps(per_channel, indent=2, sort_keys=True)
    (staging / "metrics_per_channel.json").write_text(text + "\n", encoding="utf-8")


def make_manifest(
    *,
    fingerprint: str,
    split: TimeSplit,
    params: dict[str, Any],
    rankers: dict[str, RankerEntry],
    metrics: dict[str, dict[str, dict[str, float]]],
    notes: str,
    dropped: Sequence[Dropped] = (),
) -> Manifest:
    window = TrainingWindow(
        start=split.start.isoformat(),
        end=split.test_start.isoformat(),
        test_start=split.test_start.isoformat(),
        test_end=split.end.isoformat(),
    )
    return Manifest(
        created_at=utc_now_iso(),
        data_fingerprint=fingerprint,
        training_window=window,
        params=params,
        rankers=rankers,
        metrics=metrics,
        notes=notes,
        dropped=dropped_rows(dropped),
    )


def parity_rows_of(result: ItemTaskResult | OfferTaskResult) -> npt.NDArray[np.float32]:
    rows = result.extra.get("parity_rows")
    if rows is None:
        raise ValueError("task result carries no held-out rows for the ONNX parity check")
    return np.asarray(rows, dtype=np.float32)
