"""Load a data folder and resolve every event to one customer view, once.

The resolved events are collected into memory a single time (only the columns
training reads), because every later stage queries them many times.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from omnioffer.contracts.load import Dataset, offer_item_pairs
from omnioffer.contracts.schema import DEFAULT_CHANNELS
from omnioffer.contracts.validate import load_valid
from omnioffer.identity import IdentityMap, build_identity_map, resolve_events
from training.prep.erasures import Excluded, apply_erasures

log = logging.getLogger("omnioffer.train")

EVENT_COLUMNS = (
    "timestamp", "event_type", "channel", "customer_key", "anonymous",
    "item_id", "offer_id", "quantity", "revenue",
)  # fmt: skip


OFFER_SCHEMA: dict[str, pl.DataType] = {
    "offer_id": pl.String(),
    "discount": pl.Float64(),
    "value": pl.Float64(),
    "start": pl.Datetime("us", "UTC"),
    "end": pl.Datetime("us", "UTC"),
    "channels": pl.List(pl.String),
    "segments": pl.List(pl.String),
}
OFFER_COLUMNS = tuple(OFFER_SCHEMA)


@dataclass(frozen=True)
class TrainingData:
    dataset: Dataset
    identity: IdentityMap
    events: pl.LazyFrame  # resolved, collected, sorted by timestamp
    items: pl.LazyFrame  # item_id, category, price (from items, or from events if no items file)
    offers: pl.DataFrame  # OFFER_COLUMNS (empty when there are no offers)
    segments: pl.DataFrame  # customer_key, segment (resolved; empty without a customers file)
    offer_items: pl.DataFrame  # offer_id, item_id: every item an offer covers
    fingerprint: str
    excluded: Excluded = field(default_factory=Excluded)  # what the tombstones left out


def load_training_data(
    data_dir: Path, *, channels: Sequence[str] = DEFAULT_CHANNELS, strict: bool = False
) -> TrainingData:
    """The valid data (without the rows validation drops, unless `strict` refuses them),
    resolved."""
    dataset, excluded = apply_erasures(load_valid(data_dir, channels=channels, strict=strict))
    identity = build_identity_map(dataset.identities, dataset.events)
    events = (
        resolve_events(dataset.events, identity)
        .select(EVENT_COLUMNS)
        .sort("timestamp", maintain_order=True)
        .collect()
    )
    log.info("resolved %d events; %d customer ids merged", events.height, identity.merged_count)
    items = _items(dataset, events)
    pairs = _offer_items(dataset, items)
    offers = (
        dataset.offers.select(OFFER_COLUMNS).collect()
        if dataset.offers is not None
        else pl.DataFrame(schema=OFFER_SCHEMA)
    )
    segments = _segments(dataset, identity)
    return TrainingData(
        dataset,
        identity,
        events.lazy(),
        items,
        offers,
        segments,
        pairs,
        _fingerprint(events),
        excluded,
    )


def _segments(dataset: Dataset, identity: IdentityMap) -> pl.DataFrame:
    """Each resolved customer's segment (the canonical id's own row wins)."""
    if dataset.customers is None:
        return pl.DataFrame(schema={"customer_key": pl.String, "segment": pl.String})
    rows = dataset.customers.select("customer_id", "segment").collect()
    return (
        rows.join(identity.customers, on="customer_id", how="left")
        .with_columns(customer_key=pl.coalesce("canonical_id", "customer_id"))
        .sort(pl.col("customer_id") != pl.col("customer_key"))
        .unique("customer_key", keep="first", maintain_order=True)
        .select("customer_key", "segment")
    )


def _items(dataset: Dataset, events: pl.DataFrame) -> pl.LazyFrame:
    """The catalogue, plus any item only seen in events (no category, no price)."""
    seen = events.lazy().filter(pl.col("item_id").is_not_null()).select("item_id").unique()
    if dataset.items is None:
        return (
            seen.with_columns(category=pl.lit(None, pl.String), price=pl.lit(None, pl.Float64))
            .collect()
            .lazy()
        )
    catalogue = dataset.items.select("item_id", "category", "price")
    extra = seen.join(catalogue, on="item_id", how="anti").with_columns(
        category=pl.lit(None, pl.String), price=pl.lit(None, pl.Float64)
    )
    return pl.concat([catalogue, extra]).collect().lazy()


def _offer_items(dataset: Dataset, items: pl.LazyFrame) -> pl.DataFrame:
    """Explicit offer items, plus every item of an offer's categories."""
    schema = {"offer_id": pl.String, "item_id": pl.String}
    if dataset.offers is None:
        return pl.DataFrame(schema=schema)
    by_category = (
        dataset.offers.select("offer_id", "categories")
        .explode("categories")
        .drop_nulls()
        .join(items.select("item_id", pl.col("category").alias("categories")), on="categories")
        .select("offer_id", "item_id")
    )
    return (
        pl.concat([offer_item_pairs(dataset), by_category])
        .unique()
        .sort("offer_id", "item_id")
        .collect()
    )


def _fingerprint(events: pl.DataFrame) -> str:
    """A cheap, order-stable fingerprint of the training events (hash of row hashes)."""
    sums = events.select(pl.all().hash(seed=7).sum()).row(0)
    return hashlib.sha256(repr((events.height, sums)).encode()).hexdigest()[:16]
