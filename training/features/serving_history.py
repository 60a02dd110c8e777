"""A customer's history as serving keeps it: the one definition, for the `history`
serving file and for training's replay of the serving offer features."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from omnioffer.contracts import serving as sf
from omnioffer.features.spec import BROWSE


def history(hist: pl.LazyFrame, cutoff: datetime, recent_days: int) -> pl.LazyFrame:
    """The compact per-customer event history online features are computed from, in time
    order (as the resolved events are). Not sorted by customer here, so it can be
    streamed: the reader (`customer_batches`) groups it with a stable sort."""
    recent = pl.col("event_type").is_in(BROWSE) & (
        pl.col("timestamp") >= cutoff - timedelta(days=recent_days)
    )
    return hist.filter(pl.col("event_type").is_in(sf.HISTORY_TYPES) | recent).select(
        "customer_key",
        (pl.col("timestamp").dt.epoch("us").cast(pl.Float64) / 1e6).alias("ts"),
        "event_type",
        "channel",
        "item_id",
        "offer_id",
        "quantity",
        "revenue",
    )
