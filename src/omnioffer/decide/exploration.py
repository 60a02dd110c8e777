"""Exploration: epsilon-greedy over the eligible offers, with exact propensities.

With probability epsilon the slate is a uniformly random ordering of k of the n
eligible offers, else the policy's own ranking; both draws come from a generator
seeded by the decision id, so a decision is reproducible from its id. The probability
that offer o is shown at rank r is then (contracts/decision_log.py)

    (1 - epsilon) * [the policy's ranking put o at r] + epsilon / n

never 0 for an eligible offer when epsilon > 0. `strategy random_eligible` is the same
draw with epsilon 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def rng_of(decision_id: str) -> np.random.Generator:
    """The decision's generator: its id (hex, as the service makes them) is the seed."""
    try:
        seed = int(decision_id, 16)
    except ValueError:
        seed = int.from_bytes(decision_id.encode()[:32].ljust(32, b"\0"), "big")
    return np.random.default_rng(seed)


@dataclass(frozen=True)
class Slate:
    order: list[int]  # positions into the eligible list, best first
    explored: bool


def draw(policy_order: Sequence[int], n: int, k: int, epsilon: float, decision_id: str) -> Slate:
    """The slate shown: `policy_order` (positions into the n eligible offers, at most k)
    or, with probability epsilon, a uniform random ordering of min(k, n) of them."""
    if epsilon <= 0 or n == 0:
        return Slate(list(policy_order), False)
    rng = rng_of(decision_id)
    if epsilon < 1 and rng.random() >= epsilon:
        return Slate(list(policy_order), False)
    return Slate([int(i) for i in rng.permutation(n)[: min(k, n)]], True)


def propensities(
    shown: Sequence[int], policy_order: Sequence[int], n: int, epsilon: float
) -> list[float]:
    """P(the logging policy shows shown[r] at rank r) for each rank r of the slate."""
    explore = epsilon / n if n else 0.0
    out = []
    for r, pos in enumerate(shown):
        greedy = 1.0 if r < len(policy_order) and policy_order[r] == pos else 0.0
        out.append((1.0 - epsilon) * greedy + explore)
    return out
