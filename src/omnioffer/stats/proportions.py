"""The lift in a rate: the two-proportion z test.

The lift is the difference p_t - p_c of the arms' rates (absolute, in rate units). Its
interval is Wald's, p +/- z_{1-alpha/2} sqrt(p_t (1 - p_t) / n_t + p_c (1 - p_c) / n_c);
the fixed-horizon p-value is the classic test's, with the pooled rate p of both arms
under the null: z = (p_t - p_c) / sqrt(p (1 - p) (1 / n_t + 1 / n_c)). In sequential mode
the unpooled standard error feeds the confidence sequence, which gives both the
interval and the p-value. For the relative lift in a rate use `means.welch_delta` on
`summaries.as_mean(...)` of each arm.
"""

from __future__ import annotations

import math

from omnioffer.contracts.statistics import Effect, ProportionSummary, Sequential
from omnioffer.stats.distributions import normal_sf
from omnioffer.stats.interval import (
    checked_confidence,
    checked_sequential,
    interval,
    mode_name,
)
from omnioffer.stats.summaries import checked_proportion


def two_proportion_z(
    control: ProportionSummary, treatment: ProportionSummary, *,
    confidence: float = 0.95, sequential: Sequential | None = None,
) -> Effect:  # fmt: skip
    """Treatment against control in a rate (method `two_proportion_z`)."""
    c = checked_proportion(control, "control")
    t = checked_proportion(treatment, "treatment")
    confidence = checked_confidence(confidence)
    sequential = checked_sequential(sequential)
    p_c = c.successes / c.n if c.n else 0.0
    p_t = t.successes / t.n if t.n else 0.0
    out = Effect(
        method=f"two_proportion_z+{mode_name(sequential)}", scale="absolute",
        control=p_c, treatment=p_t, lift=None, ci_low=None, ci_high=None, p_value=None,
        confidence=confidence, n_control=c.n, n_treatment=t.n,
        tuning_n=None if sequential is None else sequential.tuning_n,
    )  # fmt: skip
    if min(c.n, t.n) < 2:
        out.note = "an arm has fewer than 2 units"
        return out
    out.lift = p_t - p_c
    se = math.sqrt(p_t * (1.0 - p_t) / t.n + p_c * (1.0 - p_c) / c.n)
    if se == 0.0:
        out.note = "no variation in either arm"
        return out
    n = c.n + t.n
    out.ci_low, out.ci_high, out.p_value = interval(
        out.lift, se, confidence=confidence, n=n, sequential=sequential
    )
    if sequential is None:
        pooled = (c.successes + t.successes) / n
        se_null = math.sqrt(pooled * (1.0 - pooled) * (1.0 / t.n + 1.0 / c.n))
        out.p_value = min(1.0, 2.0 * normal_sf(abs(out.lift) / se_null))
    return out
