"""An interval and a p-value from an estimate and its standard error.

Fixed horizon: estimate +/- t_{1-alpha/2, df} se (df = inf: the normal) and the
two-sided p-value of t = estimate / se; valid when the sample size was fixed before
the data were seen and the result is read once. Sequential: the always-valid
confidence sequence of `sequential` (normal, df unused), valid at every look.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from omnioffer.contracts.statistics import Sequential
from omnioffer.errors import InputError
from omnioffer.stats import sequential as cs
from omnioffer.stats.distributions import t_isf, t_sf


class Interval(NamedTuple):
    low: float
    high: float
    p_value: float


def interval(
    estimate: float, se: float, *, confidence: float, df: float = math.inf,
    n: int = 0, sequential: Sequential | None = None,
) -> Interval:  # fmt: skip
    """The `confidence` interval and two-sided p-value of `estimate` (se > 0).

    `n` (all observations, both arms) is read in sequential mode only."""
    alpha = 1.0 - confidence
    if sequential is not None:
        width = cs.half_width(se, n, alpha, sequential.tuning_n)
        p = cs.always_valid_p(estimate / se, n, alpha, sequential.tuning_n)
    else:
        width = t_isf(alpha / 2.0, df) * se
        p = min(1.0, 2.0 * t_sf(abs(estimate) / se, df))
    return Interval(estimate - width, estimate + width, p)


def mode_name(sequential: Sequential | None) -> str:
    """The interval half of a result's `method`."""
    return "fixed_horizon" if sequential is None else "confidence_sequence"


def checked_confidence(confidence: float, field: str = "confidence") -> float:
    """`confidence` if it is a level strictly between 0 and 1."""
    if not 0.0 < confidence < 1.0:
        raise InputError(field, f"must be between 0 and 1 (e.g. 0.95), got {confidence!r}")
    return float(confidence)


def checked_sequential(sequential: Sequential | None) -> Sequential | None:
    """`sequential` if its tuning_n is a size > 0 (msgspec checks it only when decoding)."""
    if sequential is not None and not (
        math.isfinite(sequential.tuning_n) and sequential.tuning_n > 0
    ):
        raise InputError(
            "sequential.tuning_n", f"must be a number > 0, got {sequential.tuning_n!r}"
        )
    return sequential
