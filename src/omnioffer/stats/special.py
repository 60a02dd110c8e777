"""Regularized incomplete gamma and beta functions, by series and continued fractions.

The chi-square tail is an upper incomplete gamma, the Student t tail an incomplete
beta. Evaluated as in Press et al., *Numerical Recipes* (3rd ed., 2007), sections 6.2
and 6.4: a power series or a modified-Lentz continued fraction, whichever converges
fast for the argument, and the tail computed directly (never as 1 - something small)
so p-values far below 1e-16 keep their relative precision.
"""

from __future__ import annotations

import math

EPS = 1e-15
TINY = 1e-300
MAX_ITERATIONS = 100_000


def _not_converged(name: str, *args: float) -> ArithmeticError:
    return ArithmeticError(f"{name}{args}: continued fraction did not converge")


def _gamma_series(a: float, x: float) -> float:
    """P(a, x) by its power series (converges fast for x < a + 1)."""
    term = total = 1.0 / a
    ap = a
    for _ in range(MAX_ITERATIONS):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * EPS:
            return total * math.exp(-x + a * math.log(x) - math.lgamma(a))
    raise _not_converged("gamma_series", a, x)


def _gamma_fraction(a: float, x: float) -> float:
    """Q(a, x) by its continued fraction (converges fast for x >= a + 1)."""
    b = x + 1.0 - a
    c = 1.0 / TINY
    d = 1.0 / b
    h = d
    for i in range(1, MAX_ITERATIONS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = TINY if abs(d) < TINY else d
        c = b + an / c
        c = TINY if abs(c) < TINY else c
        d = 1.0 / d
        step = d * c
        h *= step
        if abs(step - 1.0) < EPS:
            return h * math.exp(-x + a * math.log(x) - math.lgamma(a))
    raise _not_converged("gamma_fraction", a, x)


def gamma_q(a: float, x: float) -> float:
    """The regularized upper incomplete gamma function Q(a, x) = Gamma(a, x) / Gamma(a)."""
    if a <= 0 or x < 0:
        raise ValueError(f"gamma_q needs a > 0 and x >= 0, got a={a}, x={x}")
    if x == 0:
        return 1.0
    if x < a + 1.0:
        return 1.0 - _gamma_series(a, x)
    return _gamma_fraction(a, x)


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) (converges fast for x < (a + 1) / (a + b + 2))."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (TINY if abs(d) < TINY else d)
    h = d
    for m in range(1, MAX_ITERATIONS):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (TINY if abs(d) < TINY else d)
            c = 1.0 + aa / c
            c = TINY if abs(c) < TINY else c
            step = d * c
            h *= step
        if abs(step - 1.0) < EPS:
            return h
    raise _not_converged("beta_fraction", a, b, x)


def _stirling_tail(z: float) -> float:
    """lnGamma(z) - ((z - 1/2) ln z - z + ln(2 pi) / 2), by its asymptotic series (z > 100)."""
    z2 = z * z
    return (1.0 / 12.0 - (1.0 / 360.0 - 1.0 / (1260.0 * z2)) / z2) / z


def log_beta(a: float, b: float) -> float:
    """ln B(a, b) = lnGamma(a) + lnGamma(b) - lnGamma(a + b), without the cancellation of
    three large lgamma values when one argument is large (the t tail at df = 1e5)."""
    small, big = min(a, b), max(a, b)
    if big <= 100.0:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    ratio = (  # lnGamma(big + small) - lnGamma(big)
        (big - 0.5) * math.log1p(small / big)
        + small * math.log(big + small)
        - small
        + _stirling_tail(big + small)
        - _stirling_tail(big)
    )
    return math.lgamma(small) - ratio


def _log(x: float, one_minus_x: float) -> float:
    return math.log1p(-one_minus_x) if one_minus_x < 0.5 else math.log(x)


def beta_i(a: float, b: float, x: float, y: float | None = None) -> float:
    """The regularized incomplete beta function I_x(a, b).

    `y` is 1 - x when the caller knows it more precisely than `1 - x` would compute it
    (the t tail passes t^2 / (df + t^2) for a tiny tail)."""
    y = 1.0 - x if y is None else y
    if a <= 0 or b <= 0 or not 0.0 <= x <= 1.0 or abs(x + y - 1.0) > 1e-12:
        raise ValueError(f"beta_i needs a, b > 0, 0 <= x <= 1, y = 1 - x; got {a}, {b}, {x}, {y}")
    if x == 0.0 or y == 0.0:
        return 0.0 if x == 0.0 else 1.0
    log_front = a * _log(x, y) + b * _log(y, x) - log_beta(a, b)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, y) / b
