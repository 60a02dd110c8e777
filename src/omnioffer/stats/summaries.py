"""A variant's sufficient statistics: built from per-unit values, checked, and turned
into the means, variances and covariance the tests read.

The store can keep these sums incrementally (one counter per sum); a check names the
field of a summary that cannot be true (a negative count, more successes than units,
a sum of squares below what the sum implies), so a corrupt aggregate is refused rather
than turned into a confident wrong answer.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from omnioffer.contracts.statistics import CovariateSummary, MeanSummary, ProportionSummary
from omnioffer.errors import InputError

# Relative slack for sums of squares against the square of the sum (float rounding).
_ROUNDING = 1e-9


class Moments(NamedTuple):
    """Per-unit mean of the metric y and covariate x, sample (n - 1) variances and
    covariance; x terms are 0 without a covariate."""

    n: int
    y: float
    x: float
    vyy: float
    vxx: float
    vxy: float


def proportion_summary(successes: npt.ArrayLike) -> ProportionSummary:
    """The summary of per-unit 0/1 outcomes."""
    values = np.asarray(successes)
    return ProportionSummary(n=int(values.size), successes=int(np.count_nonzero(values)))


def mean_summary(values: npt.ArrayLike) -> MeanSummary:
    """The summary of per-unit metric values."""
    y = np.asarray(values, dtype=np.float64)
    return MeanSummary(n=int(y.size), total=float(y.sum()), total_sq=float(y @ y))


def covariate_summary(values: npt.ArrayLike, pre: npt.ArrayLike) -> CovariateSummary:
    """The summary of per-unit metric values and their pre-period covariate."""
    y = np.asarray(values, dtype=np.float64)
    x = np.asarray(pre, dtype=np.float64)
    if x.shape != y.shape:
        raise InputError("pre", f"needs one value per unit: {x.shape} against {y.shape}")
    return CovariateSummary(
        n=int(y.size), total=float(y.sum()), total_sq=float(y @ y),
        pre_total=float(x.sum()), pre_total_sq=float(x @ x), cross_total=float(x @ y),
    )  # fmt: skip


def as_mean(summary: ProportionSummary) -> MeanSummary:
    """A rate as the mean of 0/1 values, for a relative lift in rates (`means`)."""
    return MeanSummary(n=summary.n, total=summary.successes, total_sq=summary.successes)


def checked_count(value: object, field: str) -> int:
    """`value` as an int if it is a whole number >= 0 (numpy integers too)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise InputError(field, f"must be a whole number >= 0, got {value!r}")
    return int(value)


def _finite(value: float, field: str) -> float:
    if not math.isfinite(value):
        raise InputError(field, f"must be a finite number, got {value!r}")
    return float(value)


def _squares(total: float, total_sq: float, n: int, field: str) -> None:
    if total_sq < 0 or total * total > n * total_sq * (1 + _ROUNDING) + _ROUNDING:
        raise InputError(
            field, f"sum of squares {total_sq!r} is below sum^2 / n for sum {total!r}, n {n}"
        )


def checked_proportion(summary: ProportionSummary, field: str) -> ProportionSummary:
    n = checked_count(summary.n, f"{field}.n")
    successes = checked_count(summary.successes, f"{field}.successes")
    if successes > n:
        raise InputError(f"{field}.successes", f"{successes} exceeds n = {n}")
    return ProportionSummary(n=n, successes=successes)


def moments(summary: MeanSummary, field: str) -> Moments:
    """Means, variances and covariance of a checked summary (variances 0 for n < 2)."""
    n = checked_count(summary.n, f"{field}.n")
    total = _finite(summary.total, f"{field}.total")
    total_sq = _finite(summary.total_sq, f"{field}.total_sq")
    _squares(total, total_sq, n, f"{field}.total_sq")
    x_total = x_sq = cross = 0.0
    if isinstance(summary, CovariateSummary):
        x_total = _finite(summary.pre_total, f"{field}.pre_total")
        x_sq = _finite(summary.pre_total_sq, f"{field}.pre_total_sq")
        cross = _finite(summary.cross_total, f"{field}.cross_total")
        _squares(x_total, x_sq, n, f"{field}.pre_total_sq")
        if cross * cross > total_sq * x_sq * (1 + _ROUNDING) + _ROUNDING:
            raise InputError(
                f"{field}.cross_total", f"{cross!r} exceeds sqrt(total_sq * pre_total_sq)"
            )
    if n == 0:
        return Moments(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    y, x = total / n, x_total / n
    if n < 2:
        return Moments(n, y, x, 0.0, 0.0, 0.0)
    vyy = max(0.0, (total_sq - total * y) / (n - 1))
    vxx = max(0.0, (x_sq - x_total * x) / (n - 1))
    return Moments(n, y, x, vyy, vxx, (cross - total * x) / (n - 1))
