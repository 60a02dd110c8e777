"""Offer-ranker features for one customer, one channel and its eligible offers, online.

Mirrors training/features/offer_features.py name for name and fill for fill (a parity
test compares the two on the same history): the offer ranker was trained on those
values, so any drift here silently degrades its ranking. Per-offer batch statistics
(response rates, item counts) come precomputed in the Catalog; everything about the
customer is computed from their History.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from omnioffer.decide.catalog import OfferRow, VersionModel
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


def _rate(resp: float, impr: float, prior: float, weight: float = PRIOR_WEIGHT) -> float:
    return (resp + weight * prior) / (impr + weight)


@dataclass(frozen=True)
class _OfferEvents:
    """Every event that carries an offer id, like training's `_offer_events` (so a
    purchase with an offer id is kept too: neither impression nor response)."""

    offer: npt.NDArray[np.str_]
    at: I64  # the offer's position in the catalog, -1 when the version lacks it
    channel: npt.NDArray[np.str_]
    age_us: F64  # whole microseconds before now
    age_days: F64  # whole seconds before now, in days
    impr: F64
    resp: F64
    dismiss: F64

    @classmethod
    def of(cls, h: History, age_us: F64, age_days: F64, model: VersionModel) -> _OfferEvents:
        keep = np.array([o is not None for o in h.offer], dtype=np.bool_)
        kind = h.type[keep]
        offers = [o for o in h.offer if o is not None]
        position = model.offer_table.position
        return cls(
            offer=np.array(offers, dtype=np.str_),
            at=np.array([position.get(o, -1) for o in offers], dtype=np.int64),
            channel=h.channel[keep],
            age_us=age_us[keep],
            age_days=age_days[keep],
            impr=(kind == "offer_impression").astype(np.float64),
            resp=np.isin(kind, RESPONSES).astype(np.float64),
            dismiss=(kind == "offer_dismiss").astype(np.float64),
        )


def _ages(h: History) -> tuple[F64, F64]:
    """Event ages in exact microseconds, and in days of whole seconds: polars'
    total_seconds() truncates, so an event right at a day boundary (the 14-day
    fatigue window) falls on the same side as in training."""
    age_us = np.rint((h.now - h.ts) * _US)
    return age_us, np.floor(age_us / _US) / DAY_S


def _offer_table(model: VersionModel, offers: I64, channel: str) -> dict[str, F64]:
    """Batch statistics of each offer; an offer nobody has answered yet gets the prior."""
    table = model.offer_table
    cols = {name: values[offers] for name, values in table.stats.items()}
    cols["of_rate_channel"] = table.rate_on(channel, model.catalog.prior)[offers]
    return cols


def _customer_responses(ev: _OfferEvents, channel: str, prior: float) -> dict[str, float]:
    """Smoothed response rates; without offer events they equal training's fills
    (log1p(0) = 0, a rate of 0 of 0 is the prior)."""
    on = ev.channel == channel
    return {
        "cu_log_impressions": float(np.log1p(ev.impr.sum())),
        "cu_rate": _rate(float(ev.resp.sum()), float(ev.impr.sum()), prior),
        "cu_rate_channel": _rate(float(ev.resp[on].sum()), float(ev.impr[on].sum()), prior),
    }


def _fatigue(ev: _OfferEvents, rows: Sequence[OfferRow]) -> dict[str, F64]:
    """Per offer: impressions in the last 14 days (0 once answered in that window),
    impressions and dismissals ever, days since last shown."""
    out = {"fa_impr_offer_14d": np.zeros(len(rows)), "fa_dismissed": np.zeros(len(rows))}
    out["fa_impr_offer_total"] = np.zeros(len(rows))
    out["fa_days_since_offer"] = np.full(len(rows), NEVER)
    recent = ev.age_days <= FATIGUE_DAYS
    seen = set(ev.offer.tolist())  # an offer without events keeps the fills above
    for k, row in enumerate(rows):
        if row.offer_id not in seen:
            continue
        mine = ev.offer == row.offer_id
        answered = ev.resp[mine & recent].sum() > 0
        out["fa_impr_offer_14d"][k] = 0.0 if answered else ev.impr[mine & recent].sum()
        out["fa_dismissed"][k] = ev.dismiss[mine].sum()
        out["fa_impr_offer_total"][k] = ev.impr[mine].sum()
        shown = mine & (ev.impr > 0)
        if shown.any():
            out["fa_days_since_offer"][k] = ev.age_days[shown].min()
    return out


def _covered_purchases(
    h: History, age_days: F64, model: VersionModel, offers: I64
) -> dict[str, F64]:
    """Per offer: quantity the customer bought of its covered items, days since the last.

    Visits the customer's purchased items and the offers covering them (an item listed
    twice by an offer counts twice, as in training's join)."""
    n = len(model.catalog.offers)
    qty, since = np.zeros(n), np.full(n, np.inf)
    covering = model.offer_table.covering
    for i in np.flatnonzero(h.purchases).tolist():
        item = h.item_id[i]
        for k in covering.get(item, ()) if item is not None else ():
            qty[k] += h.qty[i]
            since[k] = min(since[k], age_days[i])
    since = since[offers]
    return {"co_qty": qty[offers], "co_days_since": np.where(np.isinf(since), NEVER, since)}


def _best_of_categories(model: VersionModel, values: Mapping[str, float], offers: I64) -> F64:
    """Per offer: the largest non-negative value among its covered categories (0 when
    none of them has one)."""
    best = np.zeros(len(model.catalog.offers))
    in_category = model.offer_table.in_category
    for cat, value in values.items():
        ks = list(in_category.get(cat, ()))
        best[ks] = np.maximum(best[ks], value)
    return best[offers]


def _category_shares(h: History, model: VersionModel) -> dict[str, float]:
    """Share of the customer's purchased quantity per category. As in training's inner
    join with the items table, purchases of items the version does not know are
    dropped, while uncategorised items count in the total but match no offer."""
    p = h.purchases & (h.item >= 0)
    total = float(h.qty[p].sum())
    qty: dict[str, float] = {}
    for item, q in zip(h.item[p].tolist(), h.qty[p].tolist(), strict=True):
        cat = model.category_of[item]
        if cat is not None:
            qty[cat] = qty.get(cat, 0.0) + q
    return {c: q / total for c, q in qty.items()} if total > 0 else {}


def _channel_mix(h: History) -> dict[str, float]:
    """Share of the customer's purchases per shop channel (0 without purchases)."""
    p = h.purchases
    n = float(p.sum())
    return {f"cu_share_{c}": float((h.channel[p] == c).sum()) / n if n else 0.0
            for c in SHOP_CHANNELS}  # fmt: skip


def _discount_lift(ev: _OfferEvents, model: VersionModel, prior: float) -> float:
    """Deep-discount minus shallow-discount response rate, both smoothed to the prior;
    0 without offer events, the same as training's fill."""
    depth = np.where(ev.at >= 0, model.offer_table.depth[ev.at], np.nan)  # unknown: neither
    deep, shallow = depth == 1.0, depth == 0.0
    return _rate(float(ev.resp[deep].sum()), float(ev.impr[deep].sum()), prior) - _rate(
        float(ev.resp[shallow].sum()), float(ev.impr[shallow].sum()), prior
    )


def _category_rates(ev: _OfferEvents, model: VersionModel, prior: float) -> dict[str, float]:
    """The customer's smoothed response rate per category of the offers they were shown
    (training joins each offer event to every category of the offer)."""
    known = ev.at >= 0  # an offer the version lacks has no categories
    at, inverse = np.unique(ev.at[known], return_inverse=True)
    resp = np.bincount(inverse, weights=ev.resp[known], minlength=at.size)
    impr = np.bincount(inverse, weights=ev.impr[known], minlength=at.size)
    catalog = model.catalog.offers
    totals: dict[str, list[float]] = {}
    for k, offer in enumerate(at.tolist()):
        for cat in catalog[offer].covered_categories:
            acc = totals.setdefault(cat, [0.0, 0.0])
            acc[0] += float(resp[k])
            acc[1] += float(impr[k])
    return {c: _rate(r, i, prior, CATEGORY_PRIOR_WEIGHT) for c, (r, i) in totals.items()}


def _category_items(h: History, age_us: F64, model: VersionModel) -> dict[str, float]:
    """Distinct items the customer bought, or viewed or carted in the last recent_days,
    per (known) category: the browsing the materialized history keeps."""
    days = model.catalog.candidates.get("recent_days", RECENT_DAYS)
    recent = h.mask(*BROWSE) & (age_us <= days * DAY_S * _US)
    items = np.unique(h.item[(h.purchases | recent) & (h.item >= 0)])
    counts: dict[str, float] = {}
    for item in items.tolist():
        cat = model.category_of[item]
        if cat is not None:
            counts[cat] = counts.get(cat, 0.0) + 1.0
    return counts


def _category_affinity(
    model: VersionModel,
    offers: I64,
    rates: Mapping[str, float],
    counts: Mapping[str, float],
    prior: float,
) -> dict[str, F64]:
    """Per offer, best over its categories: the customer's response rate to offers of
    the category and the log share of their distinct items in it (as in training)."""
    add_cat, add_all = SHARE_SMOOTHING
    total = sum(counts.values()) + add_all
    catalog = model.catalog.offers
    rate = [max((rates.get(c, prior) for c in catalog[k].covered_categories), default=prior)
            for k in offers.tolist()]  # fmt: skip
    best = _best_of_categories(model, counts, offers)
    return {
        "ca_rate": np.array(rate, dtype=np.float64),
        "ca_log_share": np.log((best + add_cat) / total),
    }


def _affinity(
    model: VersionModel, user: npt.NDArray[np.float32] | None, rows: Sequence[OfferRow]
) -> F64:
    """User factors dotted with the offer vector. Training's vector is zero for an offer
    without known covered items, and such offers are not in offer_vocab: 0 either way."""
    out = np.zeros(len(rows))
    if user is None:
        return out
    idx = np.array([model.offer_index.get(r.offer_id, -1) for r in rows], dtype=np.int64)
    ok = idx >= 0
    out[ok] = (model.offer_vectors[idx[ok]] @ user).astype(np.float64)
    return out


def _ir_max(model: VersionModel, item_scores: Mapping[str, float] | None, offers: I64) -> F64:
    """Best item-ranker score among the offer's items; NaN scores are skipped as polars'
    max skips them, and an offer with no scored item gets training's fill."""
    by_item = np.full(len(model.catalog.item_ids) + 1, -np.inf)  # last: items not known
    if item_scores:
        last = by_item.size - 1
        at = np.array([model.item_index.get(i, last) for i in item_scores], dtype=np.int64)
        scores = np.fromiter(item_scores.values(), dtype=np.float64, count=at.size)
        by_item[at] = np.where(np.isnan(scores), -np.inf, scores)
        by_item[last] = -np.inf
    table = model.offer_table
    start = table.item_start[offers]
    lengths = table.item_start[offers + 1] - start
    before = np.cumsum(lengths) - lengths  # where each offer's items begin in `flat`
    flat = table.items_flat[np.repeat(start - before, lengths) + np.arange(lengths.sum())]
    out = np.full(offers.size, -np.inf)
    some = lengths > 0
    if some.any():  # reduceat over each offer's run of items (empty runs skipped)
        out[some] = np.maximum.reduceat(by_item[flat], before[some])
    return np.where(np.isneginf(out), NO_ITEM_SCORE, out)


def offer_features(  # noqa: PLR0917 (the positional signature callers use)
    h: History,
    model: VersionModel,
    user: npt.NDArray[np.float32] | None,
    offers: Sequence[int],
    channel: str,
    item_scores: Mapping[str, float] | None,
) -> dict[str, F64]:
    """Every offer-ranker feature by name, one value per offer (indices into catalog.offers)."""
    rows = [model.catalog.offers[o] for o in offers]
    at = np.asarray(offers, dtype=np.int64)
    age_us, age_days = _ages(h)
    ev = _OfferEvents.of(h, age_us, age_days, model)
    prior = model.catalog.prior
    shares = _category_shares(h, model)
    recent_us = RECENT_IMPRESSION_DAYS * DAY_S * _US  # training: timestamp >= cutoff - 7 d
    scalars = {
        **_customer_responses(ev, channel, prior),
        **_channel_mix(h),
        "fa_impr_all_7d": float(ev.impr[ev.age_us <= recent_us].sum()),
        "cu_disc_lift": _discount_lift(ev, model, prior),
        "channel_code": float(model.channel_code.get(channel, -1)),
    }
    cols = {name: np.full(len(rows), value) for name, value in scalars.items()}
    cols |= _offer_table(model, at, channel)
    cols |= _fatigue(ev, rows)
    cols |= _covered_purchases(h, age_days, model, at)
    cols["co_cat_share"] = _best_of_categories(model, shares, at)
    cols["cf_affinity"] = _affinity(model, user, rows)
    cols["ir_max"] = _ir_max(model, item_scores, at)
    rates, counts = _category_rates(ev, model, prior), _category_items(h, age_us, model)
    cols |= _category_affinity(model, at, rates, counts, prior)
    return cols
