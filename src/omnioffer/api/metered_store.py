"""The feature store the service uses, wrapped once: every call timed, accepted events counted.

`MeteredStore` honours the FeatureStore protocol by delegating each method to the real
store. Each call's wall time (failures and timeouts included) goes to
`omnioffer_store_duration_seconds{operation}`; the service sees no difference. Both
/v1/events and /v1/feedback write through `ingest`, so the events the store accepted
(not its duplicates) are known here: their ingest lag is observed, and offer events
(`offer_impression` ... `offer_dismiss`, and the feedback outcomes recorded as them) are
counted per offer, channel and outcome. The cost is two clock reads and one histogram
observation per call, and one payload decode per accepted event.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from omnioffer.api.metrics import Metrics
from omnioffer.contracts.payloads import decode_event
from omnioffer.store.base import (
    CustomerRecord,
    Erasure,
    FeatureStore,
    IngestResult,
    RecordedDecision,
    StoredEvent,
    StoreLimits,
    VersionInfo,
)

T = TypeVar("T")
OFFER_EVENT = "offer_"


class MeteredStore:
    """A FeatureStore that reports to `metrics`; `clock` is the service's (for the lag)."""

    def __init__(self, inner: FeatureStore, metrics: Metrics, clock: Callable[[], float]) -> None:
        self.inner, self._metrics, self._clock = inner, metrics, clock
        self.limits: StoreLimits = inner.limits

    async def _timed(self, operation: str, call: Awaitable[T]) -> T:
        start = time.perf_counter()
        try:
            return await call
        finally:
            self._metrics.observe_store(operation, time.perf_counter() - start)

    def _count_accepted(self, events: Sequence[StoredEvent], result: IngestResult) -> None:
        fresh = set(result.accepted)  # an id twice in one batch is accepted once
        now = self._clock()
        for stored in events:
            if stored.event_id not in fresh:
                continue
            fresh.discard(stored.event_id)
            event = decode_event(stored.payload)
            self._metrics.observe_ingest_lag(now - event.ts)
            if event.offer is not None and event.type.startswith(OFFER_EVENT):
                outcome = event.type.removeprefix(OFFER_EVENT)
                self._metrics.count_outcome(event.offer, event.channel, outcome)

    # --- per request -----------------------------------------------------------
    async def fetch_customer(self, version: str, customer_id: str) -> CustomerRecord:
        return await self._timed("fetch_customer", self.inner.fetch_customer(version, customer_id))

    async def resolve(self, id_type: str, id_value: str) -> str | None:
        return await self._timed("resolve", self.inner.resolve(id_type, id_value))

    async def ingest(self, events: Sequence[StoredEvent]) -> IngestResult:
        result = await self._timed("ingest", self.inner.ingest(events))
        if result.accepted:
            self._count_accepted(events, result)
        return result

    async def offer_counters(self, offer_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        return await self._timed("offer_counters", self.inner.offer_counters(offer_ids))

    async def count_served(self, offer_ids: Sequence[str]) -> None:
        await self._timed("count_served", self.inner.count_served(offer_ids))

    async def remember_decision(self, decision_id: str, customer_id: str, payload: bytes) -> None:
        call = self.inner.remember_decision(decision_id, customer_id, payload)
        await self._timed("remember_decision", call)

    async def recall_decision(self, decision_id: str) -> tuple[str, bytes] | None:
        return await self._timed("recall_decision", self.inner.recall_decision(decision_id))

    async def set_consent(
        self, customer_id: str, consent: Mapping[str, bool], payload: bytes
    ) -> dict[str, bool]:
        return await self._timed("set_consent",
                                 self.inner.set_consent(customer_id, consent, payload))  # fmt: skip

    async def erase_customer(self, customer_id: str, erased_at: float) -> Erasure:
        return await self._timed(
            "erase_customer", self.inner.erase_customer(customer_id, erased_at)
        )

    async def tombstones(self) -> dict[str, float]:
        return await self._timed("tombstones", self.inner.tombstones())

    async def record_decision(self, decision: RecordedDecision) -> None:
        await self._timed("record_decision", self.inner.record_decision(decision))

    async def log_decisions(self, records: Sequence[tuple[str, bytes]]) -> None:
        await self._timed("log_decisions", self.inner.log_decisions(records))

    async def keep_first_touch(self, customer_id: str, record: bytes) -> bool:
        return await self._timed("keep_first_touch",
                                 self.inner.keep_first_touch(customer_id, record))  # fmt: skip

    async def experiments_checksum(self) -> str | None:
        return await self._timed("experiments_checksum", self.inner.experiments_checksum())

    async def get_experiments(self) -> tuple[str, bytes] | None:
        return await self._timed("get_experiments", self.inner.get_experiments())

    async def put_experiments(self, checksum: str, blob: bytes, expected: str | None) -> bool:
        return await self.inner.put_experiments(checksum, blob, expected)

    async def read_decisions(self, after: str | None, limit: int) -> list[tuple[str, bytes]]:
        return await self.inner.read_decisions(after, limit)

    async def ping(self) -> None:
        await self._timed("ping", self.inner.ping())

    async def active_version(self) -> str | None:
        return await self._timed("active_version", self.inner.active_version())

    async def get_global(self, version: str, name: str) -> bytes | None:
        return await self._timed("get_global", self.inner.get_global(version, name))

    async def close(self) -> None:
        await self.inner.close()

    # --- the rest of the protocol: jobs' operations, delegated untimed ------------
    async def begin_version(self, version: str) -> None:
        await self.inner.begin_version(version)

    async def put_globals(self, version: str, blobs: Mapping[str, bytes]) -> None:
        await self.inner.put_globals(version, blobs)

    async def put_customers(self, version: str, rows: Sequence[tuple[str, bytes]]) -> None:
        await self.inner.put_customers(version, rows)

    async def finish_version(self, version: str, info: Mapping[str, str]) -> None:
        await self.inner.finish_version(version, info)

    async def activate(self, version: str) -> None:
        await self.inner.activate(version)

    async def list_versions(self) -> list[VersionInfo]:
        return await self.inner.list_versions()

    async def drop_version(self, version: str) -> None:
        await self.inner.drop_version(version)

    async def put_identities(self, rows: Sequence[tuple[str, str, str]]) -> None:
        await self.inner.put_identities(rows)

    async def read_log(self, after: str | None, limit: int) -> list[tuple[str, str, bytes]]:
        return await self.inner.read_log(after, limit)

    async def trim_log(self, through: str) -> int:
        return await self.inner.trim_log(through)
