"""Benjamini-Hochberg across metrics: control the false discovery rate.

With m p-values sorted p_(1) <= ... <= p_(m), the adjusted value of the i-th is
min over j >= i of min(1, m p_(j) / j); the hypotheses whose adjusted value is <= q are
rejected. For independent (or positively dependent) tests the expected share of true
nulls among the rejected is at most q m0 / m <= q (Benjamini and Hochberg, "Controlling
the false discovery rate", JRSS B 57(1), 1995).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from omnioffer.contracts.statistics import FdrAdjustment
from omnioffer.errors import InputError

DEFAULT_Q = 0.05


def benjamini_hochberg(p_values: Mapping[str, float], *, q: float = DEFAULT_Q) -> FdrAdjustment:
    """Adjust `p_values` (metric -> p) at false discovery rate `q`."""
    if not 0.0 < q < 1.0:
        raise InputError("q", f"must be between 0 and 1, got {q!r}")
    for name, p in p_values.items():
        if not (math.isfinite(p) and 0.0 <= p <= 1.0):
            raise InputError(f"p_values.{name}", f"must be a probability in [0, 1], got {p!r}")
    order = sorted(p_values, key=lambda name: p_values[name])
    m = len(order)
    adjusted: dict[str, float] = {}
    running = 1.0
    for rank in range(m, 0, -1):  # from the largest p down: a running minimum
        name = order[rank - 1]
        running = min(running, m * p_values[name] / rank)
        adjusted[name] = running
    in_order = {name: adjusted[name] for name in p_values}
    rejected = [name for name, value in in_order.items() if value <= q]
    return FdrAdjustment(method="benjamini_hochberg", q=q, adjusted=in_order, rejected=rejected)
