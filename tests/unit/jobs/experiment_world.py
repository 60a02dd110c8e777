"""Simulated experiment traffic with a known truth, for the results tests and
benchmarks/bench_experiments.py: customers assigned by weight, each served decisions
(logged as LoggedDecision, shown offers with their propensities), responding to a shown
offer with a known probability per variant (feedback events carrying the decision id),
buying with a known mean revenue per variant inside the attribution window, and with a
pre-period spend correlated with it (what CUPED uses). A share of customers is in the
universal holdout, with its own response probability."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omnioffer.contracts.decision_log import LoggedDecision, LoggedOffer
from omnioffer.contracts.experiment_rules import parse_experiment
from omnioffer.contracts.experiments import Experiment, Exposure
from omnioffer.contracts.payloads import Event
from omnioffer.jobs.experiment_results import DAY, CustomerEvent

T0 = 1_750_000_000.0
OFFERS = ("o1", "o2", "o3", "o4")
REDEEM_GIVEN_CLICK = 0.3


@dataclass(frozen=True)
class Truth:
    """Per variant: P(a customer responds to their decision), mean purchase revenue."""

    response: dict[str, float]
    revenue: dict[str, float]
    weights: dict[str, float]
    holdout_share: float = 0.0
    holdout_response: float = 0.0

    def response_lift(self, variant: str, control: str = "control") -> float:
        return self.response[variant] - self.response[control]

    def revenue_lift(self, variant: str, control: str = "control") -> float:
        return self.revenue[variant] / self.revenue[control] - 1.0


DEFAULT = Truth(response={"control": 0.10, "treatment": 0.13},
                revenue={"control": 20.0, "treatment": 22.0},
                weights={"control": 0.5, "treatment": 0.5})  # fmt: skip


def experiment(truth: Truth, experiment_id: str = "exp1") -> Experiment:
    raw = {"id": experiment_id, "status": "running",
           "variants": [{"name": n, "weight": w} for n, w in truth.weights.items()]}  # fmt: skip
    return parse_experiment(raw, check_policy=lambda _key, _value: None,
                            experiment_id=experiment_id)  # fmt: skip


def simulate(
    truth: Truth, customers: int, seed: int, *, days: float = 10.0, experiment_id: str = "exp1"
) -> tuple[list[LoggedDecision], list[CustomerEvent]]:
    """The decision log and the event log of `customers` simulated customers."""
    rng = np.random.default_rng(seed)
    names = list(truth.weights)
    p = np.array([truth.weights[n] for n in names])
    decisions: list[LoggedDecision] = []
    events: list[CustomerEvent] = []
    for i in range(customers):
        cid = f"c{i}"
        t0 = T0 + float(rng.uniform(0, days * DAY))
        held = bool(rng.random() < truth.holdout_share)
        variant = names[int(rng.choice(len(names), p=p))]
        spend = float(rng.gamma(2.0, 10.0))  # the customer's own level, pre and post
        events.append((cid, Event(t0 - float(rng.uniform(1, 27)) * DAY, "purchase", "web",
                                  item="i1", revenue=spend)))  # fmt: skip
        shown = [LoggedOffer(offer_id=o, rank=r, score=1.0 / r, propensity=0.9 + 0.1 / 4)
                 for r, o in enumerate(OFFERS[:2], 1)]  # fmt: skip
        did = f"d{i}"
        decisions.append(LoggedDecision(
            decision_id=did, ts=t0, customer_id=cid, channel="web", model_version="v1",
            strategy="none" if held else "ranker", holdout=held,
            experiments=[] if held else [Exposure(experiment_id, variant)], eligible=4,
            offers=[] if held else shown,
        ))  # fmt: skip
        if held:
            respond = rng.random() < truth.holdout_response
            mean_revenue = truth.revenue[names[0]]
        else:
            respond = rng.random() < truth.response[variant]
            mean_revenue = truth.revenue[variant]
        offer = shown[0].offer_id
        events.append((cid, Event(t0 + 1, "offer_impression", "web", offer=offer,
                                  event_id=f"fb:{did}:{offer}:impression")))  # fmt: skip
        if respond:
            events.append((cid, Event(t0 + 60, "offer_click", "web", offer=offer,
                                      event_id=f"fb:{did}:{offer}:click")))  # fmt: skip
            if rng.random() < REDEEM_GIVEN_CLICK:
                events.append((cid, Event(t0 + 120, "offer_redeem", "web", offer=offer,
                                          event_id=f"fb:{did}:{offer}:redeem")))  # fmt: skip
        # revenue in the window: the customer's level scaled to the variant's mean
        amount = spend * mean_revenue / 20.0 * float(rng.gamma(4.0, 0.25))
        events.append((cid, Event(t0 + float(rng.uniform(0, 6)) * DAY, "purchase", "web",
                                  item="i1", revenue=amount)))  # fmt: skip
    return decisions, events


def simulate_exploration(
    respond: dict[str, float], decisions_n: int, seed: int, *, epsilon: float = 0.1,
    greedy: str = "o1", channel: str = "web",
) -> tuple[list[LoggedDecision], list[CustomerEvent]]:  # fmt: skip
    """Epsilon-greedy logging at rank 1 over `respond`'s offers (exact propensities: the
    greedy offer 1 - epsilon + epsilon / n, every other epsilon / n); a click on the
    shown offer with its probability in `respond`."""
    rng = np.random.default_rng(seed)
    offers = list(respond)
    n = len(offers)
    decisions: list[LoggedDecision] = []
    events: list[CustomerEvent] = []
    for i in range(decisions_n):
        explored = bool(rng.random() < epsilon)
        shown = offers[int(rng.integers(n))] if explored else greedy
        p = (1 - epsilon) * (shown == greedy) + epsilon / n
        did = f"x{i}"
        decisions.append(LoggedDecision(
            decision_id=did, ts=T0 + i, customer_id=f"c{i}", channel=channel,
            model_version="v1", strategy="ranker", exploration=epsilon, explored=explored,
            eligible=n, offers=[LoggedOffer(offer_id=shown, rank=1, score=1.0, propensity=p)],
        ))  # fmt: skip
        if rng.random() < respond[shown]:
            events.append((f"c{i}", Event(T0 + i + 1, "offer_click", channel, offer=shown,
                                          event_id=f"fb:{did}:{shown}:click")))  # fmt: skip
    return decisions, events
