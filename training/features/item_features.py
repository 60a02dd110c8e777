"""Item-ranker features for candidate (customer, channel, item) rows.

Every feature has an explicit fill value for "no history", so the exported ONNX
model never has to agree with LightGBM about missing-value routing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl

from omnioffer.features.spec import ITEM_FILLS, SOURCES, item_feature_names
from training.features.history import (
    channel_item_popularity,
    customer_category_stats,
    customer_item_stats,
    customer_stats,
    item_stats,
)
from training.items.cf import CFModel
from training.prep.interactions import Interactions
from training.prep.snapshot import Snapshot


def build_item_features(candidates: pl.DataFrame, snap: Snapshot) -> pl.DataFrame:
    """Candidates joined with every feature column (float64; nulls filled)."""
    hist, items, cutoff, channels = snap.hist, snap.items, snap.cutoff, snap.channels
    mine = snap.history_of(candidates.get_column("customer_key"))
    item_table = snap.memo("item_stats", lambda: item_stats(hist, items, cutoff).collect())
    channel_pop = snap.memo("channel_pop", lambda: channel_item_popularity(hist, cutoff).collect())
    ci, cat = ["customer_key", "item_id"], ["customer_key", "category"]
    frame = (
        candidates.lazy()
        .join(item_table.lazy(), on="item_id", how="left")
        .join(customer_item_stats(mine, cutoff), on=ci, how="left")
        .join(customer_category_stats(mine, items, cutoff), on=cat, how="left")
        .join(customer_stats(mine, cutoff, list(channels)), on="customer_key", how="left")
        .join(channel_pop.lazy(), on=["channel", "item_id"], how="left")
        .with_columns(
            (pl.col("ci_last_channel") == pl.col("channel"))
            .cast(pl.Float64)
            .alias("ci_same_channel"),
            (pl.col("it_price") / pl.col("cu_mean_price")).alias("price_ratio"),
            pl.col("channel")
            .replace_strict(list(channels), list(range(len(channels))), default=-1)
            .cast(pl.Float64)
            .alias("channel_code"),
            *(pl.col(f"src_{s}").cast(pl.Float64) for s in SOURCES),
            pl.col("als_rank").cast(pl.Float64),
        )
        .collect()
    )
    frame = frame.with_columns(cf_score=_cf_scores(frame, snap.inter, snap.cf))
    names = item_feature_names(channels)
    fills = {**ITEM_FILLS, **{f"cu_share_{ch}": 0.0 for ch in channels}}
    return frame.with_columns(
        pl.col(n).cast(pl.Float64).fill_nan(None).fill_null(fills[n]) for n in names
    )


def _cf_scores(frame: pl.DataFrame, inter: Interactions, cf: CFModel) -> pl.Series:
    users = inter.customer_indices(frame.get_column("customer_key"))
    items = inter.item_indices(frame.get_column("item_id"))
    return pl.Series("cf_score", cf.score_pairs(users, items), dtype=pl.Float64)


def feature_matrix(frame: pl.DataFrame, names: Sequence[str]) -> npt.NDArray[np.float32]:
    """The float32 matrix LightGBM trains on and onnxruntime scores, columns in `names` order."""
    return frame.select(names).to_numpy().astype(np.float32, copy=False)
