"""Arbitration: rank eligible offers by business priority, keep them diverse, explain them.

priority = propensity x value x lever x channel weight, times the cart lift when
the offer covers a category the customer has in a cart right now (on any channel).
Reasons are written last (`explain`), only for the offers actually served.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from omnioffer.decide.catalog import OfferRow, VersionModel
from omnioffer.decide.history import DAY_S, History
from omnioffer.decide.policy import Policy

FAVOURITE_SHARE = 0.15


@dataclass(frozen=True)
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
        for k in range(h.ts.size):
            item, kind, ch = h.item_id[k], str(h.type[k]), str(h.channel[k])
            if item is None:
                continue
            age = (h.now - float(h.ts[k])) / DAY_S
            if kind == "add_to_cart" and h.ts[k] >= since:
                items[item] = ch
            elif kind == "view" and h.ts[k] >= since:
                viewed[item] = (ch, age)
            elif kind == "purchase":
                items.pop(item, None)  # bought since: no longer in the cart
                bought[item] = (ch, age)
                cat = model.category_of[h.item[k]] if h.item[k] >= 0 else None
                if cat is not None:
                    bought_cats[cat] = bought_cats.get(cat, 0.0) + float(h.qty[k])
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


def arbitrate(
    offers: Sequence[int],
    propensity: npt.NDArray[np.float32],
    model: VersionModel,
    *,
    channel: str,
    policy: Policy,
    signals: Signals,
) -> list[Ranked]:
    """Every offer by priority, best first, without reasons yet (see `explain`)."""
    ranked = []
    weight = policy.channel_weights.get(channel, 1.0)
    in_cart = signals.cart.keys()
    for idx, p in zip(offers, propensity.tolist(), strict=True):
        offer = model.catalog.offers[idx]
        value = offer.value if offer.value is not None else policy.default_value
        lift = (
            policy.cart_lift
            if in_cart and not in_cart.isdisjoint(offer.covered_categories)
            else 1.0
        )
        priority = p * value * policy.levers.get(offer.offer_id, 1.0) * weight * lift
        ranked.append(Ranked(offer, p, value, priority, []))
    ranked.sort(key=lambda r: (-r.priority, r.offer.offer_id))
    return ranked


def explain(ranked: Sequence[Ranked], signals: Signals, basis: str = "model") -> list[Ranked]:
    """Reasons first, then any note a later stage added. `basis`: "model", or the reason
    shown when propensity is a fallback estimate."""
    return [
        replace(r, reasons=[*reasons(r.offer, signals, r.propensity, basis), *r.reasons])
        for r in ranked
    ]


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
