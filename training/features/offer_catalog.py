"""The serving model of a training snapshot's offers: what the offer features read.

Training computes offer features with the serving code itself (features/offers.py,
replayed per group by training/features/offer_features.py), so each snapshot needs
the VersionModel a version published at its cutoff would load: the offers with
their batch statistics at that cutoff (the same response_stats serving_export
writes), their covered items and categories, the items' categories, the channel
codes and the offer vectors. Item statistics and popularity are not read by the
offer features and stay empty.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl

from omnioffer.contracts.payloads import Catalog, OfferRow
from omnioffer.features.spec import ITEM_STATS
from omnioffer.version.model import VersionModel
from training.features.offer_stats import response_stats
from training.prep.snapshot import Snapshot


def offer_vectors(
    pairs: pl.DataFrame, snap: Snapshot, offer_ids: Sequence[str]
) -> npt.NDArray[np.float32]:
    """Mean ALS item factor of each offer's covered items (zeros when none are known)."""
    f = snap.cf.item_factors.shape[1]
    out = np.zeros((len(offer_ids), f), dtype=np.float32)
    idx = snap.inter.items.indices(pairs.get_column("item_id").to_list())
    pos = {o: i for i, o in enumerate(offer_ids)}
    rows = np.array(
        [pos.get(o, -1) for o in pairs.get_column("offer_id").to_list()], dtype=np.int64
    )
    ok = (idx >= 0) & (rows >= 0)
    np.add.at(out, rows[ok], snap.cf.item_factors[idx[ok]])
    counts = np.bincount(rows[ok], minlength=len(offer_ids)).astype(np.float32)
    return (out / np.maximum(counts, np.float32(1.0))[:, None]).astype(np.float32)


def offer_model(
    snap: Snapshot,
    offers: pl.DataFrame,
    pairs: pl.DataFrame,
    *,
    recent_days: int,
    also: Sequence[str] = (),
) -> VersionModel:
    """The VersionModel of `snap`'s offers (offer_id, discount, value) covering `pairs`
    (offer_id, item_id), with views and carts of the last `recent_days` counting. `also`:
    offer ids the rows name that the offers table lacks (events may name any offer);
    they get no discount, value or items, as a left join would give them."""
    prior, of, of_ch = response_stats(snap.hist)
    items = snap.items.select("item_id", "category").collect()
    category = dict(items.iter_rows())
    stats = {o: (r, n) for o, r, n in of.select("offer_id", "of_rate", "of_log_impressions")
             .collect().iter_rows()}  # fmt: skip
    rates: dict[str, dict[str, float]] = {}
    for offer_id, channel, rate in of_ch.collect().iter_rows():
        rates.setdefault(offer_id, {})[channel] = rate
    covers: dict[str, list[str]] = {}
    for offer_id, item_id in pairs.select("offer_id", "item_id").iter_rows():
        covers.setdefault(offer_id, []).append(item_id)
    table = offers.select("offer_id", "discount", "value").rows()
    known = {row[0] for row in table}
    table += [(o, None, None) for o in dict.fromkeys(also) if o not in known]
    rows = []
    for offer_id, discount, value in table:
        covered = sorted(covers.get(offer_id, []))
        rate, log_impr = stats.get(offer_id, (None, None))
        rows.append(OfferRow(
            offer_id=offer_id, title=offer_id, discount=discount, value=value, start=None,
            end=None, channels=[], segments=[], max_per_customer=None, covered_items=covered,
            covered_categories=sorted({c for i in covered if (c := category.get(i)) is not None}),
            of_log_items=float(np.log1p(len(covered))) if covered else None, of_rate=rate,
            of_log_impressions=log_impr, rate_channel=rates.get(offer_id, {}),
        ))  # fmt: skip
    vocab = sorted(covers)
    ids = items.get_column("item_id").to_list()
    return VersionModel.from_catalog(Catalog(
        version=f"training@{snap.cutoff.isoformat()}", cutoff=snap.cutoff.timestamp(),
        prior=prior, channels=list(snap.channels), candidates={"recent_days": recent_days},
        item_ids=ids, category=[category[i] for i in ids],
        item_stats={n: [None] * len(ids) for n in ITEM_STATS}, channel_pop={}, popular=[],
        popular_channel={}, cf_items=snap.inter.items.ids,
        n_factors=int(snap.cf.item_factors.shape[1]),
        item_factors=np.ascontiguousarray(snap.cf.item_factors, dtype=np.float32).tobytes(),
        offers=rows, offer_vocab=vocab, offer_vectors=offer_vectors(pairs, snap, vocab).tobytes(),
    ))  # fmt: skip
