"""Always-valid confidence sequences for a sequential (peek-any-time) mode.

The method is the asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha,
Kennedy and Ramdas, "Time-uniform central limit theory and asymptotic confidence
sequences" (Annals of Statistics, 2024; arXiv:2103.06476): Robbins' two-sided
normal-mixture boundary (Howard, Ramdas, McAuliffe and Sekhon, "Time-uniform,
nonparametric, nonasymptotic confidence sequences", Annals of Statistics 49(2), 2021)
applied to an estimator that is asymptotically normal. It is the method GrowthBook and
Eppo document for their sequential testing.

For an estimate with standard error `se` from `n` observations in all (both arms),
with sigma^2 = se^2 n the per-observation variance and rho the mixing parameter,

    half-width = sigma * sqrt( 2 (n rho^2 + 1) / (n^2 rho^2) * ln( sqrt(n rho^2 + 1) / alpha ) )

holds at every n at once with probability >= 1 - alpha (asymptotically), so a
marketer may look every hour and stop whenever the interval excludes zero. rho is
chosen to make the sequence tightest at `tuning_n` observations,

    rho^2 = ( -2 ln alpha + ln(1 - 2 ln alpha) ) / tuning_n,

and the always-valid p-value (the smallest alpha whose sequence excludes 0) is

    p = min(1, sqrt(n rho^2 + 1) * exp( -z^2 n rho^2 / (2 (n rho^2 + 1)) )),  z = estimate / se.

Before `tuning_n` is reached the sequence is wider than it is there; it is always
wider than the fixed-horizon interval at the same n: the price of peeking.
"""

from __future__ import annotations

import math

DEFAULT_TUNING_N = 5_000.0  # GrowthBook's default for the same parameter


def mixing_rho_squared(alpha: float, tuning_n: float) -> float:
    """rho^2 that makes the sequence tightest at `tuning_n` observations."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if not tuning_n > 0:
        raise ValueError(f"tuning_n must be > 0, got {tuning_n}")
    log_alpha = math.log(alpha)
    return (-2.0 * log_alpha + math.log1p(-2.0 * log_alpha)) / tuning_n


def half_width(se: float, n: int, alpha: float, tuning_n: float) -> float:
    """The confidence sequence's half-width around an estimate with standard error `se`."""
    nr2 = n * mixing_rho_squared(alpha, tuning_n)
    return se * math.sqrt(2.0 * (nr2 + 1.0) / nr2 * math.log(math.sqrt(nr2 + 1.0) / alpha))


def always_valid_p(z: float, n: int, alpha: float, tuning_n: float) -> float:
    """The always-valid p-value of z = estimate / se (rho set for `alpha`, `tuning_n`)."""
    nr2 = n * mixing_rho_squared(alpha, tuning_n)
    log_p = 0.5 * math.log1p(nr2) - z * z * nr2 / (2.0 * (nr2 + 1.0))
    return min(1.0, math.exp(log_p))
