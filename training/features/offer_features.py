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
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl

from omnioffer.features.spec import (
    BROWSE,
    CATEGORY_PRIOR_WEIGHT,
    DAY_S,
    DEEP_DISCOUNT,
    FATIGUE_DAYS,
    OFFER_FEATURES,
    RECENT_DAYS,
    RECENT_IMPRESSION_DAYS,
    RESPONSES,
    SHARE_SMOOTHING,
    SHOP_CHANNELS,
    offer_fills,
    smoothed_rate,
)
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


def _offer_events(hist: pl.LazyFrame) -> pl.LazyFrame:
    return hist.filter(pl.col("offer_id").is_not_null()).with_columns(
        resp=pl.col("event_type").is_in(RESPONSES).cast(pl.Float64),
        impr=(pl.col("event_type") == "offer_impression").cast(pl.Float64),
    )


def response_stats(
    hist: pl.LazyFrame,
) -> tuple[float, pl.LazyFrame, pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    """Global rate, then per offer, per (offer, channel), per customer, per (customer, channel)."""
    ev = _offer_events(hist)
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


def _collected(
    hist: pl.LazyFrame,
) -> tuple[float, pl.LazyFrame, pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    """response_stats computed once, for every block of rows that joins them."""
    prior, *tables = response_stats(hist)
    of, of_ch, cu, cu_ch = (t.collect().lazy() for t in tables)
    return prior, of, of_ch, cu, cu_ch


def fatigue(hist: pl.LazyFrame, cutoff: datetime) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Per (customer, offer): unanswered recent impressions, dismissals, days since shown;
    per customer: impressions of any offer in the last 7 days."""
    ev = _offer_events(hist)
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
    ev = _offer_events(mine).join(offers.lazy().select("offer_id", "discount"), on="offer_id")
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


def _category_share(mine: pl.LazyFrame, pairs: pl.DataFrame, snap: Snapshot) -> pl.LazyFrame:
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


def _category_affinity(
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
        _offer_events(mine)
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
    prior, of, of_ch, cu, cu_ch = snap.memo("response_stats", lambda: _collected(snap.hist))
    per_offer, per_customer = fatigue(mine, snap.cutoff)
    n_items = pairs.group_by("offer_id").agg(
        pl.len().cast(pl.Float64).log1p().alias("of_log_items")
    )
    co, cco = ["customer_key", "offer_id"], ["customer_key", "channel", "offer_id"]
    affinity = _category_affinity(rows, mine, pairs, snap, prior, recent_days=recent_days)
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
        .join(_category_share(mine, pairs, snap), on=co, how="left")
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
