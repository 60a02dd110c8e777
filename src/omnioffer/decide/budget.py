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


class Budgets:
    """One worker's view of the budgeted offers' served counts."""

    def __init__(
        self,
        store: FeatureStore,
        policy: Policy,
        *,
        timeout_s: float,
        ticker: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.caps, self.timeout = store, dict(policy.offer_budgets), timeout_s
        self.refresh_s, self.tick = policy.budget_refresh_s, ticker
        self.counts: dict[str, int] = {}  # as the store last said
        self.mine: dict[str, int] = {}  # served by this worker since
        self.read_at: float | None = None

    async def spent(self) -> frozenset[str]:
        """The budgeted offers that may not be served any more."""
        if not self.caps:
            return frozenset()
        now = self.tick()
        if self.read_at is None or now - self.read_at >= self.refresh_s:
            await self._refresh(now)
        return frozenset(
            o for o, cap in self.caps.items() if self.counts.get(o, 0) + self.mine.get(o, 0) >= cap
        )

    async def _refresh(self, now: float) -> None:
        try:
            found = await asyncio.wait_for(self.store.offer_counters(list(self.caps)), self.timeout)
        except (OmniofferError, TimeoutError) as exc:  # keep the last counts: degrade
            log.warning("budget counters unavailable, using the last ones: %s", exc)
            return
        self.counts = {o: row.get(SERVED, 0) for o, row in found.items()}
        self.mine, self.read_at = {}, now

    async def served(self, offer_ids: Iterable[str], *, share: bool = True) -> None:
        """Count a decision's offers against their budgets (the unbudgeted are ignored),
        in the store too unless not `share` (it is known to be down)."""
        budgeted = [o for o in offer_ids if o in self.caps]
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
