"""Candidate items for one customer on one channel: the training sources, online.

The spec's SOURCES with training/items/candidates.py's sizes (ALS top-N, own history by
recency-weighted frequency, recent views and carts, items similar to the last
purchases, global and channel popularity), computed from one customer's arrays.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from omnioffer.features.history import History
from omnioffer.features.spec import BROWSE, DAY_S, REPURCHASE_HALF_LIFE_DAYS, SOURCES
from omnioffer.version.model import VersionModel, VersionSlot

_POPULAR = SOURCES.index("popular")  # then popular_channel: the version's own lists


@dataclass(frozen=True)
class Candidates:
    items: npt.NDArray[np.int64]  # item indices, ascending
    flags: npt.NDArray[np.bool_]  # (items x SOURCES): which sources proposed each item
    als_rank: npt.NDArray[np.float64]  # NaN when not in the ALS top-N

    @property
    def sources(self) -> dict[str, npt.NDArray[np.bool_]]:
        """The flags by source name, aligned with items."""
        return {name: self.flags[:, j] for j, name in enumerate(SOURCES)}


def _top(scores: npt.NDArray[np.float32], n: int) -> npt.NDArray[np.int64]:
    n = min(n, scores.size)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    top = np.argpartition(-scores, n - 1)[:n]
    return top[np.argsort(-scores[top], kind="stable")]


def _als_items(
    model: VersionModel, user: npt.NDArray[np.float32] | None, n: int
) -> npt.NDArray[np.int64]:
    """The item indices of the ALS top-n, best first (-1 for CF items the version lacks)."""
    if user is None:
        return np.empty(0, dtype=np.int64)
    return model.item_of_cf_row[_top(model.cf_factors @ user, n)]


def history_top(h: History, model: VersionModel, n: int) -> list[int]:
    """The customer's own items by recency-weighted quantity, best first."""
    b, now = h.bought, h.now
    score: dict[int, float] = {}
    for item, t, q in zip(b.item, b.ts, b.qty, strict=True):
        if item >= 0:  # the same float operations, in the same order, as on arrays
            score[item] = score.get(item, 0.0) + q * 0.5 ** (
                (now - t) / DAY_S / REPURCHASE_HALF_LIFE_DAYS
            )
    ids = model.catalog.item_ids
    # rounded like training's repurchase_scores, so near-ties break by item id in both
    return sorted(score, key=lambda i: (-round(score[i], 9), ids[i]))[:n]


def recent_top(h: History, n: int, days: int) -> list[int]:
    m = h.mask(*BROWSE) & (h.ts >= h.now - days * DAY_S) & (h.item >= 0)
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
    key, cache = (row, n), model.similar
    found = cache.get(key)
    if found is None:
        sims = cosines(model, row)
        found = model.item_of_cf_row[_top(sims, min(n, sims.size - 1))].tolist()
        if len(cache) >= SIMILAR_CACHE_MAX:
            cache.clear()
        cache[key] = found
    return found


def related_top(h: History, model: VersionModel, seeds: int, n: int) -> list[int]:
    """Items most similar (cosine of CF factors) to the last `seeds` distinct purchases."""
    b = h.bought
    last: dict[int, float] = {}
    for item, t in zip(b.item, b.ts, strict=True):
        if item >= 0:
            last[item] = max(last.get(item, t), t)
    out: list[int] = []
    rows = model.cf_row_of_item
    for item in sorted(last, key=lambda i: -last[i])[:seeds]:
        row = int(rows[item])
        if row >= 0:
            out.extend(similar_to(model, row, n))
    return out


@dataclass(frozen=True)
class _Popular:
    """The version's popularity sources on one channel, as a set and as flags per item."""

    items: frozenset[int]
    flags: npt.NDArray[np.bool_]  # (catalog items x 2): in popular, in popular_channel

    @classmethod
    def of(cls, model: VersionModel, channel: str) -> _Popular:
        lists = (model.popular, model.popular_channel.get(channel, []))
        flags = np.zeros((len(model.catalog.item_ids), 2), dtype=np.bool_)
        for j, got in enumerate(lists):
            flags[got, j] = True
        return cls(frozenset(i for got in lists for i in got), flags)


POPULAR: VersionSlot[str, _Popular] = VersionSlot("popularity sources by channel", _Popular.of)


def generate(
    h: History,
    model: VersionModel,
    user: npt.NDArray[np.float32] | None,
    channel: str,
    *,
    only: AbstractSet[int] | None = None,
) -> Candidates:
    """The customer's candidates on `channel`; with `only`, just those among these item
    indices (same sources and ALS ranks: a candidate's flags depend on it alone)."""
    cfg = model.catalog.candidates
    als = _als_items(model, user, cfg["n_als"])
    own = (
        history_top(h, model, cfg["n_history"]),
        recent_top(h, cfg["n_recent"], cfg["recent_days"]),
        related_top(h, model, cfg["related_seeds"], cfg["n_related"]),
    )  # the customer's own sources, after "als"; the popular ones depend on the version alone
    popular = POPULAR.get(model, channel)
    # the union in plain Python: lists of at most a hundred ids each, where numpy's
    # per-call overhead would cost more than the work
    union = set(als.tolist())
    union.update(*own, popular.items)
    union.discard(-1)  # ALS and similar items the version does not know
    items = np.array(sorted(union if only is None else union.intersection(only)), np.int64)
    # each catalog item's row among the candidates, -1 if none (the last slot: item -1)
    row = np.full(len(model.catalog.item_ids) + 1, -1, dtype=np.int64)
    row[items] = np.arange(items.size)
    flags = np.zeros((items.size, len(SOURCES)), dtype=np.bool_)
    rank = np.full(items.size, np.nan)
    at = row[als]
    listed = at >= 0
    rank[at[listed]] = np.flatnonzero(listed) + 1.0  # the ALS list holds each item once
    flags[at[listed], 0] = True
    for j, got in enumerate(own, start=1):
        if got:
            at = row[got]
            flags[at[at >= 0], j] = True
    flags[:, _POPULAR:] = popular.flags.take(items, axis=0)
    return Candidates(items, flags, rank)
