"""Offline evaluation: every model ranked on the same groups and scored the same way.

`metrics` (one top-k metric per function, over padded recommendation matrices, the
hit step shared in `_hits`), `rankings` (groups, their truth, ranked matrices),
`baselines` (the item rankings the ranker must beat), `oracle` (the synthetic
ground truth as a model) and `scoreboard` (all models side by side, per channel).
"""

from training.evaluate._hits import PackedRelevant, Relevant, pack_relevant
from training.evaluate.metrics import (
    METRICS,
    drop_users_without_relevant,
    hit_at_k,
    map_at_k,
    mean_metrics,
    ndcg_at_k,
    parse_metric,
    precision_at_k,
    recall_at_k,
)

__all__ = [
    "METRICS",
    "PackedRelevant",
    "Relevant",
    "drop_users_without_relevant",
    "hit_at_k",
    "map_at_k",
    "mean_metrics",
    "ndcg_at_k",
    "pack_relevant",
    "parse_metric",
    "precision_at_k",
    "recall_at_k",
]
