"""The serving half of a model version (`serving/`): what `materialize` loads into the store.

Everything is computed at the serving cutoff (just after the last event), with the
same functions that build training features, so batch statistics online equal the
offline ones by construction. Per customer we keep the compact event history the
online features are computed from: every purchase and offer event, plus views and
carts of the last `recent_days`. Files are plain parquet and JSON; no pickle. Their
format, names and columns are omnioffer/contracts/serving.py's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from omnioffer.contracts import serving as sf
from omnioffer.contracts.load import Dataset
from omnioffer.identity import IdentityMap
from training.features.history import channel_item_popularity, item_stats
from training.features.offer_stats import response_stats
from training.features.serving_history import history
from training.items.candidates import CandidateConfig
from training.items.popularity import popular_items, popular_items_by_channel


@dataclass(frozen=True)
class ServingInputs:
    dataset: Dataset
    identity: IdentityMap
    events: pl.LazyFrame  # resolved events (customer_key, anonymous, ...)
    items: pl.LazyFrame
    offers: pl.DataFrame
    offer_items: pl.DataFrame
    channels: tuple[str, ...]
    candidates: CandidateConfig


def serving_cutoff(last_event: datetime) -> datetime:
    """Just after the last event: everything in the data counts as history."""
    return last_event + timedelta(seconds=1)


def write_serving(staging: Path, inputs: ServingInputs, cutoff: datetime) -> None:
    out = staging / sf.DIR
    out.mkdir(parents=True, exist_ok=True)
    hist = inputs.events.filter(~pl.col("anonymous") & (pl.col("timestamp") < cutoff))
    cfg = inputs.candidates
    # streamed to the file: never the whole history in memory (2.5 GB at 1M customers)
    history(hist, cutoff, cfg.recent_days).sink_parquet(out / sf.file_name(sf.HISTORY))
    customers(inputs).write_parquet(out / sf.file_name(sf.CUSTOMERS))
    inputs.identity.identifiers.select(
        "id_type", "id_value", pl.col("canonical_id").alias("customer_key")
    ).write_parquet(out / sf.file_name(sf.IDENTITIES))
    item_stats(hist, inputs.items, cutoff).collect().write_parquet(out / sf.file_name(sf.ITEMS))
    channel_item_popularity(hist, cutoff).collect().write_parquet(
        out / sf.file_name(sf.CHANNEL_ITEMS)
    )
    days, n = cfg.popular_days, cfg.n_popular
    popular_items(hist, cutoff, days=days, n=n).write_parquet(out / sf.file_name(sf.POPULAR))
    popular_items_by_channel(hist, cutoff, days=days, n=n).write_parquet(
        out / sf.file_name(sf.POPULAR_CHANNEL)
    )
    prior = _write_offers(out, hist, inputs)
    meta = {
        "format": sf.SERVING_FORMAT,
        "cutoff": cutoff.timestamp(),
        "prior": prior,
        "channels": list(inputs.channels),
        "candidates": {name: getattr(cfg, name) for name in sf.CANDIDATE_SETTINGS},
    }
    (out / sf.META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def customers(inputs: ServingInputs) -> pl.DataFrame:
    """Segment and per-channel consent of each resolved customer (canonical row wins);
    the latest live change of the `consents` table wins over a `consent_<channel>`."""
    table = inputs.dataset.customers
    if table is None and inputs.dataset.consents is None:
        return pl.DataFrame(schema={"customer_key": pl.String, "segment": pl.String})
    if table is None:
        table = pl.LazyFrame(schema={"customer_id": pl.String, "segment": pl.String})
    consent = [c for c in table.collect_schema().names() if c.startswith("consent_")]
    cols = ["customer_id", *(["segment"] if "segment" in table.collect_schema() else []), *consent]
    rows = with_live_consent(table.select(cols).collect(), inputs.dataset.consents)
    return (
        rows.join(inputs.identity.customers, on="customer_id", how="left")
        .with_columns(customer_key=pl.coalesce("canonical_id", "customer_id"))
        .sort(pl.col("customer_id") != pl.col("customer_key"))
        .unique("customer_key", keep="first", maintain_order=True)
        .drop("customer_id", "canonical_id")
    )


def with_live_consent(rows: pl.DataFrame, consents: pl.LazyFrame | None) -> pl.DataFrame:
    """`rows` (customer_id, consent_<channel>...) with each customer's latest consent
    change per channel over them; customers only the changes name get a row too."""
    if consents is None:
        return rows
    latest = (
        consents.select("customer_id", "timestamp", "channel", "granted").collect()
        .sort("timestamp", maintain_order=True)
        .group_by("customer_id", "channel", maintain_order=True).agg(pl.col("granted").last())
    )  # fmt: skip
    if latest.height == 0:
        return rows
    live = latest.with_columns(pl.concat_str(pl.lit("consent_"), "channel").alias("channel"))
    wide = live.pivot(on="channel", index="customer_id", values="granted")
    changed = [c for c in wide.columns if c != "customer_id"]
    merged = rows.join(wide, on="customer_id", how="full", coalesce=True, suffix="__live")
    return merged.with_columns(
        pl.coalesce(f"{c}__live", c).alias(c) if c in rows.columns else pl.col(c) for c in changed
    ).drop(f"{c}__live" for c in changed if c in rows.columns)


def _write_offers(out: Path, hist: pl.LazyFrame, inputs: ServingInputs) -> float:
    """The offer table with its batch response statistics; returns the global response rate."""
    prior, of, of_ch = response_stats(hist)
    pairs = inputs.offer_items
    covered = pairs.group_by("offer_id").agg(
        pl.col("item_id").sort().alias("covered_items"),
        pl.len().cast(pl.Float64).log1p().alias("of_log_items"),
    )
    cats = (
        pairs.join(inputs.items.select("item_id", "category").collect(), on="item_id")
        .drop_nulls("category")
        .group_by("offer_id")
        .agg(pl.col("category").unique().sort().alias("covered_categories"))
    )
    raw = inputs.dataset.offers
    extra = (
        raw.select(
            "offer_id",
            *(c for c in ("title", "max_per_customer") if c in raw.collect_schema().names()),
        ).collect()
        if raw is not None
        else pl.DataFrame(schema={"offer_id": pl.String})
    )
    table = (
        inputs.offers.join(extra, on="offer_id", how="left")
        .join(covered, on="offer_id", how="left")
        .join(cats, on="offer_id", how="left")
        .join(of.collect(), on="offer_id", how="left")
        .with_columns(
            start=pl.col("start").dt.epoch("us").cast(pl.Float64) / 1e6,
            end=pl.col("end").dt.epoch("us").cast(pl.Float64) / 1e6,
        )
    )
    table.write_parquet(out / sf.file_name(sf.OFFERS))
    of_ch.collect().write_parquet(out / sf.file_name(sf.OFFER_CHANNELS))
    return prior
