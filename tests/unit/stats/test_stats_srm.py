"""Sample-ratio mismatch: a 48/52 split of 20,000 units is flagged, a 50/50 one is
not, at the rates the chi-square test's power and size predict (computed here)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from stats_world import srm_flag_rate

from omnioffer.errors import InputError
from omnioffer.stats.srm import DEFAULT_THRESHOLD, srm_check

N = 20_000
SIMS = 4_000


def test_a_48_52_split_at_20k_is_flagged_at_the_tests_power() -> None:
    rate = srm_flag_rate(np.random.default_rng(51), SIMS, N, 0.48)
    shift = N * ((0.48 - 0.5) ** 2 / 0.5 + (0.52 - 0.5) ** 2 / 0.5)  # noncentrality 32
    power = stats.ncx2.sf(stats.chi2.isf(DEFAULT_THRESHOLD, 1), 1, shift)
    assert rate >= stats.binom.ppf(0.001, SIMS, power) / SIMS
    assert rate > 0.95


def test_a_50_50_split_is_flagged_no_more_than_the_threshold_allows() -> None:
    rate = srm_flag_rate(np.random.default_rng(52), SIMS, N, 0.5)
    assert rate <= stats.binom.isf(0.001, SIMS, DEFAULT_THRESHOLD) / SIMS
    assert rate < 0.01


def test_the_statistic_is_scipys_goodness_of_fit() -> None:
    counts = {"control": 4_810, "a": 2_590, "b": 2_600}
    weights = {"control": 0.5, "a": 0.25, "b": 0.25}
    check = srm_check(counts, weights)
    theirs = stats.chisquare([4_810, 2_590, 2_600], f_exp=[5_000, 2_500, 2_500])
    assert check.statistic == pytest.approx(theirs.statistic, rel=1e-12)
    assert check.p_value == pytest.approx(theirs.pvalue, rel=1e-9)
    assert check.df == 2 and check.method == "chi_square_goodness_of_fit"
    assert check.mismatch == (theirs.pvalue < 0.001)
    assert check.expected == {"control": 5_000.0, "a": 2_500.0, "b": 2_500.0}


def test_no_units_yet_is_no_mismatch() -> None:
    check = srm_check({"a": 0, "b": 0}, {"a": 0.5, "b": 0.5})
    assert check.p_value == 1.0 and not check.mismatch


@pytest.mark.parametrize(
    ("counts", "weights", "field"),
    [
        ({"a": 10, "b": 12}, {"a": 0.5, "c": 0.5}, "counts"),
        ({"a": 10}, {"a": 1.0}, "weights"),
        ({"a": 10, "b": 12}, {"a": 0.5, "b": 0.0}, "weights.b"),
        ({"a": -1, "b": 12}, {"a": 0.5, "b": 0.5}, "counts.a"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    counts: dict[str, int], weights: dict[str, float], field: str
) -> None:
    with pytest.raises(InputError) as caught:
        srm_check(counts, weights)
    assert caught.value.field == field
