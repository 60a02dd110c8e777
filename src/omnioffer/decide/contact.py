"""Contact policy: what the customer's recent contacts on every channel allow.

Impressions per offer per window, a cross-channel daily cap, suppression after a
redeem or a recent purchase of the offer's item, cool-down after a dismiss. It reads
the same History as every other stage, so an event from any channel counts
everywhere at once.

A recent purchase suppresses offers on one-off items only: an item the customer has
bought more than once is a staple they will buy again, and an offer on what a household
already buys is the one it redeems (replayed, suppressing staples too cost the grocery
profile x0.016 of its served NDCG@5; `suppress_bought_staples = true` restores it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from omnioffer.contracts.payloads import OfferRow
from omnioffer.decide.policy import Policy
from omnioffer.decide.removed import Removed
from omnioffer.features.history import History
from omnioffer.features.spec import DAY_S

STAPLE_PURCHASES = 2  # bought this often, an item is one the customer re-buys


@dataclass(frozen=True)
class Contacts:
    """The customer's offer contacts, summarised once per request."""

    impressions: dict[str, list[float]]  # offer id -> impression times
    redeemed: set[str]
    last_dismiss: dict[str, float]
    impressions_24h: int
    bought_at: dict[str, float]  # item id -> last purchase time
    bought_count: dict[str, int] = field(default_factory=dict)  # item id -> purchases

    def offer_ids(self) -> set[str]:
        """Every offer these contacts mention."""
        return set(self.impressions) | self.redeemed | set(self.last_dismiss)

    @classmethod
    def of(cls, h: History) -> Contacts:
        impressions: dict[str, list[float]] = {}
        redeemed: set[str] = set()
        dismiss: dict[str, float] = {}
        bought: dict[str, float] = {}
        count: dict[str, int] = {}
        day, last_day = 0, h.now - DAY_S
        for kind, t, offer, item in zip(h.type.tolist(), h.ts.tolist(), h.offer, h.item_id,
                                        strict=True):  # fmt: skip
            if kind == "purchase" and item is not None:
                bought[item] = t
                count[item] = count.get(item, 0) + 1
            if kind == "offer_impression" and t >= last_day:
                day += 1  # every impression counts towards the daily cap, with or without id
            if offer is None:
                continue
            if kind == "offer_impression":
                impressions.setdefault(offer, []).append(t)
            elif kind == "offer_redeem":
                redeemed.add(offer)
            elif kind == "offer_dismiss":
                dismiss[offer] = max(t, dismiss.get(offer, t))
        return cls(impressions, redeemed, dismiss, day, bought, count)

    def staple(self, item: str) -> bool:
        """The customer bought the item more than once: they will buy it again."""
        return self.bought_count.get(item, 0) >= STAPLE_PURCHASES


def not_allowed(offer: OfferRow, contacts: Contacts, now: float, policy: Policy) -> Removed | None:
    """Why the customer's contacts forbid the offer now (the first rule), or None."""
    oid = offer.offer_id
    if policy.suppress_after_redeem and oid in contacts.redeemed:
        return Removed("contact", "redeemed", "already redeemed")
    dismissed = contacts.last_dismiss.get(oid)
    if dismissed is not None and now - dismissed < policy.dismiss_cooldown_days * DAY_S:
        days = policy.dismiss_cooldown_days
        return Removed("contact", "dismissed", f"dismissed less than {days:g} days ago")
    shown = contacts.impressions.get(oid, [])
    if offer.max_per_customer is not None and len(shown) >= offer.max_per_customer:
        return Removed(
            "contact",
            "max_per_customer",
            f"shown {len(shown)} times, its max_per_customer is {offer.max_per_customer}",
        )
    since = now - policy.impression_window_days * DAY_S
    recent = sum(t >= since for t in shown)
    if recent >= policy.max_impressions_per_offer:
        return Removed(
            "contact",
            "impression_cap",
            f"shown {recent} times in {policy.impression_window_days:g} days "
            f"(max_impressions_per_offer {policy.max_impressions_per_offer})",
        )
    bought = now - policy.suppress_bought_days * DAY_S
    for item in offer.covered_items:
        if contacts.bought_at.get(item, -np.inf) >= bought and (
            policy.suppress_bought_staples or not contacts.staple(item)
        ):
            return Removed(
                "contact", "bought", f"bought {item} within {policy.suppress_bought_days:g} days"
            )
    return None


def allowed(offer: OfferRow, contacts: Contacts, now: float, policy: Policy) -> bool:
    return not_allowed(offer, contacts, now, policy) is None
