"""Sample-ratio mismatch: a chi-square goodness-of-fit test of the variants' unit counts
against their configured weights.

statistic = sum over variants of (observed - expected)^2 / expected, expected = N w_k /
sum(w), on k - 1 degrees of freedom; a mismatch is flagged at p < 0.001 (the threshold
GrowthBook and Optimizely use), strict enough that a healthy experiment checked every
hour is rarely flagged, while a 48/52 split of 20,000 units (statistic 32) is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from omnioffer.contracts.statistics import SrmCheck
from omnioffer.errors import InputError
from omnioffer.stats.distributions import chi2_sf
from omnioffer.stats.summaries import checked_count

DEFAULT_THRESHOLD = 0.001


def srm_check(
    counts: Mapping[str, int], weights: Mapping[str, float], *,
    threshold: float = DEFAULT_THRESHOLD,
) -> SrmCheck:  # fmt: skip
    """Check `counts` (units per variant) against `weights` (the same variants)."""
    if counts.keys() != weights.keys():
        raise InputError(
            "counts", f"variants {sorted(counts)} do not match the weights' {sorted(weights)}"
        )
    if len(weights) < 2:
        raise InputError("weights", "needs at least 2 variants")
    for name, w in weights.items():
        if not (math.isfinite(w) and w > 0):
            raise InputError(f"weights.{name}", f"must be a number > 0, got {w!r}")
    if not 0.0 < threshold < 1.0:
        raise InputError("threshold", f"must be between 0 and 1, got {threshold!r}")
    observed = {name: checked_count(n, f"counts.{name}") for name, n in counts.items()}
    total, weight = sum(observed.values()), sum(weights.values())
    expected = {name: total * w / weight for name, w in weights.items()}
    statistic = sum((observed[k] - e) ** 2 / e for k, e in expected.items()) if total else 0.0
    df = len(weights) - 1
    p = chi2_sf(statistic, df)
    return SrmCheck(
        method="chi_square_goodness_of_fit", observed=observed, expected=expected,
        statistic=statistic, df=df, p_value=p, threshold=threshold, mismatch=p < threshold,
    )  # fmt: skip
