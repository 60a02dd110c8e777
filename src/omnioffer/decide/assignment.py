"""Assignment: the experiments a decision runs under, and the policy override they make.

A pure stage (no store, no HTTP, no clock of its own): the same definitions, customer
id and time give the same answer in every worker, on every channel, after every
restart. The order (docs/experiments.md, "Assignment"):

1. The universal holdout first: hash(holdout salt, customer id) < share (GrowthBook v2
   hash, decide/bucketing.py). A held-out customer is in no experiment and gets the
   holdout's treatment (strategy "none" or "random_eligible") on every channel.
2. Then each running experiment, in the order of the definitions, whose window holds
   `now` (start inclusive, end exclusive) and whose targeted channels hold the
   request's channel; then its targeted segments (any of the customer's), its
   namespace range (GrowthBook's inNamespace) and its coverage: the variant is the
   bucket range of hash(salt, customer id) (GrowthBook's getBucketRanges and
   chooseVariation), and no range (beyond coverage) means not in the experiment.
3. The merged override: validation (contracts/experiment_rules.py) refuses two running
   experiments that can serve one customer and set the same key, so the merge is a
   union; should a recorded assignment still bring two together, the first
   experiment in definition order keeps the key.

First touch: `recorded` is what a caller stored of the customer's (or the anonymous
id's later linked to them) first assignment; it wins. The holdout's answer recorded
under the same salt stands (in or out) while its share is above 0. A recorded
variant that still exists in an experiment running here and now is kept without
hashing again (segments, namespace and coverage are not re-checked: they are what
first touch holds fixed; window and channel still apply). An experiment the customer
was not in is hashed as above, so raising coverage still adds recorded customers to
it. Two experiments of one namespace never both apply, recorded or not.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from omnioffer.contracts.experiments import (
    NO_OVERRIDE,
    Definitions,
    Experiment,
    Exposure,
    Holdout,
    Override,
    Recorded,
)
from omnioffer.decide.bucketing import (
    Range,
    bucket_ranges,
    choose_variation,
    fnv1a32,
    namespace_point,
    seeded_hash,
)


@dataclass(frozen=True)
class Assignment:
    held_out: bool
    exposures: tuple[Exposure, ...]  # (experiment id, variant), in definition order
    override: Override  # what the decision changes; NO_OVERRIDE for the default policy
    holdout: str = ""  # the salt of the holdout drawn for the customer ("" none runs)

    def record(self) -> Recorded:
        """What to store for first touch (the holdout's answer and every variant)."""
        variants = {x.id: x.variant for x in self.exposures}
        return Recorded(holdout=self.holdout, held_out=self.held_out, variants=variants)


@dataclass(frozen=True)
class _Plan:
    """One running experiment, with what assignment reads of it precomputed."""

    experiment: Experiment
    start: float
    end: float
    channels: frozenset[str]
    segments: frozenset[str]
    ranges: tuple[Range, ...]
    index: dict[str, int]  # variant name -> position
    seed: int  # fnv1a32(salt): the hash of the salt, the prefix of every customer's


def _plan(e: Experiment) -> _Plan:
    weights = [v.weight for v in e.variants]
    return _Plan(
        experiment=e,
        start=e.start.timestamp() if e.start else -math.inf,
        end=e.end.timestamp() if e.end else math.inf,
        channels=frozenset(e.targeting.channels),
        segments=frozenset(e.targeting.segments),
        ranges=tuple(bucket_ranges(len(weights), e.coverage, weights)),
        index={v.name: i for i, v in enumerate(e.variants)},
        seed=fnv1a32(e.salt),
    )


class Assigner:
    """Assignment under one definition set (build a new one when the set changes)."""

    def __init__(self, defs: Definitions) -> None:
        self.holdout: Holdout = defs.holdout
        self._held = Override(strategy=defs.holdout.treatment)
        self._seed = fnv1a32(defs.holdout.salt)
        self._plans = tuple(_plan(e) for e in defs.experiments if e.status == "running")

    def held_out(self, customer_id: str, recorded: Recorded | None = None) -> bool:
        share = self.holdout.share
        if share <= 0:
            return False
        if recorded is not None and recorded.holdout == self.holdout.salt:
            return recorded.held_out
        return seeded_hash(self._seed, customer_id) < share

    def assign(
        self,
        customer_id: str,
        channel: str,
        now: float,
        segments: Collection[str] = (),
        recorded: Recorded | None = None,
    ) -> Assignment:
        """The assignment of one decision: `now` in epoch seconds (the decision's clock),
        `segments` the customer's, `recorded` their first-touch record if any."""
        if self.held_out(customer_id, recorded):
            return Assignment(True, (), self._held, self.holdout.salt)
        prior = recorded.variants if recorded is not None else {}
        exposures: list[Exposure] = []
        chosen: list[Override] = []
        namespaces: set[str] = set()  # those of an experiment the customer is in
        points: dict[str, float] = {}  # namespace -> the customer's hash in it
        for p in self._plans:
            e = p.experiment
            if not p.start <= now < p.end or (p.channels and channel not in p.channels):
                continue
            if e.namespace is not None and e.namespace.name in namespaces:
                continue
            index = p.index.get(prior.get(e.id, ""), -1)
            if index < 0:
                index = _hashed(p, customer_id, segments, points)
                if index < 0:
                    continue
            variant = e.variants[index]
            exposures.append(Exposure(e.id, variant.name))
            chosen.append(variant)
            if e.namespace is not None:
                namespaces.add(e.namespace.name)
        drawn = self.holdout.salt if self.holdout.share > 0 else ""
        override = merged(chosen) if chosen else NO_OVERRIDE
        return Assignment(False, tuple(exposures), override, drawn)


def _hashed(p: _Plan, customer_id: str, segments: Collection[str], points: dict[str, float]) -> int:
    """The variant by hashing (-1: not in the experiment): segments, namespace (GrowthBook's
    inNamespace, its hash kept in `points` for the namespace's other experiments),
    coverage and weights."""
    e = p.experiment
    if p.segments and p.segments.isdisjoint(segments):
        return -1
    if (ns := e.namespace) is not None:
        if (at := points.get(ns.name)) is None:
            at = points[ns.name] = namespace_point(customer_id, ns.name)
        if not ns.range[0] <= at < ns.range[1]:
            return -1
    return choose_variation(seeded_hash(p.seed, customer_id), p.ranges)


def merged(overrides: list[Override]) -> Override:
    """One override from several: for each key, the first that sets it."""
    policy: dict[str, Any] = {}
    for o in reversed(overrides):  # the first one written last, so it wins
        policy.update(o.policy)
    return Override(
        model_version=next((o.model_version for o in overrides if o.model_version), None),
        strategy=next((o.strategy for o in overrides if o.strategy), None),
        exploration=next((o.exploration for o in overrides if o.exploration is not None), None),
        policy=policy,
    )
