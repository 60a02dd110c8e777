"""The experiments stage of the decision path: who is in what, and what it changes.

`Treatment.of` assigns the request (holdout first, then each running experiment;
decide/assignment.py) with the customer's stored first-touch record, and turns the
merged override into what the later stages read: the policy in force (`overridden`,
kept per variant so arbitration's per-policy caches stay warm), the strategy and the
exploration rate. `logged` builds the decision-log record (contracts/decision_log.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from omnioffer.contracts.decision_log import LoggedDecision, LoggedOffer
from omnioffer.contracts.experiments import Exposure, Recorded
from omnioffer.contracts.http import OfferOut
from omnioffer.decide.assignment import Assigner, Assignment
from omnioffer.decide.policy import Policy, overridden

_MAX_POLICIES = 256  # overridden policies kept (per variant and base policy)
_RECORDED = msgspec.json.Decoder(Recorded)


@dataclass(frozen=True)
class Treatment:
    assignment: Assignment
    policy: Policy
    strategy: str  # ranker | popular | random_eligible | none
    exploration: float
    new_record: bytes | None  # the first-touch record to store (None: one exists / none)

    @property
    def exposures(self) -> list[Exposure]:
        return list(self.assignment.exposures)


class Policies:
    """Overridden policies by (base policy, exposures): one object per variant."""

    def __init__(self) -> None:
        self._kept: dict[tuple[int, tuple[Exposure, ...]], tuple[Policy, Policy]] = {}

    def of(self, base: Policy, a: Assignment) -> Policy:
        if not a.override.policy:
            return base
        key = (id(base), a.exposures)
        kept = self._kept.get(key)
        if kept is None or kept[0] is not base:
            if len(self._kept) >= _MAX_POLICIES:
                self._kept.clear()
            kept = self._kept[key] = (base, overridden(base, a.override.policy))
        return kept[1]


def treatment(
    assigner: Assigner,
    policies: Policies,
    base: Policy,
    *,
    subject: str,
    channel: str,
    now: float,
    segment: str | None,
    first_touch: bytes | None,
) -> Treatment:
    recorded = None
    if first_touch is not None:
        try:
            recorded = _RECORDED.decode(first_touch)
        except msgspec.DecodeError:  # unreadable: assign as new, keep the stored one
            recorded = None
    segments = (segment,) if segment else ()
    a = assigner.assign(subject, channel, now, segments, recorded)
    new = None
    if first_touch is None and (a.holdout or a.exposures):
        new = msgspec.json.encode(a.record())
    o = a.override
    return Treatment(a, policies.of(base, a), o.strategy or "ranker", o.exploration or 0.0, new)


def logged(
    t: Treatment,
    *,
    decision_id: str,
    ts: float,
    customer_id: str | None,
    channel: str,
    model_version: str,
    fallback: str | None,
    explored: bool,
    eligible: int,
    offers: Sequence[OfferOut],
    propensities: Sequence[float],
) -> bytes:
    """The decision-log record of one decision, as JSON."""
    shown = [
        LoggedOffer(offer_id=o.offer_id, rank=o.rank, score=o.priority, propensity=p)
        for o, p in zip(offers, propensities, strict=True)
    ]
    strategy = t.strategy if fallback is None or t.strategy != "ranker" else "popular"
    return msgspec.json.encode(
        LoggedDecision(
            decision_id=decision_id,
            ts=ts,
            customer_id=customer_id,
            channel=channel,
            model_version=model_version,
            strategy=strategy,
            fallback=fallback,
            holdout=t.assignment.held_out,
            experiments=t.exposures,
            exploration=t.exploration,
            explored=explored,
            eligible=eligible,
            offers=shown,
        )
    )
