"""Ranked lists per group as padded arrays, the shape the metrics take.

A "group" is one (customer_key, channel) pair with purchases in a window. Every
model's output is turned into the same (n_groups, k) matrix of item indices
(-1 = padding), aligned with the same list of relevant item sets, so all models
are scored on exactly the same groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

GROUP_KEYS = ["customer_key", "channel"]


@dataclass(frozen=True)
class Truth:
    """Relevant items per group, groups in a fixed order."""

    groups: pl.DataFrame  # customer_key, channel, gid (0..n-1)
    relevant: list[npt.NDArray[np.int64]]  # item indices in `item_index`
    item_index: dict[str, int]


def window_truth(purchases: pl.DataFrame, item_ids: list[str]) -> Truth:
    """Groups and their purchased items from a window's purchase events."""
    item_index = {item: i for i, item in enumerate(item_ids)}
    known = purchases.filter(pl.col("item_id").is_in(item_ids))
    grouped = (
        known.group_by(GROUP_KEYS)
        .agg(pl.col("item_id").unique().sort())
        .sort(GROUP_KEYS)
        .with_row_index("gid")
    )
    relevant = [
        np.fromiter((item_index[i] for i in items), dtype=np.int64)
        for items in grouped.get_column("item_id").to_list()
    ]
    groups = grouped.select(*GROUP_KEYS, pl.col("gid").cast(pl.Int64))
    return Truth(groups, relevant, item_index)


def sample_groups(rows: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    """`rows` of at most `n` (customer_key, channel) groups, a uniform sample of groups
    above that: it bounds the work of one window however large the customer base."""
    groups = rows.select(GROUP_KEYS).unique().sort(GROUP_KEYS)
    if groups.height <= n:
        return rows
    return rows.join(groups.sample(n, seed=seed), on=GROUP_KEYS, maintain_order="left")


def ranked_matrix(
    scored: pl.DataFrame, truth: Truth, k: int, *, score_col: str = "score"
) -> npt.NDArray[np.int64]:
    """Top-k item indices per truth group from long (customer_key, channel, item_id, score) rows.

    Groups without rows are all padding (-1); ties break by item id for determinism.
    """
    out = np.full((truth.groups.height, k), -1, dtype=np.int64)
    index = pl.DataFrame(
        {"item_id": list(truth.item_index), "idx": list(truth.item_index.values())},
        schema={"item_id": pl.String, "idx": pl.Int64},
    )
    top = (
        scored.join(truth.groups, on=GROUP_KEYS)
        .join(index, on="item_id")
        .sort(["gid", score_col, "item_id"], descending=[False, True, False])
        .with_columns(pl.int_range(pl.len()).over("gid").alias("pos"))
        .filter(pl.col("pos") < k)
    )
    out[top.get_column("gid").to_numpy(), top.get_column("pos").to_numpy()] = top.get_column(
        "idx"
    ).to_numpy()
    return out
