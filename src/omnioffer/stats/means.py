"""The lift in a mean metric: Welch's t with the delta method, optionally with CUPED.

Welch: each arm keeps its own variance; the standard error of a function of the two
arms' means comes from the delta method (its gradient at the observed means), and the
fixed-horizon interval reads a t with Welch-Satterthwaite degrees of freedom,

    df = (v_t + v_c)^2 / (v_t^2 / (n_t - 1) + v_c^2 / (n_c - 1)),

v_k being arm k's share of the estimate's variance. For the relative lift
y_t / y_c - 1 the shares are s_t^2 / (n_t y_c^2) and y_t^2 s_c^2 / (n_c y_c^4).

CUPED (Deng, Xu, Kohavi and Walker, "Improving the sensitivity of online controlled
experiments by utilizing pre-experiment data", WSDM 2013) replaces each arm's mean by
y_k - theta (x_k - x), x_k the arm's mean of a pre-period covariate, x its mean over
both arms and theta = pooled within-arm cov(x, y) / var(x). Randomisation makes the
covariate's expected mean equal in both arms, so the estimate stays unbiased while its
variance shrinks by a factor of about 1 - corr(x, y)^2. The delta method runs over
(y_k, x_k) with each arm's 2 x 2 covariance, theta held fixed.
"""

from __future__ import annotations

import math

from omnioffer.contracts.statistics import (
    CovariateSummary,
    Effect,
    MeanSummary,
    Scale,
    Sequential,
)
from omnioffer.stats.interval import (
    checked_confidence,
    checked_sequential,
    interval,
    mode_name,
)
from omnioffer.stats.summaries import Moments, moments


def _share(g_y: float, g_x: float, arm: Moments) -> float:
    """Arm's contribution g' Sigma g / n to the estimate's variance."""
    return (g_y * g_y * arm.vyy + 2.0 * g_y * g_x * arm.vxy + g_x * g_x * arm.vxx) / arm.n


def _theta(c: Moments, t: Moments) -> float:
    sxx = (c.n - 1) * c.vxx + (t.n - 1) * t.vxx
    return ((c.n - 1) * c.vxy + (t.n - 1) * t.vxy) / sxx if sxx > 0 else 0.0


def _compare(
    c: Moments, t: Moments, *, theta: float | None, test: str, scale: Scale,
    confidence: float, sequential: Sequential | None,
) -> Effect:  # fmt: skip
    out = Effect(
        method=f"{test}+{mode_name(sequential)}", scale=scale, control=c.y, treatment=t.y,
        lift=None, ci_low=None, ci_high=None, p_value=None, confidence=confidence,
        n_control=c.n, n_treatment=t.n, theta=theta,
        tuning_n=None if sequential is None else sequential.tuning_n,
    )  # fmt: skip
    if min(c.n, t.n) < 2:
        out.note = "an arm has fewer than 2 units"
        return out
    th = theta or 0.0
    w_t = t.n / (c.n + t.n)
    w_c = 1.0 - w_t
    x = w_t * t.x + w_c * c.x
    a = t.y - th * (t.x - x)  # the adjusted means (the plain means when theta = 0)
    b = c.y - th * (c.x - x)
    if scale == "absolute":
        lift = a - b
        v_t, v_c = _share(1.0, -th, t), _share(-1.0, th, c)
    elif b == 0.0:
        out.note = "the control mean is 0: a relative lift is undefined"
        return out
    else:
        lift = a / b - 1.0
        cross = th * (w_c / b + a * w_t / (b * b))  # d lift / d x_c = - d lift / d x_t
        v_t, v_c = _share(1.0 / b, -cross, t), _share(-a / (b * b), cross, c)
    out.lift = lift
    variance = v_t + v_c
    if not variance > 0:
        out.note = "no variation in either arm"
        return out
    df = variance**2 / (v_t**2 / (t.n - 1) + v_c**2 / (c.n - 1))
    out.ci_low, out.ci_high, out.p_value = interval(
        lift, math.sqrt(variance), confidence=confidence, df=df, n=c.n + t.n,
        sequential=sequential,
    )  # fmt: skip
    out.df = df if sequential is None else None
    return out


def welch_delta(
    control: MeanSummary, treatment: MeanSummary, *, scale: Scale = "relative",
    confidence: float = 0.95, sequential: Sequential | None = None,
) -> Effect:  # fmt: skip
    """Treatment against control in a mean metric (method `welch_delta`).

    Relative (default): treatment / control - 1 with the delta method; absolute: the
    difference, Welch's two-sample t exactly. A rate's relative lift is this test on
    `summaries.as_mean` of its counts."""
    return _compare(
        moments(_plain(control), "control"), moments(_plain(treatment), "treatment"),
        theta=None, test="welch_delta", scale=scale, confidence=checked_confidence(confidence),
        sequential=checked_sequential(sequential),
    )  # fmt: skip


def cuped_welch_delta(
    control: CovariateSummary, treatment: CovariateSummary, *, scale: Scale = "relative",
    confidence: float = 0.95, sequential: Sequential | None = None,
) -> Effect:  # fmt: skip
    """`welch_delta` on CUPED-adjusted means (method `cuped_welch_delta`); the result's
    `theta` is the adjustment's slope."""
    c, t = moments(control, "control"), moments(treatment, "treatment")
    return _compare(
        c, t, theta=_theta(c, t), test="cuped_welch_delta", scale=scale,
        confidence=checked_confidence(confidence), sequential=checked_sequential(sequential),
    )  # fmt: skip


def _plain(summary: MeanSummary) -> MeanSummary:
    """The summary without its covariate (a CovariateSummary passed to plain Welch)."""
    return MeanSummary(n=summary.n, total=summary.total, total_sq=summary.total_sq)
