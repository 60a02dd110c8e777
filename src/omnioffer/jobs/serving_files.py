"""Read a model version's `serving/` files into a Catalog and per-customer batch records.

The files' format, names and columns are contracts/serving.py's. Used by
`materialize` (offline tooling: polars is fine here, never on the hot path).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl

from omnioffer.contracts import serving as sf
from omnioffer.contracts.payloads import Catalog, CustomerBatch, Event, OfferRow, encode_batch
from omnioffer.features.spec import ITEM_STATS
from omnioffer.registry import LoadedVersion


def _read(loaded: LoadedVersion, name: str) -> pl.DataFrame:
    return pl.read_parquet(loaded.file(sf.rel(name)))


def _meta(loaded: LoadedVersion) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(loaded.file(sf.rel(sf.META)).read_text("utf-8"))
    sf.check_meta(data, loaded.name)
    return data


def _ids(loaded: LoadedVersion, rel: str) -> list[str]:
    arr = loaded.arrays.get(rel)
    return [] if arr is None else [str(x) for x in arr.tolist()]


def build_catalog(loaded: LoadedVersion) -> Catalog:
    meta = _meta(loaded)
    items = _read(loaded, sf.ITEMS)
    pop = _read(loaded, sf.CHANNEL_ITEMS)
    channel_pop: dict[str, dict[str, tuple[float, float]]] = {}
    for ch, item, p, s in pop.select("channel", "item_id", "ch_pop", "ch_share").iter_rows():
        channel_pop.setdefault(ch, {})[item] = (float(p), float(s))
    by_channel: dict[str, list[str]] = {}
    for ch, item in (
        _read(loaded, sf.POPULAR_CHANNEL)
        .sort("channel", "pop_rank")
        .select("channel", "item_id")
        .iter_rows()
    ):
        by_channel.setdefault(ch, []).append(item)
    factors = loaded.arrays["factors/items.npy"].astype(np.float32)
    offer_vectors = loaded.arrays.get("factors/offers.npy")
    if offer_vectors is None:
        offer_vectors = np.zeros((0, factors.shape[1]), dtype=np.float32)
    return Catalog(
        version=loaded.name,
        cutoff=float(meta["cutoff"]),
        prior=float(meta["prior"]),
        channels=list(meta["channels"]),
        candidates={k: int(v) for k, v in meta["candidates"].items()},
        item_ids=items.get_column("item_id").to_list(),
        category=items.get_column("category").to_list(),
        item_stats={n: items.get_column(n).cast(pl.Float64).to_list() for n in ITEM_STATS},
        channel_pop=channel_pop,
        popular=_read(loaded, sf.POPULAR).sort("pop_rank").get_column("item_id").to_list(),
        popular_channel=by_channel,
        cf_items=_ids(loaded, "vocab/items.npy"),
        n_factors=int(factors.shape[1]),
        item_factors=np.ascontiguousarray(factors).tobytes(),
        offers=_offers(loaded),
        offer_vocab=_ids(loaded, "vocab/offers.npy"),
        offer_vectors=np.ascontiguousarray(offer_vectors.astype(np.float32)).tobytes(),
    )


def _offers(loaded: LoadedVersion) -> list[OfferRow]:
    table = _read(loaded, sf.OFFERS)
    rates: dict[str, dict[str, float]] = {}
    for offer, ch, rate in _read(loaded, sf.OFFER_CHANNELS).iter_rows():
        rates.setdefault(offer, {})[ch] = float(rate)
    cols = table.columns
    out = []
    for row in table.iter_rows(named=True):
        out.append(
            OfferRow(
                offer_id=row["offer_id"],
                title=row["title"] if "title" in cols and row["title"] else row["offer_id"],
                discount=row["discount"],
                value=row["value"],
                start=row["start"],
                end=row["end"],
                channels=list(row["channels"] or []),
                segments=list(row["segments"] or []),
                max_per_customer=row.get("max_per_customer"),
                covered_items=list(row["covered_items"] or []),
                covered_categories=list(row["covered_categories"] or []),
                of_log_items=row["of_log_items"],
                of_rate=row["of_rate"],
                of_log_impressions=row["of_log_impressions"],
                rate_channel=rates.get(row["offer_id"], {}),
            )
        )
    return out


def customer_batches(
    loaded: LoadedVersion, chunk: int = 5_000
) -> Iterator[list[tuple[str, bytes]]]:
    """(customer_id, encoded CustomerBatch) in chunks; every customer the version knows,
    in id order.

    The history is sorted by customer once (keeping each customer's event order), so a
    chunk's events are one contiguous slice, turned into Python values column by column
    for that chunk only: memory holds one chunk's events, not every customer's."""
    hist = _read(loaded, sf.HISTORY)
    key = hist.columns[0]
    hist = hist.sort(key, maintain_order=True)
    runs = hist.group_by(key, maintain_order=True).len()
    ends = dict(zip(runs[key].to_list(), np.cumsum(runs["len"].to_numpy()).tolist(), strict=True))
    people = _read(loaded, sf.CUSTOMERS)
    consent_cols = [c for c in people.columns if c.startswith("consent_")]
    profile = {row["customer_key"]: row for row in people.iter_rows(named=True)}
    cf_ids = _ids(loaded, "vocab/customers.npy")
    factors = loaded.arrays["factors/customers.npy"].astype(np.float32)
    row_of = {c: i for i, c in enumerate(cf_ids)}
    everyone = sorted(set(ends) | set(profile) | set(row_of))
    done = 0  # history rows of the customers already yielded
    for lo in range(0, len(everyone), chunk):
        ids = everyone[lo : lo + chunk]
        stop = max((ends[c] for c in ids if c in ends), default=done)
        part = hist.slice(done, stop - done)
        cols = [part.get_column(c).to_list() for c in sf.COLUMNS[sf.HISTORY][1:]]
        rows, at = [], 0  # `at`: where the next customer's events begin in `cols`
        for cid in ids:
            events: list[Event] = []
            if cid in ends:  # a customer with history: the next run of rows is theirs
                end = ends[cid] - done
                events = sf.history_events(cols, at, end)
                at = end
            rows.append((cid, encode_batch(_batch(profile.get(cid, {}), consent_cols,
                                                  factors, row_of.get(cid), events))))  # fmt: skip
        done = stop
        yield rows


def _batch(
    prof: dict[str, Any],
    consent_cols: list[str],
    factors: np.ndarray[Any, np.dtype[np.float32]],
    row: int | None,
    events: list[Event],
) -> CustomerBatch:
    return CustomerBatch(
        segment=prof.get("segment"),
        consent={
            c.removeprefix("consent_"): bool(prof[c])
            for c in consent_cols
            if prof.get(c) is not None
        },
        factors=b"" if row is None else factors[row].tobytes(),
        events=events,
    )
