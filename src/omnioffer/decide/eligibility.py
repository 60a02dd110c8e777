"""Eligibility: which offers may be shown to this customer, here, now.

Eligibility is about the offer (channel, validity window, segment, consent, its own
per-customer cap); `candidate_offers` then applies the contact policy
(decide/contact.py) to the eligible ones, so the next stage scores only offers that
may really be shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from omnioffer.contracts.payloads import OfferRow
from omnioffer.decide.contact import Contacts, allowed
from omnioffer.decide.policy import Policy
from omnioffer.decide.removed import Removed
from omnioffer.features.history import History
from omnioffer.features.spec import DAY_S
from omnioffer.version.model import VersionModel


@dataclass(frozen=True)
class Customer:
    segment: str | None
    consent: dict[str, bool]


def ineligible(
    offer: OfferRow, channel: str, now: float, who: Customer, policy: Policy
) -> Removed | None:
    """Why the offer may not be shown here now (its first failing rule), or None."""
    if offer.channels and channel not in offer.channels:
        return Removed("eligibility", "channel", f"not offered on {channel}")
    if offer.start is not None and now < offer.start:
        return Removed("eligibility", "not_started", "its validity window has not started")
    if offer.end is not None and now > offer.end:
        return Removed("eligibility", "expired", "its validity window has ended")
    if offer.segments and who.segment not in offer.segments:
        return Removed("eligibility", "segment", f"targets {', '.join(offer.segments)}")
    if channel in policy.consent_channels and not who.consent.get(channel, False):
        return Removed("eligibility", "consent", f"no consent for {channel}")
    return None


def eligible(offer: OfferRow, channel: str, now: float, who: Customer, policy: Policy) -> bool:
    return ineligible(offer, channel, now, who, policy) is None


def customer_gate(
    contacts: Contacts, channel: str, who: Customer, policy: Policy
) -> Removed | None:
    """What keeps every offer from this customer here now, or None."""
    if contacts.impressions_24h >= policy.daily_cap:
        return Removed("contact", "daily_cap",
                       f"{contacts.impressions_24h} offer impressions in the last 24 h "
                       f"(daily_cap {policy.daily_cap})")  # fmt: skip
    if channel in policy.consent_channels and not who.consent.get(channel, False):
        return Removed("eligibility", "consent", f"no consent for {channel}")
    if policy.max_impressions_per_offer == 0:  # zero shown already reaches the cap
        return Removed("contact", "impression_cap", "max_impressions_per_offer is 0")
    return None


def candidate_offers(
    model: VersionModel, h: History, channel: str, who: Customer, policy: Policy
) -> tuple[list[int], Contacts]:
    """Indices of offers that pass eligibility and the contact policy, ascending.

    The same decision as `eligible` and `allowed` for every offer, computed with the
    version's OfferTable: array masks for the offer's own rules, and `allowed` only
    for the offers the customer's contacts or recent purchases touch (for any other
    offer every contact rule passes, since its counts are zero)."""
    contacts = Contacts.of(h)
    if customer_gate(contacts, channel, who, policy) is not None:
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
