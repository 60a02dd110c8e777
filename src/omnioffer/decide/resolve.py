"""Resolve and fetch: who the request is about, and everything the stages read of them.

resolve identity (a customer id, or any linked identifier) -> fetch the customer's
batch record, real-time events and previous decision in one store round trip ->
the request's Context (the batch consent with the live consent overlay over it,
decide/consent.py). A store that fails or times out here degrades the request to
the popularity fallback (Context.fallback = "store_unavailable"), never to an error;
while it is down, the store gate lets one request at a time ask it and the others
fall back at once (decide/store_gate.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from omnioffer.contracts.erasure import anonymous_id
from omnioffer.contracts.http import Who
from omnioffer.contracts.payloads import decode_batch, decode_event
from omnioffer.decide.consent import apply_overlay
from omnioffer.decide.eligibility import Customer
from omnioffer.decide.ingest import check_who
from omnioffer.decide.stickiness import Served, decode_served, events_marker
from omnioffer.decide.store_gate import StoreGate
from omnioffer.errors import InputError
from omnioffer.features.history import History
from omnioffer.store.base import FeatureStore, NothingMaterialized, StoreUnavailable
from omnioffer.version.holder import ActiveModel, ModelHolder

log = logging.getLogger("omnioffer.serve")
F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Context:
    """One request's view of a customer: None fields mean we fell back."""

    model: ActiveModel
    customer_id: str | None
    history: History
    who: Customer
    user: F32 | None
    fallback: str | None
    last: Served | None = None  # the customer's previous decision
    marker: str = "0"  # of the customer's real-time events now
    first_touch: bytes | None = None  # the customer's sticky experiment record


def check_channel(channel: str, channels: Sequence[str]) -> str:
    if channel not in channels:
        known = ", ".join(channels)
        raise InputError("$.channel", f"unknown channel {channel!r} (known: {known})")
    return channel


def not_materialized(store_label: str) -> str:
    """What to do about a store without an active version (the CLI prints it too)."""
    return (
        f"nothing is materialized in {store_label}; run `omnioffer materialize` on it, or"
        " point --store at the store that holds a version (after `make demo`:"
        " sqlite:///<abs path>/demo-data/store.sqlite)"
    )


class Resolver:
    """The first stages of every read: the active model, the customer, their Context."""

    def __init__(
        self,
        store: FeatureStore,
        holder: ModelHolder,
        *,
        clock: Callable[[], float],
        store_timeout_s: float,
        store_label: str = "the feature store",
    ) -> None:
        self.store, self.holder, self.clock, self.timeout = store, holder, clock, store_timeout_s
        self.store_label = store_label
        self.gate = StoreGate()

    async def model(self) -> ActiveModel:
        model = await self.holder.current()
        if model is None and self.holder.store_is_empty:
            raise NothingMaterialized(not_materialized(self.store_label))
        if model is None:
            raise StoreUnavailable("no model version is loaded yet; retry shortly")
        return model

    async def customer_id(self, who: Who) -> str:
        check_who(who.customer_id, who.id_type, who.id_value, "$")
        if who.customer_id is not None:
            return who.customer_id
        if who.id_type is None or who.id_value is None:  # check_who refused this already
            raise InputError("$.id_type", "give customer_id or id_type + id_value")
        found = await self.store.resolve(who.id_type, who.id_value)
        return found or anonymous_id(who.id_type, who.id_value)

    async def context(self, who: Who) -> Context:
        model, now = await self.model(), self.clock()
        check_who(who.customer_id, who.id_type, who.id_value, "$")  # a 400 even when down
        if self.gate.closed():
            return self._unavailable(model, who, now)
        try:
            with self.gate.asking():
                # asyncio.timeout, not wait_for: no extra task per call on the hot path
                if who.customer_id is not None:  # no store call: no timeout to arm
                    cid = await self.customer_id(who)
                else:
                    async with asyncio.timeout(self.timeout):
                        cid = await self.customer_id(who)
                async with asyncio.timeout(self.timeout):
                    record = await self.store.fetch_customer(model.name, cid)
        except (StoreUnavailable, TimeoutError) as exc:
            log.warning("store unavailable, serving the fallback: %s", exc)
            return self._unavailable(model, who, now)
        batch = decode_batch(record.batch) if record.batch else None
        events = (batch.events if batch else []) + [decode_event(p) for p in record.events]
        h = History.build(events, model.data, now, clamp=True)
        last, marker = decode_served(record.last_decision), events_marker(record.events)
        touch = record.first_touch
        if batch is None:  # unknown to the model, but its live consent still holds
            stranger = Customer(None, dict(record.consent))
            return Context(model, cid, h, stranger, None, "unknown_customer", last, marker,
                           touch)  # fmt: skip
        user = np.frombuffer(batch.factors, dtype=np.float32) if batch.factors else None
        profile = Customer(batch.segment, apply_overlay(batch.consent, record.consent))
        return Context(model, cid, h, profile, user, None, last, marker, touch)

    @staticmethod
    def _unavailable(model: ActiveModel, who: Who, now: float) -> Context:
        empty, nobody = History.build([], model.data, now), Customer(None, {})
        return Context(model, who.customer_id, empty, nobody, None, "store_unavailable")
