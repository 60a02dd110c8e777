"""The latent world: categories, items, customers and their tastes.

Everything is drawn from one seeded generator tree, vectorised over entities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
DIM = 8
ARCHETYPES = ("store_only", "web_app", "email_responder", "omnichannel", "app_first")
ARCHETYPE_P = np.array([0.30, 0.25, 0.15, 0.20, 0.10])
# purchase channel mix (web, app, store) per archetype
PURCHASE_MIX = np.array(
    [
        [0.02, 0.00, 0.98],
        [0.65, 0.30, 0.05],
        [0.50, 0.10, 0.40],
        [0.35, 0.25, 0.40],
        [0.15, 0.80, 0.05],
    ]
)
# offer responsiveness per (archetype, channel) for web, app, store, email, sms
CHANNEL_EFFECT = np.array(
    [
        [-1.0, -1.5, 0.8, -0.8, -0.5],
        [0.6, 0.4, -1.0, -0.3, -0.8],
        [0.0, -0.5, 0.0, 1.0, 0.2],
        [0.3, 0.3, 0.3, 0.3, 0.0],
        [-0.3, 0.9, -0.8, -0.6, 0.3],
    ]
)
OFFER_CHANNELS = ("web", "app", "store", "email", "sms")


@dataclass(frozen=True)
class Profile:
    """How grocery-like the retailer is: consumables re-bought on a cycle vs one-off buys."""

    name: str
    consumable_share: float  # share of categories that are consumables
    staples_per_activity: float  # regularly re-bought items per unit of activity
    discovery_per_activity: float  # one-off purchases per unit of activity over the window


PROFILES = {
    "retail": Profile(
        "retail", consumable_share=0.30, staples_per_activity=0.5, discovery_per_activity=5.0
    ),
    "grocery": Profile(
        "grocery", consumable_share=0.60, staples_per_activity=1.2, discovery_per_activity=2.0
    ),
}


@dataclass(frozen=True)
class Catalog:
    cat_vec: F32  # K x DIM
    consumable: npt.NDArray[np.bool_]  # K
    base_cycle: F32  # K, days
    item_cat: I64  # I
    item_vec: F32  # I x DIM
    item_pop: F32  # I, popularity weight (long-tailed)
    price: F32  # I
    brand: I64  # I


@dataclass(frozen=True)
class Customers:
    archetype: I64
    activity: F32  # relative purchase rate (lognormal, long tail)
    join_day: F32
    churn_day: F32  # >= days when never churned
    user_vec: F32
    cat_logit: F32  # C x K category preference logits
    price_sens: F32
    consent_email: npt.NDArray[np.bool_]
    consent_sms: npt.NDArray[np.bool_]
    segment: I64
    region: I64


def make_catalog(
    rng: np.random.Generator, n_items: int, n_cats: int, consumable_share: float
) -> Catalog:
    cat_vec = rng.normal(0, 1, (n_cats, DIM)).astype(np.float32)
    consumable = np.arange(n_cats) < round(n_cats * consumable_share)
    base_cycle = np.where(consumable, rng.uniform(10, 40, n_cats), 0).astype(np.float32)
    cat_size = rng.dirichlet(np.full(n_cats, 2.0))
    item_cat = np.sort(rng.choice(n_cats, n_items, p=cat_size)).astype(np.int64)
    item_vec = (cat_vec[item_cat] + 0.6 * rng.normal(0, 1, (n_items, DIM))).astype(np.float32)
    item_pop = rng.lognormal(0, 1.3, n_items).astype(np.float32)
    cat_price = np.where(
        consumable, rng.lognormal(1.2, 0.5, n_cats), rng.lognormal(3.3, 0.7, n_cats)
    )
    price = np.round(cat_price[item_cat] * rng.lognormal(0, 0.35, n_items), 2).astype(np.float32)
    brand = rng.integers(0, 6, n_items).astype(np.int64)
    return Catalog(cat_vec, consumable, base_cycle, item_cat, item_vec, item_pop, price, brand)


def make_customers(rng: np.random.Generator, n: int, days: int, catalog: Catalog) -> Customers:
    archetype = rng.choice(len(ARCHETYPES), n, p=ARCHETYPE_P).astype(np.int64)
    activity = rng.lognormal(-0.2, 0.9, n).astype(np.float32)
    new = rng.random(n) < 0.2
    join_day = np.where(new, rng.uniform(0, days * 0.9, n), 0.0).astype(np.float32)
    churns = rng.random(n) < 0.15
    churn_day = np.where(churns, rng.uniform(join_day, days), days + 1.0).astype(np.float32)
    user_vec = rng.normal(0, 1, (n, DIM)).astype(np.float32)
    cat_logit = (1.2 * user_vec @ catalog.cat_vec.T / np.sqrt(DIM)).astype(np.float32)
    cat_logit += rng.gumbel(0, 0.5, cat_logit.shape).astype(np.float32)
    return Customers(
        archetype=archetype,
        activity=activity,
        join_day=join_day,
        churn_day=churn_day,
        user_vec=user_vec,
        cat_logit=cat_logit,
        price_sens=rng.beta(2, 3, n).astype(np.float32),
        consent_email=rng.random(n) < np.where(archetype == 2, 0.95, 0.6),
        consent_sms=rng.random(n) < 0.35,
        segment=rng.choice(3, n, p=[0.6, 0.3, 0.1]).astype(np.int64),
        region=rng.integers(0, 5, n).astype(np.int64),
    )


def softmax_rows(logits: F32) -> F32:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def sample_rows(rng: np.random.Generator, probs: F32, rows: I64) -> I64:
    """One draw per entry of `rows` from the categorical distribution probs[row]."""
    cdf = np.cumsum(probs[rows], axis=1)
    u = rng.random(rows.size)[:, None] * cdf[:, -1:]
    return np.minimum((cdf < u).sum(axis=1), probs.shape[1] - 1).astype(np.int64)


def pick_items(
    rng: np.random.Generator,
    catalog: Catalog,
    users: F32,
    cats: I64,
    *,
    beta: float = 1.0,
    pool: int = 24,
    chunk: int = 250_000,
) -> I64:
    """An item of category `cats[j]` for user `users[j]`: popularity x taste.

    Draw `pool` items of the category by popularity, then choose among them by
    softmax(beta * taste): O(pool) per draw instead of O(items), in chunks.
    """
    starts = np.searchsorted(catalog.item_cat, np.arange(catalog.cat_vec.shape[0]))
    ends = np.r_[starts[1:], catalog.item_cat.size]
    cum = np.r_[0.0, np.cumsum(catalog.item_pop, dtype=np.float64)]
    out = np.empty(cats.size, dtype=np.int64)
    for lo in range(0, cats.size, chunk):
        c, u_vec = cats[lo : lo + chunk], users[lo : lo + chunk]
        base, top = cum[starts[c]], cum[ends[c]]
        u = base[:, None] + rng.random((c.size, pool)) * (top - base)[:, None]
        cand = np.clip(
            np.searchsorted(cum, u, side="right") - 1, starts[c][:, None], ends[c][:, None] - 1
        )
        taste = np.einsum("jd,jpd->jp", u_vec, catalog.item_vec[cand]) / np.sqrt(DIM)
        g = beta * taste + rng.gumbel(0, 1, taste.shape)
        out[lo : lo + chunk] = cand[np.arange(c.size), g.argmax(axis=1)]
    return out
