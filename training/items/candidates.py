"""Candidate items per (customer, channel): the union of several cheap sources.

Sources: ALS top-N, the customer's own purchase history, items viewed or carted
recently, items similar to the last purchases, global and per-channel
popularity. The ranker then orders this union; its recall caps the ranker's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from omnioffer.features.spec import BROWSE, RECENT_DAYS, SOURCES
from training.evaluate.rankings import GROUP_KEYS
from training.items.cf import CFModel
from training.items.popularity import popular_items, popular_items_by_channel, repurchase_scores
from training.prep.interactions import Interactions
from training.prep.snapshot import Snapshot


@dataclass(frozen=True)
class CandidateConfig:
    n_als: int = 100
    n_history: int = 50
    n_recent: int = 20
    recent_days: int = RECENT_DAYS
    n_related: int = 10
    related_seeds: int = 3
    n_popular: int = 50
    popular_days: int = 28


def als_candidates(customers: list[str], inter: Interactions, cf: CFModel, n: int) -> pl.DataFrame:
    """ALS top-n for customers known to the model: (customer_key, item_id, als_rank)."""
    known = [c for c in customers if c in inter.customers]
    if not known:
        return pl.DataFrame(
            schema={"customer_key": pl.String, "item_id": pl.String, "als_rank": pl.Int64}
        )
    ids, _ = cf.recommend(inter.customers.indices(known), n)
    per = ids.shape[1]
    return pl.DataFrame(
        {
            "customer_key": pl.Series(known, dtype=pl.String).gather(
                np.repeat(np.arange(len(known)), per)
            ),
            "item_id": pl.Series(inter.items.ids, dtype=pl.String).gather(ids.ravel()),
            "als_rank": np.tile(np.arange(1, per + 1, dtype=np.int64), len(known)),
        },
        schema={"customer_key": pl.String, "item_id": pl.String, "als_rank": pl.Int64},
    )


def recent_candidates(
    hist: pl.LazyFrame, cutoff: datetime, config: CandidateConfig
) -> pl.DataFrame:
    """Items viewed or carted in the last `recent_days`, newest first."""
    return (
        hist.filter(
            pl.col("event_type").is_in(BROWSE)
            & (pl.col("timestamp") >= cutoff - timedelta(days=config.recent_days))
            & (pl.col("timestamp") < cutoff)
        )
        .group_by("customer_key", "item_id")
        .agg(pl.col("timestamp").max().alias("last"))
        .sort(["customer_key", "last"], descending=[False, True])
        .group_by("customer_key", maintain_order=True)
        .head(config.n_recent)
        .select("customer_key", "item_id")
        .collect()
    )


def related_candidates(
    hist: pl.LazyFrame, cutoff: datetime, inter: Interactions, cf: CFModel, config: CandidateConfig
) -> pl.DataFrame:
    """Items most similar (ALS item factors) to each customer's last purchased items."""
    seeds = (
        hist.filter((pl.col("event_type") == "purchase") & (pl.col("timestamp") < cutoff))
        .group_by("customer_key", "item_id")
        .agg(pl.col("timestamp").max().alias("last"))
        .sort(["customer_key", "last"], descending=[False, True])
        .group_by("customer_key", maintain_order=True)
        .head(config.related_seeds)
        .collect()
    )
    seed_items = seeds.get_column("item_id").unique().sort().to_list()
    seed_idx = inter.items.indices(seed_items)
    keep = seed_idx >= 0
    if not keep.any():
        return pl.DataFrame(schema={"customer_key": pl.String, "item_id": pl.String})
    similar = cf.similar_items(seed_idx[keep], config.n_related)
    item_ids = np.asarray(inter.items.ids, dtype=object)
    neighbours = pl.DataFrame(
        {
            "seed": np.repeat(np.asarray(seed_items, dtype=object)[keep], similar.shape[1]),
            "item_id": item_ids[similar.ravel()],
        },
        schema={"seed": pl.String, "item_id": pl.String},
    )
    return (
        seeds.select("customer_key", pl.col("item_id").alias("seed"))
        .join(neighbours, on="seed")
        .select("customer_key", "item_id")
        .unique()
    )


def generate_candidates(
    groups: pl.DataFrame, snap: Snapshot, *, config: CandidateConfig | None = None
) -> pl.DataFrame:
    """Candidates for each (customer_key, channel) group, one row per item.

    Popularity uses everyone's history in the snapshot. Columns: customer_key,
    channel, item_id, a boolean `src_<source>` per source, and als_rank (null
    when not in the ALS top-N).
    """
    config = config or CandidateConfig()
    hist, cutoff, inter, cf = snap.hist, snap.cutoff, snap.inter, snap.cf
    keyed = groups.select(GROUP_KEYS).unique().sort(GROUP_KEYS).with_row_index("gid")
    codes = snap.memo("item_codes", lambda: _item_codes(snap))
    customers = keyed.get_column("customer_key").unique().sort().to_list()
    mine = snap.history_of(keyed.get_column("customer_key"))
    als = als_candidates(customers, inter, cf, config.n_als)
    per_customer = {
        "als": als,
        "history": repurchase_scores(mine, cutoff, n=config.n_history),
        "recent": recent_candidates(mine, cutoff, config),
        "related": related_candidates(mine, cutoff, inter, cf, config),
    }
    frames = [
        keyed.join(df.select("customer_key", "item_id"), on="customer_key").with_columns(_bit(name))
        for name, df in per_customer.items()
    ]
    days, n = config.popular_days, config.n_popular
    popular = snap.memo(
        ("popular_items", days, n), lambda: popular_items(hist, cutoff, days=days, n=n)
    )
    frames.append(keyed.join(popular.select("item_id"), how="cross").with_columns(_bit("popular")))
    by_channel = snap.memo(
        ("popular_items_by_channel", days, n),
        lambda: popular_items_by_channel(hist, cutoff, days=days, n=n),
    )
    frames.append(
        keyed.join(by_channel.select("channel", "item_id"), on="channel").with_columns(
            _bit("popular_channel")
        )
    )
    return _combine(keyed, codes, frames, als)


def _item_codes(snap: Snapshot) -> pl.DataFrame:
    """(item_id, code): every item of the snapshot, codes in item_id order."""
    ids = pl.concat([snap.items.select("item_id"), snap.hist.select("item_id")])
    return ids.drop_nulls().unique().sort("item_id").collect().with_row_index("code")


def _bit(source: str) -> pl.Expr:
    return pl.lit(1 << SOURCES.index(source), dtype=pl.Int32).alias("bits")


def _combine(
    keyed: pl.DataFrame, codes: pl.DataFrame, frames: list[pl.DataFrame], als: pl.DataFrame
) -> pl.DataFrame:
    """One row per (customer_key, channel, item_id) with a flag per source. Rows are
    grouped and sorted on one integer key (group index, item code) and the sources
    OR-ed as bits: far cheaper than grouping and sorting three string columns."""
    n = max(codes.height, 1)
    key = (pl.col("gid").cast(pl.Int64) * n + pl.col("code").cast(pl.Int64)).alias("key")

    def keys(frame: pl.DataFrame, *extra: str) -> pl.DataFrame:
        return frame.join(codes, on="item_id").select(key, *extra)

    long = pl.concat([keys(f, "bits") for f in frames])
    unique, inverse = np.unique(long.get_column("key").to_numpy(), return_inverse=True)
    bits = np.zeros(unique.size, dtype=np.int32)
    np.bitwise_or.at(bits, inverse, long.get_column("bits").to_numpy())
    ranks = keys(keyed.join(als, on="customer_key"), "als_rank")
    flags = [((pl.col("bits") & (1 << k)) != 0).alias(f"src_{s}") for k, s in enumerate(SOURCES)]
    merged = pl.DataFrame({"key": unique, "bits": bits}).join(
        ranks, on="key", how="left", maintain_order="left"
    )
    k = merged.get_column("key")
    return merged.select(
        keyed.get_column("customer_key").gather(k // n),
        keyed.get_column("channel").gather(k // n),
        codes.get_column("item_id").gather(k % n),
        *flags,
        "als_rank",
    )


def candidate_hits(candidates: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Each true (customer_key, channel, item_id) row with the sources that contain it."""
    return (
        truth.select("customer_key", "channel", "item_id")
        .unique()
        .join(candidates, on=["customer_key", "channel", "item_id"], how="left")
        .select(
            *(pl.col(f"src_{s}").fill_null(False) for s in SOURCES),
            pl.col("src_als").is_not_null().alias("src_all"),
        )
    )


def recall_from_hits(hits: pl.DataFrame) -> dict[str, float]:
    """Share of true rows each source contains, and all sources together."""
    if hits.height == 0:
        return {name: 0.0 for name in (*SOURCES, "all")}
    shares = hits.select(pl.all().mean()).row(0, named=True)
    return {name.removeprefix("src_"): float(value) for name, value in shares.items()}


def candidate_recall(candidates: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float]:
    """Share of true (customer_key, channel, item_id) rows each source contains, and all."""
    return recall_from_hits(candidate_hits(candidates, truth))
