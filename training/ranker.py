"""LightGBM rankers: LambdaRank for items, binary propensity for offers.

Rows come grouped (one group = one customer on one channel); groups without a
positive teach LambdaRank nothing and are dropped. A slice of groups is held out
for early stopping, so the number of trees is chosen on data the trees never saw.
Below MIN_HOLDOUT_GROUPS groups a held-out slice is one or two groups of noise: the
ranker then trains on every group for a fixed SMALL_DATA_ROUNDS rounds, and says so
in the notes the training run prints.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from omnioffer.errors import DataError

FloatMatrix = npt.NDArray[np.float32]
log = logging.getLogger("omnioffer.train")
MIN_HOLDOUT_GROUPS = 20
SMALL_DATA_ROUNDS = 50


@dataclass(frozen=True)
class RankerConfig:
    objective: Literal["lambdarank", "binary"] = "lambdarank"
    num_leaves: int = 31
    learning_rate: float = 0.05
    max_rounds: int = 400
    early_stopping: int = 30
    min_data_in_leaf: int = 50
    feature_fraction: float = 0.8
    holdout: float = 0.15
    seed: int = 7
    # One thread: on the 2-core machine, OpenMP's spinning second thread made LightGBM
    # 2x slower as soon as anything else ran; 0 = every core, for a dedicated box.
    threads: int = 1

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "objective": self.objective,
            "num_leaves": self.num_leaves,
            "learning_rate": self.learning_rate,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "bagging_seed": self.seed,
            "feature_fraction_seed": self.seed,
            "seed": self.seed,
            "deterministic": True,
            "num_threads": self.threads,
            "verbosity": -1,
        }
        if self.objective == "lambdarank":
            params |= {"metric": "ndcg", "eval_at": [10], "lambdarank_truncation_level": 20}
        else:
            params |= {"metric": "binary_logloss"}
        return params

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def group_sizes(group_ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Run lengths of a sorted group-id array (LightGBM's `group` argument)."""
    if group_ids.size == 0:
        return np.zeros(0, dtype=np.int64)
    if np.any(np.diff(group_ids) < 0):
        raise ValueError("rows must be sorted by group")
    starts = np.flatnonzero(np.r_[True, group_ids[1:] != group_ids[:-1]])
    sizes: npt.NDArray[np.int64] = np.diff(np.r_[starts, group_ids.size]).astype(np.int64)
    return sizes


def train_ranker(
    features: FloatMatrix,
    labels: npt.NDArray[np.float32],
    group_ids: npt.NDArray[np.int64],
    feature_names: list[str],
    config: RankerConfig,
    *,
    name: str = "ranker",
    notes: list[str] | None = None,
) -> Any:
    """Fit and return a lightgbm.Booster; early-stopped on held-out groups when there
    are enough of them (else see the module docstring; the note goes to `notes`)."""
    import lightgbm as lgb

    keep = _useful_rows(labels, group_ids) if config.objective == "lambdarank" else None
    if keep is not None:
        features, labels, group_ids = features[keep], labels[keep], group_ids[keep]
    unique = np.unique(group_ids)
    if unique.size == 0 or not (labels > 0).any():
        raise DataError(
            f"the {name} has nothing to learn from: no customer-channel group of its training"
            " window holds a positive (a purchase or a response); train on more history"
        )
    rng = np.random.default_rng(config.seed)
    held = np.isin(group_ids, rng.choice(unique, int(len(unique) * config.holdout), replace=False))

    def dataset(mask: npt.NDArray[np.bool_], ref: Any = None) -> Any:
        group = group_sizes(group_ids[mask]) if config.objective == "lambdarank" else None
        return lgb.Dataset(
            features[mask],
            labels[mask],
            group=group,
            feature_name=feature_names,
            reference=ref,
            free_raw_data=False,
        )

    if unique.size < MIN_HOLDOUT_GROUPS or not held.any() or held.all():
        rounds = min(config.max_rounds, SMALL_DATA_ROUNDS)
        note = (
            f"small data: the {name} learned from {unique.size} customer-channel groups, too"
            f" few to hold {config.holdout:.0%} out for early stopping (needs"
            f" {MIN_HOLDOUT_GROUPS}); trained on all of them for {rounds} rounds instead"
        )
        log.warning(note)
        if notes is not None:
            notes.append(note)
        booster = lgb.train(config.params(), dataset(np.ones_like(held)), num_boost_round=rounds)
    else:
        train = dataset(~held)
        booster = lgb.train(
            config.params(),
            train,
            num_boost_round=config.max_rounds,
            valid_sets=[dataset(held, train)],
            callbacks=[lgb.early_stopping(config.early_stopping, verbose=False)],
        )
    # the booster would otherwise keep both datasets (raw rows and bins) alive as long
    # as it lives: about a gigabyte for the item ranker's rows at 1M customers
    booster.free_dataset()
    return booster


def _useful_rows(
    labels: npt.NDArray[np.float32], group_ids: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    """Rows of groups that hold at least one positive and one negative."""
    _, inverse = np.unique(group_ids, return_inverse=True)
    pos = np.bincount(inverse, weights=(labels > 0).astype(np.float64))
    size = np.bincount(inverse)
    return ((pos > 0) & (pos < size))[inverse]


def score(booster: Any, features: FloatMatrix) -> npt.NDArray[np.float32]:
    """Raw scores (margins): what the exported ONNX model reproduces."""
    if features.shape[0] == 0:  # e.g. a block whose offers cover none of its candidates
        return np.zeros(0, dtype=np.float32)
    return np.asarray(booster.predict(features, raw_score=True), dtype=np.float32)
