"""The item ranker over candidates, a block of customer-channel groups at a time.

Used by the items task to rank its test groups and by the offers task, whose
features read the item ranker's scores of the items an offer covers. Blocks keep
memory bounded by the block, not by the customer base.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import polars as pl

from training.evaluate.rankings import GROUP_KEYS
from training.features.item_features import build_item_features, feature_matrix
from training.items.candidates import generate_candidates
from training.prep.snapshot import Snapshot
from training.ranker import score

if TYPE_CHECKING:
    from training.items.task import ItemTaskConfig, ItemTaskResult

CHUNK_GROUPS = 5_000  # customer-channel groups whose candidates are featurised at once


def score_block(
    block: pl.DataFrame,
    snap: Snapshot,
    booster: Any,
    names: list[str],
    config: ItemTaskConfig,
    *,
    covering: Covering | None = None,
) -> tuple[pl.DataFrame, npt.NDArray[np.float32], pl.DataFrame]:
    """Candidates of one block of groups, their feature matrix, and their ranker scores
    (customer_key, channel, item_id, score); with `covering`, the scores of just the
    candidates one of the group's offers covers (a row's features never depend on the
    other candidates, so its score is the same)."""
    cands = generate_candidates(block, snap, config=config.candidates)
    wanted = cands if covering is None else covering.of(cands)
    feats = build_item_features(wanted, snap)
    x = feature_matrix(feats, names)
    rows = feats.select(*GROUP_KEYS, "item_id").with_columns(
        score=pl.Series(score(booster, x), dtype=pl.Float64)
    )
    return cands, x, rows


@dataclass(frozen=True)
class Covering:
    """The offers of each group (customer_key, channel, offer_id) and the items each offer
    covers (offer_id, item_id): which candidates an offer feature reads."""

    offers: pl.DataFrame
    pairs: pl.DataFrame

    def of(self, cands: pl.DataFrame) -> pl.DataFrame:
        """The candidates covered by one of their group's offers. Joined from the
        candidates' side: a group has ~150 candidates, while its offers x their items
        are thousands of rows."""
        keys = [*GROUP_KEYS, "item_id"]
        hit = (
            cands.select(keys)
            .join(self.pairs.select("offer_id", "item_id"), on="item_id")
            .join(self.offers.select(*GROUP_KEYS, "offer_id"), on=[*GROUP_KEYS, "offer_id"],
                  how="semi")
        )  # fmt: skip
        return cands.join(hit.select(keys), on=keys, how="semi", maintain_order="left")


def item_ranker_scores(
    groups: pl.DataFrame,
    snap: Snapshot,
    result: ItemTaskResult,
    covering: Covering | None = None,
) -> pl.DataFrame:
    """Item-ranker scores of each group's candidates (customer_key, channel, item_id, score),
    a block of groups at a time so memory stays bounded; with `covering`, of just the
    candidates the group's offers cover."""
    names, config = result.feature_names, result.config
    return pl.concat(
        score_block(
            groups.slice(lo, CHUNK_GROUPS), snap, result.booster, names, config, covering=covering
        )[2]
        for lo in range(0, groups.height, CHUNK_GROUPS)
    )
