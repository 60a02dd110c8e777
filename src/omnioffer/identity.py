"""Identity resolution: one customer view across channel identifiers.

Identifiers (cookie, device id, loyalty card, email hash, CRM id) link to customer
ids through the `identities` table and through events that carry both a
customer_id and an (id_type, id_value), such as a logged-in web session. Any
identifier linked to two customer ids merges them (union-find over the bipartite
customer/identifier graph). Each merged group is represented by its smallest
customer id, so the result does not depend on row order.

Events of an identifier that is linked anywhere in the data count for its
customer, including events from before the link was made. Identifiers never
linked stay anonymous with the key `anon:<id_type>:<id_value>`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

ANONYMOUS_PREFIX = "anon:"

_LINK_SCHEMA = {"customer_id": pl.String, "id_type": pl.String, "id_value": pl.String}


@dataclass(frozen=True)
class IdentityMap:
    """Where every known customer id and identifier resolves to.

    customers: customer_id -> canonical_id, for every customer id seen.
    identifiers: (id_type, id_value) -> canonical_id, for every linked identifier.
    merges: the audit trail, one row per customer id folded into another
        (customer_id, canonical_id, group_size, via: the identifiers of the group).
    """

    customers: pl.DataFrame
    identifiers: pl.DataFrame
    merges: pl.DataFrame

    @property
    def merged_count(self) -> int:
        return self.merges.height


def connected_components(
    n_nodes: int, left: npt.NDArray[np.int64], right: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Label each node with the smallest node id of its connected component.

    Vectorised union-find: hook every edge's larger root onto the smaller one,
    then compress paths by pointer jumping, until every edge joins one root.
    """
    parent = np.arange(n_nodes, dtype=np.int64)
    if left.size == 0:
        return parent
    while True:
        root_l, root_r = parent[left], parent[right]
        if np.array_equal(root_l, root_r):
            return parent
        low = np.minimum(root_l, root_r)
        np.minimum.at(parent, root_l, low)
        np.minimum.at(parent, root_r, low)
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped


def _links(identities: pl.LazyFrame | None, events: pl.LazyFrame | None) -> pl.DataFrame:
    """All (customer_id, id_type, id_value) links, from both tables, deduplicated."""
    frames: list[pl.LazyFrame] = []
    if identities is not None:
        frames.append(identities.select(pl.col(n).cast(t) for n, t in _LINK_SCHEMA.items()))
    if events is not None:
        names = events.collect_schema().names()
        if all(name in names for name in _LINK_SCHEMA):
            frames.append(events.select(pl.col(n).cast(t) for n, t in _LINK_SCHEMA.items()))
    if not frames:
        return pl.DataFrame(schema=_LINK_SCHEMA)
    return pl.concat(frames).drop_nulls().unique().collect()


def _customer_ids(links: pl.DataFrame, events: pl.LazyFrame | None) -> pl.Series:
    ids = [links.get_column("customer_id")]
    if events is not None and "customer_id" in events.collect_schema().names():
        ids.append(events.select(pl.col("customer_id").cast(pl.String)).collect().to_series())
    return pl.concat(ids).drop_nulls().unique().sort().rename("customer_id")


def build_identity_map(
    identities: pl.LazyFrame | None, events: pl.LazyFrame | None = None
) -> IdentityMap:
    """Resolve every customer id and linked identifier to a canonical customer id."""
    links = _links(identities, events)
    customers = _customer_ids(links, events)
    idents = links.select("id_type", "id_value").unique().sort("id_type", "id_value")
    n_cust = customers.len()
    cust_idx = pl.DataFrame({"customer_id": customers, "c": np.arange(n_cust, dtype=np.int64)})
    ident_idx = idents.with_columns(pl.int_range(n_cust, n_cust + idents.height).alias("i"))
    edges = links.join(cust_idx, on="customer_id").join(ident_idx, on=["id_type", "id_value"])
    labels = connected_components(
        n_cust + idents.height,
        edges.get_column("c").to_numpy().astype(np.int64),
        edges.get_column("i").to_numpy().astype(np.int64),
    )
    # Every identifier sits in a component with a customer, and customers take the
    # lowest node ids in sorted order, so each label is the group's smallest customer.
    canonical = customers.gather(labels)
    customer_map = pl.DataFrame({"customer_id": customers, "canonical_id": canonical[:n_cust]})
    identifier_map = idents.with_columns(canonical_id=canonical[n_cust:])
    return IdentityMap(customer_map, identifier_map, _merges(customer_map, edges, canonical))


def _merges(customer_map: pl.DataFrame, edges: pl.DataFrame, canonical: pl.Series) -> pl.DataFrame:
    """Audit rows for customer ids folded into another, with the identifiers that did it."""
    sizes = customer_map.group_by("canonical_id").agg(pl.len().cast(pl.Int64).alias("group_size"))
    via = (
        edges.with_columns(canonical_id=canonical.gather(edges.get_column("c")))
        .with_columns(ident=pl.col("id_type") + ":" + pl.col("id_value"))
        .group_by("canonical_id")
        .agg(pl.col("ident").unique().sort().str.join(";").alias("via"))
    )
    return (
        customer_map.filter(pl.col("customer_id") != pl.col("canonical_id"))
        .join(sizes, on="canonical_id")
        .join(via, on="canonical_id", how="left")
        .sort("canonical_id", "customer_id")
    )


def resolve_events(events: pl.LazyFrame, identity_map: IdentityMap) -> pl.LazyFrame:
    """Add `customer_key` (canonical id or anonymous key) and `anonymous` to events.

    A customer_id on the event wins; otherwise its identifier's link; otherwise the
    event stays with an anonymous key of its identifier.
    """
    names = events.collect_schema().names()
    for name in _LINK_SCHEMA:
        if name not in names:
            events = events.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    by_customer = identity_map.customers.lazy().rename({"canonical_id": "_by_customer"})
    by_ident = identity_map.identifiers.lazy().rename({"canonical_id": "_by_ident"})
    anon_key = pl.lit(ANONYMOUS_PREFIX) + pl.col("id_type") + ":" + pl.col("id_value")
    return (
        events.join(by_customer, on="customer_id", how="left", maintain_order="left")
        .join(by_ident, on=["id_type", "id_value"], how="left", maintain_order="left")
        .with_columns(
            customer_key=pl.coalesce("_by_customer", "customer_id", "_by_ident", anon_key),
        )
        .with_columns(anonymous=pl.col("customer_key").str.starts_with(ANONYMOUS_PREFIX))
        .drop("_by_customer", "_by_ident")
    )
