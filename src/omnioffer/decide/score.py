"""Score one customer's candidates with the version's ONNX rankers.

The features come from the same History the rules read, so real-time events
(a cart on the web a second ago) change scores on every channel immediately.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from omnioffer.features.candidates import Candidates, generate
from omnioffer.features.history import History
from omnioffer.features.items import item_matrix
from omnioffer.features.offers import ScoredItems, offer_matrix
from omnioffer.features.spec import OFFER_FEATURES, item_feature_names
from omnioffer.version.holder import ActiveModel
from omnioffer.version.model import VersionModel, VersionSlot
from omnioffer.version.scorer import OnnxScorer, sigmoid

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ItemScores:
    candidates: Candidates
    scores: F32  # raw ranker margins, aligned with candidates.items

    def by_id(self, ids: Sequence[str]) -> dict[str, float]:
        items, scores = self.candidates.items.tolist(), self.scores.tolist()
        return {ids[i]: s for i, s in zip(items, scores, strict=True)}


def _reorder(built: Sequence[str], scorer: OnnxScorer) -> npt.NDArray[np.int64] | None:
    """Where each of the ranker's features is among the `built` columns (None: same order)."""
    wanted = scorer.feature_names
    if list(built) == wanted:
        return None
    at = {name: j for j, name in enumerate(built)}
    missing = [n for n in wanted if n not in at]
    if missing:
        raise KeyError(f"the online features lack {missing}: service and model disagree")
    return np.array([at[n] for n in wanted], dtype=np.int64)


def _columns(
    model: VersionModel, scorer: OnnxScorer, built: Callable[[], Sequence[str]]
) -> I64 | None:
    """_reorder, worked out once per (loaded version, ranker)."""
    return _COLUMNS.get(model, scorer, lambda: _reorder(built(), scorer))


_COLUMNS: VersionSlot[OnnxScorer, I64 | None] = VersionSlot("ranker column order by scorer")


def _score(scorer: OnnxScorer, rows: F32, order: I64 | None) -> F32:
    return scorer.score(rows if order is None else rows.take(order, axis=1))


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
    cands = generate(h, model.data, user, channel, only=only)
    if cands.items.size == 0:
        return ItemScores(cands, np.empty(0, dtype=np.float32))
    rows = item_matrix(h, model.data, user, cands, channel)
    channels = model.data.catalog.channels
    order = _columns(model.data, model.items, lambda: item_feature_names(channels))
    return ItemScores(cands, _score(model.items, rows, order))


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
    scored = ScoredItems(items.candidates.items, items.scores)
    rows = offer_matrix(h, model.data, user, offers, channel, scored)
    order = _columns(model.data, model.offers, lambda: OFFER_FEATURES)
    return sigmoid(_score(model.offers, rows, order))


def _affinity_only(model: ActiveModel, items: ItemScores, offers: Sequence[int]) -> F32:
    scores = items.by_id(model.data.catalog.item_ids)
    best = [
        max((scores.get(i, -10.0) for i in model.data.catalog.offers[k].covered_items),
            default=-10.0)
        for k in offers
    ]  # fmt: skip
    return sigmoid(np.array(best, dtype=np.float32))
