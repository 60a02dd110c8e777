"""Arbitration: rank eligible offers by business priority, keep them diverse, explain them.

priority = propensity x value x lever x channel weight, times the cart lift when
the offer covers a category the customer has in a cart right now (on any channel).
Reasons are written last (`explain`), only for the offers actually served.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from omnioffer.contracts.payloads import OfferRow
from omnioffer.decide.policy import Policy
from omnioffer.features.history import DAY_S, History
from omnioffer.version.model import VersionModel

FAVOURITE_SHARE = 0.15
F64 = npt.NDArray[np.float64]


@dataclass(slots=True)
class Ranked:
    offer: OfferRow
    propensity: float
    value: float
    priority: float
    reasons: list[str]  # notes of later stages until `explain` puts the reasons first


@dataclass(frozen=True)
class Signals:
    """What the customer did lately, as marketer-readable facts keyed by item/category."""

    cart: dict[str, str]  # category -> channel where it was put in a cart
    cart_items: dict[str, str]  # item id -> channel
    bought: dict[str, tuple[str, float]]  # item id -> (channel, days ago)
    viewed: dict[str, tuple[str, float]]  # item id -> (channel, days ago), last cart_days
    category_share: dict[str, float]  # share of the customer's purchases per category

    @classmethod
    def of(cls, h: History, model: VersionModel, policy: Policy, cart: Sequence[str]) -> Signals:
        cats: dict[str, str] = {}
        items: dict[str, str] = {}
        bought: dict[str, tuple[str, float]] = {}
        viewed: dict[str, tuple[str, float]] = {}
        bought_cats: dict[str, float] = {}
        since = h.now - policy.cart_days * DAY_S
        columns = (h.item_id, h.type.tolist(), h.channel.tolist(), h.ts.tolist(),
                   h.item.tolist(), h.qty.tolist())  # fmt: skip
        for item, kind, ch, t, at, qty in zip(*columns, strict=True):
            if item is None:
                continue
            age = (h.now - t) / DAY_S
            if kind == "add_to_cart" and t >= since:
                items[item] = ch
            elif kind == "view" and t >= since:
                viewed[item] = (ch, age)
            elif kind == "purchase":
                items.pop(item, None)  # bought since: no longer in the cart
                bought[item] = (ch, age)
                cat = model.category_of[at] if at >= 0 else None
                if cat is not None:
                    bought_cats[cat] = bought_cats.get(cat, 0.0) + qty
        for item in cart:
            items.setdefault(item, "current")
        for item, ch in items.items():
            idx = model.item_index.get(item)
            cat = model.category_of[idx] if idx is not None else None
            if cat is not None:
                cats.setdefault(cat, ch)
        total = sum(bought_cats.values()) or 1.0
        shares = {c: q / total for c, q in bought_cats.items()}
        return cls(cats, items, bought, viewed, shares)


def _days(d: float) -> str:
    return "today" if d < 1 else ("yesterday" if d < 2 else f"{int(d)} days ago")


def reasons(offer: OfferRow, signals: Signals, propensity: float, basis: str) -> list[str]:
    out = []
    for cat in offer.covered_categories:
        if cat in signals.cart:
            ch = signals.cart[cat]
            out.append(f"{cat} is in your cart" if ch == "current" else f"{cat} in your {ch} cart")
            break
    for facts, verb in ((signals.bought, "bought"), (signals.viewed, "viewed")):
        last = [(facts[i], i) for i in offer.covered_items if i in facts]
        if last:
            (ch, days), item = min(last, key=lambda x: x[0][1])
            where = "in store" if ch == "store" else f"on {ch}"
            out.append(f"{verb} {item} {where} {_days(days)}")
            break
    share = max((signals.category_share.get(c, 0.0) for c in offer.covered_categories), default=0)
    if share >= FAVOURITE_SHARE:
        out.append(f"{share:.0%} of their purchases are in this category")
    out.append(f"predicted response {propensity:.0%}" if basis == "model" else basis)
    return out


@dataclass(frozen=True)
class _Weights:
    """Per-offer factors of one (version, policy), arrays aligned with catalog.offers."""

    policy: Policy  # held, so the id keying this entry stays its own
    value: F64  # the offer's value, the policy's default where it has none
    lever: F64
    id_rank: npt.NDArray[np.int64]  # position of the offer id in sorted order (ties)

    @classmethod
    def of(cls, model: VersionModel, policy: Policy) -> _Weights:
        offers = model.catalog.offers
        ids = [o.offer_id for o in offers]
        rank = np.empty(len(ids), dtype=np.int64)
        rank[sorted(range(len(ids)), key=ids.__getitem__)] = np.arange(len(ids))
        values = [policy.default_value if o.value is None else o.value for o in offers]
        return cls(
            policy=policy,
            value=np.array(values, dtype=np.float64),
            lever=np.array([policy.levers.get(i, 1.0) for i in ids], dtype=np.float64),
            id_rank=rank,
        )


def _weights(model: VersionModel, policy: Policy) -> _Weights:
    """Built once per (loaded version, policy) and kept with the version."""
    return model.derived((_Weights, id(policy)), lambda: _Weights.of(model, policy))


def arbitrate(
    offers: Sequence[int],
    propensity: npt.NDArray[np.float32],
    model: VersionModel,
    *,
    channel: str,
    policy: Policy,
    signals: Signals,
) -> list[Ranked]:
    """Every offer by priority, best first (ties by offer id), without reasons yet (see
    `explain`). The products are taken in the order of the formula, in float64."""
    at = np.asarray(offers, dtype=np.int64)
    w = _weights(model, policy)
    lift = np.ones(len(model.catalog.offers))
    in_category = model.offer_table.in_category
    for cat in signals.cart:
        lift[list(in_category.get(cat, ()))] = policy.cart_lift
    p = np.asarray(propensity, dtype=np.float64)
    weight = float(policy.channel_weights.get(channel, 1.0))
    value = w.value[at]
    priority = p * value * w.lever[at] * weight * lift[at]
    order = np.lexsort((w.id_rank[at], -priority)).tolist()
    rows, props, prios, values = model.catalog.offers, p.tolist(), priority.tolist(), value.tolist()
    return [Ranked(rows[offers[k]], props[k], values[k], prios[k], []) for k in order]


def explain(ranked: Sequence[Ranked], signals: Signals, basis: str = "model") -> list[Ranked]:
    """Reasons first, then any note a later stage added. `basis`: "model", or the reason
    shown when propensity is a fallback estimate."""
    return [
        Ranked(r.offer, r.propensity, r.value, r.priority,
               [*reasons(r.offer, signals, r.propensity, basis), *r.reasons])
        for r in ranked
    ]  # fmt: skip


def diverse(ranked: Sequence[Ranked], per_category: int, k: int) -> list[Ranked]:
    """The best k, at most `per_category` per primary category (backfilled if short)."""
    taken: dict[str, int] = {}
    out: list[Ranked] = []
    rest: list[Ranked] = []
    for r in ranked:
        cat = r.offer.covered_categories[0] if r.offer.covered_categories else r.offer.offer_id
        if taken.get(cat, 0) < per_category:
            taken[cat] = taken.get(cat, 0) + 1
            out.append(r)
        else:
            rest.append(r)
        if len(out) == k:
            return out
    return out + rest[: k - len(out)]
