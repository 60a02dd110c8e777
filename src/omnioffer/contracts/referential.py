"""References between the tables of a data directory, checked when both ends are present.

Every one of them finds rows `train` drops by default rather than refuses (a `drop`
kind of problems.DROP_KINDS): a million good rows are not thrown away for a handful of
`offer_items` naming products missing from `items`.

- offers.items, offer_items.item_id and events.item_id name items of `items`;
- offer_items.offer_id names an offer of `offers`;
- every offer covers at least one item of `items` (through its items, its categories or
  its offer_items rows), when the data says which items offers cover at all;
- offer_items rows of an offer dropped for its window (end before start) go with it.

Events of a dropped offer stay: they are what the customer saw and answered.
"""

from __future__ import annotations

import polars as pl

from omnioffer.contracts.checks import ROW, VALUE, Check, TableFrame, exploded, listed, quoted

FOLLOWERS = ("dropped_offer",)
"""Kinds that only follow another drop (meaningless when nothing is dropped: strict)."""
_ITEM_REFERENCES = (
    ("offers", "items", "unknown_item"),
    ("offer_items", "item_id", "unknown_item"),
    ("events", "item_id", "unknown_item"),
)


def referential_checks(frames: dict[str, TableFrame]) -> list[Check]:
    """The reference checks that apply to the tables present."""
    checks: list[Check] = []
    items = frames.get("items")
    known = _keys(items, "item_id")
    for table, column, kind in _ITEM_REFERENCES:
        tf = frames.get(table)
        if tf is not None and known is not None and items is not None and column in tf.names:
            checks.append(_unknown(tf, column, known, items, kind=kind))
    offers, pairs = frames.get("offers"), frames.get("offer_items")
    offer_ids = _keys(offers, "offer_id")
    if pairs is not None and offers is not None and offer_ids is not None:
        checks.append(_unknown(pairs, "offer_id", offer_ids, offers, kind="unknown_offer"))
        checks.append(_of_dropped_offers(pairs, offers))
    if offers is not None and items is not None and known is not None:
        found = _without_items(offers, items, pairs, known)
        checks += [found] if found is not None else []
    return checks


def _keys(tf: TableFrame | None, key: str) -> pl.LazyFrame | None:
    """The distinct non-null keys of a table, as VALUE."""
    if tf is None or key not in tf.names:
        return None
    return tf.frame.select(pl.col(key).alias(VALUE)).drop_nulls().unique()


def _unknown(
    tf: TableFrame, column: str, known: pl.LazyFrame, ref: TableFrame, *, kind: str
) -> Check:
    """Values of `column` that are not keys of `ref` (unknown item / unknown offer)."""
    bad = exploded(tf, column).join(known, on=VALUE, how="anti")
    unknown = quoted(f"unknown {ref.name.removesuffix('s')}", pl.col(VALUE))
    message = pl.concat_str(unknown, pl.lit(f" (not in {ref.file})"))
    return listed(tf, column, bad, message, (tf.file, ref.file), drop=kind)


def _of_dropped_offers(pairs: TableFrame, offers: TableFrame) -> Check:
    """offer_items rows of the offers whose end is before their start."""
    backwards = offers.frame.filter(pl.col("start") > pl.col("end"))
    gone = backwards.select(pl.col("offer_id").alias(VALUE)).drop_nulls().unique()
    bad = exploded(pairs, "offer_id").join(gone, on=VALUE, how="semi")
    message = pl.format("offer '{}' is dropped: its end is before its start in {}", pl.col(VALUE),
                        pl.lit(offers.file))  # fmt: skip
    return listed(pairs, "offer_id", bad, message, (pairs.file, offers.file), drop="dropped_offer")


def _without_items(
    offers: TableFrame, items: TableFrame, pairs: TableFrame | None, known: pl.LazyFrame
) -> Check | None:
    """Offers none of whose items, categories or offer_items rows name a known item; None
    when the data does not say which items offers cover (no column, no offer_items)."""
    covered: list[pl.LazyFrame] = []
    offer_id = pl.col("offer_id")
    if "items" in offers.names:
        listed_items = offers.frame.select(offer_id, pl.col("items").alias(VALUE)).explode(VALUE)
        covered.append(listed_items.join(known, on=VALUE, how="semi").select(offer_id))
    if "categories" in offers.names and "category" in items.names:
        cats = offers.frame.select(offer_id, pl.col("categories").alias(VALUE)).explode(VALUE)
        known_cats = items.frame.select(pl.col("category").alias(VALUE)).drop_nulls().unique()
        covered.append(cats.join(known_cats, on=VALUE, how="semi").select(offer_id))
    if pairs is not None and "item_id" in pairs.names and "offer_id" in pairs.names:
        rows = pairs.frame.select(offer_id, pl.col("item_id").alias(VALUE))
        covered.append(rows.join(known, on=VALUE, how="semi").select(offer_id))
    if not covered:
        return None
    some = pl.concat(covered).unique()
    bad = (
        offers.frame.select(ROW, offer_id.alias(VALUE))
        .drop_nulls(VALUE)
        .join(some.select(offer_id.alias(VALUE)), on=VALUE, how="anti")
    )
    message = pl.format("offer '{}' covers no item of {}", pl.col(VALUE), pl.lit(items.file))
    files = (offers.file, items.file, *((pairs.file,) if pairs is not None else ()))
    return listed(offers, "offer_id", bad, message, files, drop="offer_without_items")
