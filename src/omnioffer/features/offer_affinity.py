"""The customer's affinity to each offer's categories, and the smoothed rates.

co_cat_share and ca_*: per offer, the best over its covered categories of the
customer's purchase share, distinct items bought or browsed, and response rate to
offers of the category (smoothed towards the prior).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from omnioffer.features.offer_scan import Scan
from omnioffer.features.offer_tables import Prepared, prepared
from omnioffer.features.spec import (
    CATEGORY_PRIOR_WEIGHT,
    SHARE_SMOOTHING,
    smoothed_rate,
)
from omnioffer.version.model import VersionModel

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def category_shares(scan: Scan, model: VersionModel) -> dict[str, float]:
    """Share of the customer's purchased quantity per category. Purchases of items the
    version does not know are dropped, while uncategorised items count in the total
    but match no offer."""
    known = [p for p in scan.purchases if p.item >= 0]
    total = sum(p.qty for p in known)
    qty: dict[str, float] = {}
    for p in known:
        cat = model.category_of[p.item]
        if cat is not None:
            qty[cat] = qty.get(cat, 0.0) + p.qty
    return {c: q / total for c, q in qty.items()} if total > 0 else {}


def category_items(scan: Scan, model: VersionModel) -> dict[str, float]:
    """Distinct items the customer bought, or viewed or carted in the last recent_days,
    per (known) category: the browsing the materialized history keeps."""
    counts: dict[str, float] = {}
    for item in scan.browsed.union(p.item for p in scan.purchases if p.item >= 0):
        cat = model.category_of[item]
        if cat is not None:
            counts[cat] = counts.get(cat, 0.0) + 1.0
    return counts


def category_rates(scan: Scan, prep: Prepared, prior: float) -> dict[str, float]:
    """The customer's smoothed response rate per category of the offers they have
    events on (each offer event counts for every category of the offer; an offer the
    version lacks has no categories)."""
    totals: dict[str, list[float]] = {}
    for offer, t in scan.offers.items():
        for cat in prep.categories.get(offer, ()):
            acc = totals.setdefault(cat, [0.0, 0.0])
            acc[0] += t.resp
            acc[1] += t.impr
    return {c: smoothed_rate(r, i, prior, CATEGORY_PRIOR_WEIGHT) for c, (r, i) in totals.items()}


def best_of_categories(
    prep: Prepared, offers: I64, rows: Sequence[tuple[Mapping[str, float], float, float]]
) -> F64:
    """One row per (values by category, fill, floor): per offer, the largest of the floor
    and its covered categories' values (the fill for a category without one); an offer
    without categories gets max(fill, floor). Values are finite, so the order in which
    the maximum visits them does not matter."""
    values = np.empty((len(rows), prep.no_category + 1))
    for r, (by_category, fill, floor) in enumerate(rows):
        values[r] = max(fill, floor)
        values[r, prep.pad] = -np.inf
        for cat, value in by_category.items():
            j = prep.category.get(cat)
            if j is not None:
                values[r, j] = value if value > floor else floor
    if len(prep.category_pad) == 1:  # no offer has two categories: nothing to compare
        best: F64 = values.take(prep.category_pad[0].take(offers), axis=1)
        return best
    best = values.take(prep.category_pad.take(offers, axis=1), axis=1).max(axis=1)
    return best


def _log_share(best: F64, counts: Mapping[str, float]) -> F64:
    """ca_log_share from each offer's best category item count: the smoothed log share."""
    add_cat, add_all = SHARE_SMOOTHING
    total = sum(counts.values()) + add_all
    out: F64 = np.log((best + add_cat) / total)
    return out


def category_affinity(  # noqa: PLR0917 (one value per category table)
    model: VersionModel,
    offers: I64,
    shares: Mapping[str, float],
    rates: Mapping[str, float],
    counts: Mapping[str, float],
    prior: float,
) -> dict[str, F64]:
    """Per offer, best over its categories: the customer's share of purchases in the
    category (co_cat_share), response rate to offers of the category (ca_rate) and log
    share of their distinct items in it (ca_log_share)."""
    share, count, rate = best_of_categories(
        prepared(model),
        offers,
        [(shares, 0.0, 0.0), (counts, 0.0, 0.0), (rates, prior, -np.inf)],
    )
    return {"co_cat_share": share, "ca_rate": rate, "ca_log_share": _log_share(count, counts)}
