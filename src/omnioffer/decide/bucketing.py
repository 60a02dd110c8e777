"""GrowthBook's bucketing, so an assignment can be reproduced by any GrowthBook SDK.

Written from GrowthBook's published SDK specification (the `hash`, `getBucketRange`,
`chooseVariation` and `inNamespace` cases of `packages/sdk-js/test/cases.json`, which
tests/unit/decide/growthbook_cases.json copies and test_bucketing.py checks):

- FNV-1a 32-bit over the string's UTF-16 code units (what the JavaScript reference
  hashes; the same as its characters for every id in the Basic Multilingual Plane);
- `unit_hash(seed, value, 2)` = fnv1a32(str(fnv1a32(seed + value))) mod 10,000 / 10,000,
  the unbiased v2 hash; version 1, fnv1a32(value + seed) mod 1,000 / 1,000, is kept
  because GrowthBook's namespaces use it;
- bucket ranges: variant i owns [w_0 + ... + w_(i-1), that + coverage x w_i), so raising
  coverage only widens each range from its fixed start and never moves anyone.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

FNV_OFFSET = 0x811C9DC5
FNV_PRIME = 0x01000193
_MASK = 0xFFFFFFFF
_UTF16 = "utf-16-le" if sys.byteorder == "little" else "utf-16-be"
WEIGHT_SLACK = 0.01  # GrowthBook falls back to equal weights outside 1 +- this

Range = tuple[float, float]


def fnv1a32(text: str, state: int = FNV_OFFSET) -> int:
    """FNV-1a, 32 bits, over the UTF-16 code units of `text` (as JavaScript sees it).
    `state`: the hash of a prefix, so fnv1a32(b, fnv1a32(a)) == fnv1a32(a + b)."""
    if text.isascii():
        units: bytes | memoryview = text.encode()
    else:  # lone surrogates pass as the code units they are, as in JavaScript
        units = memoryview(text.encode(_UTF16, "surrogatepass")).cast("H")
    h = state
    for unit in units:
        h = ((h ^ unit) * FNV_PRIME) & _MASK
    return h


def unit_hash(seed: str, value: str, version: int = 2) -> float | None:
    """GrowthBook's `hash`: a number in [0, 1) for `value` under `seed`; None for a
    version GrowthBook does not define."""
    if version == 2:
        return seeded_hash(fnv1a32(seed), value)
    if version == 1:
        return (fnv1a32(value + seed) % 1_000) / 1_000
    return None


def seeded_hash(seed_state: int, value: str) -> float:
    """unit_hash(seed, value, 2) from fnv1a32(seed), computed once per seed."""
    return (fnv1a32(str(fnv1a32(value, seed_state))) % 10_000) / 10_000


def equal_weights(n: int) -> list[float]:
    return [1.0 / n] * n if n > 0 else []


def bucket_ranges(
    n: int, coverage: float = 1.0, weights: Sequence[float] | None = None
) -> list[Range]:
    """GrowthBook's `getBucketRanges`: one [start, end) per variant. Coverage is clamped to
    [0, 1]; missing weights, or weights of the wrong length or not summing to about 1,
    fall back to equal ones (omnioffer's definitions refuse those before they get here)."""
    coverage = min(max(coverage, 0.0), 1.0)
    chosen = list(weights) if weights is not None else equal_weights(n)
    if len(chosen) != n or abs(sum(chosen) - 1.0) > WEIGHT_SLACK:
        chosen = equal_weights(n)
    out: list[Range] = []
    start = 0.0
    for w in chosen:
        out.append((start, start + coverage * w))
        start += w
    return out


def choose_variation(n: float, ranges: Sequence[Range]) -> int:
    """GrowthBook's `chooseVariation`: the index of the range holding `n`, else -1."""
    for i, (lo, hi) in enumerate(ranges):
        if lo <= n < hi:
            return i
    return -1


def namespace_point(value: str, name: str) -> float:
    """Where `value` falls in namespace `name`: GrowthBook hashes it with version 1 and
    the seed "__" + name. Every experiment of the namespace reads the same point."""
    return (fnv1a32(value + "__" + name) % 1_000) / 1_000


def in_namespace(value: str, name: str, lo: float, hi: float) -> bool:
    """GrowthBook's `inNamespace`: whether `value` falls in [lo, hi) of namespace `name`."""
    return lo <= namespace_point(value, name) < hi
