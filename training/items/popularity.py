"""Popularity and repurchase scores: the baselines, and candidate sources too.

One definition each, used by candidate generation, ranker features and the
evaluation baselines, so the ranker is compared with exactly what it builds on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from omnioffer.features.spec import REPURCHASE_HALF_LIFE_DAYS

PURCHASE = "purchase"


def _recent_purchases(hist: pl.LazyFrame, cutoff: datetime, days: int) -> pl.LazyFrame:
    return hist.filter(
        (pl.col("event_type") == PURCHASE)
        & (pl.col("timestamp") >= cutoff - timedelta(days=days))
        & (pl.col("timestamp") < cutoff)
    )


def popular_items(
    hist: pl.LazyFrame, cutoff: datetime, *, days: int = 28, n: int = 100
) -> pl.DataFrame:
    """Top-n items by purchased quantity in the `days` before cutoff: (item_id, pop_rank)."""
    return (
        _recent_purchases(hist, cutoff, days)
        .group_by("item_id")
        .agg(pl.col("quantity").sum().alias("q"))
        .sort(["q", "item_id"], descending=[True, False])
        .head(n)
        .with_columns(pl.int_range(1, pl.len() + 1).alias("pop_rank"))
        .select("item_id", "pop_rank")
        .collect()
    )


def popular_items_by_channel(
    hist: pl.LazyFrame, cutoff: datetime, *, days: int = 28, n: int = 100
) -> pl.DataFrame:
    """Top-n items per channel: (channel, item_id, pop_rank)."""
    return (
        _recent_purchases(hist, cutoff, days)
        .group_by("channel", "item_id")
        .agg(pl.col("quantity").sum().alias("q"))
        .sort(["channel", "q", "item_id"], descending=[False, True, False])
        .group_by("channel", maintain_order=True)
        .head(n)
        .with_columns(pl.int_range(1, pl.len() + 1).over("channel").alias("pop_rank"))
        .select("channel", "item_id", "pop_rank")
        .collect()
    )


def repurchase_scores(
    hist: pl.LazyFrame,
    cutoff: datetime,
    *,
    half_life_days: float = REPURCHASE_HALF_LIFE_DAYS,
    n: int | None = 50,
) -> pl.DataFrame:
    """The customer's own purchased items by recency-weighted frequency.

    (customer_key, item_id, rep_score, rep_rank); rank 1 is the strongest.
    """
    age_days = (pl.lit(cutoff) - pl.col("timestamp")).dt.total_seconds() / 86_400.0
    scored = (
        hist.filter((pl.col("event_type") == PURCHASE) & (pl.col("timestamp") < cutoff))
        .group_by("customer_key", "item_id")
        .agg(
            (pl.col("quantity") * 0.5 ** (age_days / half_life_days))
            .sum()
            .round(9)
            .alias("rep_score")
        )
        .sort(["customer_key", "rep_score", "item_id"], descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1).over("customer_key").alias("rep_rank"))
    )
    if n is not None:
        scored = scored.filter(pl.col("rep_rank") <= n)
    return scored.collect()
