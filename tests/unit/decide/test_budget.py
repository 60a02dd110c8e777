"""Budgets under a failing store: the last counts keep serving, and the store is asked
again only after FAILED_RETRY_S, not on every decision (a hung Redis would cost each
decision a timeout)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import cast

from omnioffer.decide.budget import FAILED_RETRY_S, Budgets
from omnioffer.decide.policy import Policy
from omnioffer.store.base import FeatureStore, StoreUnavailable


class Flaky:
    """offer_counters answers `served` counts until `down`, then raises."""

    def __init__(self) -> None:
        self.down, self.calls = False, 0

    async def offer_counters(self, offer_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        self.calls += 1
        if self.down:
            raise StoreUnavailable("hung")
        return {o: {"served": 5} for o in offer_ids}


def test_a_failed_read_keeps_the_counts_and_waits_before_asking_again() -> None:
    store, now = Flaky(), [0.0]
    budgets = Budgets(cast(FeatureStore, store), timeout_s=0.1, ticker=lambda: now[0])
    policy = Policy(offer_budgets={"a": 5, "b": 9}, budget_refresh_s=0)
    assert asyncio.run(budgets.spent(policy)) == {"a"}
    store.down = True
    for _ in range(5):  # five decisions in the same instant: one read, then none
        now[0] += 0.01
        assert asyncio.run(budgets.spent(policy)) == {"a"}  # the last counts still hold
    assert store.calls == 2
    now[0] += FAILED_RETRY_S
    store.down = False
    asyncio.run(budgets.spent(policy))
    assert store.calls == 3
