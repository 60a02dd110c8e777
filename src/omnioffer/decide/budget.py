"""Per-offer volume budgets: an offer stops being served once decisions have served it
`offer_budgets[offer]` times, counted by every worker in the store.

Each decision that returns a budgeted offer (any rank; previews excluded) adds one to
its store counter (`count_served`). A worker reads the counters at most once per
`budget_refresh_s` and adds what it served itself since, so one worker never goes
over; several workers can go over by what the others served within one refresh
interval (at most workers x decisions per second x budget_refresh_s; 0 reads the
store on every decision, exact but one more round trip each).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from omnioffer.decide.policy import Policy
from omnioffer.errors import OmniofferError
from omnioffer.store.base import SERVED, FeatureStore

log = logging.getLogger("omnioffer.serve")
FAILED_RETRY_S = 1.0  # after a failed read, a hung store costs one timeout per second


class Budgets:
    """One worker's view of the budgeted offers' served counts. The budgets themselves
    come with each call's policy, so a reloaded policy applies at once."""

    def __init__(
        self, store: FeatureStore, *, timeout_s: float, ticker: Callable[[], float] = time.monotonic
    ) -> None:
        self.store, self.timeout, self.tick = store, timeout_s, ticker
        self.counts: dict[str, int] = {}  # as the store last said
        self.mine: dict[str, int] = {}  # served by this worker since
        self.read_at: float | None = None
        self.read_for: frozenset[str] = frozenset()  # the offers last read
        self.failed = False  # the last read failed: the next waits FAILED_RETRY_S

    async def spent(self, policy: Policy) -> frozenset[str]:
        """The budgeted offers that may not be served any more."""
        caps = policy.offer_budgets
        if not caps:
            return frozenset()
        now = self.tick()
        every = (
            max(policy.budget_refresh_s, FAILED_RETRY_S) if self.failed else policy.budget_refresh_s
        )
        stale = self.read_at is None or now - self.read_at >= every
        if stale or (not self.failed and not self.read_for.issuperset(caps)):
            await self._refresh(list(caps), now)
        return frozenset(
            o for o, cap in caps.items() if self.counts.get(o, 0) + self.mine.get(o, 0) >= cap
        )

    async def _refresh(self, offer_ids: list[str], now: float) -> None:
        try:
            found = await asyncio.wait_for(self.store.offer_counters(offer_ids), self.timeout)
        except (OmniofferError, TimeoutError) as exc:  # keep the last counts: degrade,
            log.warning("budget counters unavailable, using the last ones: %s", exc)
            self.read_at, self.failed = now, True  # and ask again in FAILED_RETRY_S, not now
            return
        self.counts = {o: row.get(SERVED, 0) for o, row in found.items()}
        self.mine, self.read_at, self.read_for = {}, now, frozenset(offer_ids)
        self.failed = False

    async def served(self, offer_ids: Iterable[str], policy: Policy, *, share: bool = True) -> None:
        """Count a decision's offers against their budgets (the unbudgeted are ignored),
        in the store too unless not `share` (it is known to be down)."""
        budgeted = [o for o in offer_ids if o in policy.offer_budgets]
        if not budgeted:
            return
        for o in budgeted:
            self.mine[o] = self.mine.get(o, 0) + 1
        if not share:
            return
        try:
            await asyncio.wait_for(self.store.count_served(budgeted), self.timeout)
        except (OmniofferError, TimeoutError) as exc:  # counted here, not shared: logged
            log.warning("could not count %s as served: %s", ", ".join(budgeted), exc)
