"""Offers and the customer's response to them, from a known propensity.

p = sigmoid(BIAS + A_AFF * affinity + channel effect[archetype, channel]
            + A_DISC * discount * price sensitivity - A_FAT * prior impressions)
affinity = log(K * P(offer category | customer)) + taste(customer, offer items).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from training.simulate.events import CH, ET, Events, concat
from training.simulate.world import (
    CHANNEL_EFFECT,
    DIM,
    OFFER_CHANNELS,
    Catalog,
    Customers,
)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
BIAS, A_AFF, A_DISC, A_FAT = -2.4, 0.9, 4.0, 0.5
DISCOUNTS = np.array([0.05, 0.1, 0.15, 0.2, 0.3, 0.4])
OFFER_CH = np.array([CH[c] for c in OFFER_CHANNELS], dtype=np.int8)
IMPRESSIONS_PER_MONTH = np.array([2.0, 3.0, 6.0, 4.0, 3.0])  # per archetype


@dataclass(frozen=True)
class Offers:
    cat: I64  # target category of each offer
    items: list[I64]  # covered items (category offers: all items of the category)
    by_category: npt.NDArray[np.bool_]
    channels: npt.NDArray[np.bool_]  # O x len(OFFER_CHANNELS); all False = every channel
    start: F64
    end: F64
    discount: F64
    value: F64
    segment: I64  # -1 = any
    max_per_customer: I64  # 0 = no limit
    vec: npt.NDArray[np.float32]  # mean item vector


def make_offers(rng: np.random.Generator, cat: Catalog, n: int, days: int) -> Offers:
    k = cat.cat_vec.shape[0]
    sizes = np.bincount(cat.item_cat, minlength=k).astype(np.float64)
    cats = rng.choice(k, n, p=sizes / sizes.sum()).astype(np.int64)
    by_cat = rng.random(n) < 0.55
    starts_idx = np.searchsorted(cat.item_cat, np.arange(k))
    items: list[I64] = []
    for o in range(n):  # per offer (hundreds), not per event
        members = np.arange(starts_idx[cats[o]], starts_idx[cats[o]] + int(sizes[cats[o]]))
        if not by_cat[o] and members.size > 1:
            p = cat.item_pop[members] / cat.item_pop[members].sum()
            size = min(members.size, int(rng.integers(3, 30)))
            members = np.sort(rng.choice(members, size, replace=False, p=p))
        items.append(members.astype(np.int64))
    restricted = rng.random(n) < 0.6
    channels = (rng.random((n, len(OFFER_CHANNELS))) < 0.35) & restricted[:, None]
    start = rng.uniform(0, days - 20, n)
    end = np.minimum(start + rng.uniform(14, 60, n), days)
    discount = rng.choice(DISCOUNTS, n)
    mean_price = np.array([cat.price[m].mean() for m in items])
    vec = np.stack([cat.item_vec[m].mean(axis=0) for m in items]).astype(np.float32)
    return Offers(
        cat=cats,
        items=items,
        by_category=by_cat,
        channels=channels,
        start=start,
        end=end,
        discount=discount,
        value=np.round(np.maximum(mean_price * (0.35 - discount), 0.5), 2).astype(np.float64),
        segment=np.where(rng.random(n) < 0.2, rng.integers(0, 3, n), -1),
        max_per_customer=np.where(rng.random(n) < 0.25, rng.integers(1, 4, n), 0),
        vec=vec,
    )


def affinity(cust: Customers, offers: Offers, c: I64, o: I64) -> F64:
    """log(K * P(category | customer)) + taste towards the offer's items."""
    k = cust.cat_logit.shape[1]
    logits = cust.cat_logit[c]
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z[np.arange(c.size), offers.cat[o]] - np.log(np.exp(z).sum(axis=1))
    taste = np.einsum("jd,jd->j", cust.user_vec[c], offers.vec[o]) / np.sqrt(DIM)
    return (np.log(k) + log_p + taste).astype(np.float64)


def propensity(
    cust: Customers, offers: Offers, c: I64, o: I64, *, channel: npt.NDArray[np.int8], fatigue: F64
) -> F64:
    ch_idx = np.searchsorted(OFFER_CH, channel)
    logit = (
        BIAS
        + A_AFF * affinity(cust, offers, c, o)
        + CHANNEL_EFFECT[cust.archetype[c], ch_idx]
        + A_DISC * offers.discount[o] * cust.price_sens[c]
        - A_FAT * fatigue
    )
    return 1.0 / (1.0 + np.exp(-logit))


def _impression_channels(rng: np.random.Generator, cust: Customers, c: I64) -> npt.NDArray[np.int8]:
    w = np.ones((c.size, len(OFFER_CHANNELS)))
    w[:, 3] = np.where(cust.consent_email[c], 3.0, 0.0)
    w[:, 4] = np.where(cust.consent_sms[c], 1.0, 0.0)
    mix = np.array(
        [[0.1, 0.0, 2.0], [1.5, 1.0, 0.1], [0.8, 0.3, 0.6], [1.0, 1.0, 1.0], [0.4, 2.0, 0.1]]
    )
    w[:, :3] = mix[cust.archetype[c]]
    u = rng.random(c.size)[:, None] * w.sum(axis=1, keepdims=True)
    return OFFER_CH[np.minimum((np.cumsum(w, axis=1) < u).sum(axis=1), len(OFFER_CHANNELS) - 1)]


def impressions(
    rng: np.random.Generator, cust: Customers, offers: Offers, days: int
) -> tuple[I64, I64, F64, npt.NDArray[np.int8]]:
    """(customer, offer, day, channel) of eligible impressions, by rejection sampling."""
    end = np.minimum(cust.churn_day.astype(np.float64), days)
    span = np.maximum(end - cust.join_day, 0.0)
    n = rng.poisson(IMPRESSIONS_PER_MONTH[cust.archetype] * span / 30.0)
    c = np.repeat(np.arange(n.size, dtype=np.int64), n)
    day = cust.join_day[c] + rng.random(c.size) * span[c]
    channel = _impression_channels(rng, cust, c)
    ch_idx = np.searchsorted(OFFER_CH, channel)
    o = np.full(c.size, -1, dtype=np.int64)
    for _ in range(8):
        todo = np.flatnonzero(o < 0)
        pick = rng.integers(0, offers.cat.size, todo.size)
        ok = (offers.start[pick] <= day[todo]) & (day[todo] < offers.end[pick])
        ok &= ~offers.channels[pick].any(axis=1) | offers.channels[pick, ch_idx[todo]]
        ok &= (offers.segment[pick] < 0) | (offers.segment[pick] == cust.segment[c[todo]])
        o[todo[ok]] = pick[ok]
    keep = o >= 0
    return c[keep], o[keep], day[keep], channel[keep]


def _prior_count(c: I64, o: I64, day: F64) -> F64:
    """How many times this customer saw this offer before (cumulative count)."""
    order = np.lexsort((day, o, c))
    key = c[order] * (o.max() + 1) + o[order]
    start = np.r_[True, key[1:] != key[:-1]]
    idx = np.arange(key.size)
    first = np.maximum.accumulate(np.where(start, idx, 0))
    out = np.empty(c.size)
    out[order] = idx - first
    return out


def offer_events(
    rng: np.random.Generator, cat: Catalog, cust: Customers, offers: Offers, days: int
) -> tuple[Events, Events]:
    """Impressions, clicks, redeems, dismissals; and the purchases that redeems lead to."""
    c, o, day, channel = impressions(rng, cust, offers, days)
    fatigue = _prior_count(c, o, day)
    p = propensity(cust, offers, c, o, channel=channel, fatigue=fatigue)
    click = rng.random(c.size) < p
    redeem = click & (rng.random(c.size) < 0.5)
    dismiss = ~click & (rng.random(c.size) < 0.15)
    delay = rng.uniform(5, 180, c.size) / 1440.0
    blocks = [Events.make(c, day, ET["offer_impression"], channel, offer=o)]
    blocks.append(
        Events.make(
            c[click], day[click] + delay[click], ET["offer_click"], channel[click], offer=o[click]
        )
    )
    blocks.append(
        Events.make(
            c[dismiss],
            day[dismiss] + delay[dismiss],
            ET["offer_dismiss"],
            channel[dismiss],
            offer=o[dismiss],
        )
    )
    r_day = day[redeem] + rng.uniform(0.05, 3.0, int(redeem.sum()))
    r_ch = np.where(
        channel[redeem] == CH["store"],
        CH["store"],
        np.where(rng.random(r_day.size) < 0.5, CH["web"], CH["store"]),
    ).astype(np.int8)
    rc, ro = c[redeem], o[redeem]
    blocks.append(Events.make(rc, r_day, ET["offer_redeem"], r_ch, offer=ro))
    flat = np.concatenate(offers.items)
    sizes = np.array([m.size for m in offers.items], dtype=np.int64)
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    items = flat[offsets[ro] + (rng.random(ro.size) * sizes[ro]).astype(np.int64)]
    buys = Events.make(rc, r_day + 1 / 1440.0, ET["purchase"], r_ch, item=items)
    ok = (r_day < days) & (buys.day < days)
    return concat(blocks), buys.select(ok)
