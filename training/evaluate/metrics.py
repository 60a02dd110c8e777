"""Top-k ranking metrics, one function each, batch-first.

Every metric takes the same three arguments and returns one value per user:

- `recommended`: int ids, shape (n_users, n_ranked), best first. Ids < 0 (-1 by
  convention) are padding and never hit; a row narrower than k counts as padded.
  An id repeated in a row counts once, at its first position.
- `relevant`: per user, the ids that count as correct: a sequence of int arrays
  aligned with the rows, or a CSR matrix whose row u holds user u's ids.
- `k`: the cut-off.

Relevance is binary: an id is relevant or not; purchase counts or grades are
ignored, because our truth (next purchases, offer responses) is a set.

Users with no relevant ids are the caller's job to exclude (recall and MAP divide
by |relevant|); the metrics raise rather than silently score them 0 or 1. Use
`drop_users_without_relevant` before scoring. Averages over users are the
caller's too (`mean_metrics` does it for several metrics at once), so the same
per-user values can be averaged overall, per channel or per segment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from training.evaluate._hits import (
    BoolMatrix,
    FloatVector,
    IdMatrix,
    IntVector,
    Relevant,
    flatten_relevant,
    hit_matrix,
    require_relevant,
)

MetricFn = Callable[[IdMatrix, Relevant, int], FloatVector]


def _discounts(k: int) -> FloatVector:
    """1 / log2(rank + 1) for ranks 1..k: the standard DCG position discount."""
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def _floats(values: object) -> FloatVector:
    return np.asarray(values, dtype=np.float64)


def _hits(recommended: IdMatrix, relevant: Relevant, k: int) -> tuple[BoolMatrix, IntVector]:
    hits, n_relevant = hit_matrix(recommended, relevant, k)
    require_relevant(n_relevant)
    return hits, n_relevant


def hit_at_k(recommended: IdMatrix, relevant: Relevant, k: int) -> FloatVector:
    """1.0 if any of the top k is relevant, else 0.0 (the offers task's headline)."""
    hits, _ = _hits(recommended, relevant, k)
    return _floats(hits.any(axis=1))


def precision_at_k(recommended: IdMatrix, relevant: Relevant, k: int) -> FloatVector:
    """Hits in the top k divided by k (padding counts as a miss, not a shorter list)."""
    hits, _ = _hits(recommended, relevant, k)
    return _floats(hits.sum(axis=1) / float(k))


def recall_at_k(recommended: IdMatrix, relevant: Relevant, k: int) -> FloatVector:
    """Hits in the top k divided by |relevant| (so it can stay < 1 when |relevant| > k)."""
    hits, n_relevant = _hits(recommended, relevant, k)
    return _floats(hits.sum(axis=1) / n_relevant)


def map_at_k(recommended: IdMatrix, relevant: Relevant, k: int) -> FloatVector:
    """Average precision at k, the Kaggle H&M MAP@12 definition.

    sum over hit positions i of precision@i, divided by min(k, |relevant|), so a
    user with more relevant items than slots can still reach 1.0.
    """
    hits, n_relevant = _hits(recommended, relevant, k)
    ranks = np.arange(1, k + 1, dtype=np.float64)
    precision_at_i = np.cumsum(hits, axis=1) / ranks
    return _floats((precision_at_i * hits).sum(axis=1) / np.minimum(k, n_relevant))


def ndcg_at_k(recommended: IdMatrix, relevant: Relevant, k: int) -> FloatVector:
    """DCG of the top k over the ideal DCG (all min(k, |relevant|) hits ranked first)."""
    hits, n_relevant = _hits(recommended, relevant, k)
    discounts = _discounts(k)
    dcg = hits @ discounts
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])[np.minimum(k, n_relevant)]
    return _floats(dcg / ideal)


METRICS: dict[str, MetricFn] = {
    "hit": hit_at_k,
    "precision": precision_at_k,
    "recall": recall_at_k,
    "map": map_at_k,
    "ndcg": ndcg_at_k,
}


def parse_metric(name: str) -> tuple[MetricFn, int]:
    """'ndcg@10' -> (ndcg_at_k, 10); the names the artifact manifest uses."""
    base, sep, cut = name.partition("@")
    if not sep or base not in METRICS or not cut.isdigit() or int(cut) < 1:
        raise ValueError(f"unknown metric {name!r}; expected <{'|'.join(METRICS)}>@<k>")
    return METRICS[base], int(cut)


def mean_metrics(
    recommended: IdMatrix, relevant: Relevant, names: Sequence[str]
) -> dict[str, float]:
    """Mean over users of each named metric, e.g. ['ndcg@10', 'map@12', 'recall@50']."""
    result: dict[str, float] = {}
    for name in names:
        fn, k = parse_metric(name)
        values = fn(recommended, relevant, k)
        result[name] = float(values.mean()) if values.size else 0.0
    return result


def drop_users_without_relevant(
    recommended: IdMatrix, relevant: Relevant
) -> tuple[IdMatrix, list[IntVector], IntVector]:
    """Rows whose relevant set is non-empty: (recommended, relevant, kept row indices)."""
    rec = np.asarray(recommended)
    users, items = flatten_relevant(relevant, rec.shape[0])
    kept = np.flatnonzero(np.bincount(users, minlength=rec.shape[0]) > 0).astype(np.int64)
    boundaries = np.searchsorted(users, np.arange(rec.shape[0] + 1))
    rows = [items[boundaries[u] : boundaries[u + 1]] for u in kept]
    return rec[kept], rows, kept
