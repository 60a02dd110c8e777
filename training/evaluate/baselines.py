"""Baseline item rankings, computed at the same cutoff as the ranker.

Each returns long rows (customer_key, channel, item_id, score) for the given
groups, higher score = better. Customers a model knows nothing about are
backfilled with global popularity, as the service would do.
"""

from __future__ import annotations

import polars as pl

from training.evaluate.rankings import GROUP_KEYS
from training.items.candidates import als_candidates
from training.items.popularity import popular_items, popular_items_by_channel, repurchase_scores
from training.prep.snapshot import Snapshot

BACKFILL = -1e6
_COLS = [*GROUP_KEYS, "item_id", "score"]


def backfilled(primary: pl.DataFrame, backfill: pl.DataFrame) -> pl.DataFrame:
    """Primary rows first, then backfill rows below every primary score; one row per item."""
    lower = backfill.with_columns(pl.col("score") + BACKFILL)
    return (
        pl.concat([primary.select(_COLS), lower.select(_COLS)])
        .group_by([*GROUP_KEYS, "item_id"])
        .agg(pl.col("score").max())
    )


def popular(groups: pl.DataFrame, snap: Snapshot, k: int) -> pl.DataFrame:
    top = popular_items(snap.hist, snap.cutoff, n=k)
    return (
        groups.select(GROUP_KEYS)
        .join(top, how="cross")
        .with_columns(score=-pl.col("pop_rank").cast(pl.Float64))
        .select(_COLS)
    )


def popular_channel(groups: pl.DataFrame, snap: Snapshot, k: int) -> pl.DataFrame:
    top = popular_items_by_channel(snap.hist, snap.cutoff, n=k)
    primary = (
        groups.select(GROUP_KEYS)
        .join(top, on="channel")
        .with_columns(score=-pl.col("pop_rank").cast(pl.Float64))
    )
    return backfilled(primary, popular(groups, snap, k))


def repurchase(groups: pl.DataFrame, snap: Snapshot, k: int) -> pl.DataFrame:
    """The customer's own items by recency-weighted frequency, then popularity."""
    customers = groups.get_column("customer_key").unique().implode()
    mine = snap.hist.filter(pl.col("customer_key").is_in(customers))
    own = repurchase_scores(mine, snap.cutoff, n=k)
    primary = (
        groups.select(GROUP_KEYS)
        .join(own, on="customer_key")
        .with_columns(score=pl.col("rep_score").cast(pl.Float64))
    )
    return backfilled(primary, popular(groups, snap, k))


def als(groups: pl.DataFrame, snap: Snapshot, k: int) -> pl.DataFrame:
    customers = groups.get_column("customer_key").unique().sort().to_list()
    top = als_candidates(customers, snap.inter, snap.cf, k)
    primary = (
        groups.select(GROUP_KEYS)
        .join(top, on="customer_key")
        .with_columns(score=-pl.col("als_rank").cast(pl.Float64))
    )
    return backfilled(primary, popular(groups, snap, k))
