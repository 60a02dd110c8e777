"""Benjamini-Hochberg: scipy's adjusted p-values, and on a seeded multiple-testing
simulation a false discovery rate within q m0 / m where unadjusted tests exceed it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from stats_world import bh_outcome

from omnioffer.errors import InputError
from omnioffer.stats.fdr import benjamini_hochberg

Q = 0.05
METRICS, REAL = 20, 5


def test_adjusted_p_values_are_scipys() -> None:
    p = np.random.default_rng(61).random(30) ** 3
    ours = benjamini_hochberg({f"m{i}": float(v) for i, v in enumerate(p)}, q=Q)
    theirs = stats.false_discovery_control(p, method="bh")
    assert list(ours.adjusted.values()) == pytest.approx(list(theirs), rel=1e-12)
    assert ours.rejected == [f"m{i}" for i, v in enumerate(theirs) if v <= Q]
    assert ours.method == "benjamini_hochberg" and ours.q == Q


def test_bh_controls_the_false_discovery_rate_on_a_simulation() -> None:
    sims = 4_000
    out = bh_outcome(
        np.random.default_rng(62), sims=sims, metrics=METRICS, true_effects=REAL, shift=3.0, q=Q
    )
    bound = Q * (METRICS - REAL) / METRICS
    # the FDR estimate is a mean of `sims` shares in [0, 1]: 3 standard errors of slack
    assert out.bh_fdr <= bound + 3 * 0.5 / np.sqrt(sims)
    # in the same run: without adjustment false discoveries are far more common, and
    # Bonferroni (q / m per metric) finds fewer of the real effects
    assert out.unadjusted_fdr > 2 * bound
    assert out.bh_power > out.bonferroni_power


def test_bad_p_values_are_refused_naming_the_metric() -> None:
    with pytest.raises(InputError) as caught:
        benjamini_hochberg({"clicks": 0.01, "revenue": 1.2})
    assert caught.value.field == "p_values.revenue"
    with pytest.raises(InputError, match="q"):
        benjamini_hochberg({"clicks": 0.01}, q=0)
