"""Offer-propensity features for (customer, channel, offer) rows at a cutoff.

Affinity comes from the offer's items: an offer vector (mean of its items' ALS
factors) dotted with the customer's factors, and the customer's purchases of the
covered items. So an offer nobody has answered yet is still scored. Taste for the
offer's categories (the customer's response rate to offers of those categories and
share of items in them) matters most: responses follow category taste. Response
rates are smoothed towards the global rate; fatigue counts recent unanswered
impressions of the same offer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import numpy.typing as npt
import polars as pl

from omnioffer.features.spec import (
    DAY_S,
    DEEP_DISCOUNT,
    OFFER_FEATURES,
    RECENT_DAYS,
    SHOP_CHANNELS,
    offer_fills,
    smoothed_rate,
)
from training.features.offer_affinity import category_affinity, category_share
from training.features.offer_stats import collected_response_stats, fatigue, offer_events
from training.prep.snapshot import Snapshot


def offer_vectors(
    pairs: pl.DataFrame, snap: Snapshot, offer_ids: Sequence[str]
) -> npt.NDArray[np.float32]:
    """Mean ALS item factor of each offer's covered items (zeros when none are known)."""
    f = snap.cf.item_factors.shape[1]
    out = np.zeros((len(offer_ids), f), dtype=np.float32)
    idx = snap.inter.items.indices(pairs.get_column("item_id").to_list())
    pos = {o: i for i, o in enumerate(offer_ids)}
    rows = np.array(
        [pos.get(o, -1) for o in pairs.get_column("offer_id").to_list()], dtype=np.int64
    )
    ok = (idx >= 0) & (rows >= 0)
    np.add.at(out, rows[ok], snap.cf.item_factors[idx[ok]])
    counts = np.bincount(rows[ok], minlength=len(offer_ids)).astype(np.float32)
    return (out / np.maximum(counts, np.float32(1.0))[:, None]).astype(np.float32)


def _covered_purchases(mine: pl.LazyFrame, pairs: pl.DataFrame, cutoff: datetime) -> pl.LazyFrame:
    """Per (customer, offer): quantity bought of the offer's items, days since the last."""
    age = (pl.lit(cutoff) - pl.col("timestamp")).dt.total_seconds() / DAY_S
    return (
        mine.filter(pl.col("event_type") == "purchase")
        .select("customer_key", "item_id", "quantity", "timestamp")  # not the event's offer_id
        .join(pairs.lazy(), on="item_id")
        .group_by("customer_key", "offer_id")
        .agg(
            pl.col("quantity").sum().cast(pl.Float64).alias("co_qty"),
            age.min().alias("co_days_since"),
        )
    )


def _channel_mix(mine: pl.LazyFrame) -> pl.LazyFrame:
    """Share of the customer's purchases per shop channel: which channels they live on."""
    n = pl.len().cast(pl.Float64)
    return (
        mine.filter(pl.col("event_type") == "purchase")
        .group_by("customer_key")
        .agg(((pl.col("channel") == ch).sum() / n).alias(f"cu_share_{ch}") for ch in SHOP_CHANNELS)
    )


def _discount_lift(mine: pl.LazyFrame, offers: pl.DataFrame, prior: float) -> pl.LazyFrame:
    """How much more the customer answers deep discounts (>= 20%) than shallow ones:
    a revealed price sensitivity, smoothed towards no difference."""
    ev = offer_events(mine).join(offers.lazy().select("offer_id", "discount"), on="offer_id")
    deep = pl.col("discount") >= DEEP_DISCOUNT
    return ev.group_by("customer_key").agg(
        (
            smoothed_rate(
                pl.col("resp").filter(deep).sum(), pl.col("impr").filter(deep).sum(), prior
            )
            - smoothed_rate(
                pl.col("resp").filter(~deep).sum(), pl.col("impr").filter(~deep).sum(), prior
            )
        ).alias("cu_disc_lift")
    )


def build_offer_features(
    rows: pl.DataFrame,
    snap: Snapshot,
    offers: pl.DataFrame,
    pairs: pl.DataFrame,
    item_scores: pl.DataFrame | None = None,
    *,
    recent_days: int = RECENT_DAYS,
) -> pl.DataFrame:
    """rows (customer_key, channel, offer_id) joined with every offer feature (nulls filled).

    offers: offer_id, discount, value. pairs: (offer_id, item_id) coverage.
    item_scores: optional item-ranker scores (customer_key, channel, item_id, score).
    recent_days: how far back views and carts count (what the online history keeps).
    """
    mine = snap.history_of(rows.get_column("customer_key"))
    prior, of, of_ch, cu, cu_ch = snap.memo(
        "response_stats", lambda: collected_response_stats(snap.hist)
    )
    per_offer, per_customer = fatigue(mine, snap.cutoff)
    n_items = pairs.group_by("offer_id").agg(
        pl.len().cast(pl.Float64).log1p().alias("of_log_items")
    )
    co, cco = ["customer_key", "offer_id"], ["customer_key", "channel", "offer_id"]
    affinity = category_affinity(rows, mine, pairs, snap, prior, recent_days=recent_days)
    frame = (
        rows.lazy()
        .join(offers.lazy().select("offer_id", pl.col("discount").alias("of_discount"),
                                   pl.col("value").alias("of_value")), on="offer_id", how="left")
        .join(n_items.lazy(), on="offer_id", how="left")
        .join(of, on="offer_id", how="left")
        .join(of_ch, on=["offer_id", "channel"], how="left")
        .join(cu, on="customer_key", how="left")
        .join(cu_ch, on=["customer_key", "channel"], how="left")
        .join(_covered_purchases(mine, pairs, snap.cutoff), on=co, how="left")
        .join(category_share(mine, pairs, snap), on=co, how="left")
        .join(per_offer, on=co, how="left")
        .join(per_customer, on="customer_key", how="left")
        .join(_channel_mix(mine), on="customer_key", how="left")
        .join(_discount_lift(mine, offers, prior), on="customer_key", how="left")
        .join(affinity, on=co, how="left")
        .collect()
    )  # fmt: skip
    if item_scores is not None:
        best = (
            item_scores.join(pairs, on="item_id")
            .group_by(cco)
            .agg(pl.col("score").max().alias("ir_max"))
        )
        frame = frame.join(best, on=cco, how="left")
    else:
        frame = frame.with_columns(ir_max=pl.lit(None, dtype=pl.Float64))
    frame = frame.with_columns(
        cf_affinity=_affinity(frame, snap, pairs),
        channel_code=pl.col("channel")
        .replace_strict(list(snap.channels), list(range(len(snap.channels))), default=-1)
        .cast(pl.Float64),
    )
    fills = offer_fills(prior)
    return frame.with_columns(
        pl.col(n).cast(pl.Float64).fill_nan(None).fill_null(fills.get(n, 0.0))
        for n in OFFER_FEATURES
    )


def _affinity(frame: pl.DataFrame, snap: Snapshot, pairs: pl.DataFrame) -> pl.Series:
    offer_ids = frame.get_column("offer_id").unique().sort().to_list()
    vectors = offer_vectors(pairs.filter(pl.col("offer_id").is_in(offer_ids)), snap, offer_ids)
    users = snap.inter.customer_indices(frame.get_column("customer_key"))
    offers = (
        frame.get_column("offer_id")
        .replace_strict(offer_ids, list(range(len(offer_ids))), return_dtype=pl.Int64)
        .to_numpy()
    )
    out = np.zeros(frame.height, dtype=np.float64)
    known = users >= 0
    out[known] = np.einsum("ij,ij->i", snap.cf.user_factors[users[known]], vectors[offers[known]])
    return pl.Series("cf_affinity", out)
