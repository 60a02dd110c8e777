"""Sequential mode: peeking at an A/A test 20 times keeps the false-positive rate of the
confidence sequence near alpha, where the naive fixed-horizon reading inflates it."""

from __future__ import annotations

import math

import msgspec
import numpy as np
import pytest
from stats_world import peeking_false_positives

from omnioffer.contracts.statistics import ProportionSummary, Sequential
from omnioffer.errors import InputError
from omnioffer.stats import sequential as cs
from omnioffer.stats.distributions import normal_isf
from omnioffer.stats.proportions import two_proportion_z

ALPHA = 0.05


def test_peeking_20_times_sequential_stays_within_6_percent_naive_does_not() -> None:
    naive, sequential = peeking_false_positives(
        np.random.default_rng(41), sims=2_000, looks=20, n_per_look=1_000, rate=0.1,
        tuning_n=5_000,
    )  # fmt: skip
    assert sequential <= 0.06
    assert naive >= 2 * ALPHA  # each look alone is a 5 % test; 20 of them are not
    assert naive > sequential + 0.05


def test_the_sequence_is_tightest_near_its_tuning_n() -> None:
    """Width relative to the fixed-horizon interval at the same n, over n."""
    tuning_n = 8_000.0
    grid = np.geomspace(200, 200_000, 400)
    ratio = [cs.half_width(1.0, int(n), ALPHA, tuning_n) / normal_isf(ALPHA / 2) for n in grid]
    # the price of peeking: always wider than the fixed-horizon interval
    assert min(ratio) > 1.0
    best = float(grid[int(np.argmin(ratio))])
    assert tuning_n / 2 < best < tuning_n * 2


def test_always_valid_p_is_the_alpha_at_which_the_sequence_touches_zero() -> None:
    se, n, tuning_n = 0.01, 12_000, 5_000.0
    for z in [0.5, 2.0, 3.0, 4.5]:
        p = cs.always_valid_p(z, n, ALPHA, tuning_n)
        if p >= 1.0:
            continue
        # rho is fixed by (ALPHA, tuning_n); the boundary for another alpha a keeps it
        nr2 = n * cs.mixing_rho_squared(ALPHA, tuning_n)
        boundary = se * math.sqrt(2 * (nr2 + 1) / nr2 * math.log(math.sqrt(nr2 + 1) / p))
        assert boundary == pytest.approx(z * se, rel=1e-9)


def test_sequential_results_say_so() -> None:
    control, treatment = (
        ProportionSummary(n=9_000, successes=900),
        ProportionSummary(n=9_100, successes=1_010),
    )
    fixed = two_proportion_z(control, treatment)
    seq = two_proportion_z(control, treatment, sequential=Sequential(tuning_n=10_000))
    assert seq.method == "two_proportion_z+confidence_sequence" and seq.tuning_n == 10_000
    assert fixed.tuning_n is None
    assert seq.lift == fixed.lift
    assert seq.ci_low is not None and fixed.ci_low is not None and seq.ci_low < fixed.ci_low
    assert seq.p_value is not None and fixed.p_value is not None and seq.p_value > fixed.p_value


def test_bad_sequential_parameters_are_refused() -> None:
    counts = ProportionSummary(n=100, successes=10)
    with pytest.raises(InputError) as caught:
        two_proportion_z(counts, counts, sequential=Sequential(tuning_n=0.0))
    assert caught.value.field == "sequential.tuning_n"
    with pytest.raises(msgspec.ValidationError, match="tuning_n"):
        msgspec.json.decode(b'{"tuning_n": -5}', type=Sequential)
    with pytest.raises(ValueError, match="tuning_n"):
        cs.mixing_rho_squared(ALPHA, 0.0)
    with pytest.raises(ValueError, match="alpha"):
        cs.mixing_rho_squared(1.5, 100.0)
