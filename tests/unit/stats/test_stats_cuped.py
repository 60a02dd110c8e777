"""CUPED: a correlated pre-period covariate narrows the interval by about
sqrt(1 - corr^2) and leaves the estimate unbiased; an unrelated one changes nothing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from stats_world import MeanOutcome, mean_outcome

from omnioffer.contracts.statistics import CovariateSummary
from omnioffer.errors import InputError
from omnioffer.stats.means import cuped_welch_delta, welch_delta
from omnioffer.stats.summaries import covariate_summary

LIFT = 0.05


@pytest.fixture(scope="module")
def correlated() -> MeanOutcome:
    return mean_outcome(np.random.default_rng(31), 1_000, 2_000, LIFT, "correlated")


def test_a_correlated_covariate_narrows_the_interval_as_theory_says(
    correlated: MeanOutcome,
) -> None:
    assert correlated.median_correlation > 0.3  # the simulation does correlate them
    expected = math.sqrt(1.0 - correlated.median_correlation**2)
    assert correlated.median_width_ratio == pytest.approx(expected, rel=0.03)
    assert correlated.median_width_ratio < 0.95


def test_cuped_is_unbiased_and_keeps_its_coverage(correlated: MeanOutcome) -> None:
    assert abs(correlated.cuped_mean_lift - LIFT) < 3.0 * correlated.cuped_lift_se
    assert correlated.cuped_coverage >= 0.93


def test_an_unrelated_covariate_leaves_the_width_alone() -> None:
    out = mean_outcome(np.random.default_rng(32), 300, 2_000, LIFT, "independent")
    assert abs(out.median_correlation) < 0.05
    assert out.median_width_ratio == pytest.approx(1.0, abs=0.01)


def test_theta_is_the_pooled_within_arm_regression_slope() -> None:
    rng = np.random.default_rng(4)
    x_c, x_t = rng.gamma(2.0, 10.0, 800), rng.gamma(2.0, 10.0, 900)
    y_c = 3.0 + 0.7 * x_c + rng.normal(0, 5, 800)
    y_t = 4.0 + 0.7 * x_t + rng.normal(0, 5, 900)
    e = cuped_welch_delta(covariate_summary(y_c, x_c), covariate_summary(y_t, x_t))
    xs = np.r_[x_c - x_c.mean(), x_t - x_t.mean()]
    ys = np.r_[y_c - y_c.mean(), y_t - y_t.mean()]
    assert e.theta == pytest.approx(float(xs @ ys / (xs @ xs)), rel=1e-9)
    adjusted = (y_t.mean() - e.theta * (x_t.mean() - np.r_[x_c, x_t].mean())) / (
        y_c.mean() - e.theta * (x_c.mean() - np.r_[x_c, x_t].mean())
    ) - 1.0
    assert e.lift == pytest.approx(adjusted, rel=1e-9)
    assert e.method == "cuped_welch_delta+fixed_horizon"
    plain = welch_delta(covariate_summary(y_c, x_c), covariate_summary(y_t, x_t))
    assert plain.theta is None and plain.method == "welch_delta+fixed_horizon"


def test_absolute_cuped_is_the_difference_of_adjusted_means() -> None:
    rng = np.random.default_rng(5)
    x_c, x_t = rng.normal(10, 2, 500), rng.normal(10, 2, 500)
    y_c, y_t = x_c + rng.normal(0, 1, 500), x_t + 0.3 + rng.normal(0, 1, 500)
    e = cuped_welch_delta(
        covariate_summary(y_c, x_c), covariate_summary(y_t, x_t), scale="absolute"
    )
    assert e.theta is not None
    diff = (y_t.mean() - y_c.mean()) - e.theta * (x_t.mean() - x_c.mean())
    assert e.lift == pytest.approx(diff, rel=1e-9)
    assert e.ci_low is not None and e.ci_high is not None
    assert e.ci_low < 0.3 < e.ci_high


def test_an_impossible_cross_sum_is_refused_naming_it() -> None:
    bad = CovariateSummary(
        n=3, total=3.0, total_sq=5.0, pre_total=3.0, pre_total_sq=5.0, cross_total=9.0
    )
    with pytest.raises(InputError) as caught:
        cuped_welch_delta(bad, bad)
    assert caught.value.field == "control.cross_total"


def test_a_covariate_needs_one_value_per_unit() -> None:
    with pytest.raises(InputError, match="one value per unit"):
        covariate_summary([1.0, 2.0, 3.0], [1.0, 2.0])
