"""The offers task: who answers which offer on which channel.

Rows are (customer, channel, offer) for offers shown in a window; the label is a
click or redeem of that offer by that customer after it was first shown there.
The propensity model is trained on the validation window and every model ranks
the offers each customer was shown in the test window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from omnioffer.features.spec import OFFER_FEATURES, RESPONSES
from training.evaluate.rankings import GROUP_KEYS, Truth, ranked_matrix, sample_groups, window_truth
from training.evaluate.scoreboard import OFFER_METRICS, Scoreboard, score_rankings
from training.features.offer_catalog import offer_model
from training.features.offer_features import build_offer_features
from training.items.scoring import CHUNK_GROUPS, Covering, item_ranker_scores
from training.items.task import ItemTaskResult, make_snapshot
from training.prep.snapshot import Snapshot
from training.prep.split import MIN_FEATURE_DAYS, TimeSplit
from training.ranker import RankerConfig, score, train_ranker

log = logging.getLogger("omnioffer.train")
EVAL_K = 10
MAX_GROUPS = 30_000  # per window: a uniform sample of customer-channel groups above that
SEED = 7
ROW_KEYS = [*GROUP_KEYS, "offer_id"]


@dataclass
class OfferTaskResult:
    booster: Any
    feature_names: list[str]
    scoreboard: Scoreboard
    calibration: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
    train_rows: int
    extra: dict[str, Any] = field(default_factory=dict)


def has_offer_events(resolved: pl.LazyFrame) -> bool:
    return bool(
        resolved.filter(pl.col("event_type") == "offer_impression")
        .select(pl.len())
        .collect()
        .item()
    )


def window_rows(resolved: pl.LazyFrame, start: datetime, end: datetime) -> pl.DataFrame:
    """(customer_key, channel, offer_id, label) for offers first shown in [start, end]."""
    ev = resolved.filter(
        (pl.col("timestamp") >= start) & (pl.col("timestamp") <= end) & ~pl.col("anonymous")
    )
    shown = (
        ev.filter(pl.col("event_type") == "offer_impression")
        .group_by(ROW_KEYS)
        .agg(pl.col("timestamp").min().alias("first"))
    )
    answered = (
        ev.filter(pl.col("event_type").is_in(RESPONSES))
        .group_by("customer_key", "offer_id")
        .agg(pl.col("timestamp").max().alias("last_resp"))
    )
    return (
        shown.join(answered, on=["customer_key", "offer_id"], how="left")
        .with_columns(
            label=(pl.col("last_resp") >= pl.col("first")).fill_null(False).cast(pl.Float32)
        )
        .select(*ROW_KEYS, "label")
        .sort(ROW_KEYS)
        .collect()
    )


def eligible_rows(
    groups: pl.DataFrame,
    offers: pl.DataFrame,
    segments: pl.DataFrame,
    start: datetime,
    end: datetime,
) -> pl.DataFrame:
    """(customer_key, channel, offer_id) for every offer a group could have been shown:
    valid at some point in [start, end], allowed on the channel and for the segment."""
    active = offers.filter(
        (pl.col("start").is_null() | (pl.col("start") <= end))
        & (pl.col("end").is_null() | (pl.col("end") >= start))
    ).select("offer_id", pl.col("channels").alias("_ch"), pl.col("segments").alias("_seg"))
    return (
        groups.join(segments, on="customer_key", how="left")
        .join(active, how="cross")
        .filter(
            ((pl.col("_ch").list.len() == 0) | pl.col("_ch").list.contains(pl.col("channel")))
            & ((pl.col("_seg").list.len() == 0) | pl.col("_seg").list.contains(pl.col("segment")))
        )
        .select(ROW_KEYS)
    )


def evaluation_rows(
    resolved: pl.LazyFrame, split: TimeSplit, offers: pl.DataFrame, segments: pl.DataFrame
) -> pl.DataFrame:
    """Groups shown offers in the test window x the offers eligible for them.

    Ranking all eligible offers (not only the ones shown) is the next-best-offer
    question itself; the label is a response after an impression in the window.
    Only groups with a response get the eligible offers (only they are scored);
    every shown row is kept, for calibration.
    """
    shown = sample_groups(window_rows(resolved, split.test_start, split.end), MAX_GROUPS, SEED)
    shown = shown.with_columns(shown=pl.lit(True))
    # Groups without a response score no metric; their shown rows still feed calibration.
    answered = shown.filter(pl.col("label") > 0).select(GROUP_KEYS).unique()
    eligible = eligible_rows(answered, offers, segments, split.test_start, split.end)
    return (
        pl.concat([eligible, shown.select(ROW_KEYS)])
        .unique()
        .join(shown, on=ROW_KEYS, how="left")
        .with_columns(pl.col("label").fill_null(0.0), pl.col("shown").fill_null(False))
        .sort(ROW_KEYS)
    )


def _features(
    rows: pl.DataFrame,
    snap: Snapshot,
    offers: pl.DataFrame,
    pairs: pl.DataFrame,
    items: ItemTaskResult,
) -> pl.DataFrame:
    """Offer features for `rows`, a block of customer-channel groups at a time: the
    item-ranker scores joined to offer items grow fast with the customer base."""
    groups = rows.select(GROUP_KEYS).unique().sort(GROUP_KEYS)
    named = rows.get_column("offer_id").unique().sort().to_list()
    recent = items.config.candidates.recent_days
    model = offer_model(snap, offers, pairs, recent_days=recent, also=named)
    parts = []
    for lo in range(0, groups.height, CHUNK_GROUPS):
        block = groups.slice(lo, CHUNK_GROUPS)
        mine = rows.join(block, on=GROUP_KEYS)
        scores = item_ranker_scores(block, snap, items, Covering(mine, pairs))  # ir_max reads
        parts.append(build_offer_features(mine, snap, model, scores))
    return pl.concat(parts).sort(ROW_KEYS)


def _training_rows(
    resolved: pl.LazyFrame,
    split: TimeSplit,
    offers: pl.DataFrame,
    pairs: pl.DataFrame,
    items: ItemTaskResult,
    *,
    windows: int,
) -> pl.DataFrame:
    """Labelled impressions of consecutive windows ending at test_start, each with
    features from a snapshot at its own start: more answers to learn from, none
    of them from the test window."""
    length = split.test_start - split.val_start
    frames = []
    for k in range(windows):
        start = split.val_start - k * length
        if start - split.start < timedelta(days=MIN_FEATURE_DAYS):
            break
        snap = items.val_snapshot if k == 0 else _snapshot_at(resolved, start, items)
        rows = window_rows(resolved, start, start + length - timedelta(microseconds=1))
        rows = sample_groups(rows, MAX_GROUPS, SEED + k)
        frames.append(_features(rows, snap, offers, pairs, items).with_columns(window=pl.lit(k)))
    return pl.concat(frames).sort("window", *ROW_KEYS)


def _snapshot_at(resolved: pl.LazyFrame, cutoff: datetime, items: ItemTaskResult) -> Snapshot:
    return make_snapshot(
        resolved,
        items.val_snapshot.items,
        cutoff,
        cf=items.cf_config,
        config=items.config,
        channels=items.val_snapshot.channels,
    )


def run_offers_task(
    resolved: pl.LazyFrame,
    split: TimeSplit,
    *,
    offers: pl.DataFrame,
    segments: pl.DataFrame,
    pairs: pl.DataFrame,
    items: ItemTaskResult,
    config: RankerConfig | None = None,
    oracle: Any = None,
    windows: int = 1,
    notes: list[str] | None = None,
) -> OfferTaskResult:
    """Fit the propensity model on impressions of the validation window and the
    `windows - 1` windows before it; score the test window."""
    config = config or RankerConfig(objective="binary", min_data_in_leaf=20)
    names = list(OFFER_FEATURES)
    train = _training_rows(resolved, split, offers, pairs, items, windows=windows)
    x = train.select(names).to_numpy().astype(np.float32)
    groups = train.select(pl.struct("window", *GROUP_KEYS).rank("dense")).to_series()
    labels, gid = train.get_column("label").to_numpy(), groups.to_numpy().astype(np.int64)
    booster = train_ranker(x, labels, gid, names, config, name="offer ranker", notes=notes)
    log.info("offer model: %d rows, %d trees", train.height, booster.num_trees())

    rows = evaluation_rows(resolved, split, offers, segments)
    test = _features(rows, items.snapshot, offers, pairs, items)
    test_x = test.select(names).to_numpy().astype(np.float32)
    raw = score(booster, test_x)
    test = test.with_columns(ranker=pl.Series(raw, dtype=pl.Float64))
    prob = 1.0 / (1.0 + np.exp(-raw.astype(np.float64)))
    shown = test.get_column("shown").to_numpy()
    calibration = (prob[shown], test.get_column("label").to_numpy().astype(np.float64)[shown])
    truth = window_truth(
        test.filter(pl.col("label") > 0).select(*GROUP_KEYS, pl.col("offer_id").alias("item_id")),
        sorted(test.get_column("offer_id").unique().to_list()),
    )
    ranked = offer_rankings(test, truth, items.snapshot, oracle)
    board = score_rankings(ranked, truth, OFFER_METRICS)
    result = OfferTaskResult(booster, names, board, calibration, train.height)
    result.extra["parity_rows"] = test_x[:2_000]
    # the ranker's test scores, kept for evaluate-serving (training/publish/offer_evaluation)
    result.extra["offline"] = (test.select(*ROW_KEYS, "ranker"), truth)
    return result


def offer_rankings(
    test: pl.DataFrame, truth: Truth, snap: Snapshot, oracle: Any
) -> dict[str, npt.NDArray[np.int64]]:
    """Each model orders the offers a group was shown; baselines use the snapshot's history."""
    responses = snap.hist.filter(pl.col("event_type").is_in(RESPONSES))
    overall = (
        responses.group_by("offer_id").agg(pl.len().cast(pl.Float64).alias("popular")).collect()
    )
    by_channel = (
        responses.group_by("offer_id", "channel")
        .agg(pl.len().cast(pl.Float64).alias("popular_channel"))
        .collect()
    )
    own = (
        responses.group_by("customer_key", "offer_id")
        .agg(pl.len().cast(pl.Float64).alias("own"))
        .collect()
    )
    scored = (
        test.join(overall, on="offer_id", how="left")
        .join(by_channel, on=["offer_id", "channel"], how="left")
        .join(own, on=["customer_key", "offer_id"], how="left")
        .with_columns(
            pl.col("popular", "popular_channel", "own").fill_null(0.0),
        )
        .with_columns(
            repurchase=pl.col("own") * 1e6 + pl.col("popular"),
            popular_channel=pl.col("popular_channel") * 1e6 + pl.col("popular"),
            als=pl.col("cf_affinity"),
        )
    )
    if oracle is not None:
        scored = scored.with_columns(oracle=oracle.offer_column(scored))
    models = ["popular", "popular_channel", "repurchase", "als", "ranker"]
    models += ["oracle"] if oracle is not None else []
    rows = scored.rename({"offer_id": "item_id"})
    return {m: ranked_matrix(rows, truth, EVAL_K, score_col=m) for m in models}
