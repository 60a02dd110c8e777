"""Item-ranker features for one customer's candidates on one channel, online.

Mirrors training/features/item_features.py name for name (a parity test compares
the two on the same history); fills for "no history" are the same constants.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from omnioffer.decide.candidates import SOURCES, Candidates
from omnioffer.decide.catalog import ITEM_STATS, VersionModel
from omnioffer.decide.history import DAY_S, History

NEVER = 9_999.0
F64 = npt.NDArray[np.float64]
RECENT_DAYS = 14


def purchase_stats(
    ts: F64, qty: F64, keys: npt.NDArray[np.int64], now: float
) -> dict[int, tuple[float, ...]]:
    """Per key: (qty, distinct days, days since last, interval, due) like training's stats."""
    out: dict[int, tuple[float, ...]] = {}
    for key in np.unique(keys).tolist():
        m = keys == key
        t = ts[m]
        days = float(np.unique(np.floor(t / DAY_S)).size)
        since = (now - t.max()) / DAY_S
        interval = (t.max() - t.min()) / DAY_S / (days - 1) if days >= 2 else np.nan
        due = since / interval if days >= 2 else np.nan
        out[int(key)] = (float(qty[m].sum()), days, since, interval, due)
    return out


def _fill(values: F64, fill: float) -> F64:
    return np.where(np.isnan(values), fill, values)


def customer_stats(h: History, channels: Sequence[str]) -> dict[str, float]:
    p = h.purchases
    n = float(p.sum())
    if n == 0:
        return {"cu_recency": NEVER, "cu_frequency": 0.0, "cu_monetary": 0.0,
                "cu_distinct_items": 0.0, "cu_mean_price": np.nan,
                **{f"cu_share_{c}": 0.0 for c in channels}}  # fmt: skip
    rev = h.revenue[p]
    ratio = rev / h.qty[p]
    ratio = ratio[~np.isnan(ratio)]
    return {
        "cu_recency": float(h.age_days()[p].min()),
        "cu_frequency": n,
        "cu_monetary": float(np.nansum(rev)),
        "cu_distinct_items": float(len({h.item_id[i] for i in np.flatnonzero(p)})),
        "cu_mean_price": float(ratio.mean()) if ratio.size else np.nan,
        **{f"cu_share_{c}": float((h.channel[p] == c).sum() / n) for c in channels},
    }


def _item_history(h: History, items: npt.NDArray[np.int64], channel: str) -> dict[str, F64]:
    p = h.purchases & (h.item >= 0)
    stats = purchase_stats(h.ts[p], h.qty[p], h.item[p], h.now)
    last_channel = {int(i): str(c) for i, c in zip(h.item[p], h.channel[p], strict=True)}
    rec = h.mask("view", "add_to_cart") & (h.ts >= h.now - RECENT_DAYS * DAY_S) & (h.item >= 0)
    names = ("ci_qty", "ci_n", "ci_days_since", "ci_interval", "ci_due")
    fills = (0.0, 0.0, NEVER, NEVER, -1.0)
    cols = {n: np.full(items.size, np.nan) for n in (*names, "ci_views_recent",
            "ci_carts_recent", "ci_days_since_seen", "ci_same_channel")}  # fmt: skip
    for k, item in enumerate(items.tolist()):
        for name, v in zip(names, stats.get(item, (np.nan,) * 5), strict=True):
            cols[name][k] = v
        if item in last_channel:
            cols["ci_same_channel"][k] = float(last_channel[item] == channel)
        m = rec & (h.item == item)
        if m.any():
            cols["ci_views_recent"][k] = float((h.type[m] == "view").sum())
            cols["ci_carts_recent"][k] = float((h.type[m] == "add_to_cart").sum())
            cols["ci_days_since_seen"][k] = float(h.age_days()[m].min())
    for name, fill in zip(names, fills, strict=True):
        cols[name] = _fill(cols[name], fill)
    for name in ("ci_views_recent", "ci_carts_recent", "ci_same_channel"):
        cols[name] = _fill(cols[name], 0.0)
    cols["ci_days_since_seen"] = _fill(cols["ci_days_since_seen"], NEVER)
    return cols


def _category_history(
    h: History, model: VersionModel, items: npt.NDArray[np.int64]
) -> dict[str, F64]:
    p = np.flatnonzero(h.purchases)
    cats = [model.category_of[h.item[i]] if h.item[i] >= 0 else None for i in p.tolist()]
    codes = {c: k for k, c in enumerate(sorted({c for c in cats if c is not None}))}
    keys = np.array([codes[c] if c is not None else -1 for c in cats], dtype=np.int64)
    stats = purchase_stats(h.ts[p], h.qty[p], keys, h.now)
    total = float(h.qty[p].sum())
    names = ("cc_qty", "cc_n", "cc_days_since", "cc_interval", "cc_due")
    fills = (0.0, 0.0, NEVER, NEVER, -1.0)
    cols = {n: np.zeros(items.size) for n in (*names, "cc_share")}
    for k, item in enumerate(items.tolist()):
        cat = model.category_of[item]
        row = stats.get(codes[cat]) if cat in codes else None
        for name, v, fill in zip(names, row or (np.nan,) * 5, fills, strict=True):
            cols[name][k] = fill if np.isnan(v) else v
        cols["cc_share"][k] = row[0] / total if row else 0.0
    return cols


def item_features(
    h: History,
    model: VersionModel,
    user: npt.NDArray[np.float32] | None,
    cands: Candidates,
    channel: str,
) -> dict[str, F64]:
    """Every item-ranker feature by name, one value per candidate."""
    items, chans = cands.items, model.catalog.channels
    cols: dict[str, F64] = {}
    rows = model.cf_row_of_item[items]
    cf = np.zeros(items.size)
    if user is not None:
        ok = rows >= 0
        cf[ok] = (model.cf_factors[rows[ok]] @ user).astype(np.float64)
    cols["cf_score"] = cf
    cols["als_rank"] = _fill(cands.als_rank, 1_000.0)
    for s in SOURCES:
        cols[f"src_{s}"] = cands.sources[s].astype(np.float64)
    cols |= _item_history(h, items, channel)
    cols |= _category_history(h, model, items)
    for name in ITEM_STATS:
        cols[name] = model.stats[name][items]
    pop = model.catalog.channel_pop.get(channel, {})
    ids = model.catalog.item_ids
    cols["ch_pop"] = np.array([pop.get(ids[i], (0.0, 0.0))[0] for i in items.tolist()])
    cols["ch_share"] = np.array([pop.get(ids[i], (0.0, 0.0))[1] for i in items.tolist()])
    cu = customer_stats(h, chans)
    for name, value in cu.items():
        if name != "cu_mean_price":
            cols[name] = np.full(items.size, value)
    prices = model.catalog.item_stats["it_price"]
    raw_price = np.array([np.nan if prices[i] is None else prices[i] for i in items.tolist()])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = raw_price / cu["cu_mean_price"]
    cols["price_ratio"] = _fill(ratio, 1.0)
    cols["channel_code"] = np.full(items.size, float(model.channel_code.get(channel, -1)))
    return cols
