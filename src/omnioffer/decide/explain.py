"""Explain: the reasons a marketer (and a customer) can read, written last and only for
the offers actually served ("grocery-04 in your web cart", "bought i000049 in store 3
days ago", "predicted response 12%")."""

from __future__ import annotations

from collections.abc import Sequence

from omnioffer.contracts.payloads import OfferRow
from omnioffer.decide.ranked import Ranked
from omnioffer.decide.signals import Signals

FAVOURITE_SHARE = 0.15


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


def explain(ranked: Sequence[Ranked], signals: Signals, basis: str = "model") -> list[Ranked]:
    """Reasons first, then any note a later stage added. `basis`: "model", or the reason
    shown when propensity is a fallback estimate."""
    return [
        Ranked(r.offer, r.propensity, r.value, r.priority,
               [*reasons(r.offer, signals, r.propensity, basis), *r.reasons])
        for r in ranked
    ]  # fmt: skip
