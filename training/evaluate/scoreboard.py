"""Every model's metrics on the same groups, overall and per channel.

Metric definitions live in training.evaluate.metrics (one function each); this
module only lines models up against one Truth so the comparison is fair.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from training.evaluate import Relevant, hit_at_k, map_at_k, ndcg_at_k, pack_relevant, recall_at_k
from training.evaluate.rankings import Truth

MetricFn = Callable[[npt.NDArray[np.int64], Relevant, int], npt.NDArray[np.float64]]

ITEM_METRICS: dict[str, tuple[MetricFn, int]] = {
    "ndcg@10": (ndcg_at_k, 10),
    "map@12": (map_at_k, 12),
    "recall@50": (recall_at_k, 50),
}
OFFER_METRICS: dict[str, tuple[MetricFn, int]] = {
    "ndcg@5": (ndcg_at_k, 5),
    "hit@5": (hit_at_k, 5),
}

Table = dict[str, dict[str, float]]  # model -> metric -> value


@dataclass
class Scoreboard:
    overall: Table
    per_channel: dict[str, Table] = field(default_factory=dict)
    groups: int = 0

    def best_baseline(
        self, metric: str, exclude: Sequence[str] = ("ranker", "oracle")
    ) -> tuple[str, float]:
        candidates = {m: v[metric] for m, v in self.overall.items() if m not in exclude}
        name = max(candidates, key=lambda m: candidates[m])
        return name, candidates[name]


def _table(
    ranked: Mapping[str, npt.NDArray[np.int64]],
    relevant: Sequence[npt.NDArray[np.int64]],
    rows: npt.NDArray[np.int64],
    metrics: Mapping[str, tuple[MetricFn, int]],
) -> Table:
    chosen = pack_relevant([relevant[i] for i in rows])  # flattened once, not per metric
    return {
        model: {
            name: float(np.mean(fn(matrix[rows], chosen, k))) if rows.size else 0.0
            for name, (fn, k) in metrics.items()
        }
        for model, matrix in ranked.items()
    }


def score_rankings(
    ranked: Mapping[str, npt.NDArray[np.int64]],
    truth: Truth,
    metrics: Mapping[str, tuple[MetricFn, int]] = ITEM_METRICS,
) -> Scoreboard:
    """Mean of each metric over the truth groups, overall and for each channel."""
    everyone = np.arange(truth.groups.height, dtype=np.int64)
    board = Scoreboard(_table(ranked, truth.relevant, everyone, metrics), groups=everyone.size)
    channels = truth.groups.get_column("channel").to_numpy()
    for channel in sorted(set(channels.tolist())):
        rows = everyone[channels == channel]
        board.per_channel[channel] = _table(ranked, truth.relevant, rows, metrics)
    return board
