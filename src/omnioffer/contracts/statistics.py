"""The inputs and results of experiment statistics and off-policy evaluation.

Inputs are a variant's sufficient statistics (counts and sums the store can keep
incrementally); results name the `method` that produced every number, for the results
API, the CLI and the dashboard. The math is in `omnioffer.stats`; docs/experiments.md
("Statistics") states the formulas.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Scale = Literal["absolute", "relative"]
OffPolicyMethod = Literal["ips", "snips", "doubly_robust"]


class Sequential(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Sequential mode: always-valid confidence sequences (stats/sequential.py), tightest
    at `tuning_n` observations in all (both arms). Absent: fixed horizon."""

    tuning_n: Annotated[float, msgspec.Meta(gt=0)] = 5_000.0


class ProportionSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A variant's rate metric: `successes` of `n` units (e.g. responders of exposed)."""

    n: int
    successes: int


class MeanSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A variant's mean metric over `n` units: the sum and the sum of squares of the
    per-unit values (e.g. revenue per exposed customer)."""

    n: int
    total: float
    total_sq: float


class CovariateSummary(MeanSummary, frozen=True, kw_only=True):
    """A mean metric with a pre-period covariate for CUPED (e.g. each customer's spend
    in the 28 days before exposure): its sum, sum of squares and the sum of products."""

    pre_total: float
    pre_total_sq: float
    cross_total: float


class Effect(msgspec.Struct, kw_only=True):
    """Treatment against control for one metric.

    `lift` is treatment - control (`scale` absolute) or treatment / control - 1
    (relative), CUPED-adjusted when `method` says cuped; `control` and `treatment` are
    the unadjusted rates or means. `ci_low`, `ci_high` and `p_value` are None, and
    `note` says why, when the data cannot give them (an arm under 2 units, no
    variation, a zero control mean for a relative lift). `df` is set for a Welch t,
    `tuning_n` in sequential mode, `theta` for CUPED.
    """

    method: str
    scale: Scale
    control: float
    treatment: float
    lift: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    confidence: float
    n_control: int
    n_treatment: int
    df: float | None = None
    tuning_n: float | None = None
    theta: float | None = None
    note: str | None = None


class SrmCheck(msgspec.Struct, kw_only=True):
    """Sample-ratio mismatch: do the variants' unit counts fit their weights?

    `mismatch` is p_value < threshold: assignment or logging is broken and the
    experiment's results are not to be trusted until it is explained."""

    method: str
    observed: dict[str, int]
    expected: dict[str, float]
    statistic: float
    df: int
    p_value: float
    threshold: float
    mismatch: bool


class FdrAdjustment(msgspec.Struct, kw_only=True):
    """p-values adjusted across metrics so that the expected share of false discoveries
    among `rejected` is at most `q`."""

    method: str
    q: float
    adjusted: dict[str, float]
    rejected: list[str]


class PolicyEstimate(msgspec.Struct, kw_only=True):
    """A candidate policy's value (mean reward per decision) estimated from decisions
    logged under another policy, with a normal-approximation interval over the
    per-decision terms. `effective_sample_size` = (sum w)^2 / sum w^2 of the importance
    weights w = target / logging probability, `max_weight` the largest: a small
    effective size or a large weight means the estimate leans on few decisions."""

    method: OffPolicyMethod
    value: float
    se: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    effective_sample_size: float
    max_weight: float
