"""Tails and quantiles of the normal, Student t and chi-square distributions.

The normal from `math.erfc`; its quantile by Acklam's rational approximation
(relative error 1.15e-9) polished by one Halley step to full double precision. The t
tail is an incomplete beta, its quantile a safeguarded Newton iteration; the
chi-square tail is an upper incomplete gamma (`special`). Checked against scipy in
tests/unit/stats/test_stats_distributions.py.
"""

from __future__ import annotations

import math

from omnioffer.stats.special import beta_i, gamma_q

SQRT2 = math.sqrt(2.0)
SQRT2PI = math.sqrt(2.0 * math.pi)

# P. J. Acklam, "An algorithm for computing the inverse normal cumulative distribution
# function" (2003): coefficients of the central and tail rational functions.
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)  # fmt: skip
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)  # fmt: skip
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)  # fmt: skip
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
      3.754408661907416e00)  # fmt: skip
_P_LOW = 0.02425
LARGE_DF = 1e5


def _poly(coefficients: tuple[float, ...], x: float) -> float:
    out = 0.0
    for c in coefficients:
        out = out * x + c
    return out


def normal_cdf(x: float) -> float:
    """P(Z <= x) for a standard normal Z."""
    return 0.5 * math.erfc(-x / SQRT2)


def normal_sf(x: float) -> float:
    """P(Z > x) for a standard normal Z, precise far into the tail."""
    return 0.5 * math.erfc(x / SQRT2)


def normal_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / SQRT2PI


def normal_ppf(p: float) -> float:
    """The x with P(Z <= x) = p, for 0 < p < 1."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"normal_ppf needs 0 < p < 1, got {p}")
    if p < _P_LOW or p > 1.0 - _P_LOW:
        q = math.sqrt(-2.0 * math.log(min(p, 1.0 - p)))
        x = _poly(_C, q) / (_poly(_D, q) * q + 1.0)
        x = x if p < _P_LOW else -x
    else:
        q = p - 0.5
        r = q * q
        x = _poly(_A, r) * q / (_poly(_B, r) * r + 1.0)
    # One Halley step on the residual; in the upper tail the residual is taken on the
    # survival side so it keeps its precision.
    e = normal_cdf(x) - p if p <= 0.5 else (1.0 - p) - normal_sf(x)
    u = e * SQRT2PI * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)


def normal_isf(q: float) -> float:
    """The x with P(Z > x) = q, for 0 < q < 1."""
    return -normal_ppf(q)


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with `df` > 0 degrees of freedom (inf: the normal)."""
    if df <= 0 or math.isnan(df):
        raise ValueError(f"t_sf needs df > 0, got {df}")
    if math.isinf(df):
        return normal_sf(t)
    if df > LARGE_DF and t**4 <= 1e-5 * df:
        # sf_z(t) + phi(t) (t^3 + t) / (4 df) + O(t^8 / df^2): the first term of the
        # expansion of the t density in 1/df, within 1e-11 here. The incomplete beta's
        # continued fraction loses digits to cancellation when df / (df + t^2) is near 1
        # (relative error up to 3e-9 at df = 1e8, 3e-10 at 1e7, 1e-11 at 1e6).
        return normal_sf(t) + normal_pdf(t) * (t**3 + t) / (4.0 * df)
    t2 = t * t
    tail = 0.5 * beta_i(0.5 * df, 0.5, df / (df + t2), t2 / (df + t2))
    return tail if t >= 0 else 1.0 - tail


def t_pdf(t: float, df: float) -> float:
    log_norm = math.lgamma(0.5 * (df + 1.0)) - math.lgamma(0.5 * df) - 0.5 * math.log(df * math.pi)
    return math.exp(log_norm - 0.5 * (df + 1.0) * math.log1p(t * t / df))


def t_isf(q: float, df: float) -> float:
    """The t with P(T > t) = q, for 0 < q < 1 and df > 0 (inf: the normal)."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"t_isf needs 0 < q < 1, got {q}")
    if df <= 0 or math.isnan(df):
        raise ValueError(f"t_isf needs df > 0, got {df}")
    if math.isinf(df):
        return normal_isf(q)
    if q > 0.5:
        return -t_isf(1.0 - q, df)
    # Bracket [lo, hi] around the root of t_sf(t) = q (t_sf falls from 0.5 at t = 0).
    z = normal_isf(q)
    guess = z + (z**3 + z) / (4.0 * df)  # Cornish-Fisher start
    lo, hi = 0.0, max(guess, 1.0)
    while t_sf(hi, df) > q:
        lo, hi = hi, hi * 2.0
    t = min(max(guess, lo), hi)
    for _ in range(200):
        gap = t_sf(t, df) - q
        if gap > 0:
            lo = t
        else:
            hi = t
        nxt = t + gap / t_pdf(t, df)
        if not lo < nxt < hi:  # Newton left the bracket: bisect instead
            nxt = 0.5 * (lo + hi)
        if abs(nxt - t) <= 1e-13 * max(1.0, abs(t)):
            return nxt
        t = nxt
    raise ArithmeticError(f"t_isf({q}, {df}) did not converge")


def chi2_sf(x: float, df: float) -> float:
    """P(X > x) for a chi-square variable with `df` > 0 degrees of freedom."""
    if df <= 0:
        raise ValueError(f"chi2_sf needs df > 0, got {df}")
    if x <= 0:
        return 1.0
    return gamma_q(0.5 * df, 0.5 * x)
