"""Candidate items for one customer on one channel: the training sources, online.

Same sources and sizes as training/candidates.py (ALS top-N, own history by
recency-weighted frequency, recent views and carts, items similar to the last
purchases, global and channel popularity), computed from one customer's arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from omnioffer.decide.catalog import VersionModel
from omnioffer.decide.history import DAY_S, History

SOURCES = ("als", "history", "recent", "related", "popular", "popular_channel")
HALF_LIFE_DAYS = 30.0


@dataclass(frozen=True)
class Candidates:
    items: npt.NDArray[np.int64]  # item indices, ascending
    sources: dict[str, npt.NDArray[np.bool_]]  # aligned with items
    als_rank: npt.NDArray[np.float64]  # NaN when not in the ALS top-N


def _top(scores: npt.NDArray[np.float32], n: int) -> npt.NDArray[np.int64]:
    n = min(n, scores.size)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    top = np.argpartition(-scores, n - 1)[:n]
    return top[np.argsort(-scores[top], kind="stable")]


def als_top(model: VersionModel, user: npt.NDArray[np.float32] | None, n: int) -> list[int]:
    if user is None:
        return []
    rows = _top(model.cf_factors @ user, n)
    out: list[int] = model.item_of_cf_row[rows].tolist()
    return out


def history_top(h: History, model: VersionModel, n: int) -> list[int]:
    """The customer's own items by recency-weighted quantity, best first."""
    p = h.purchases & (h.item >= 0)
    weight = h.qty[p] * 0.5 ** (h.age_days()[p] / HALF_LIFE_DAYS)
    score: dict[int, float] = {}
    for item, w in zip(h.item[p].tolist(), weight.tolist(), strict=True):
        score[item] = score.get(item, 0.0) + w
    ids = model.catalog.item_ids
    # rounded like training's repurchase_scores, so near-ties break by item id in both
    return sorted(score, key=lambda i: (-round(score[i], 9), ids[i]))[:n]


def recent_top(h: History, n: int, days: int) -> list[int]:
    m = h.mask("view", "add_to_cart") & (h.ts >= h.now - days * DAY_S) & (h.item >= 0)
    last: dict[int, float] = {}
    for item, t in zip(h.item[m].tolist(), h.ts[m].tolist(), strict=True):
        last[item] = max(last.get(item, t), t)
    return sorted(last, key=lambda i: -last[i])[:n]


SIMILAR_CACHE_MAX = 200_000  # (row, n) entries; past this the cache starts over


def cosines(model: VersionModel, row: int) -> npt.NDArray[np.float32]:
    """Cosine of CF row `row` with every CF row; -inf for the row itself."""
    sims: npt.NDArray[np.float32] = model.cf_unit @ model.cf_unit[row]
    sims[row] = -np.inf
    return sims


def similar_to(model: VersionModel, row: int, n: int) -> list[int]:
    """Item indices of the `n` CF rows most similar (cosine) to `row`, best first, never
    `row` itself; at most every other item, as training's similar_items. Remembered per
    version: the answer depends only on the version's factors, and the same seed items
    come back for many customers."""
    key = (row, n)
    found = model.similar_cache.get(key)
    if found is None:
        sims = cosines(model, row)
        found = model.item_of_cf_row[_top(sims, min(n, sims.size - 1))].tolist()
        if len(model.similar_cache) >= SIMILAR_CACHE_MAX:
            model.similar_cache.clear()
        model.similar_cache[key] = found
    return found


def related_top(h: History, model: VersionModel, seeds: int, n: int) -> list[int]:
    """Items most similar (cosine of CF factors) to the last `seeds` distinct purchases."""
    p = h.purchases & (h.item >= 0)
    last: dict[int, float] = {}
    for item, t in zip(h.item[p].tolist(), h.ts[p].tolist(), strict=True):
        last[item] = max(last.get(item, t), t)
    out: list[int] = []
    rows = model.cf_row_of_item
    for item in sorted(last, key=lambda i: -last[i])[:seeds]:
        row = int(rows[item])
        if row >= 0:
            out.extend(similar_to(model, row, n))
    return out


def generate(
    h: History, model: VersionModel, user: npt.NDArray[np.float32] | None, channel: str
) -> Candidates:
    cfg = model.catalog.candidates
    als = als_top(model, user, cfg["n_als"])
    lists = {
        "als": als,
        "history": history_top(h, model, cfg["n_history"]),
        "recent": recent_top(h, cfg["n_recent"], cfg["recent_days"]),
        "related": related_top(h, model, cfg["related_seeds"], cfg["n_related"]),
        "popular": model.popular,
        "popular_channel": model.popular_channel.get(channel, []),
    }
    # the union in plain Python: six lists of at most a hundred ids each, where numpy's
    # per-call overhead would cost more than the work
    ids = sorted({i for got in lists.values() for i in got if i >= 0})
    at = {item: k for k, item in enumerate(ids)}
    sources = {}
    for name, got in lists.items():
        flags = np.zeros(len(ids), dtype=np.bool_)
        flags[[at[i] for i in got if i >= 0]] = True
        sources[name] = flags
    rank = np.full(len(ids), np.nan)
    for r, item in enumerate(als, start=1):  # a later duplicate wins, as numpy's scatter
        if item >= 0:
            rank[at[item]] = float(r)
    return Candidates(np.array(ids, dtype=np.int64), sources, rank)
