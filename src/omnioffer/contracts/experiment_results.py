"""What `GET /v1/experiments/{id}/results` and `omnioffer experiments results` return.

Built by jobs/experiment_results.py from the decision log and the event log; every
statistic is a `contracts/statistics` result naming the `method` that produced it.
docs/experiments.md ("Results") defines each metric and join.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from omnioffer.contracts.statistics import Effect, FdrAdjustment, Sequential, SrmCheck

Mode = Literal["sequential", "fixed"]
MODES: tuple[str, ...] = ("sequential", "fixed")
METRICS: tuple[str, ...] = ("response_rate", "redemption_rate", "revenue_per_exposed")
ATTRIBUTION_DAYS = 7.0
PRE_PERIOD_DAYS = 28.0


class Query(msgspec.Struct, frozen=True, kw_only=True):
    """What to compute: `mode`, an optional `channel`, the windows in days."""

    mode: Mode = "sequential"
    channel: str | None = None
    attribution_days: float = ATTRIBUTION_DAYS
    pre_period_days: float = PRE_PERIOD_DAYS
    confidence: float = 0.95
    tuning_n: float = 5_000.0  # sequential mode's (contracts/statistics.Sequential)
    timeline: bool = True  # compute the lift-over-time points

    @property
    def sequential(self) -> Sequential | None:
        return Sequential(tuning_n=self.tuning_n) if self.mode == "sequential" else None


class ArmMetrics(msgspec.Struct, kw_only=True):
    """One arm's counts. The unit is the exposed customer (the unit of assignment):
    `response_rate` = customers with a click or redeem / exposed customers."""

    exposed_customers: int
    decisions: int
    impressions: int
    clicks: int
    redemptions: int
    responders: int
    response_rate: float
    redemption_rate: float
    revenue: float
    revenue_per_exposed: float


class VariantResult(msgspec.Struct, kw_only=True):
    name: str
    weight: float
    control: bool
    metrics: ArmMetrics
    # metric -> treatment vs control (empty for the control itself)
    lift: dict[str, Effect] = {}


class TimelinePoint(msgspec.Struct, kw_only=True):
    """The cumulative lift in response rate of one variant at time `ts` (decisions and
    events up to then), for the dashboard's lift-over-time plot."""

    ts: float
    variant: str
    lift: float | None
    ci_low: float | None
    ci_high: float | None
    method: str


class HoldoutResult(msgspec.Struct, kw_only=True):
    """The universal holdout (control) against everyone else served (treatment)."""

    held_out: ArmMetrics
    served: ArmMetrics
    lift: dict[str, Effect]


class ExperimentResults(msgspec.Struct, kw_only=True):
    experiment_id: str
    mode: Mode
    channel: str | None
    attribution_days: float
    pre_period_days: float
    confidence: float
    methods: dict[str, str]  # metric -> the method that produced its lifts
    overall: ArmMetrics
    variants: list[VariantResult]
    srm: SrmCheck | None  # None: no exposed customer yet
    fdr: FdrAdjustment | None  # keys "variant/metric"; None: no p-value yet
    holdout: HoldoutResult | None  # None: no decision held out (or none served)
    timeline: list[TimelinePoint]
    decisions_read: int
    events_read: int
