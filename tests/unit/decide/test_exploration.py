"""Epsilon-greedy exploration: the logged propensities are the slate's true frequencies."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from omnioffer.decide.exploration import draw, propensities


@pytest.mark.parametrize(("epsilon", "n", "k"), [(0.1, 6, 3), (0.5, 4, 4), (1.0, 5, 2)])
def test_empirical_frequencies_match_the_logged_propensities(
    epsilon: float, n: int, k: int
) -> None:
    greedy = [2, 0, 4][:k] if n > 4 else list(range(k))
    runs = 20_000
    shown: Counter[tuple[int, int]] = Counter()
    logged: dict[tuple[int, int], float] = {}
    for i in range(runs):
        decision_id = uuid.UUID(int=i * 7919 + 13).hex  # seeded, like the service's ids
        slate = draw(greedy, n, k, epsilon, decision_id)
        assert slate == draw(greedy, n, k, epsilon, decision_id), "reproducible from the id"
        for rank, (pos, p) in enumerate(
            zip(slate.order, propensities(slate.order, greedy, n, epsilon), strict=True)
        ):
            shown[(pos, rank)] += 1
            assert logged.setdefault((pos, rank), p) == p
            assert p >= epsilon / n > 0
    for key, p in logged.items():
        se = (p * (1 - p) / runs) ** 0.5
        assert abs(shown[key] / runs - p) < 5 * se + 1e-9, (key, shown[key] / runs, p)
    assert len(logged) == (n * min(k, n) if epsilon > 0 else k)


def test_no_exploration_is_the_ranking_itself() -> None:
    slate = draw([3, 1], 5, 2, 0.0, uuid.uuid4().hex)
    assert (slate.order, slate.explored) == ([3, 1], False)
    assert propensities(slate.order, [3, 1], 5, 0.0) == [1.0, 1.0]
