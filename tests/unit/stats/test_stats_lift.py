"""Lift, interval and p-value for rates (two-proportion z) and means (Welch + delta
method): coverage of the true lift over seeded simulations, agreement with scipy, and
the answers when the data cannot give an interval."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest
from scipy import stats
from stats_world import mean_outcome, rate_coverage

from omnioffer.contracts.statistics import MeanSummary, ProportionSummary, Sequential
from omnioffer.errors import InputError
from omnioffer.stats.means import welch_delta
from omnioffer.stats.proportions import two_proportion_z
from omnioffer.stats.summaries import as_mean, mean_summary, proportion_summary

SIMULATIONS = 1_000  # the target asks for >= 200


def test_rate_interval_covers_the_true_lift_at_least_93_percent() -> None:
    coverage = rate_coverage(np.random.default_rng(20), SIMULATIONS, 5_000, 0.05, 0.056)
    assert coverage >= 0.93


def test_relative_lift_in_revenue_covers_the_true_lift_at_least_93_percent() -> None:
    out = mean_outcome(np.random.default_rng(21), SIMULATIONS, 2_000, 0.05, "independent")
    assert out.welch_coverage >= 0.93
    assert out.cuped_coverage >= 0.93  # the covariate is noise here: no harm done


def test_absolute_welch_is_scipys_welch_t() -> None:
    rng = np.random.default_rng(3)
    control, treatment = rng.lognormal(0, 1, 400), rng.lognormal(0.15, 1.2, 650)
    ours = welch_delta(mean_summary(control), mean_summary(treatment), scale="absolute")
    theirs = stats.ttest_ind(treatment, control, equal_var=False)
    low, high = theirs.confidence_interval(0.95)
    assert ours.lift == pytest.approx(treatment.mean() - control.mean(), rel=1e-12)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)
    assert ours.df == pytest.approx(theirs.df, rel=1e-9)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((low, high), rel=1e-9)
    assert ours.method == "welch_delta+fixed_horizon"


def test_z_test_p_value_is_the_pooled_chi_square_test() -> None:
    control, treatment = (
        ProportionSummary(n=4_000, successes=212),
        ProportionSummary(n=3_900, successes=251),
    )
    ours = two_proportion_z(control, treatment)
    table = [[212, 4_000 - 212], [251, 3_900 - 251]]
    _, p, _, _ = stats.chi2_contingency(table, correction=False)
    assert ours.p_value == pytest.approx(p, rel=1e-9)
    assert ours.lift == pytest.approx(251 / 3_900 - 212 / 4_000)
    assert ours.method == "two_proportion_z+fixed_horizon"
    assert ours.scale == "absolute"


@pytest.mark.parametrize("sequential", [None, Sequential(tuning_n=2_000)])
def test_the_interval_excludes_zero_exactly_when_p_is_below_alpha(
    sequential: Sequential | None,
) -> None:
    rng = np.random.default_rng(9)
    seen = set()
    for _ in range(300):
        control = rng.lognormal(0, 1, 300)
        treatment = rng.lognormal(rng.normal(0, 0.15), 1, 300)
        e = welch_delta(mean_summary(control), mean_summary(treatment), sequential=sequential)
        assert e.ci_low is not None and e.ci_high is not None and e.p_value is not None
        excludes = e.ci_low > 0 or e.ci_high < 0
        assert excludes == (e.p_value < 0.05), e
        seen.add(excludes)
    assert seen == {True, False}  # both cases were exercised


def test_relative_lift_of_a_rate_reads_the_counts_as_a_mean() -> None:
    control, treatment = (
        ProportionSummary(n=1_000, successes=50),
        ProportionSummary(n=1_000, successes=60),
    )
    e = welch_delta(as_mean(control), as_mean(treatment))
    assert e.lift == pytest.approx(0.2)
    direct = welch_delta(
        mean_summary(np.r_[np.ones(50), np.zeros(950)]),
        mean_summary(np.r_[np.ones(60), np.zeros(940)]),
    )
    assert (e.ci_low, e.ci_high) == pytest.approx((direct.ci_low, direct.ci_high))


def test_too_little_data_gives_no_interval_and_says_why() -> None:
    one = two_proportion_z(
        ProportionSummary(n=1, successes=1), ProportionSummary(n=50, successes=3)
    )
    flat = two_proportion_z(
        ProportionSummary(n=50, successes=0), ProportionSummary(n=50, successes=0)
    )
    zero = welch_delta(MeanSummary(n=10, total=0.0, total_sq=0.0), mean_summary([1.0, 2.0, 3.0]))
    for effect, why in [(one, "fewer than 2"), (flat, "no variation"), (zero, "control mean is 0")]:
        assert effect.ci_low is None and effect.p_value is None
        assert effect.note is not None and why in effect.note
    assert flat.lift == 0.0


def test_results_encode_to_json_from_numpy_counts() -> None:
    control = proportion_summary(np.array([1, 0, 0, 1, 0] * 100))
    treatment = ProportionSummary(n=np.int64(500), successes=np.int64(230))  # type: ignore[arg-type]
    decoded = msgspec.json.decode(msgspec.json.encode(two_proportion_z(control, treatment)))
    assert decoded["n_treatment"] == 500
    assert decoded["method"] == "two_proportion_z+fixed_horizon"


@pytest.mark.parametrize(
    ("control", "field"),
    [
        (ProportionSummary(n=10, successes=11), "control.successes"),
        (ProportionSummary(n=-1, successes=0), "control.n"),
        (ProportionSummary(n=10, successes=2.5), "control.successes"),  # type: ignore[arg-type]
    ],
)
def test_impossible_counts_are_refused_naming_the_field(
    control: ProportionSummary, field: str
) -> None:
    with pytest.raises(InputError) as caught:
        two_proportion_z(control, ProportionSummary(n=10, successes=1))
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("treatment", "field"),
    [
        (MeanSummary(n=3, total=6.0, total_sq=5.0), "treatment.total_sq"),  # below 6^2 / 3
        (MeanSummary(n=3, total=float("nan"), total_sq=5.0), "treatment.total"),
        (MeanSummary(n=3, total=1.0, total_sq=-1.0), "treatment.total_sq"),
    ],
)
def test_impossible_sums_are_refused_naming_the_field(treatment: MeanSummary, field: str) -> None:
    with pytest.raises(InputError) as caught:
        welch_delta(mean_summary([1.0, 2.0]), treatment)
    assert caught.value.field == field


def test_a_confidence_outside_0_1_is_refused() -> None:
    with pytest.raises(InputError, match="confidence"):
        welch_delta(mean_summary([1.0, 2.0]), mean_summary([1.0, 3.0]), confidence=95)
