"""Item-ranker features for one customer's candidates on one channel, online.

Computes, per request, the features features/spec.py defines (names, order, fills,
windows) that training/features/item_features.py computes over training's groups; a
parity test compares the two on the same history.

Built as the matrix the ranker reads (`item_matrix`): the candidates' rows of a
per-(version, channel) base table that holds what depends on the version alone and
every "no history" fill, with only the columns that depend on the customer written
over it. A customer's purchases are summarised in one plain-Python pass (`_PurchaseStats`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from omnioffer.features.candidates import Candidates
from omnioffer.features.history import History
from omnioffer.features.spec import (
    BROWSE,
    CUSTOMER_CATEGORY,
    CUSTOMER_ITEM,
    CUSTOMER_RFM,
    DAY_S,
    ITEM_FILLS,
    ITEM_STATS,
    NEVER,
    PURCHASE_STAT_FILLS,
    RECENT_DAYS,
    SOURCES,
    item_feature_names,
)
from omnioffer.version.model import VersionModel, VersionSlot

F64 = npt.NDArray[np.float64]
FLOAT = npt.NDArray[np.floating[Any]]

# Column positions in the spec's order (runs such as the ci_* stats are contiguous there).
_AT = {name: j for j, name in enumerate(ITEM_FILLS)}
_CF, _ALS, _SRC, _CI_AT = (
    _AT["cf_score"],
    _AT["als_rank"],
    _AT[f"src_{SOURCES[0]}"],
    _AT[CUSTOMER_ITEM[0]],
)
_RECENT = ("ci_views_recent", "ci_carts_recent", "ci_days_since_seen", "ci_same_channel")
_VIEWS, _CARTS, _SEEN, _SAME = (_AT[n] for n in _RECENT)
_CC_AT = _AT[CUSTOMER_CATEGORY[0]]  # the cc_* stats, then cc_share
_IT = _AT[ITEM_STATS[0]]
_CH_POP, _CH_SHARE = _AT["ch_pop"], _AT["ch_share"]
_CU_AT = _AT[CUSTOMER_RFM[0]]
_PRICE, _CHANNEL = _AT["price_ratio"], _AT["channel_code"]
_SHARES = len(ITEM_FILLS)  # then cu_share_<channel> per channel


def _add(acc: dict[int, list[Any]], key: int, t: float, q: float) -> None:
    """Count one purchase: [quantity, first time, last time, {days}] per key."""
    a = acc.get(key)
    if a is None:
        acc[key] = [q, t, t, {t // DAY_S}]
    else:
        a[0] += q
        a[1], a[2] = min(a[1], t), max(a[2], t)
        a[3].add(t // DAY_S)


def _stats(acc: dict[int, list[Any]], now: float) -> dict[int, tuple[float, ...]]:
    """Per key: (qty, distinct days, days since last, interval, due) like training's stats,
    with training's fills for interval and due (NEVER, -1) when there is one purchase day:
    they have no value then (quantities are integers, so nothing else can be NaN)."""
    out: dict[int, tuple[float, ...]] = {}
    for key, (q, first, last, days) in acc.items():
        n = float(len(days))
        since = (now - last) / DAY_S
        if n >= 2:
            interval = (last - first) / DAY_S / (n - 1)
            out[key] = (q, n, since, interval, since / interval)
        else:
            out[key] = (q, n, since, NEVER, -1.0)
    return out


@dataclass(frozen=True)
class _PurchaseStats:
    """The customer's purchases, summarised in one plain-Python pass (a customer has tens
    of them, where numpy's per-call overhead would dominate)."""

    by_item: dict[int, tuple[float, ...]]  # known item -> _stats row
    by_category: dict[int, tuple[float, ...]]  # category code -> _stats row
    last_channel: dict[int, str]  # known item -> channel of its last purchase
    total: float  # quantity bought, every purchase counted

    @classmethod
    def of(cls, h: History, model: VersionModel) -> _PurchaseStats:
        b = h.bought
        codes = model.category_codes
        by_item: dict[int, list[Any]] = {}
        by_category: dict[int, list[Any]] = {}
        last: dict[int, str] = {}
        total = 0.0
        for item, t, q, ch in zip(b.item, b.ts, b.qty, b.channel, strict=True):
            total += q
            if item >= 0:
                _add(by_item, item, t, q)
                last[item] = ch  # history is in time order: the later wins
                code = codes[item]
                if code >= 0:  # purchases without a category match no candidate
                    _add(by_category, code, t, q)
        return cls(_stats(by_item, h.now), _stats(by_category, h.now), last, total)


def _customer(h: History, channels: Sequence[str]) -> tuple[list[float], float]:
    """The cu_* columns (recency, frequency, monetary, distinct items, then the share of
    purchases per channel) and the mean price paid (NaN when unknown)."""
    b = h.bought
    n = float(len(b.ts))
    if n == 0:
        return [NEVER, 0.0, 0.0, 0.0, *(0.0 for _ in channels)], np.nan
    p = h.purchases
    rev = h.revenue[p]
    ratio = rev / h.qty[p]
    ratio = ratio[~np.isnan(ratio)]
    columns = [
        # the youngest purchase: the same float as the minimum of age_days() over them
        (h.now - max(b.ts)) / DAY_S,
        n,
        float(np.where(np.isnan(rev), 0.0, rev).sum()),  # np.nansum, without its overhead
        float(len(set(b.item_id))),
        *(b.channel.count(c) / n for c in channels),
    ]
    # the mean as ndarray.mean() computes it: the same sum, divided by the count
    return columns, float(ratio.sum()) / ratio.size if ratio.size else np.nan


def _base(model: VersionModel, channel: str, dtype: type[np.floating[Any]]) -> FLOAT:
    """(items x features) of what depends on the version and channel alone: item
    statistics, channel popularity and code; "no history" fills everywhere else."""
    n = len(model.catalog.item_ids)
    base = np.zeros((n, _SHARES + len(model.catalog.channels)), dtype=dtype)
    base[:, _ALS] = 1_000.0
    base[:, _CI_AT : _CI_AT + len(CUSTOMER_ITEM)] = PURCHASE_STAT_FILLS
    base[:, _SEEN] = NEVER
    for j, name in enumerate(ITEM_STATS):
        base[:, _IT + j] = model.stats[name]
    pop = model.channel_pop.get(channel)
    if pop:
        base[:, _CH_POP], base[:, _CH_SHARE] = pop
    base[:, _CHANNEL] = float(model.channel_code.get(channel, -1))
    return base


BASE: VersionSlot[tuple[str, type[np.floating[Any]]], FLOAT] = VersionSlot(
    "item-ranker rows before the customer's columns, by (channel, dtype)",
    lambda model, key: _base(model, *key),
)


def _recent_views(h: History) -> dict[int, tuple[float, float, float]]:
    """Per item: (views, carts, days since seen) in the last RECENT_DAYS."""
    out: dict[int, tuple[float, float, float]] = {}
    m = h.mask(*BROWSE) & (h.ts >= h.now - RECENT_DAYS * DAY_S) & (h.item >= 0)
    for item, kind, t in zip(h.item[m].tolist(), h.type[m].tolist(), h.ts[m].tolist(),
                             strict=True):  # fmt: skip
        age = (h.now - t) / DAY_S
        v, c, a = out.get(item, (0.0, 0.0, np.inf))
        out[item] = (v + (kind == "view"), c + (kind == "add_to_cart"), min(a, age))
    return out


def _item_history(
    h: History, bought: _PurchaseStats, m: FLOAT, at: Mapping[int, int], channel: str
) -> None:
    """The ci_* columns of the candidates the customer bought or browsed (every other
    candidate keeps the base's fills)."""
    for key, row in bought.by_item.items():
        k = at.get(key)
        if k is not None:
            m[k, _CI_AT : _CI_AT + len(CUSTOMER_ITEM)] = row
            m[k, _SAME] = float(bought.last_channel[key] == channel)
    for key, seen in _recent_views(h).items():
        k = at.get(key)
        if k is not None:
            m[k, _VIEWS : _SEEN + 1] = seen


def _category_history(bought: _PurchaseStats, model: VersionModel) -> F64:
    """(category codes + 1) x (cc_* stats, cc_share): the last row, for items without a
    category, and the rows of categories never bought hold the fills."""
    table = np.empty((model.n_categories + 1, len(CUSTOMER_CATEGORY) + 1))
    table[:] = (*PURCHASE_STAT_FILLS, 0.0)
    for code, row in bought.by_category.items():
        table[code] = (*row, row[0] / bought.total)  # total >= 1: quantities are >= 1
    return table


def item_matrix(
    h: History,
    model: VersionModel,
    user: npt.NDArray[np.float32] | None,
    cands: Candidates,
    channel: str,
    *,
    dtype: type[np.floating[Any]] = np.float32,
) -> FLOAT:
    """Every item-ranker feature of the candidates: one row per candidate, the columns
    in `item_feature_names` order; float32 by default, what the ranker reads, each value
    computed in float64 and cast as the ranker's input casts it.

    The candidates' rows of the version's per-channel base table, with the columns
    that depend on the customer written over it."""
    items = cands.items
    base = BASE.get(model, (channel, dtype))
    m = base.take(items, axis=0)
    if user is not None:
        rows = model.cf_row_of_item[items]
        ok = rows >= 0
        m[ok, _CF] = (model.cf_factors[rows[ok]] @ user).astype(np.float64)
    rank = cands.als_rank
    m[:, _ALS] = np.where(np.isnan(rank), 1_000.0, rank)
    m[:, _SRC : _SRC + len(SOURCES)] = cands.flags
    bought = _PurchaseStats.of(h, model)
    _item_history(h, bought, m, {item: k for k, item in enumerate(items.tolist())}, channel)
    m[:, _CC_AT:_IT] = _category_history(bought, model).take(model.category_code[items], axis=0)
    columns, mean_price = _customer(h, model.catalog.channels)
    m[:, _CU_AT:_PRICE] = columns[: len(CUSTOMER_RFM)]
    m[:, _SHARES:] = columns[len(CUSTOMER_RFM) :]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = model.price_raw[items] / mean_price
    m[:, _PRICE] = np.where(np.isnan(ratio), 1.0, ratio)
    return m


def item_features(
    h: History,
    model: VersionModel,
    user: npt.NDArray[np.float32] | None,
    cands: Candidates,
    channel: str,
) -> dict[str, F64]:
    """Every item-ranker feature by name, one float64 value per candidate (the columns
    of `item_matrix` before the ranker's cast)."""
    m = np.asarray(item_matrix(h, model, user, cands, channel, dtype=np.float64), np.float64)
    return {name: m[:, j] for j, name in enumerate(item_feature_names(model.catalog.channels))}
