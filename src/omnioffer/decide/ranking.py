"""Score one customer's candidates with the version's ONNX rankers.

The features come from the same History the rules read, so real-time events
(a cart on the web a second ago) change scores on every channel immediately.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from omnioffer.decide.candidates import Candidates, generate
from omnioffer.decide.history import History
from omnioffer.decide.item_features import item_features
from omnioffer.decide.offer_features import offer_features
from omnioffer.decide.runtime import ActiveModel
from omnioffer.scoring import OnnxScorer, sigmoid

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class ItemScores:
    candidates: Candidates
    scores: F32  # raw ranker margins, aligned with candidates.items

    def by_id(self, ids: Sequence[str]) -> dict[str, float]:
        items, scores = self.candidates.items.tolist(), self.scores.tolist()
        return {ids[i]: s for i, s in zip(items, scores, strict=True)}


def _matrix(cols: Mapping[str, npt.NDArray[np.float64]], scorer: OnnxScorer) -> F32:
    missing = [n for n in scorer.feature_names if n not in cols]
    if missing:
        raise KeyError(f"the online features lack {missing}: service and model disagree")
    # one (features x rows) block, transposed into the row-major input ONNX wants
    return np.ascontiguousarray(np.array([cols[n] for n in scorer.feature_names], np.float32).T)


def _only(cands: Candidates, items: AbstractSet[int]) -> Candidates:
    """The candidates among `items` (same order, same sources and ALS ranks)."""
    mine = cands.items.tolist()
    keep = np.fromiter((i in items for i in mine), dtype=np.bool_, count=len(mine))
    sources = {name: flags[keep] for name, flags in cands.sources.items()}
    return Candidates(cands.items[keep], sources, cands.als_rank[keep])


def score_items(
    model: ActiveModel,
    h: History,
    user: F32 | None,
    channel: str,
    *,
    only: AbstractSet[int] | None = None,
) -> ItemScores:
    """The item ranker's scores of the customer's candidates on `channel`; with `only`,
    of the candidates among those item indices. A candidate's features depend on it
    alone, so its score is the same either way."""
    cands = generate(h, model.data, user, channel)
    if only is not None:
        cands = _only(cands, only)
    if cands.items.size == 0:
        return ItemScores(cands, np.empty(0, dtype=np.float32))
    cols = item_features(h, model.data, user, cands, channel)
    return ItemScores(cands, model.items.score(_matrix(cols, model.items)))


def offer_propensity(
    model: ActiveModel,
    h: History,
    user: F32 | None,
    offers: Sequence[int],
    *,
    channel: str,
    items: ItemScores,
) -> F32:
    """P(response) per offer; from item affinity alone when the version has no offer ranker."""
    if not offers:
        return np.empty(0, dtype=np.float32)
    if model.offers is None:
        return _affinity_only(model, items, offers)
    scores = items.by_id(model.data.catalog.item_ids)
    cols = offer_features(h, model.data, user, offers, channel, scores)
    return sigmoid(model.offers.score(_matrix(cols, model.offers)))


def _affinity_only(model: ActiveModel, items: ItemScores, offers: Sequence[int]) -> F32:
    scores = items.by_id(model.data.catalog.item_ids)
    best = [
        max((scores.get(i, -10.0) for i in model.data.catalog.offers[k].covered_items),
            default=-10.0)
        for k in offers
    ]  # fmt: skip
    return sigmoid(np.array(best, dtype=np.float32))
