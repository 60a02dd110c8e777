"""Offer response statistics and fatigue, per offer, channel and customer (training's
side of features/spec.py's of_rate*, cu_rate*, *_log_impressions and fa_* features).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from omnioffer.features.spec import (
    DAY_S,
    FATIGUE_DAYS,
    RECENT_IMPRESSION_DAYS,
    RESPONSES,
    smoothed_rate,
)


def offer_events(hist: pl.LazyFrame) -> pl.LazyFrame:
    return hist.filter(pl.col("offer_id").is_not_null()).with_columns(
        resp=pl.col("event_type").is_in(RESPONSES).cast(pl.Float64),
        impr=(pl.col("event_type") == "offer_impression").cast(pl.Float64),
    )


def response_stats(
    hist: pl.LazyFrame,
) -> tuple[float, pl.LazyFrame, pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    """Global rate, then per offer, per (offer, channel), per customer, per (customer, channel)."""
    ev = offer_events(hist)
    tot = ev.select(pl.col("resp").sum(), pl.col("impr").sum()).collect().row(0)
    prior = float(tot[0] / tot[1]) if tot[1] else 0.0

    def agg(keys: list[str], prefix: str) -> pl.LazyFrame:
        return ev.group_by(keys).agg(
            smoothed_rate(pl.col("resp").sum(), pl.col("impr").sum(), prior).alias(
                f"{prefix}_rate"
            ),
            pl.col("impr").sum().log1p().alias(f"{prefix}_log_impressions"),
        )

    by_channel = ["offer_id", "channel"]
    cu_channel = ["customer_key", "channel"]
    return (
        prior,
        agg(["offer_id"], "of"),
        agg(by_channel, "of").select(*by_channel, pl.col("of_rate").alias("of_rate_channel")),
        agg(["customer_key"], "cu"),
        agg(cu_channel, "cu").select(*cu_channel, pl.col("cu_rate").alias("cu_rate_channel")),
    )


def collected_response_stats(
    hist: pl.LazyFrame,
) -> tuple[float, pl.LazyFrame, pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    """response_stats computed once, for every block of rows that joins them."""
    prior, *tables = response_stats(hist)
    of, of_ch, cu, cu_ch = (t.collect().lazy() for t in tables)
    return prior, of, of_ch, cu, cu_ch


def fatigue(hist: pl.LazyFrame, cutoff: datetime) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Per (customer, offer): unanswered recent impressions, dismissals, days since shown;
    per customer: impressions of any offer in the last 7 days."""
    ev = offer_events(hist)
    age = (pl.lit(cutoff) - pl.col("timestamp")).dt.total_seconds() / DAY_S
    per_offer = (
        ev.group_by("customer_key", "offer_id")
        .agg(
            pl.col("impr").filter(age <= FATIGUE_DAYS).sum().alias("_impr14"),
            pl.col("resp").filter(age <= FATIGUE_DAYS).sum().alias("_resp14"),
            (pl.col("event_type") == "offer_dismiss").sum().cast(pl.Float64).alias("fa_dismissed"),
            pl.col("impr").sum().alias("fa_impr_offer_total"),
            age.filter(pl.col("impr") > 0).min().alias("fa_days_since_offer"),
        )
        .with_columns(
            fa_impr_offer_14d=pl.when(pl.col("_resp14") > 0).then(0.0).otherwise(pl.col("_impr14"))
        )
        .drop("_impr14", "_resp14")
    )
    recent = ev.filter(pl.col("timestamp") >= cutoff - timedelta(days=RECENT_IMPRESSION_DAYS))
    per_customer = recent.group_by("customer_key").agg(pl.col("impr").sum().alias("fa_impr_all_7d"))
    return per_offer, per_customer
