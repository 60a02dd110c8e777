"""Diversity: the best k offers with at most `max_per_category` per primary category."""

from __future__ import annotations

from collections.abc import Sequence

from omnioffer.decide.ranked import Ranked


def diverse(ranked: Sequence[Ranked], per_category: int, k: int) -> list[Ranked]:
    """The best k, at most `per_category` per primary category (backfilled if short)."""
    taken: dict[str, int] = {}
    out: list[Ranked] = []
    rest: list[Ranked] = []
    for r in ranked:
        cat = r.offer.covered_categories[0] if r.offer.covered_categories else r.offer.offer_id
        if taken.get(cat, 0) < per_category:
            taken[cat] = taken.get(cat, 0) + 1
            out.append(r)
        else:
            rest.append(r)
        if len(out) == k:
            return out
    return out + rest[: k - len(out)]
