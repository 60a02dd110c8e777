"""Eligibility and contact policy: which offers may be shown to this customer, here, now.

Eligibility is about the offer (channel, validity window, segment, consent, its own
per-customer cap); the contact policy is about the customer's recent contacts on
every channel (impressions per offer, a cross-channel daily cap, redeemed offers,
cool-down after a dismiss, items just bought). Both read the same History, so an
event from any channel counts everywhere at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omnioffer.contracts.payloads import OfferRow
from omnioffer.decide.policy import Policy
from omnioffer.features.history import DAY_S, History
from omnioffer.version.model import VersionModel


@dataclass(frozen=True)
class Customer:
    segment: str | None
    consent: dict[str, bool]


def eligible(offer: OfferRow, channel: str, now: float, who: Customer, policy: Policy) -> bool:
    if offer.channels and channel not in offer.channels:
        return False
    if (offer.start is not None and now < offer.start) or (
        offer.end is not None and now > offer.end
    ):
        return False
    if offer.segments and who.segment not in offer.segments:
        return False
    return channel not in policy.consent_channels or who.consent.get(channel, False)


@dataclass(frozen=True)
class Contacts:
    """The customer's offer contacts, summarised once per request."""

    impressions: dict[str, list[float]]  # offer id -> impression times
    redeemed: set[str]
    last_dismiss: dict[str, float]
    impressions_24h: int
    bought_at: dict[str, float]  # item id -> last purchase time

    def offer_ids(self) -> set[str]:
        """Every offer these contacts mention."""
        return set(self.impressions) | self.redeemed | set(self.last_dismiss)

    @classmethod
    def of(cls, h: History) -> Contacts:
        impressions: dict[str, list[float]] = {}
        redeemed: set[str] = set()
        dismiss: dict[str, float] = {}
        bought: dict[str, float] = {}
        day, last_day = 0, h.now - DAY_S
        for kind, t, offer, item in zip(h.type.tolist(), h.ts.tolist(), h.offer, h.item_id,
                                        strict=True):  # fmt: skip
            if kind == "purchase" and item is not None:
                bought[item] = t
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
        return cls(impressions, redeemed, dismiss, day, bought)


def allowed(offer: OfferRow, contacts: Contacts, now: float, policy: Policy) -> bool:
    oid = offer.offer_id
    if policy.suppress_after_redeem and oid in contacts.redeemed:
        return False
    dismissed = contacts.last_dismiss.get(oid)
    if dismissed is not None and now - dismissed < policy.dismiss_cooldown_days * DAY_S:
        return False
    shown = contacts.impressions.get(oid, [])
    if offer.max_per_customer is not None and len(shown) >= offer.max_per_customer:
        return False
    since = now - policy.impression_window_days * DAY_S
    if sum(t >= since for t in shown) >= policy.max_impressions_per_offer:
        return False
    recent = now - policy.suppress_bought_days * DAY_S
    return not any(contacts.bought_at.get(i, -np.inf) >= recent for i in offer.covered_items)


def candidate_offers(
    model: VersionModel, h: History, channel: str, who: Customer, policy: Policy
) -> tuple[list[int], Contacts]:
    """Indices of offers that pass eligibility and the contact policy, ascending.

    The same decision as `eligible` and `allowed` for every offer, computed with the
    version's OfferTable: array masks for the offer's own rules, and `allowed` only
    for the offers the customer's contacts or recent purchases touch (for any other
    offer every contact rule passes, since its counts are zero)."""
    contacts = Contacts.of(h)
    no_consent = channel in policy.consent_channels and not who.consent.get(channel, False)
    if contacts.impressions_24h >= policy.daily_cap or no_consent:
        return [], contacts
    if policy.max_impressions_per_offer == 0:  # zero shown already reaches the cap
        return [], contacts
    index = model.offer_table
    ok = index.eligible(channel, h.now, who.segment)
    recent = h.now - policy.suppress_bought_days * DAY_S
    bought = {item for item, t in contacts.bought_at.items() if t >= recent}
    offers = model.catalog.offers
    for k in index.touched(contacts.offer_ids(), bought):
        if ok[k] and not allowed(offers[k], contacts, h.now, policy):
            ok[k] = False
    return ok.nonzero()[0].tolist(), contacts
