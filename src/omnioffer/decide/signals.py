"""Signals: what the customer did lately (carts, purchases, views, favourite categories),
read once per request from the History and used by arbitration (cart lift) and by the
reasons a marketer reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from omnioffer.decide.policy import Policy
from omnioffer.features.history import History
from omnioffer.features.spec import DAY_S
from omnioffer.version.model import VersionModel


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
