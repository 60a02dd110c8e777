"""Offer features from the customer's category taste (training's side of features/spec.py's
co_cat_share, ca_rate and ca_log_share; online: omnioffer/features/offer_affinity.py).

Per (customer, offer), best over the offer's categories: the customer's purchase share
in it, their smoothed response rate to offers of it, and the log share of the
distinct items they bought, viewed or carted that belong to it.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from omnioffer.features.spec import BROWSE, CATEGORY_PRIOR_WEIGHT, SHARE_SMOOTHING, smoothed_rate
from training.features.offer_stats import offer_events
from training.prep.snapshot import Snapshot


def category_share(mine: pl.LazyFrame, pairs: pl.DataFrame, snap: Snapshot) -> pl.LazyFrame:
    """Per (customer, offer): the customer's largest purchase share among the offer's categories."""
    purchases = mine.filter(pl.col("event_type") == "purchase").join(
        snap.items.select("item_id", "category"), on="item_id"
    )
    share = purchases.group_by("customer_key", "category").agg(pl.col("quantity").sum().alias("q"))
    share = share.with_columns(pl.col("q") / pl.col("q").sum().over("customer_key"))
    offer_cats = pairs.lazy().join(snap.items.select("item_id", "category"), on="item_id")
    offer_cats = offer_cats.select("offer_id", "category").unique()
    return (
        share.join(offer_cats, on="category")
        .group_by("customer_key", "offer_id")
        .agg(pl.col("q").max().cast(pl.Float64).alias("co_cat_share"))
    )


def _offer_categories(pairs: pl.DataFrame, snap: Snapshot) -> pl.LazyFrame:
    """(offer_id, category) for each category among an offer's covered items."""
    cats = snap.items.select("item_id", "category").drop_nulls("category")
    return pairs.lazy().join(cats, on="item_id").select("offer_id", "category").unique()


def _category_items(mine: pl.LazyFrame, snap: Snapshot, recent_days: int) -> pl.LazyFrame:
    """Per (customer, category): distinct items bought, or viewed or carted in the last
    `recent_days`; `_total` is the customer's count over all categories."""
    cats = snap.items.select("item_id", "category").drop_nulls("category")
    recent = pl.col("timestamp") >= snap.cutoff - timedelta(days=recent_days)
    kept = (pl.col("event_type") == "purchase") | (pl.col("event_type").is_in(BROWSE) & recent)
    seen = mine.filter(kept).select("customer_key", "item_id").unique().join(cats, on="item_id")
    return (
        seen.group_by("customer_key", "category")
        .agg(pl.len().cast(pl.Float64).alias("_n"))
        .with_columns(pl.col("_n").sum().over("customer_key").alias("_total"))
    )


def category_affinity(
    rows: pl.DataFrame,
    mine: pl.LazyFrame,
    pairs: pl.DataFrame,
    snap: Snapshot,
    prior: float,
    *,
    recent_days: int,
) -> pl.LazyFrame:
    """Per (customer, offer), best over the offer's categories: the customer's smoothed
    response rate to offers of the category (their revealed taste for it), and the log
    share of the distinct items they bought, or viewed or carted in the last
    `recent_days` (the history kept online), that belong to it.

    Offer responses are driven by the customer's category taste far more than by the
    offer's own items, and a customer who answers one offer of a category answers the
    next; an offer without known categories gets the prior rate and a zero count."""
    offer_cats = _offer_categories(pairs, snap)
    items = _category_items(mine, snap, recent_days)
    totals = items.select("customer_key", "_total").unique()
    smoothed = smoothed_rate(
        pl.col("resp").sum(), pl.col("impr").sum(), prior, CATEGORY_PRIOR_WEIGHT
    )
    rate = (
        offer_events(mine)
        .join(offer_cats, on="offer_id")
        .group_by("customer_key", "category")
        .agg(smoothed.alias("_rate"))
    )
    add_cat, add_all = SHARE_SMOOTHING
    return (
        rows.lazy()
        .select("customer_key", "offer_id")
        .unique()
        .join(offer_cats, on="offer_id", how="left")
        .join(items.drop("_total"), on=["customer_key", "category"], how="left")
        .join(rate, on=["customer_key", "category"], how="left")
        .join(totals, on="customer_key", how="left")
        .group_by("customer_key", "offer_id")
        .agg(
            pl.col("_rate").fill_null(prior).max().alias("ca_rate"),
            (
                (pl.col("_n").fill_null(0.0).max() + add_cat)
                / (pl.col("_total").fill_null(0.0).first() + add_all)
            )
            .log()
            .alias("ca_log_share"),
        )
    )
