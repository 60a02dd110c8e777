"""Offline evaluation: top-k ranking metrics over padded recommendation matrices."""

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
