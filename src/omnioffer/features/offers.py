"""Offer-ranker features for one customer, one channel and its eligible offers.

The one computation of the features features/spec.py defines for the offer ranker:
per request online, and in training, which replays each training group's history
through it (training/features/offer_features.py) with the snapshot's serving model.
Per-offer batch statistics (response rates, item counts) come precomputed in the
Catalog; everything about the customer is computed from their History.

This is the largest Python stage of a decision, run on a few dozen events and a few
hundred offers, so the per-call work avoids many small numpy calls on tiny arrays: one
plain-Python pass over the events summarises the customer (`offer_scan.Scan`),
per-offer values are set only for the offers those events touch (every other offer
keeps the fill), and what depends on the model alone is derived once per loaded
version (`offer_tables.Prepared`). The category affinities are `offer_affinity`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import repeat
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from omnioffer.features.history import History
from omnioffer.features.offer_affinity import (
    category_affinity,
    category_items,
    category_rates,
    category_shares,
)
from omnioffer.features.offer_scan import Scan
from omnioffer.features.offer_tables import COLUMN, Prepared, prepared
from omnioffer.features.spec import (
    NEVER,
    NO_ITEM_SCORE,
    OFFER_FEATURES,
    SHOP_CHANNELS,
    smoothed_rate,
)
from omnioffer.version.model import VersionModel

__all__ = ["ScoredItems", "offer_features",
           "offer_matrix"]  # fmt: skip

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
# The customer's features, the same for every offer.
SCALARS = ("cu_log_impressions", "cu_rate", "cu_rate_channel",
           *(f"cu_share_{c}" for c in SHOP_CHANNELS), "fa_impr_all_7d", "cu_disc_lift",
           "channel_code")  # fmt: skip
_SCALAR_COLS = np.array([COLUMN[n] for n in SCALARS], dtype=np.int64)


class ScoredItems(NamedTuple):
    """The item ranker's scores of some candidates, as arrays."""

    items: I64  # item indices, each at most once
    scores: npt.NDArray[np.float32]


def _customer(scan: Scan, model: VersionModel, prep: Prepared, channel: str) -> list[float]:
    """The SCALARS: smoothed response rates (overall, on this channel), the purchases'
    channel mix, impressions in the last 7 days, discount lift, channel code. Without
    offer events or purchases they equal the spec's fills (log1p(0) = 0, a rate of 0 of 0
    is the prior, a share of no purchases is 0)."""
    prior = model.catalog.prior
    impr = resp = impr_here = resp_here = impr_7d = 0.0
    for t in scan.offers.values():
        impr += t.impr
        resp += t.resp
        impr_here += t.impr_here
        resp_here += t.resp_here
        impr_7d += t.impr_7d
    shops = [p.channel for p in scan.purchases]
    n = len(shops)
    return [
        float(np.log1p(impr)),
        smoothed_rate(resp, impr, prior),
        smoothed_rate(resp_here, impr_here, prior),
        *(shops.count(c) / n if n else 0.0 for c in SHOP_CHANNELS),
        impr_7d,
        _discount_lift(scan, prep, prior),
        float(model.channel_code.get(channel, -1)),
    ]


def _discount_lift(scan: Scan, prep: Prepared, prior: float) -> float:
    """Deep-discount minus shallow-discount response rate, both smoothed to the prior;
    0 without offer events, the spec's fill. An offer the version lacks
    has no depth: neither group."""
    deep, shallow = [0.0, 0.0], [0.0, 0.0]  # (responses, impressions)
    for offer, t in scan.offers.items():
        depth = prep.depth.get(offer, np.nan)
        acc = deep if depth == 1.0 else shallow if depth == 0.0 else None
        if acc is not None:
            acc[0] += t.resp
            acc[1] += t.impr
    return smoothed_rate(deep[0], deep[1], prior) - smoothed_rate(shallow[0], shallow[1], prior)


def _per_offer(scan: Scan, model: VersionModel, prep: Prepared, channel: str, offers: I64) -> F64:
    """Per offer (columns), the rows `prep.names`: the batch statistics (an offer nobody
    has answered yet has the prior), then the SPARSE features, set for the offers the
    customer's events touch:

    - fatigue: impressions in the last 14 days (0 once answered in that window),
      dismissals and impressions ever, days since last shown;
    - covered purchases: quantity bought of the offer's covered items, days since the
      last (an item listed twice by an offer counts twice)."""
    out = prep.per_offer.get(channel, prep.per_offer_default).take(offers, axis=1)
    if not scan.offers and not scan.purchases:
        return out
    listed = offers.tolist()
    column = {k: j for j, k in enumerate(listed)}  # an offer listed twice: its last column
    fa = prep.sparse_row
    for offer, t in scan.offers.items():
        for k in prep.positions.get(offer, ()):
            j = column.get(k)
            if j is not None:
                out[fa : fa + 4, j] = (
                    0.0 if t.resp_14d > 0 else t.impr_14d,
                    t.dismiss,
                    t.impr,
                    NEVER if t.last_shown == np.inf else t.last_shown,
                )
    bought: dict[str, list[float]] = {}  # item id -> [quantity, days since the last]
    for p in scan.purchases:
        if p.item_id is not None:
            b = bought.get(p.item_id)
            if b is None:
                bought[p.item_id] = [p.qty, p.age_days]
            else:
                b[0] += p.qty  # whole numbers: the sum is exact in any order
                b[1] = min(b[1], p.age_days)
    qty: dict[int, float] = {}  # column -> quantity bought, days since the last purchase
    since: dict[int, float] = {}
    covering = model.offer_table.covering
    for item, (q, age) in bought.items():
        offers_on = covering.get(item, ())
        for k in column.keys() & offers_on:  # the listed offers covering it
            j = column[k]
            qty[j] = qty.get(j, 0.0) + q * offers_on.count(k)  # listed twice: counted twice
            since[j] = min(since.get(j, np.inf), age)
    for j, q in qty.items():
        out[fa + 4, j] = q
        out[fa + 5, j] = since[j]
    if len(column) < len(listed):  # give an offer's other columns what its last one got
        out = out.take([column[k] for k in listed], axis=1)
    return out


def _affinity(
    model: VersionModel, prep: Prepared, user: npt.NDArray[np.float32] | None, offers: I64
) -> F64:
    """User factors dotted with the offer vector. Training's vector is zero for an offer
    without known covered items, and such offers are not in offer_vocab: 0 either way."""
    if user is None:
        return np.zeros(offers.size)
    rows = prep.vocab_row.take(offers)
    if prep.in_vocab:
        return (model.offer_vectors.take(rows, axis=0) @ user).astype(np.float64)
    out = np.zeros(offers.size)
    ok = rows >= 0
    out[ok] = (model.offer_vectors.take(rows[ok], axis=0) @ user).astype(np.float64)
    return out


def _ir_max(
    model: VersionModel,
    prep: Prepared,
    item_scores: Mapping[str, float] | ScoredItems | None,
    offers: I64,
) -> F64:
    """Best item-ranker score among the offer's items; NaN scores are skipped (fmax),
    and an offer with no scored item gets the spec's fill (NO_ITEM_SCORE)."""
    by_item = prep.unscored.copy()
    if isinstance(item_scores, ScoredItems):
        if item_scores.items.size == 0:
            return np.full(offers.size, NO_ITEM_SCORE)
        by_item[item_scores.items] = item_scores.scores
    elif not item_scores:
        return np.full(offers.size, NO_ITEM_SCORE)
    else:
        unknown = prep.unscored.size - 1  # scores of items the version lacks go there
        at = np.fromiter(
            map(model.item_index.get, item_scores, repeat(unknown)),
            dtype=np.int64,
            count=len(item_scores),
        )
        by_item[at] = np.fromiter(item_scores.values(), dtype=np.float64, count=at.size)
    pad = prep.item_pad
    if pad is not None and offers.size * pad.shape[1] <= prep.items_flat.size:
        best = np.fmax.reduce(by_item.take(pad.take(offers, axis=0)), axis=1)
    else:  # many offers, or a few covering many items: reduce every offer's run at once
        every = np.full(len(model.catalog.offers), -np.inf)
        if prep.with_items.size:
            scores = by_item.take(prep.items_flat)
            every[prep.with_items] = np.fmax.reduceat(scores, prep.item_runs)
        best = every.take(offers)
    return np.where(best > -np.inf, best, NO_ITEM_SCORE)  # NaN: only NaN scores


def offer_matrix(  # noqa: PLR0917 (the positional signature callers use)
    h: History,
    model: VersionModel,
    user: npt.NDArray[np.float32] | None,
    offers: Sequence[int],
    channel: str,
    item_scores: Mapping[str, float] | ScoredItems | None,
    *,
    dtype: type[np.floating[Any]] = np.float32,
) -> npt.NDArray[np.floating[Any]]:
    """Every offer-ranker feature: one row per offer (indices into catalog.offers), the
    columns in OFFER_FEATURES order; float32 by default, what the ranker reads, each
    value computed in float64 and cast as the ranker's input casts it. Item scores by
    item id, or as arrays of item indices."""
    prep = prepared(model)
    at = np.asarray(offers, dtype=np.int64)
    scan = Scan.of(h, channel, prep.browse_us)
    prior = model.catalog.prior
    out = np.empty((at.size, len(OFFER_FEATURES)), dtype=dtype)
    out[:, _SCALAR_COLS] = _customer(scan, model, prep, channel)
    out[:, prep.name_cols] = _per_offer(scan, model, prep, channel, at).T
    out[:, COLUMN["cf_affinity"]] = _affinity(model, prep, user, at)
    out[:, COLUMN["ir_max"]] = _ir_max(model, prep, item_scores, at)
    shares, counts = category_shares(scan, model), category_items(scan, model)
    rates = category_rates(scan, prep, prior)
    for name, values in category_affinity(model, at, shares, rates, counts, prior).items():
        out[:, COLUMN[name]] = values
    return out


def offer_features(  # noqa: PLR0917 (the positional signature callers use)
    h: History,
    model: VersionModel,
    user: npt.NDArray[np.float32] | None,
    offers: Sequence[int],
    channel: str,
    item_scores: Mapping[str, float] | ScoredItems | None,
) -> dict[str, F64]:
    """Every offer-ranker feature by name, one float64 value per offer (the columns of
    `offer_matrix` before the ranker's cast)."""
    m = offer_matrix(h, model, user, offers, channel, item_scores, dtype=np.float64)
    out = np.asarray(m, dtype=np.float64)  # no copy: for the type checker
    return {name: out[:, j] for j, name in enumerate(OFFER_FEATURES)}
