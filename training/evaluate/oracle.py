"""The `oracle` model: rankings from the synthetic generator's ground truth.

Only synthetic data has a truth folder (`<data>/../truth` by default); with real
data the oracle is simply absent from the evaluation.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from training.evaluate.rankings import Truth

log = logging.getLogger("omnioffer.train")
CELLS = 16_000_000  # (customers x items) true scores held at once: ~128 MB per float64 array


class OracleRanker:
    """Ranks by the true propensities the generator drew events from."""

    def __init__(self, truth: Any) -> None:
        self.truth = truth

    def ranked(self, truth: Truth, k: int) -> npt.NDArray[np.int64]:
        """Top-k item indices per group by true purchase propensity (any channel)."""
        item_ids = list(truth.item_index)
        customers = truth.groups.get_column("customer_key").to_list()
        out = np.empty((len(customers), k), dtype=np.int64)
        # the truth's arithmetic makes several arrays of this shape: at 50k items (the
        # 1M-customer data) a fixed 2,048 customers per chunk held gigabytes at once
        chunk = max(1, CELLS // max(len(item_ids), 1))
        for lo in range(0, len(customers), chunk):
            scores = np.asarray(self.truth.item_scores(customers[lo : lo + chunk], item_ids))
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
            out[lo : lo + chunk] = np.take_along_axis(top, order, axis=1)
        return out

    def offer_column(self, rows: pl.DataFrame) -> pl.Series:
        """True response propensity of each (customer_key, channel, offer_id) row."""
        out = np.zeros(rows.height, dtype=np.float64)
        for (channel,), part in rows.with_row_index("_row").group_by(["channel"]):
            customers = part.get_column("customer_key").unique().sort().to_list()
            offers = part.get_column("offer_id").unique().sort().to_list()
            matrix = np.asarray(self.truth.offer_scores(customers, offers, str(channel)))
            c_pos = {c: i for i, c in enumerate(customers)}
            o_pos = {o: i for i, o in enumerate(offers)}
            ci = np.array([c_pos[c] for c in part.get_column("customer_key").to_list()])
            oi = np.array([o_pos[o] for o in part.get_column("offer_id").to_list()])
            out[part.get_column("_row").to_numpy()] = matrix[ci, oi]
        return pl.Series("oracle", out)


def find_oracle(data_dir: Path, truth_dir: Path | None = None) -> OracleRanker | None:
    """The ground truth beside a generated data folder, or None for real data."""
    folder = truth_dir or data_dir.parent / "truth"
    if not folder.is_dir():
        return None
    from training.simulate.truth import load_truth

    log.info("ground truth found in %s: the oracle joins the evaluation", folder)
    return OracleRanker(load_truth(folder))
