"""Offer-ranker features for one customer, one channel and its eligible offers, online.

Mirrors training/features/offer_features.py name for name and fill for fill (a parity
test compares the two on the same history): the offer ranker was trained on those
values, so any drift here silently degrades its ranking. Per-offer batch statistics
(response rates, item counts) come precomputed in the Catalog; everything about the
customer is computed from their History.

This is the largest stage of a decision, run on a few dozen events and a few hundred
offers, so the per-call work avoids many small numpy calls on tiny arrays: one
plain-Python pass over the events summarises the customer (`_Scan`), per-offer values
are set only for the offers those events touch (every other offer keeps the fill), and
what depends on the model alone (batch statistics per channel, tables of each offer's
items and categories) is derived once per loaded version (`_Prepared`, kept by
`VersionModel.derived`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from omnioffer.decide.catalog import VersionModel
from omnioffer.decide.history import DAY_S, RESPONSES, History

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
PRIOR_WEIGHT = 20.0  # impressions' worth of the global rate in smoothed rates
CATEGORY_PRIOR_WEIGHT = 3.0  # the same for one customer's rate in one category
SHARE_SMOOTHING = (0.5, 2.0)  # (added items in the category, added items in total)
BROWSE = ("view", "add_to_cart")
RECENT_DAYS = 14  # training's default when the version does not say (candidates.recent_days)
NEVER = 9_999.0
NO_ITEM_SCORE = -10.0
FATIGUE_DAYS = 14.0
RECENT_IMPRESSION_DAYS = 7
SHOP_CHANNELS = ("web", "app", "store")
_US = 1_000_000.0
_RECENT_US = RECENT_IMPRESSION_DAYS * DAY_S * _US  # training: timestamp >= cutoff - 7 d
# The customer's features, the same for every offer.
SCALARS = ("cu_log_impressions", "cu_rate", "cu_rate_channel",
           *(f"cu_share_{c}" for c in SHOP_CHANNELS), "fa_impr_all_7d", "cu_disc_lift",
           "channel_code")  # fmt: skip
# Per-offer features that keep their fill unless the customer's events touch the offer.
SPARSE = {"fa_impr_offer_14d": 0.0, "fa_dismissed": 0.0, "fa_impr_offer_total": 0.0,
          "fa_days_since_offer": NEVER, "co_qty": 0.0, "co_days_since": NEVER}  # fmt: skip
PADDING_LIMIT = 4  # pad offers' item lists to one width while that is <= 4x the items
# Every offer-ranker feature, in training's order (the column order `offer_matrix` builds).
OFFER_FEATURES = ("of_discount", "of_value", "of_log_items", "of_log_impressions", "of_rate",
                  "of_rate_channel", "cf_affinity", "co_qty", "co_days_since", "co_cat_share",
                  "cu_log_impressions", "cu_rate", "cu_rate_channel", "fa_impr_offer_14d",
                  "fa_impr_all_7d", "fa_dismissed", "fa_days_since_offer", "fa_impr_offer_total",
                  "channel_code", "ir_max", "cu_share_web", "cu_share_app", "cu_share_store",
                  "cu_disc_lift", "ca_rate", "ca_log_share")  # fmt: skip
_COL = {name: j for j, name in enumerate(OFFER_FEATURES)}
_SCALAR_COLS = np.array([_COL[n] for n in SCALARS], dtype=np.int64)


class ScoredItems(NamedTuple):
    """The item ranker's scores of some candidates, as arrays."""

    items: I64  # item indices, each at most once
    scores: npt.NDArray[np.float32]


def _rate(resp: float, impr: float, prior: float, weight: float = PRIOR_WEIGHT) -> float:
    """A response rate smoothed towards the prior by `weight` impressions' worth of it."""
    return (resp + weight * prior) / (impr + weight)


@dataclass(frozen=True)
class _Prepared:
    """What the features need from one VersionModel, derived once and reused by every
    call on it (a loaded model is never modified)."""

    names: tuple[str, ...]  # rows of a per-offer block: batch statistics, then SPARSE
    name_cols: I64  # where those rows go among OFFER_FEATURES
    per_offer: dict[str, F64]  # channel -> (names x catalog offers), SPARSE rows filled
    per_offer_default: F64  # the same for a channel without per-channel rates
    positions: dict[str, tuple[int, ...]]  # offer id -> every position of it in the catalog
    depth: dict[str, float]  # offer id -> discount depth (at offer_table.position)
    categories: dict[str, list[str]]  # offer id -> covered categories (the same)
    vocab_row: I64  # catalog offer -> its row of offer_vectors, -1 when not in offer_vocab
    in_vocab: bool  # every catalog offer has a row
    unscored: F64  # -inf per item, plus a padding item and one for items the version lacks
    item_pad: I64 | None  # catalog offer -> its known items, padded with the padding item
    items_flat: I64  # offer_table.items_flat: every offer's known items, offer after offer
    item_runs: I64  # where each offer with items starts in items_flat ...
    with_items: I64  # ... and its catalog position
    category: dict[str, int]  # covered category -> its column in category value rows
    category_pad: I64  # (width x catalog offers) offer -> its categories' columns, padded
    # with the `pad` column; the `no_category` column for an offer without categories
    browse_us: float  # recent_days in microseconds: the browsing that counts

    @property
    def sparse_row(self) -> int:
        """The first SPARSE row of a per-offer block."""
        return len(self.names) - len(SPARSE)

    @property
    def pad(self) -> int:
        """The category column of the padding: -inf, below every value."""
        return len(self.category)

    @property
    def no_category(self) -> int:
        """The category column of an offer without categories: the fill."""
        return len(self.category) + 1

    @classmethod
    def of(cls, model: VersionModel) -> _Prepared:
        catalog, table = model.catalog, model.offer_table
        n = len(catalog.offers)
        fills = np.repeat(np.array([*SPARSE.values()])[:, None], n, axis=1)
        positions: dict[str, list[int]] = {}
        for k, o in enumerate(catalog.offers):
            positions.setdefault(o.offer_id, []).append(k)
        vocab_row = np.array(
            [model.offer_index.get(o.offer_id, -1) for o in catalog.offers], dtype=np.int64
        )
        items = table.known_items
        widest = max(map(len, items), default=0)
        n_items = len(catalog.item_ids)
        runs = np.flatnonzero(np.diff(table.item_start) > 0)
        covered = sorted({c for o in catalog.offers for c in o.covered_categories})
        category = {c: j for j, c in enumerate(covered)}
        no_category = [len(category) + 1]
        cats = [[category[c] for c in o.covered_categories] or no_category
                for o in catalog.offers]  # fmt: skip
        days = catalog.candidates.get("recent_days", RECENT_DAYS)
        names = (*table.stats, "of_rate_channel", *SPARSE)
        return cls(
            names=names,
            name_cols=np.array([_COL[name] for name in names], dtype=np.int64),
            per_offer={
                c: np.vstack([*table.stats.values(), rate, fills])
                for c, rate in table.rate_channel.items()
            },
            per_offer_default=np.vstack([*table.stats.values(), np.full(n, catalog.prior), fills]),
            positions={o: tuple(ks) for o, ks in positions.items()},
            depth={o: float(table.depth[k]) for o, k in table.position.items()},
            categories={o: catalog.offers[k].covered_categories for o, k in table.position.items()},
            vocab_row=vocab_row,
            in_vocab=bool((vocab_row >= 0).all()),
            unscored=np.full(n_items + 2, -np.inf),
            item_pad=(
                _padded(items, n_items)
                if 0 < n * widest <= PADDING_LIMIT * table.items_flat.size
                else None
            ),
            items_flat=table.items_flat,
            item_runs=table.item_start[runs],
            with_items=runs,
            category=category,
            category_pad=np.ascontiguousarray(_padded(cats, len(category)).T),
            browse_us=days * DAY_S * _US,
        )


def _padded(rows: Sequence[Sequence[int]], pad: int) -> I64:
    """Rows of different lengths as one matrix (at least one column), padded with `pad`."""
    width = max([1, *map(len, rows)])
    out = np.array([[*row, *repeat(pad, width - len(row))] for row in rows], dtype=np.int64)
    return out.reshape(len(rows), width)


def _prepared(model: VersionModel) -> _Prepared:
    """The model's _Prepared, built on its first call and kept with the model."""
    return model.derived(_Prepared, lambda: _Prepared.of(model))


class _Tally:
    """One offer's events for this customer (like training's `_offer_events`, a purchase
    that carries the offer id counts here too, though as neither impression nor response).
    The class attributes are the starting counts (cheaper than an __init__ per offer)."""

    impr: float = 0.0
    resp: float = 0.0
    dismiss: float = 0.0
    impr_here: float = 0.0  # on the request's channel
    resp_here: float = 0.0
    impr_7d: float = 0.0
    impr_14d: float = 0.0  # the fatigue window
    resp_14d: float = 0.0
    last_shown: float = np.inf  # age in days of the latest impression

    def add(self, kind: str, here: bool, age_us: float, age_days: float) -> None:
        """Count one event of the offer (`here`: on the request's channel)."""
        if kind == "offer_impression":
            self.impr += 1.0
            if here:
                self.impr_here += 1.0
            if age_us <= _RECENT_US:
                self.impr_7d += 1.0
            if age_days <= FATIGUE_DAYS:
                self.impr_14d += 1.0
            self.last_shown = min(self.last_shown, age_days)
        elif kind in RESPONSES:
            self.resp += 1.0
            if here:
                self.resp_here += 1.0
            if age_days <= FATIGUE_DAYS:
                self.resp_14d += 1.0
        elif kind == "offer_dismiss":
            self.dismiss += 1.0


class _Purchase(NamedTuple):
    """One purchase event, as the features read it."""

    item_id: str | None
    item: int  # index in the version, -1 unknown
    channel: str
    qty: float
    age_days: float


@dataclass(frozen=True)
class _Scan:
    """The customer's history, summarised in one pass over the events."""

    offers: dict[str, _Tally]  # offer id -> its events, in order of first event
    purchases: list[_Purchase]
    browsed: set[int]  # known items viewed or carted in the last recent_days

    @classmethod
    def of(cls, h: History, channel: str, browse_us: float) -> _Scan:
        age_us, age_days = _ages(h)
        offers: dict[str, _Tally] = {}
        purchases: list[_Purchase] = []
        browsed: set[int] = set()
        for kind, ch, offer, item_id, item, qty, us, days in zip(
            h.type.tolist(), h.channel.tolist(), h.offer, h.item_id, h.item.tolist(),
            h.qty.tolist(), age_us.tolist(), age_days.tolist(), strict=True,
        ):  # fmt: skip
            if kind == "purchase":
                purchases.append(_Purchase(item_id, item, ch, qty, days))
            elif kind in BROWSE and us <= browse_us and item >= 0:
                browsed.add(item)
            if offer is not None:
                tally = offers.get(offer)
                if tally is None:
                    tally = offers[offer] = _Tally()
                tally.add(kind, ch == channel, us, days)
        return cls(offers, purchases, browsed)


def _ages(h: History) -> tuple[F64, F64]:
    """Event ages in exact microseconds, and in days of whole seconds: polars'
    total_seconds() truncates, so an event right at a day boundary (the 14-day
    fatigue window) falls on the same side as in training."""
    age_us = np.rint((h.now - h.ts) * _US)
    return age_us, np.floor(age_us / _US) / DAY_S


def _customer(scan: _Scan, model: VersionModel, prep: _Prepared, channel: str) -> list[float]:
    """The SCALARS: smoothed response rates (overall, on this channel), the purchases'
    channel mix, impressions in the last 7 days, discount lift, channel code. Without
    offer events or purchases they equal training's fills (log1p(0) = 0, a rate of 0 of 0
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
        _rate(resp, impr, prior),
        _rate(resp_here, impr_here, prior),
        *(shops.count(c) / n if n else 0.0 for c in SHOP_CHANNELS),
        impr_7d,
        _discount_lift(scan, prep, prior),
        float(model.channel_code.get(channel, -1)),
    ]


def _discount_lift(scan: _Scan, prep: _Prepared, prior: float) -> float:
    """Deep-discount minus shallow-discount response rate, both smoothed to the prior;
    0 without offer events, the same as training's fill. An offer the version lacks
    has no depth: neither group."""
    deep, shallow = [0.0, 0.0], [0.0, 0.0]  # (responses, impressions)
    for offer, t in scan.offers.items():
        depth = prep.depth.get(offer, np.nan)
        acc = deep if depth == 1.0 else shallow if depth == 0.0 else None
        if acc is not None:
            acc[0] += t.resp
            acc[1] += t.impr
    return _rate(deep[0], deep[1], prior) - _rate(shallow[0], shallow[1], prior)


def _per_offer(scan: _Scan, model: VersionModel, prep: _Prepared, channel: str, offers: I64) -> F64:
    """Per offer (columns), the rows `prep.names`: the batch statistics (an offer nobody
    has answered yet has the prior), then the SPARSE features, set for the offers the
    customer's events touch:

    - fatigue: impressions in the last 14 days (0 once answered in that window),
      dismissals and impressions ever, days since last shown;
    - covered purchases: quantity bought of the offer's covered items, days since the
      last (an item listed twice by an offer counts twice, as in training's join)."""
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


def _category_shares(scan: _Scan, model: VersionModel) -> dict[str, float]:
    """Share of the customer's purchased quantity per category. As in training's inner
    join with the items table, purchases of items the version does not know are
    dropped, while uncategorised items count in the total but match no offer."""
    known = [p for p in scan.purchases if p.item >= 0]
    total = sum(p.qty for p in known)
    qty: dict[str, float] = {}
    for p in known:
        cat = model.category_of[p.item]
        if cat is not None:
            qty[cat] = qty.get(cat, 0.0) + p.qty
    return {c: q / total for c, q in qty.items()} if total > 0 else {}


def _category_items(scan: _Scan, model: VersionModel) -> dict[str, float]:
    """Distinct items the customer bought, or viewed or carted in the last recent_days,
    per (known) category: the browsing the materialized history keeps."""
    counts: dict[str, float] = {}
    for item in scan.browsed.union(p.item for p in scan.purchases if p.item >= 0):
        cat = model.category_of[item]
        if cat is not None:
            counts[cat] = counts.get(cat, 0.0) + 1.0
    return counts


def _category_rates(scan: _Scan, prep: _Prepared, prior: float) -> dict[str, float]:
    """The customer's smoothed response rate per category of the offers they have
    events on (training joins each offer event to every category of the offer; an
    offer the version lacks has no categories)."""
    totals: dict[str, list[float]] = {}
    for offer, t in scan.offers.items():
        for cat in prep.categories.get(offer, ()):
            acc = totals.setdefault(cat, [0.0, 0.0])
            acc[0] += t.resp
            acc[1] += t.impr
    return {c: _rate(r, i, prior, CATEGORY_PRIOR_WEIGHT) for c, (r, i) in totals.items()}


def _best_of_categories(
    prep: _Prepared, offers: I64, rows: Sequence[tuple[Mapping[str, float], float, float]]
) -> F64:
    """One row per (values by category, fill, floor): per offer, the largest of the floor
    and its covered categories' values (the fill for a category without one); an offer
    without categories gets max(fill, floor). Values are finite, so the order in which
    the maximum visits them does not matter."""
    values = np.empty((len(rows), prep.no_category + 1))
    for r, (by_category, fill, floor) in enumerate(rows):
        values[r] = max(fill, floor)
        values[r, prep.pad] = -np.inf
        for cat, value in by_category.items():
            j = prep.category.get(cat)
            if j is not None:
                values[r, j] = value if value > floor else floor
    if len(prep.category_pad) == 1:  # no offer has two categories: nothing to compare
        best: F64 = values.take(prep.category_pad[0].take(offers), axis=1)
        return best
    best = values.take(prep.category_pad.take(offers, axis=1), axis=1).max(axis=1)
    return best


def _log_share(best: F64, counts: Mapping[str, float]) -> F64:
    """ca_log_share from each offer's best category item count: the smoothed log share."""
    add_cat, add_all = SHARE_SMOOTHING
    total = sum(counts.values()) + add_all
    out: F64 = np.log((best + add_cat) / total)
    return out


def _category_affinity(
    model: VersionModel,
    offers: I64,
    rates: Mapping[str, float],
    counts: Mapping[str, float],
    prior: float,
) -> dict[str, F64]:
    """Per offer, best over its categories: the customer's response rate to offers of
    the category and the log share of their distinct items in it (as in training)."""
    count, rate = _best_of_categories(
        _prepared(model), offers, [(counts, 0.0, 0.0), (rates, prior, -np.inf)]
    )
    return {"ca_rate": rate, "ca_log_share": _log_share(count, counts)}


def _affinity(
    model: VersionModel, prep: _Prepared, user: npt.NDArray[np.float32] | None, offers: I64
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
    prep: _Prepared,
    item_scores: Mapping[str, float] | ScoredItems | None,
    offers: I64,
) -> F64:
    """Best item-ranker score among the offer's items; NaN scores are skipped as polars'
    max skips them (fmax), and an offer with no scored item gets training's fill."""
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
    prep = _prepared(model)
    at = np.asarray(offers, dtype=np.int64)
    scan = _Scan.of(h, channel, prep.browse_us)
    prior = model.catalog.prior
    out = np.empty((at.size, len(OFFER_FEATURES)), dtype=dtype)
    out[:, _SCALAR_COLS] = _customer(scan, model, prep, channel)
    out[:, prep.name_cols] = _per_offer(scan, model, prep, channel, at).T
    (out[:, _COL["co_cat_share"]],) = _best_of_categories(
        prep, at, [(_category_shares(scan, model), 0.0, 0.0)]
    )
    out[:, _COL["cf_affinity"]] = _affinity(model, prep, user, at)
    out[:, _COL["ir_max"]] = _ir_max(model, prep, item_scores, at)
    rates, counts = _category_rates(scan, prep, prior), _category_items(scan, model)
    for name, values in _category_affinity(model, at, rates, counts, prior).items():
        out[:, _COL[name]] = values
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
