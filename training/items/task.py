"""The items task end to end: CF search, candidates, ranker, side-by-side evaluation.

val snapshot (before val_start) --candidates+features--> ranker fit on val labels
test snapshot (before test_start) --same--> every model ranked on test groups
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from omnioffer.features.spec import item_feature_names
from training.evaluate import baselines
from training.evaluate.rankings import GROUP_KEYS, Truth, ranked_matrix, sample_groups, window_truth
from training.evaluate.scoreboard import Scoreboard, score_rankings
from training.features.item_features import build_item_features, feature_matrix
from training.items.candidates import (
    CandidateConfig,
    candidate_hits,
    generate_candidates,
    recall_from_hits,
)
from training.items.cf import CFConfig, fit_cf
from training.items.scoring import CHUNK_GROUPS, score_block
from training.prep.interactions import InteractionConfig, build_interactions
from training.prep.snapshot import Snapshot
from training.prep.split import TimeSplit, before, between, evaluation_window
from training.ranker import RankerConfig, train_ranker

log = logging.getLogger("omnioffer.train")

EVAL_K = 50  # longest list any metric reads (recall@50)


@dataclass(frozen=True)
class ItemTaskConfig:
    interactions: InteractionConfig = field(default_factory=InteractionConfig)
    cf: CFConfig = field(default_factory=CFConfig)
    cf_grid: tuple[dict[str, Any], ...] = (
        {"factors": 32, "regularization": 0.05},
        {"factors": 64, "regularization": 0.5},
    )
    candidates: CandidateConfig = field(default_factory=CandidateConfig)
    ranker: RankerConfig = field(default_factory=RankerConfig)
    max_train_groups: int = 15_000  # a uniform sample of the validation window's groups above
    max_eval_groups: int = 20_000  # and of the test window's groups, for every model alike
    seed: int = 7


@dataclass
class ItemTaskResult:
    booster: Any
    feature_names: list[str]
    cf_config: CFConfig
    snapshot: Snapshot  # at test_start
    val_snapshot: Snapshot  # at val_start: what the ranker's training rows saw
    scoreboard: Scoreboard
    candidate_recall: dict[str, float]
    train_rows: int
    config: ItemTaskConfig  # what the ranker was trained with; reused to score offers
    extra: dict[str, Any] = field(default_factory=dict)


def make_snapshot(
    resolved: pl.LazyFrame,
    items: pl.LazyFrame,
    cutoff: datetime,
    *,
    cf: CFConfig,
    config: ItemTaskConfig,
    channels: tuple[str, ...],
) -> Snapshot:
    """Interactions and CF factors from events strictly before `cutoff`."""
    hist = before(resolved.filter(~pl.col("anonymous")), cutoff)
    inter = build_interactions(hist, cutoff, config.interactions)
    return Snapshot(cutoff, hist, items, inter, fit_cf(inter.matrix, cf), channels)


def purchases_in(resolved: pl.LazyFrame, start: datetime, end: datetime) -> pl.DataFrame:
    return (
        between(resolved, start, end)
        .filter((pl.col("event_type") == "purchase") & ~pl.col("anonymous"))
        .select(*GROUP_KEYS, "item_id")
        .collect()
    )


def tune_cf(
    resolved: pl.LazyFrame,
    items: pl.LazyFrame,
    split: TimeSplit,
    config: ItemTaskConfig,
    *,
    channels: tuple[str, ...],
    purchases: pl.DataFrame,
) -> tuple[CFConfig, Snapshot]:
    """Pick CF parameters by ALS recall@50 on validation-window `purchases` (never the
    test window). The interactions do not depend on the CF parameters: built once."""
    truth = window_truth(purchases, _item_ids(items))
    hist = before(resolved.filter(~pl.col("anonymous")), split.val_start)
    inter = build_interactions(hist, split.val_start, config.interactions)
    best: tuple[float, CFConfig, Snapshot] | None = None
    for overrides in config.cf_grid or ({},):
        cf = CFConfig(**{**config.cf.as_dict(), **overrides})
        snap = Snapshot(split.val_start, hist, items, inter, fit_cf(inter.matrix, cf), channels)
        board = score_rankings(
            {"als": ranked_matrix(baselines.als(truth.groups, snap, EVAL_K), truth, EVAL_K)}, truth
        )
        recall = board.overall["als"]["recall@50"]
        log.info("cf search %s: als recall@50 on validation = %.4f", overrides, recall)
        if best is None or recall > best[0]:
            best = (recall, cf, snap)
    assert best is not None
    return best[1], best[2]


def _item_ids(items: pl.LazyFrame) -> list[str]:
    return items.select("item_id").collect().get_column("item_id").sort().to_list()


def _labelled_features(
    groups: pl.DataFrame, purchases: pl.DataFrame, snap: Snapshot, config: ItemTaskConfig
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """The ranker's training rows: (feature matrix, labels, group ids), rows sorted by
    group and item. Built a block of groups at a time (a row's features never depend on
    other groups), so only the float32 matrix of every row is held, never the wide
    feature frame of every row (gigabytes at 1M customers)."""
    names = item_feature_names(snap.channels)
    bought = purchases.select(*GROUP_KEYS, "item_id").unique().with_columns(label=pl.lit(1.0))
    xs, labels, gids, offset = [], [], [], 0
    for lo in range(0, groups.height, CHUNK_GROUPS):
        block = groups.slice(lo, CHUNK_GROUPS)
        cands = generate_candidates(block, snap, config=config.candidates)
        feats = build_item_features(cands, snap).sort(*GROUP_KEYS, "item_id")
        feats = feats.join(bought, on=[*GROUP_KEYS, "item_id"], how="left", maintain_order="left")
        labels.append(feats.get_column("label").fill_null(0.0).to_numpy().astype(np.float32))
        rank = feats.select(pl.struct(GROUP_KEYS).rank("dense")).to_series().to_numpy()
        gids.append(rank.astype(np.int64) + offset)
        offset = int(gids[-1].max(initial=offset))
        xs.append(feature_matrix(feats, names))
    if not xs:
        return np.empty((0, len(names)), np.float32), np.empty(0, np.float32), np.empty(0, np.int64)
    return np.concatenate(xs), np.concatenate(labels), np.concatenate(gids)


def run_items_task(
    resolved: pl.LazyFrame,
    items: pl.LazyFrame,
    split: TimeSplit,
    *,
    channels: tuple[str, ...],
    config: ItemTaskConfig | None = None,
    oracle: Any = None,
    notes: list[str] | None = None,
) -> ItemTaskResult:
    """Train on the validation window, evaluate every model on the test window."""
    config = config or ItemTaskConfig()
    val_purchases = sample_groups(
        purchases_in(resolved, split.val_start, split.test_start),
        config.max_train_groups,
        config.seed,
    )
    groups = val_purchases.select(GROUP_KEYS).unique().sort(GROUP_KEYS)
    cf, val_snap = tune_cf(
        resolved, items, split, config, channels=channels, purchases=val_purchases
    )
    names = item_feature_names(channels)
    x, labels, gid = _labelled_features(groups, val_purchases, val_snap, config)
    train_rows = x.shape[0]
    booster = train_ranker(x, labels, gid, names, config.ranker, name="item ranker", notes=notes)
    del x, labels, gid  # free the training rows before the test snapshot is built
    log.info("item ranker: %d rows, %d trees", train_rows, booster.num_trees())

    test_snap = make_snapshot(
        resolved, items, split.test_start, cf=cf, config=config, channels=channels
    )
    test_purchases = sample_groups(
        evaluation_window(resolved, split)
        .filter((pl.col("event_type") == "purchase") & ~pl.col("anonymous"))
        .select(*GROUP_KEYS, "item_id")
        .collect(),
        config.max_eval_groups,
        config.seed,
    )
    truth = window_truth(test_purchases, _item_ids(items))
    ranked_rows, hits, test_x = score_in_chunks(
        truth.groups.select(GROUP_KEYS),
        test_snap,
        booster,
        names=names,
        config=config,
        purchases=test_purchases,
    )
    recall = recall_from_hits(hits)
    board = score_rankings(_all_rankings(truth, test_snap, ranked_rows, oracle), truth)
    result = ItemTaskResult(
        booster, names, cf, test_snap, val_snap, board, recall, train_rows, config
    )
    result.extra["parity_rows"] = _sample_rows(test_x, config.seed)
    return result


def score_in_chunks(
    groups: pl.DataFrame,
    snap: Snapshot,
    booster: Any,
    *,
    names: list[str],
    config: ItemTaskConfig,
    purchases: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, npt.NDArray[np.float32]]:
    """Rank each group's candidates a block of groups at a time, so memory follows the
    block, not the customer base. Returns the top EVAL_K rows per group, the candidate
    hits of the test purchases (for recall per source), and a sample of feature rows."""
    tops, hits, samples = [], [], []
    per_block = max(2_000 * CHUNK_GROUPS // max(groups.height, 1), 50)
    for lo in range(0, groups.height, CHUNK_GROUPS):
        block = groups.slice(lo, CHUNK_GROUPS)
        cands, x, rows = score_block(block, snap, booster, names, config)
        hits.append(candidate_hits(cands, purchases.join(block, on=GROUP_KEYS)))
        tops.append(rows.sort("score", descending=True).group_by(GROUP_KEYS).head(EVAL_K))
        samples.append(_sample_rows(x, config.seed + lo, n=per_block))
    return pl.concat(tops), pl.concat(hits), np.concatenate(samples)[:2_000]


def _sample_rows(x: npt.NDArray[np.float32], seed: int, n: int = 2_000) -> npt.NDArray[np.float32]:
    """Held-out rows (never trained on) for the ONNX parity check."""
    if x.shape[0] <= n:
        return x
    return x[np.random.default_rng(seed).choice(x.shape[0], n, replace=False)]


def _all_rankings(
    truth: Truth, snap: Snapshot, ranker_rows: pl.DataFrame, oracle: Any
) -> dict[str, npt.NDArray[np.int64]]:
    groups = truth.groups.select(GROUP_KEYS)
    rows = {
        "popular": baselines.popular(groups, snap, EVAL_K),
        "popular_channel": baselines.popular_channel(groups, snap, EVAL_K),
        "repurchase": baselines.repurchase(groups, snap, EVAL_K),
        "als": baselines.als(groups, snap, EVAL_K),
        "ranker": baselines.backfilled(ranker_rows, baselines.popular(groups, snap, EVAL_K)),
    }
    ranked = {name: ranked_matrix(r, truth, EVAL_K) for name, r in rows.items()}
    if oracle is not None:
        ranked["oracle"] = oracle.ranked(truth, EVAL_K)
    return ranked
