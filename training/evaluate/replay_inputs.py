"""What a replay of the test window asks and feeds the decision path, from training data:
when each customer-channel group was first shown an offer in the window (the instant its
decision is replayed at), the events the channels sent before then, and which offers
were valid at an instant."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

import polars as pl

from omnioffer.contracts.http import EventIn

Key = tuple[str, str]  # (customer_key, channel)
_EPOCH_S = pl.col("timestamp").dt.epoch("us").cast(pl.Float64) / 1e6


def first_impressions(events: pl.LazyFrame, start: datetime, end: datetime) -> dict[Key, float]:
    """Each known customer-channel group's first offer impression in [start, end]."""
    rows = (
        events.filter(
            (pl.col("event_type") == "offer_impression")
            & ~pl.col("anonymous")
            & pl.col("timestamp").is_between(start, end)
        )
        .group_by("customer_key", "channel")
        .agg(_EPOCH_S.min().alias("at"))
        .collect()
    )
    return {(c, ch): float(at) for c, ch, at in rows.iter_rows()}


def channel_events(
    events: pl.LazyFrame, customers: Collection[str], start: datetime, until: float
) -> list[EventIn]:
    """The known customers' events from `start` until before `until` (epoch seconds), in
    time order, as the channels would send them (named by customer id)."""
    who = pl.Series(list(customers), dtype=pl.String).implode()
    columns = ["event_type", "channel", "customer_key", "item_id", "offer_id", "quantity"]
    rows = (
        events.filter(~pl.col("anonymous") & (pl.col("timestamp") >= start))
        .with_columns(ts=_EPOCH_S)
        .filter((pl.col("ts") < until) & pl.col("customer_key").is_in(who))
        .select("ts", *columns, "revenue")
        .sort("ts", maintain_order=True)
        .collect()
    )
    return [
        EventIn(customer_id=c, timestamp=ts, event_type=kind, channel=ch, item_id=item,
                offer_id=offer, quantity=int(qty or 1), revenue=rev)
        for ts, kind, ch, c, item, offer, qty, rev in rows.iter_rows()
    ]  # fmt: skip


def validity(offers: pl.DataFrame) -> Mapping[str, tuple[float, float]]:
    """Each offer's validity window (epoch seconds; open ends are infinite)."""
    rows = offers.select(
        "offer_id",
        (pl.col("start").dt.epoch("us").cast(pl.Float64) / 1e6).fill_null(float("-inf")),
        (pl.col("end").dt.epoch("us").cast(pl.Float64) / 1e6).fill_null(float("inf")),
    )
    return {o: (float(s), float(e)) for o, s, e in rows.iter_rows()}
