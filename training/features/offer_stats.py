"""Offer response statistics per offer and channel: the batch statistics a version ships
(of_rate, of_rate_channel, of_log_impressions) and the global rate, its prior.
"""

from __future__ import annotations

import polars as pl

from omnioffer.features.spec import RESPONSES, smoothed_rate


def offer_events(hist: pl.LazyFrame) -> pl.LazyFrame:
    return hist.filter(pl.col("offer_id").is_not_null()).with_columns(
        resp=pl.col("event_type").is_in(RESPONSES).cast(pl.Float64),
        impr=(pl.col("event_type") == "offer_impression").cast(pl.Float64),
    )


def response_stats(hist: pl.LazyFrame) -> tuple[float, pl.LazyFrame, pl.LazyFrame]:
    """Global rate, then per offer (of_rate, of_log_impressions) and per (offer, channel)."""
    ev = offer_events(hist)
    tot = ev.select(pl.col("resp").sum(), pl.col("impr").sum()).collect().row(0)
    prior = float(tot[0] / tot[1]) if tot[1] else 0.0
    rate = smoothed_rate(pl.col("resp").sum(), pl.col("impr").sum(), prior)
    per_offer = ev.group_by("offer_id").agg(
        rate.alias("of_rate"), pl.col("impr").sum().log1p().alias("of_log_impressions")
    )
    per_channel = ev.group_by("offer_id", "channel").agg(rate.alias("of_rate_channel"))
    return prior, per_offer, per_channel
