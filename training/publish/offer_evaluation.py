"""Write the offer ranker's offline test rankings into a version (contracts/evaluation.py),
so `omnioffer evaluate-serving` can compare the served rankings with them later."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from omnioffer.contracts import evaluation as ev
from training.evaluate.rankings import GROUP_KEYS, Truth, ranked_matrix


def offline_rows(scored: pl.DataFrame, truth: Truth) -> pl.DataFrame:
    """Rows of contracts/evaluation.OFFERS from the ranker's scores of the test rows
    (customer_key, channel, offer_id, ranker) and the groups' truth."""
    rows = scored.select(*GROUP_KEYS, pl.col("offer_id").alias("item_id"), "ranker")
    top = ranked_matrix(rows, truth, ev.DEPTH, score_col="ranker")
    ids = np.array(list(truth.item_index), dtype=object)
    gid, pos = np.nonzero(top >= 0)
    ranked = pl.DataFrame(
        {"gid": gid.astype(np.int64), "offer_id": ids[top[gid, pos]].astype(str),
         "rank": (pos + 1).astype(np.int32)},
        schema={"gid": pl.Int64, "offer_id": pl.String, "rank": pl.Int32},
    )  # fmt: skip
    sizes = [len(r) for r in truth.relevant]
    flat = np.concatenate(truth.relevant) if truth.relevant else np.empty(0, np.int64)
    relevant = pl.DataFrame(
        {"gid": np.repeat(np.arange(len(sizes), dtype=np.int64), sizes),
         "offer_id": ids[flat].astype(str) if flat.size else np.empty(0, dtype=str)},
        schema={"gid": pl.Int64, "offer_id": pl.String},
    ).with_columns(relevant=pl.lit(True))  # fmt: skip
    return (
        ranked.join(relevant, on=["gid", "offer_id"], how="full", coalesce=True)
        .join(truth.groups, on="gid")
        .with_columns(pl.col("relevant").fill_null(False))
        .sort("gid", pl.col("rank").fill_null(ev.DEPTH + 1), "offer_id")
        .select(ev.OFFER_COLUMNS)
    )


def write_offer_evaluation(staging: Path, scored: pl.DataFrame, truth: Truth) -> None:
    path = staging / ev.OFFERS
    path.parent.mkdir(parents=True, exist_ok=True)
    offline_rows(scored, truth).write_parquet(path)
