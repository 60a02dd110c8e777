"""An experiment's results from the decision log and the event log (numpy + stats/).

The unit is the exposed customer: the first logged decision that carried the
experiment fixes the customer's variant and exposure time t0 (first touch, as
assignment is sticky). Events then join:

- offer feedback (`/v1/feedback`, event id `fb:<decision_id>:<offer>:<outcome>`) by its
  decision id, to the customer and variant of that decision, at any time;
- other offer events (`/v1/events` offer_*) and purchases by customer, inside the
  attribution window [t0, t0 + attribution_days];
- purchases in the `pre_period_days` (28) before t0 are the customer's pre-period
  spend, CUPED's covariate for revenue per exposed customer.

Lifts against the control (the first variant): the two-proportion z test for the
response and redemption rates (absolute difference), Welch + delta with CUPED for the
relative lift in revenue per exposed customer; fixed horizon or sequential
(always-valid); SRM on exposed customers against the weights; Benjamini-Hochberg
across every (variant, metric) p-value. The holdout compares the customers held out
with everyone else served, on the same metrics. Cost: one pass over the decisions and
one over the events per timeline point (TIMELINE_POINTS + 1 passes in all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from omnioffer.contracts.decision_log import LoggedDecision
from omnioffer.contracts.experiment_results import (
    ArmMetrics,
    ExperimentResults,
    HoldoutResult,
    Query,
    TimelinePoint,
    VariantResult,
)
from omnioffer.contracts.experiments import Experiment
from omnioffer.contracts.payloads import Event
from omnioffer.contracts.statistics import Effect, Sequential
from omnioffer.stats.fdr import benjamini_hochberg
from omnioffer.stats.means import cuped_welch_delta, welch_delta
from omnioffer.stats.proportions import two_proportion_z
from omnioffer.stats.srm import srm_check
from omnioffer.stats.summaries import covariate_summary, mean_summary, proportion_summary

DAY = 86_400.0
TIMELINE_POINTS = 12
RESPONSES = ("offer_click", "offer_redeem")
METHODS = {
    "response_rate": "two_proportion_z",
    "redemption_rate": "two_proportion_z",
    "revenue_per_exposed": "cuped_welch_delta (welch_delta when the pre-period spend is constant)",
}
CustomerEvent = tuple[str, Event]  # (the customer id the log keeps it under, the event)


def feedback_decision(event: Event) -> str | None:
    """The decision id a feedback event carries (None for any other event)."""
    if event.event_id is None or not event.event_id.startswith("fb:"):
        return None
    return event.event_id[3:].partition(":")[0] or None


@dataclass
class _Unit:
    arm: str
    t0: float
    decisions: int = 0
    impressions: int = 0
    clicks: int = 0
    redemptions: int = 0
    revenue: float = 0.0
    pre: float = 0.0


@dataclass
class _Arms:
    """Customers by arm, with their decisions, for one cut of the logs."""

    units: dict[str, _Unit] = field(default_factory=dict)
    decision_owner: dict[str, str] = field(default_factory=dict)  # decision id -> customer

    def expose(self, cid: str, arm: str, d: LoggedDecision) -> None:
        unit = self.units.get(cid)
        if unit is None:
            unit = self.units[cid] = _Unit(arm, d.ts)
        unit.decisions += 1
        self.decision_owner[d.decision_id] = cid

    def join(self, cid: str, e: Event, attribution_s: float, pre_s: float) -> None:
        owner = self.decision_owner.get(fb) if (fb := feedback_decision(e)) else None
        if fb is not None and owner is None:
            return  # feedback on a decision outside this experiment (or this cut)
        unit = self.units.get(owner or cid)
        if unit is None:
            return
        in_window = unit.t0 <= e.ts <= unit.t0 + attribution_s
        if e.type == "purchase":
            amount = e.revenue or 0.0
            if in_window:
                unit.revenue += amount
            elif unit.t0 - pre_s <= e.ts < unit.t0:
                unit.pre += amount
        elif fb is not None or in_window:
            unit.impressions += e.type == "offer_impression"
            unit.clicks += e.type == "offer_click"
            unit.redemptions += e.type == "offer_redeem"

    def arm(self, name: str) -> list[_Unit]:
        return [u for u in self.units.values() if u.arm == name]


def _metrics(units: Sequence[_Unit]) -> ArmMetrics:
    n = len(units)
    responders = sum(1 for u in units if u.clicks + u.redemptions > 0)
    redeemers = sum(1 for u in units if u.redemptions > 0)
    revenue = float(sum(u.revenue for u in units))
    return ArmMetrics(
        exposed_customers=n, decisions=sum(u.decisions for u in units),
        impressions=sum(u.impressions for u in units), clicks=sum(u.clicks for u in units),
        redemptions=sum(u.redemptions for u in units), responders=responders,
        response_rate=responders / n if n else 0.0, redemption_rate=redeemers / n if n else 0.0,
        revenue=revenue, revenue_per_exposed=revenue / n if n else 0.0,
    )  # fmt: skip


def _lifts(
    control: Sequence[_Unit], treatment: Sequence[_Unit], confidence: float,
    sequential: Sequential | None,
) -> dict[str, Effect]:  # fmt: skip
    def flags(units: Sequence[_Unit], redeem_only: bool) -> np.ndarray:
        return np.array([(u.redemptions if redeem_only else u.clicks + u.redemptions) > 0
                         for u in units], dtype=bool)  # fmt: skip

    out = {}
    for metric, redeem_only in (("response_rate", False), ("redemption_rate", True)):
        out[metric] = two_proportion_z(
            proportion_summary(flags(control, redeem_only)),
            proportion_summary(flags(treatment, redeem_only)),
            confidence=confidence, sequential=sequential,
        )  # fmt: skip
    y_c = np.array([u.revenue for u in control], dtype=float)
    y_t = np.array([u.revenue for u in treatment], dtype=float)
    x_c = np.array([u.pre for u in control], dtype=float)
    x_t = np.array([u.pre for u in treatment], dtype=float)
    pre = np.concatenate([x_c, x_t])
    if pre.size > 1 and float(pre.std()) > 0:
        out["revenue_per_exposed"] = cuped_welch_delta(
            covariate_summary(y_c, x_c), covariate_summary(y_t, x_t),
            confidence=confidence, sequential=sequential,
        )  # fmt: skip
    else:
        out["revenue_per_exposed"] = welch_delta(
            mean_summary(y_c), mean_summary(y_t), confidence=confidence, sequential=sequential
        )
    return out


DEFAULT_QUERY = Query()


def _cut(
    experiment: Experiment, decisions: Sequence[LoggedDecision], events: Sequence[CustomerEvent],
    query: Query, until: float | None,
) -> tuple[_Arms, _Arms]:  # fmt: skip
    """(the experiment's arms by variant, the holdout's arms "held_out"/"served")."""
    arms, holdout = _Arms(), _Arms()
    for d in decisions:
        if d.customer_id is None or (until is not None and d.ts > until):
            continue
        if query.channel is not None and d.channel != query.channel:
            continue
        holdout.expose(d.customer_id, "held_out" if d.holdout else "served", d)
        for x in d.experiments:
            if x.id == experiment.id:
                arms.expose(d.customer_id, x.variant, d)
    attribution_s, pre_s = query.attribution_days * DAY, query.pre_period_days * DAY
    for cid, e in events:
        if until is not None and e.ts > until:
            continue
        if query.channel is not None and e.channel != query.channel and e.type != "purchase":
            continue
        arms.join(cid, e, attribution_s, pre_s)
        holdout.join(cid, e, attribution_s, pre_s)
    return arms, holdout


def _timeline(
    experiment: Experiment, decisions: Sequence[LoggedDecision], events: Sequence[CustomerEvent],
    query: Query,
) -> list[TimelinePoint]:  # fmt: skip
    stamps = [d.ts for d in decisions if any(x.id == experiment.id for x in d.experiments)]
    if not stamps:
        return []
    first, last = min(stamps), max(stamps)
    cuts = np.linspace(first, last, TIMELINE_POINTS + 1)[1:] if last > first else [last]
    points = []
    control = experiment.control.name
    for until in cuts:
        arms, _ = _cut(experiment, decisions, events, query, float(until))
        for v in experiment.variants[1:]:
            e = _lifts(arms.arm(control), arms.arm(v.name), query.confidence,
                       query.sequential)["response_rate"]  # fmt: skip
            points.append(TimelinePoint(ts=float(until), variant=v.name, lift=e.lift,
                                        ci_low=e.ci_low, ci_high=e.ci_high,
                                        method=e.method))  # fmt: skip
    return points


def experiment_results(
    experiment: Experiment, decisions: Sequence[LoggedDecision],
    events: Sequence[CustomerEvent], query: Query = DEFAULT_QUERY,
) -> ExperimentResults:  # fmt: skip
    """The results of `experiment` over every decision and event given (see the module)."""
    arms, holdout = _cut(experiment, decisions, events, query, None)
    control = experiment.control.name
    variants, p_values = [], {}
    for i, v in enumerate(experiment.variants):
        lift = {} if i == 0 else _lifts(arms.arm(control), arms.arm(v.name), query.confidence,
                                         query.sequential)  # fmt: skip
        p_values.update({f"{v.name}/{m}": e.p_value for m, e in lift.items()
                         if e.p_value is not None})  # fmt: skip
        variants.append(VariantResult(name=v.name, weight=v.weight, control=i == 0,
                                      metrics=_metrics(arms.arm(v.name)), lift=lift))  # fmt: skip
    weighted = {v.name: v.weight for v in experiment.variants if v.weight > 0}
    counts: dict[str, int] = {name: len(arms.arm(name)) for name in weighted}
    srm = srm_check(counts, weighted) if len(weighted) > 1 and any(counts.values()) else None
    held, served = holdout.arm("held_out"), holdout.arm("served")
    holdout_result = None
    if held and served:
        holdout_result = HoldoutResult(
            held_out=_metrics(held), served=_metrics(served),
            lift=_lifts(held, served, query.confidence, query.sequential),
        )  # fmt: skip
    return ExperimentResults(
        experiment_id=experiment.id, mode=query.mode, channel=query.channel,
        attribution_days=query.attribution_days, pre_period_days=query.pre_period_days,
        confidence=query.confidence, methods=dict(METHODS),
        overall=_metrics(list(arms.units.values())), variants=variants, srm=srm,
        fdr=benjamini_hochberg(p_values) if p_values else None, holdout=holdout_result,
        timeline=_timeline(experiment, decisions, events, query) if query.timeline else [],
        decisions_read=len(decisions), events_read=len(events),
    )  # fmt: skip
