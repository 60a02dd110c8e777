"""Item-ranker features for one customer's candidates on one channel, online.

Mirrors training/features/item_features.py name for name (a parity test compares
the two on the same history); fills for "no history" are the same constants.
"""

from __future__ import annotations

from collections import Counter
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
    at = np.flatnonzero(p).tolist()
    bought_on = Counter(h.channel[p].tolist())
    return {
        # the youngest purchase: the same float as the minimum of age_days() over them
        "cu_recency": (h.now - float(h.ts[p].max())) / DAY_S,
        "cu_frequency": n,
        "cu_monetary": float(np.nansum(rev)),
        "cu_distinct_items": float(len({h.item_id[i] for i in at})),
        "cu_mean_price": float(ratio.mean()) if ratio.size else np.nan,
        **{f"cu_share_{c}": bought_on[c] / n for c in channels},
    }


_CI = ("ci_qty", "ci_n", "ci_days_since", "ci_interval", "ci_due")
_CC = ("cc_qty", "cc_n", "cc_days_since", "cc_interval", "cc_due")
_STAT_FILLS = np.array([0.0, 0.0, NEVER, NEVER, -1.0])


def _rows(table: Mapping[int, tuple[float, ...]], at: Mapping[int, int], n: int, width: int) -> F64:
    """Rows of `table` for the n candidates, candidate k being the key that `at` maps to k
    (NaN rows for candidates the table lacks). A customer's table has tens of entries."""
    out = np.full((n, width), np.nan)
    for key, row in table.items():
        k = at.get(key)
        if k is not None:
            out[k] = row
    return out


def _stat_columns(names: Sequence[str], rows: F64) -> dict[str, F64]:
    """Columns from per-candidate stat rows, "no history" (NaN) filled like training."""
    filled = np.where(np.isnan(rows), _STAT_FILLS, rows)
    return {name: filled[:, j] for j, name in enumerate(names)}


def _recent_views(h: History) -> dict[int, tuple[float, float, float]]:
    """Per item: (views, carts, days since seen) in the last RECENT_DAYS."""
    out: dict[int, tuple[float, float, float]] = {}
    m = h.mask("view", "add_to_cart") & (h.ts >= h.now - RECENT_DAYS * DAY_S) & (h.item >= 0)
    for item, kind, t in zip(h.item[m].tolist(), h.type[m].tolist(), h.ts[m].tolist(),
                             strict=True):  # fmt: skip
        age = (h.now - t) / DAY_S
        v, c, a = out.get(item, (0.0, 0.0, np.inf))
        out[item] = (v + (kind == "view"), c + (kind == "add_to_cart"), min(a, age))
    return out


def _item_history(h: History, at: Mapping[int, int], n: int, channel: str) -> dict[str, F64]:
    p = h.purchases & (h.item >= 0)
    item = h.item[p]
    cols = _stat_columns(_CI, _rows(purchase_stats(h.ts[p], h.qty[p], item, h.now), at, n, 5))
    seen = _rows(_recent_views(h), at, n, 3)
    cols["ci_views_recent"] = _fill(seen[:, 0], 0.0)
    cols["ci_carts_recent"] = _fill(seen[:, 1], 0.0)
    cols["ci_days_since_seen"] = _fill(seen[:, 2], NEVER)
    # the channel of the item's last purchase (history is in time order: later wins)
    last = dict(zip(item.tolist(), h.channel[p].tolist(), strict=True))
    same = np.zeros(n)
    for key, ch in last.items():
        k = at.get(key)
        if k is not None:
            same[k] = float(ch == channel)
    cols["ci_same_channel"] = same
    return cols


def _category_history(
    h: History, model: VersionModel, items: npt.NDArray[np.int64]
) -> dict[str, F64]:
    p = np.flatnonzero(h.purchases)
    known = h.item[p]
    keys = np.where(known >= 0, model.category_code[np.maximum(known, 0)], -1)
    stats = purchase_stats(h.ts[p], h.qty[p], keys, h.now)
    total = float(h.qty[p].sum())
    # one row per category code, the last (code -1: no category) left NaN
    table = np.full((model.n_categories + 1, 5), np.nan)
    for code, row in stats.items():
        if code >= 0:  # purchases without a category match no candidate
            table[code] = row
    rows = table[model.category_code[items]]
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
    at = {item: k for k, item in enumerate(items.tolist())}
    cols |= _item_history(h, at, items.size, channel)
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
