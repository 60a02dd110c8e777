"""Why not this offer: for offers a decision request names (`explain`), the stage and
rule that kept each one out, or its rank; for an empty decision, how many offers each
rule removed.

It re-asks the same rule functions the decision path uses (eligibility.ineligible,
contact.not_allowed, customer_gate), offer by offer, so the answer cannot disagree
with what was served; it runs only when asked, or when a decision comes back empty.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cached_property

from omnioffer.contracts.http import OfferVerdict
from omnioffer.contracts.payloads import OfferRow
from omnioffer.decide.contact import Contacts, not_allowed
from omnioffer.decide.eligibility import Customer, customer_gate, ineligible
from omnioffer.decide.policy import Policy
from omnioffer.decide.ranked import Ranked
from omnioffer.decide.removed import Removed
from omnioffer.version.model import VersionModel


@dataclass(frozen=True, kw_only=True)
class Asked:
    """What one decision knew, to answer for any of its offers."""

    model: VersionModel
    channel: str
    now: float
    who: Customer
    contacts: Contacts
    policy: Policy
    spent: Collection[str]

    @cached_property
    def gate(self) -> Removed | None:
        """What keeps every offer out for this customer here now, if anything."""
        return customer_gate(self.contacts, self.channel, self.who, self.policy)

    def filtered(self, offer: OfferRow) -> Removed | None:
        """The first rule before ranking that removes the offer, or None."""
        if self.gate is not None:
            return self.gate
        found = ineligible(offer, self.channel, self.now, self.who, self.policy)
        found = found or not_allowed(offer, self.contacts, self.now, self.policy)
        if found is None and offer.offer_id in self.spent:
            cap = self.policy.offer_budgets.get(offer.offer_id)
            found = Removed("budget", "budget", f"served its offer_budgets entry ({cap}) times")
        return found


def verdicts(
    asked: Asked, offer_ids: Sequence[str], ranked: Sequence[Ranked], served: Sequence[Ranked]
) -> list[OfferVerdict]:
    """One verdict per named offer. `ranked`: every candidate by priority (after the
    one-conversation hold); `served`: what the decision returned, in order."""
    rank = {r.offer.offer_id: n for n, r in enumerate(served, start=1)}
    position = {r.offer.offer_id: n for n, r in enumerate(ranked)}
    out = []
    for oid in dict.fromkeys(offer_ids):
        if oid in rank:
            out.append(OfferVerdict(offer_id=oid, served=True, rank=rank[oid]))
            continue
        why = _why(asked, oid, position, ranked, served)
        out.append(OfferVerdict(offer_id=oid, served=False, stage=why.stage, code=why.code,
                                reason=why.reason))  # fmt: skip
    return out


def _why(
    asked: Asked,
    oid: str,
    position: dict[str, int],
    ranked: Sequence[Ranked],
    served: Sequence[Ranked],
) -> Removed:
    at = asked.model.offer_table.position.get(oid)
    if at is None:
        version = asked.model.catalog.version
        return Removed("catalog", "unknown", f"not an offer of model version {version}")
    offer = asked.model.catalog.offers[at]
    found = asked.filtered(offer)
    if found is not None:
        return found
    pos = position.get(oid)
    if pos is None:  # every filter passed, so ranking saw it: cannot happen
        return Removed("arbitration", "not_ranked", "was not ranked")
    mine = ranked[pos]
    if any(position[r.offer.offer_id] > pos for r in served):  # a lower one was shown
        cats = offer.covered_categories
        cat = cats[0] if cats else oid
        per = asked.policy.max_per_category
        return Removed("diversity", "max_per_category",
                       f"{per} offers of {cat} already shown (max_per_category)")  # fmt: skip
    last = served[-1] if served else None
    beaten = f"; the last shown had {last.priority:.6f}" if last is not None else ""
    return Removed("arbitration", "outranked",
                   f"ranked {pos + 1} of {len(ranked)} with priority {mine.priority:.6f}"
                   f"{beaten}")  # fmt: skip


def empty_reasons(asked: Asked) -> dict[str, int]:
    """For a decision with no offers: how many of the version's offers each rule removed
    (an offer counted once, by its first rule)."""
    counts = Counter(
        (found.code if (found := asked.filtered(o)) is not None else "outranked")
        for o in asked.model.catalog.offers
    )
    return dict(sorted(counts.items()))
