"""Honour a data folder's tombstones (the `erasures` table): erased customers are left out.

A tombstone is a digest of a customer id or of an identifier, with the time of the
erasure (contracts/erasure.py). Every customer id and identifier of the data is
digested the same way; a match marks its whole resolved customer (identity resolution
on the full data, so every linked id goes too) as erased up to the latest matching
`erased_at`. Left out: that customer's events (and an erased identifier's anonymous
events) dated at or before the erasure, its consent changes as well, and its rows of
`identities` and `customers` (which carry no date). Events dated after the erasure are
a new history and are kept.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import polars as pl

from omnioffer.contracts.erasure import anonymous_id, customer_digest, identifier_digest
from omnioffer.contracts.load import Dataset
from omnioffer.identity import IdentityMap, build_identity_map, resolve_events

log = logging.getLogger("omnioffer.train")

KEY, AT = "customer_key", "erased_at"


@dataclass(frozen=True)
class Excluded:
    """What the tombstones left out: resolved customers, events, identity rows."""

    customers: int = 0
    events: int = 0
    identities: int = 0


def apply_erasures(dataset: Dataset) -> tuple[Dataset, Excluded]:
    """The dataset without its erased customers' history (unchanged without tombstones)."""
    if dataset.erasures is None:
        return dataset, Excluded()
    tombs = (
        dataset.erasures.select("digest", AT).collect()
        .group_by("digest").agg(pl.col(AT).max())
    )  # fmt: skip
    if tombs.height == 0:
        return dataset, Excluded()
    identity = build_identity_map(dataset.identities, dataset.events)
    erased = _erased_keys(dataset, identity, tombs)
    resolved = resolve_events(dataset.events, identity)
    names = dataset.events.collect_schema().names()
    events = _keep(resolved, erased, "timestamp").select(names).collect()
    before = dataset.events.select(pl.len()).collect().item()
    identities = _identities(dataset.identities, identity, erased, tombs)
    out = dataclasses.replace(
        dataset,
        events=events.lazy(),
        identities=identities,
        customers=_by_customer(dataset.customers, identity, erased, None),
        consents=_by_customer(dataset.consents, identity, erased, "timestamp"),
    )
    kept_ids = 0 if identities is None else identities.select(pl.len()).collect().item()
    all_ids = 0 if dataset.identities is None else (
        dataset.identities.select(pl.len()).collect().item())  # fmt: skip
    excluded = Excluded(erased.height, before - events.height, all_ids - kept_ids)
    log.info("erasures: left out %d customers, %d events, %d identity rows",
             excluded.customers, excluded.events, excluded.identities)  # fmt: skip
    return out, excluded


def _erased_keys(dataset: Dataset, identity: IdentityMap, tombs: pl.DataFrame) -> pl.DataFrame:
    """customer_key (canonical id, or the anonymous key of an unlinked identifier) ->
    erased_at, for every key a tombstone names."""
    customers = identity.customers.with_columns(
        digest=pl.col("customer_id").map_elements(customer_digest, return_dtype=pl.String)
    ).join(tombs, on="digest")
    pairs = (
        _identifiers(dataset)
        .with_columns(
            digest=pl.struct("id_type", "id_value").map_elements(
                lambda r: identifier_digest(r["id_type"], r["id_value"]), return_dtype=pl.String
            )
        )
        .join(tombs, on="digest")
    )
    linked = pairs.join(identity.identifiers, on=["id_type", "id_value"])
    anonymous = pairs.select(
        pl.struct("id_type", "id_value")
        .map_elements(lambda r: anonymous_id(r["id_type"], r["id_value"]), return_dtype=pl.String)
        .alias(KEY),
        AT,
    )
    return (
        pl.concat([
            customers.select(pl.col("canonical_id").alias(KEY), AT),
            linked.select(pl.col("canonical_id").alias(KEY), AT),
            anonymous,
        ])
        .group_by(KEY)
        .agg(pl.col(AT).max())
    )  # fmt: skip


def _identifiers(dataset: Dataset) -> pl.DataFrame:
    """Every distinct (id_type, id_value) of the identities and the events."""
    frames = [dataset.events.select("id_type", "id_value")]
    if dataset.identities is not None:
        frames.append(dataset.identities.select("id_type", "id_value"))
    schema = {"id_type": pl.String, "id_value": pl.String}
    return (
        pl.concat([f.select(pl.col(c).cast(t) for c, t in schema.items()) for f in frames])
        .drop_nulls()
        .unique()
        .collect()
    )


def _keep(frame: pl.LazyFrame, erased: pl.DataFrame, stamp: str | None) -> pl.LazyFrame:
    """Rows whose customer_key is not erased (or, with `stamp`, dated after the erasure)."""
    joined = frame.join(erased.lazy(), on=KEY, how="left", maintain_order="left")
    gone = pl.col(AT).is_not_null()
    if stamp is not None:
        gone = gone & (pl.col(stamp) <= pl.col(AT))
    return joined.filter(~gone)


def _by_customer(
    table: pl.LazyFrame | None, identity: IdentityMap, erased: pl.DataFrame, stamp: str | None
) -> pl.LazyFrame | None:
    """A table keyed by customer_id without the erased customers' rows."""
    if table is None:
        return None
    names = table.collect_schema().names()
    keyed = table.join(identity.customers.lazy(), on="customer_id", how="left",
                       maintain_order="left").with_columns(
        pl.coalesce("canonical_id", "customer_id").alias(KEY))  # fmt: skip
    return _keep(keyed, erased, stamp).select(names).collect().lazy()


def _identities(
    table: pl.LazyFrame | None, identity: IdentityMap, erased: pl.DataFrame, tombs: pl.DataFrame
) -> pl.LazyFrame | None:
    """Identity rows of customers that are not erased (an erased identifier's row goes
    too, whoever it links to)."""
    kept = _by_customer(table, identity, erased, None)
    if kept is None:
        return None
    digested = kept.collect().with_columns(
        pl.struct("id_type", "id_value")
        .map_elements(
            lambda r: identifier_digest(r["id_type"], r["id_value"]), return_dtype=pl.String
        )
        .alias("_digest")
    )
    gone = tombs.get_column("digest").implode()
    return digested.filter(~pl.col("_digest").is_in(gone)).drop("_digest").lazy()
