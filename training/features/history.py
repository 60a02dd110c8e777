"""Customer history statistics at a cutoff: per item, per category, per customer.

Repeat-purchase timing is first-class: for each (customer, item) and
(customer, category) we keep the mean interval between purchases and how far
through that interval the customer is now (`due` = days since last / interval).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from omnioffer.features.spec import BROWSE, DAY_S, POP7_DAYS, POP28_DAYS, RECENT_DAYS


def _days_since(cutoff: datetime, col: str) -> pl.Expr:
    return (pl.lit(cutoff) - pl.col(col)).dt.total_seconds() / DAY_S


def _purchase_stats(
    purchases: pl.LazyFrame, keys: list[str], prefix: str, cutoff: datetime
) -> pl.LazyFrame:
    """count, days since last, mean interval between purchase days, due ratio."""
    day = pl.col("timestamp").dt.truncate("1d")
    stats = purchases.group_by(keys).agg(
        pl.col("quantity").sum().alias(f"{prefix}_qty"),
        day.n_unique().alias("_days"),
        pl.col("timestamp").min().alias("_first"),
        pl.col("timestamp").max().alias("_last"),
    )
    span = (pl.col("_last") - pl.col("_first")).dt.total_seconds() / DAY_S
    interval = pl.when(pl.col("_days") >= 2).then(span / (pl.col("_days") - 1))
    return (
        stats.with_columns(
            _days_since(cutoff, "_last").alias(f"{prefix}_days_since"),
            pl.col("_days").cast(pl.Float64).alias(f"{prefix}_n"),
            interval.alias(f"{prefix}_interval"),
        )
        .with_columns(
            (pl.col(f"{prefix}_days_since") / pl.col(f"{prefix}_interval")).alias(f"{prefix}_due"),
        )
        .drop("_days", "_first", "_last")
    )


def customer_item_stats(
    hist: pl.LazyFrame, cutoff: datetime, recent_days: int = RECENT_DAYS
) -> pl.LazyFrame:
    """Per (customer_key, item_id): purchase timing, recent views and carts, last channel."""
    purchases = hist.filter(pl.col("event_type") == "purchase")
    bought = _purchase_stats(purchases, ["customer_key", "item_id"], "ci", cutoff)
    last_channel = (
        purchases.sort("timestamp")
        .group_by("customer_key", "item_id")
        .agg(pl.col("channel").last().alias("ci_last_channel"))
    )
    recent = (
        hist.filter(
            pl.col("event_type").is_in(BROWSE)
            & (pl.col("timestamp") >= cutoff - timedelta(days=recent_days))
        )
        .group_by("customer_key", "item_id")
        .agg(
            (pl.col("event_type") == "view").sum().cast(pl.Float64).alias("ci_views_recent"),
            (pl.col("event_type") == "add_to_cart").sum().cast(pl.Float64).alias("ci_carts_recent"),
            _days_since(cutoff, "timestamp").min().alias("ci_days_since_seen"),
        )
    )
    keys = ["customer_key", "item_id"]
    return bought.join(last_channel, on=keys, how="left").join(
        recent, on=keys, how="full", coalesce=True
    )


def customer_category_stats(
    hist: pl.LazyFrame, items: pl.LazyFrame, cutoff: datetime
) -> pl.LazyFrame:
    """Per (customer_key, category): purchase timing and share of the customer's purchases."""
    purchases = hist.filter(pl.col("event_type") == "purchase").join(
        items.select("item_id", "category"), on="item_id", how="left"
    )
    stats = _purchase_stats(purchases, ["customer_key", "category"], "cc", cutoff)
    return stats.with_columns(
        (pl.col("cc_qty") / pl.col("cc_qty").sum().over("customer_key")).alias("cc_share")
    )


def customer_stats(hist: pl.LazyFrame, cutoff: datetime, channels: list[str]) -> pl.LazyFrame:
    """Per customer: recency, frequency, monetary value, mean price paid, channel mix."""
    purchases = hist.filter(pl.col("event_type") == "purchase")
    n = pl.len().cast(pl.Float64)
    mix = [((pl.col("channel") == ch).sum() / n).alias(f"cu_share_{ch}") for ch in channels]
    return purchases.group_by("customer_key").agg(
        _days_since(cutoff, "timestamp").min().alias("cu_recency"),
        n.alias("cu_frequency"),
        pl.col("revenue").fill_null(0.0).sum().alias("cu_monetary"),
        (pl.col("revenue") / pl.col("quantity")).mean().alias("cu_mean_price"),
        pl.col("item_id").n_unique().cast(pl.Float64).alias("cu_distinct_items"),
        *mix,
    )


def item_stats(hist: pl.LazyFrame, items: pl.LazyFrame, cutoff: datetime) -> pl.LazyFrame:
    """Per item: popularity 28d and 7d, trend, repeat-buyer rate, price."""
    purchases = hist.filter(pl.col("event_type") == "purchase")
    age = _days_since(cutoff, "timestamp")
    pop = purchases.group_by("item_id").agg(
        pl.col("quantity").filter(age <= POP28_DAYS).sum().cast(pl.Float64).alias("it_pop28"),
        pl.col("quantity").filter(age <= POP7_DAYS).sum().cast(pl.Float64).alias("it_pop7"),
        pl.col("quantity").sum().cast(pl.Float64).alias("it_pop_all"),
    )
    buyers = (
        purchases.group_by("item_id", "customer_key")
        .agg(pl.len().alias("k"))
        .group_by("item_id")
        .agg((pl.col("k") >= 2).mean().alias("it_repeat_rate"))
    )
    return (
        items.select("item_id", "category", pl.col("price").cast(pl.Float64).alias("it_price"))
        .join(pop, on="item_id", how="left")
        .join(buyers, on="item_id", how="left")
        .with_columns(
            (pl.col("it_pop7") * 4.0 / (pl.col("it_pop28") + 1.0)).alias("it_trend"),
        )
    )


def channel_item_popularity(
    hist: pl.LazyFrame, cutoff: datetime, days: int = POP28_DAYS
) -> pl.LazyFrame:
    """Per (channel, item): purchased quantity in the last `days`, and its share of the channel."""
    q = (
        hist.filter(
            (pl.col("event_type") == "purchase")
            & (pl.col("timestamp") >= cutoff - timedelta(days=days))
        )
        .group_by("channel", "item_id")
        .agg(pl.col("quantity").sum().cast(pl.Float64).alias("ch_pop"))
    )
    return q.with_columns(
        (pl.col("ch_pop") / pl.col("ch_pop").sum().over("channel")).alias("ch_share")
    )
