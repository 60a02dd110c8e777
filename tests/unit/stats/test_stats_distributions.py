"""The numpy/math distributions of omnioffer.stats against scipy (installed in the dev
venv only; the online package never imports it: tests/test_layering.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from omnioffer.stats import distributions as d
from omnioffer.stats.special import beta_i, gamma_q, log_beta

PROBABILITIES = [1e-300, 1e-30, 1e-9, 1e-4, 0.01, 0.025, 0.05, 0.2, 0.5, 0.7, 0.975, 0.999,
                 1 - 1e-9, 1 - 1e-15]  # fmt: skip
DFS = [0.5, 1.0, 2.0, 2.5, 5.0, 17.3, 30.0, 120.0, 1e3, 1e4, 1e5, 3e5, 1e6, 1e7, 1e8, 1e12]
TS = [-40.0, -3.0, -1.0, 0.0, 1e-3, 0.5, 1.0, 1.645, 1.96, 2.5, 3.0, 5.0, 8.0, 12.0, 40.0]


def close(ours: float, theirs: float, rtol: float) -> bool:
    return math.isclose(ours, theirs, rel_tol=rtol, abs_tol=1e-300)


def test_normal_tails_and_quantiles_match_scipy() -> None:
    # 1e-12: erfc(x / sqrt 2) carries the rounding of x / sqrt 2 times about x^2 in the tail
    for x in [-38.0, -10.0, -3.0, -1.0, 0.0, 0.3, 1.96, 5.0, 20.0, 38.0]:
        assert close(d.normal_cdf(x), stats.norm.cdf(x), 1e-12), x
        assert close(d.normal_sf(x), stats.norm.sf(x), 1e-12), x
    for p in PROBABILITIES:
        assert close(d.normal_ppf(p), stats.norm.ppf(p), 1e-14), p
        assert close(d.normal_isf(p), stats.norm.isf(p), 1e-14), p


@pytest.mark.parametrize("df", DFS)
def test_student_t_tail_and_quantile_match_scipy(df: float) -> None:
    # 1e-8 relative: the continued fraction loses digits at df = 1e8 (docstring of t_sf)
    for t in TS:
        assert close(d.t_sf(t, df), stats.t.sf(t, df), 1e-8), t
    for q in [1e-12, 1e-6, 0.001, 0.025, 0.05, 0.3, 0.8, 0.975]:
        assert close(d.t_isf(q, df), stats.t.isf(q, df), 1e-9), q
    assert d.t_isf(0.5, df) == pytest.approx(0.0, abs=1e-12)


def test_t_with_infinite_df_is_the_normal() -> None:
    assert d.t_sf(1.7, math.inf) == d.normal_sf(1.7)
    assert d.t_isf(0.025, math.inf) == d.normal_isf(0.025)


@pytest.mark.parametrize("df", [1, 2, 3, 5, 10, 50, 1000])
def test_chi_square_tail_matches_scipy(df: int) -> None:
    for x in [0.0, 1e-6, 0.01, 0.5, 1.0, 3.84, 10.83, 32.0, 100.0, 500.0, 2000.0]:
        assert close(d.chi2_sf(x, df), stats.chi2.sf(x, df), 1e-12), x


def test_special_functions_match_scipy() -> None:
    rng = np.random.default_rng(11)
    for a, b, x in zip(rng.gamma(1.0, 5.0, 200), rng.gamma(1.0, 5.0, 200), rng.random(200),
                       strict=True):  # fmt: skip
        assert close(beta_i(a, b, x), special.betainc(a, b, x), 1e-11), (a, b, x)
        assert close(gamma_q(a, x * 3 * a), special.gammaincc(a, x * 3 * a), 1e-11), (a, x)
    for a, b in [(0.5, 0.5), (3.0, 0.5), (150.0, 0.5), (101.0, 200.0), (1e4, 2.0)]:
        assert close(log_beta(a, b), special.betaln(a, b), 1e-12), (a, b)


@pytest.mark.parametrize(
    ("call", "args"),
    [(d.normal_ppf, (0.0,)), (d.normal_ppf, (1.0,)), (d.t_isf, (0.5, 0.0)),
     (d.t_isf, (1.5, 3.0)), (d.t_sf, (1.0, -1.0)), (d.chi2_sf, (1.0, 0.0)),
     (beta_i, (1.0, 1.0, 1.5)), (gamma_q, (-1.0, 1.0))],
)  # fmt: skip
def test_arguments_outside_the_domain_are_refused(call: object, args: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="needs"):
        call(*args)  # type: ignore[operator]
