"""Item-ranker features for one customer's candidates on one channel, online.

Mirrors training/features/item_features.py name for name (a parity test compares
the two on the same history); fills for "no history" are the same constants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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


def _lookup(table: Mapping[int, tuple[float, ...]], keys: npt.NDArray[np.int64], width: int) -> F64:
    """Rows of `table` for each key (NaN rows for keys it lacks), without a Python loop
    over the keys: a customer's table has tens of entries, the keys are ~150 candidates."""
    out = np.full((keys.size, width), np.nan)
    if table and keys.size:
        known = np.fromiter(table, dtype=np.int64, count=len(table))
        order = np.argsort(known)
        known = known[order]
        rows = np.array(list(table.values()), dtype=np.float64).reshape(len(table), width)[order]
        at = np.minimum(np.searchsorted(known, keys), known.size - 1)
        hit = known[at] == keys
        out[hit] = rows[at[hit]]
    return out


def _stat_columns(names: Sequence[str], rows: F64) -> dict[str, F64]:
    """Columns from per-candidate stat rows, "no history" (NaN) filled like training."""
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
    cols = _stat_columns(_CI, _lookup(stats, items, 5))
    seen = _lookup(_recent_views(h), items, 3)
    cols["ci_views_recent"] = _fill(seen[:, 0], 0.0)
    cols["ci_carts_recent"] = _fill(seen[:, 1], 0.0)
    cols["ci_days_since_seen"] = _fill(seen[:, 2], NEVER)
    # the channel of the item's last purchase (history is in time order: later wins)
    last = {int(i): float(c == channel) for i, c in zip(h.item[p], h.channel[p], strict=True)}
    cols["ci_same_channel"] = _fill(
        _lookup({i: (v,) for i, v in last.items()}, items, 1)[:, 0], 0.0
    )
    return cols


def _category_history(
    h: History, model: VersionModel, items: npt.NDArray[np.int64]
) -> dict[str, F64]:
    p = np.flatnonzero(h.purchases)
    known = h.item[p]
    keys = np.where(known >= 0, model.category_code[np.maximum(known, 0)], -1)
    stats = purchase_stats(h.ts[p], h.qty[p], keys, h.now)
    stats.pop(-1, None)  # purchases without a category match no candidate
    total = float(h.qty[p].sum())
    rows = _lookup(stats, model.category_code[items], 5)
    cols = _stat_columns(_CC, rows)
    cols["cc_share"] = _fill(rows[:, 0] / total, 0.0) if total else np.zeros(items.size)
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
    pop = model.channel_pop.get(channel)
    cols["ch_pop"] = pop[0][items] if pop else np.zeros(items.size)
    cols["ch_share"] = pop[1][items] if pop else np.zeros(items.size)
    cu = customer_stats(h, chans)
    for name, value in cu.items():
        if name != "cu_mean_price":
            cols[name] = np.full(items.size, value)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = model.price_raw[items] / cu["cu_mean_price"]
    cols["price_ratio"] = _fill(ratio, 1.0)
    cols["channel_code"] = np.full(items.size, float(model.channel_code.get(channel, -1)))
    return cols
