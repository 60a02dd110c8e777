"""The results route's source: experiment results over the service's store, cached per
worker for `ttl_s` seconds per (experiment, query).

One results call reads the whole decision log and event log (a page of 10,000 at a
time, at most experiment_inputs.LIMIT entries of each, refused by name beyond that) and
runs the computation over them: O(decisions + events) time and memory, 13 passes with
the timeline (19 s at 100k customers and 315k events, docs/benchmarks.md). The cache
keeps a dashboard refreshing every few seconds, in every worker, from re-reading the
logs each time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from omnioffer.contracts.experiment_results import ExperimentResults, Query
from omnioffer.jobs.experiment_inputs import LIMIT, results_from_store
from omnioffer.store.base import FeatureStore

TTL_S = 5.0


class CachedResults:
    def __init__(
        self, store: FeatureStore, *, ttl_s: float = TTL_S, limit: int = LIMIT,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.store, self.ttl_s, self.limit, self.monotonic = store, ttl_s, limit, monotonic
        self._cache: dict[tuple[str, Query], tuple[float, ExperimentResults]] = {}

    async def results(self, experiment_id: str, query: Query) -> ExperimentResults:
        now = self.monotonic()
        key = (experiment_id, query)
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        fresh = await results_from_store(self.store, experiment_id, query, self.limit)
        self._cache = {k: v for k, v in self._cache.items() if now - v[0] < self.ttl_s}
        self._cache[key] = (now, fresh)
        return fresh

    async def close(self) -> None:
        await self.store.close()
