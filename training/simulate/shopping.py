"""Purchases (staples on a cycle, discovery buys), web/app funnels, returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from training.simulate.events import CH, ET, Events, concat
from training.simulate.world import PURCHASE_MIX, Catalog, Customers, pick_items, softmax_rows

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
PURCHASE_CHANNELS = np.array([CH["web"], CH["app"], CH["store"]], dtype=np.int8)
STAPLE_KEEP = 0.85
MAX_CYCLES = 40


@dataclass(frozen=True)
class Staples:
    cust: I64
    item: I64
    cycle: npt.NDArray[np.float32]
    due: F64 | None = None  # schedule points in the truth window (set by staple_purchases)


def _active_end(cust: Customers, days: int) -> F64:
    return np.minimum(cust.churn_day.astype(np.float64), float(days))


def make_staples(
    rng: np.random.Generator, cat: Catalog, cust: Customers, per_activity: float
) -> Staples:
    """Each customer's regularly re-bought consumables, with a personal cycle."""
    n = rng.poisson(cust.activity * per_activity)
    owner = np.repeat(np.arange(n.size, dtype=np.int64), n)
    logits = np.where(cat.consumable[None, :], cust.cat_logit, -np.inf).astype(np.float32)
    probs = softmax_rows(logits)
    cats = np.empty(owner.size, dtype=np.int64)
    for lo in range(0, owner.size, 500_000):  # bound the (rows x categories) cdf's memory
        cats[lo : lo + 500_000] = _sample(rng, probs, owner[lo : lo + 500_000])
    items = pick_items(rng, cat, cust.user_vec[owner], cats, beta=1.5)
    cycle = (cat.base_cycle[cats] * rng.lognormal(0, 0.3, owner.size)).astype(np.float32)
    pairs = np.unique(np.c_[owner, items], axis=0, return_index=True)[1]
    keep = np.sort(pairs)
    return Staples(owner[keep], items[keep], cycle[keep])


def _sample(rng: np.random.Generator, probs: npt.NDArray[np.float32], rows: I64) -> I64:
    cdf = np.cumsum(probs[rows], axis=1)
    u = rng.random(rows.size)[:, None] * cdf[:, -1:]
    return np.minimum((cdf < u).sum(axis=1), probs.shape[1] - 1).astype(np.int64)


def staple_purchases(
    rng: np.random.Generator, st: Staples, cust: Customers, days: int, window_start: float
) -> tuple[I64, I64, F64, F64]:
    """(customer, item, day) of every staple purchase: a renewal process on each cycle.

    Also returns, per staple, how many points of its schedule fall in the truth
    window [window_start, days) while the customer is active: the oracle's
    expected repeat purchases are STAPLE_KEEP times that.
    """
    out_c, out_i, out_d, due = [], [], [], []
    end = _active_end(cust, days)
    step = 200_000
    for lo in range(0, st.cust.size, step):
        c, it, cyc = st.cust[lo : lo + step], st.item[lo : lo + step], st.cycle[lo : lo + step]
        k = int(min(MAX_CYCLES, np.ceil(days / max(float(cyc.min()), 1.0)) + 1))
        gaps = cyc[:, None] * rng.lognormal(0, 0.2, (c.size, k))
        gaps[:, 0] = rng.uniform(0, 1, c.size) * cyc
        t = cust.join_day[c][:, None] + np.cumsum(gaps, axis=1)
        alive = t < end[c][:, None]
        due.append((alive & (t >= window_start)).sum(axis=1).astype(np.float64))
        rows, cols = np.nonzero(alive & (rng.random(t.shape) < STAPLE_KEEP))
        out_c.append(c[rows])
        out_i.append(it[rows])
        out_d.append(t[rows, cols])
    if not out_c:  # a block of customers without a single staple (tiny data sets)
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), np.zeros(0), np.zeros(0)
    cat = np.concatenate
    return cat(out_c), cat(out_i), cat(out_d), cat(due)


def discovery_purchases(
    rng: np.random.Generator, cat: Catalog, cust: Customers, days: int, per_activity: float
) -> tuple[I64, I64, F64]:
    """One-off and exploratory purchases across all categories, by taste and popularity."""
    end = _active_end(cust, days)
    span = np.maximum(end - cust.join_day, 0.0)
    n = rng.poisson(cust.activity * per_activity * span / days)
    owner = np.repeat(np.arange(n.size, dtype=np.int64), n)
    probs = softmax_rows(cust.cat_logit)
    cats = np.empty(owner.size, dtype=np.int64)
    for lo in range(0, owner.size, 500_000):
        cats[lo : lo + 500_000] = _sample(rng, probs, owner[lo : lo + 500_000])
    items = pick_items(rng, cat, cust.user_vec[owner], cats)
    day = cust.join_day[owner] + rng.random(owner.size) * span[owner]
    return owner, items, day


def purchase_channels(
    rng: np.random.Generator, cust: Customers, owner: I64
) -> npt.NDArray[np.int8]:
    mix = PURCHASE_MIX[cust.archetype[owner]]
    u = rng.random(owner.size)[:, None]
    idx = np.minimum((np.cumsum(mix, axis=1) < u).sum(axis=1), 2)
    return PURCHASE_CHANNELS[idx]


def funnels(
    rng: np.random.Generator, cat: Catalog, cust: Customers, buys: Events, first_session: int
) -> Events:
    """Views and add-to-cart before each web/app purchase, in the same session."""
    online = np.isin(buys.channel, PURCHASE_CHANNELS[:2])
    b = buys.select(online)
    session = first_session + np.arange(len(b), dtype=np.int64)
    n_extra = rng.poisson(1.5, len(b))
    owner = np.repeat(np.arange(len(b)), n_extra)
    extra_items = pick_items(rng, cat, cust.user_vec[b.cust[owner]], cat.item_cat[b.item[owner]])
    minutes = rng.uniform(1, 40, owner.size) / 1440.0
    views = Events.make(
        b.cust[owner],
        b.day[owner] - minutes,
        ET["view"],
        b.channel[owner],
        item=extra_items,
        session=session[owner],
    )
    own_view = Events.make(
        b.cust, b.day - 3 / 1440, ET["view"], b.channel, item=b.item, session=session
    )
    cart = Events.make(
        b.cust, b.day - 1 / 1440, ET["add_to_cart"], b.channel, item=b.item, session=session
    )
    buys.session[np.flatnonzero(online)] = session
    return concat([views, own_view, cart])


def browsing(
    rng: np.random.Generator, cat: Catalog, cust: Customers, days: int, first_session: int
) -> Events:
    """Sessions that end without a purchase: views, and sometimes an abandoned cart."""
    online_share = PURCHASE_MIX[cust.archetype][:, :2].sum(axis=1)
    end = _active_end(cust, days)
    span = np.maximum(end - cust.join_day, 0.0)
    n = rng.poisson(cust.activity * 2.5 * online_share * span / days)
    owner = np.repeat(np.arange(n.size, dtype=np.int64), n)
    session = first_session + np.arange(owner.size, dtype=np.int64)
    day = cust.join_day[owner] + rng.random(owner.size) * span[owner]
    channel = np.where(rng.random(owner.size) < 0.6, CH["web"], CH["app"]).astype(np.int8)
    cats = _sample(rng, softmax_rows(cust.cat_logit), owner) if owner.size else owner
    k = 1 + rng.poisson(1.2, owner.size)
    rep = np.repeat(np.arange(owner.size), k)
    items = pick_items(rng, cat, cust.user_vec[owner[rep]], cats[rep])
    step = _steps(k)
    views = Events.make(
        owner[rep],
        day[rep] + step / 1440.0,
        ET["view"],
        channel[rep],
        item=items,
        session=session[rep],
    )
    carted = rng.random(owner.size) < 0.3
    last = np.cumsum(k) - 1
    carts = views.select(np.isin(np.arange(len(views)), last[carted]))
    carts.etype[:] = ET["add_to_cart"]
    carts.day += 1 / 1440.0
    return concat([views, carts])


def _steps(k: I64) -> F64:
    """0, 1, ..., k_j - 1 for each j, concatenated."""
    starts = np.repeat(np.cumsum(k) - k, k)
    return (np.arange(int(k.sum())) - starts).astype(np.float64)


def returns(rng: np.random.Generator, cat: Catalog, buys: Events, days: int) -> Events:
    """About 6% of one-off (non-consumable) purchases come back 2-20 days later."""
    oneoff = ~cat.consumable[cat.item_cat[buys.item]]
    back = oneoff & (rng.random(len(buys)) < 0.06)
    r = buys.select(back)
    r.day = r.day + rng.uniform(2, 20, len(r))
    r = r.select(r.day < days)
    r.etype[:] = ET["return"]
    r.session[:] = -1
    return r
