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
    """Per key: (qty, distinct days, days since last, interval, due) like training's stats.

    One pass in plain Python: a customer has tens of purchases, where numpy's per-call
    overhead would dominate."""
    acc: dict[int, list[float]] = {}  # key -> [qty, first, last]
    days: dict[int, set[float]] = {}
    for key, t, q in zip(keys.tolist(), ts.tolist(), qty.tolist(), strict=True):
        a = acc.get(key)
        if a is None:
            acc[key] = [q, t, t]
            days[key] = {t // DAY_S}
        else:
            a[0] += q
            a[1], a[2] = min(a[1], t), max(a[2], t)
            days[key].add(t // DAY_S)
    out: dict[int, tuple[float, ...]] = {}
    for key, (q, first, last) in acc.items():
        n = float(len(days[key]))
        since = (now - last) / DAY_S
        interval = (last - first) / DAY_S / (n - 1) if n >= 2 else np.nan
        out[key] = (q, n, since, interval, since / interval if n >= 2 else np.nan)
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


_CI = ("ci_qty", "ci_n", "ci_days_since", "ci_interval", "ci_due")
_CC = ("cc_qty", "cc_n", "cc_days_since", "cc_interval", "cc_due")
_STAT_FILLS = (0.0, 0.0, NEVER, NEVER, -1.0)
_MISSING = (np.nan,) * 5


def _stat_columns(
    names: Sequence[str], stats: Sequence[tuple[float, ...] | None]
) -> dict[str, F64]:
    """Columns from per-candidate stat tuples, "no history" filled like training."""
    rows = np.array([s if s is not None else _MISSING for s in stats], dtype=np.float64)
    rows = rows.reshape(len(stats), 5)
    return {
        name: _fill(rows[:, j], fill)
        for j, (name, fill) in enumerate(zip(names, _STAT_FILLS, strict=True))
    }


def _recent_views(h: History) -> dict[int, tuple[float, float, float]]:
    """Per item: (views, carts, days since seen) in the last RECENT_DAYS."""
    out: dict[int, tuple[float, float, float]] = {}
    since = h.now - RECENT_DAYS * DAY_S
    for k in np.flatnonzero(h.mask("view", "add_to_cart") & (h.ts >= since) & (h.item >= 0)):
        item, kind, age = int(h.item[k]), str(h.type[k]), (h.now - float(h.ts[k])) / DAY_S
        v, c, a = out.get(item, (0.0, 0.0, np.inf))
        out[item] = (v + (kind == "view"), c + (kind == "add_to_cart"), min(a, age))
    return out


def _item_history(h: History, items: npt.NDArray[np.int64], channel: str) -> dict[str, F64]:
    p = h.purchases & (h.item >= 0)
    stats = purchase_stats(h.ts[p], h.qty[p], h.item[p], h.now)
    last_channel = {int(i): str(c) for i, c in zip(h.item[p], h.channel[p], strict=True)}
    ids = items.tolist()
    cols = _stat_columns(_CI, [stats.get(i) for i in ids])
    recent = _recent_views(h)
    none = (0.0, 0.0, NEVER)
    seen = np.array([recent.get(i, none) for i in ids], dtype=np.float64).reshape(len(ids), 3)
    cols["ci_views_recent"], cols["ci_carts_recent"] = seen[:, 0], seen[:, 1]
    cols["ci_days_since_seen"] = seen[:, 2]
    cols["ci_same_channel"] = np.array(
        [float(last_channel.get(i) == channel) for i in ids], dtype=np.float64
    )
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
    per_item = [
        stats.get(codes[cat]) if (cat := model.category_of[i]) in codes else None
        for i in items.tolist()
    ]
    cols = _stat_columns(_CC, per_item)
    cols["cc_share"] = np.array([s[0] / total if s else 0.0 for s in per_item], dtype=np.float64)
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
