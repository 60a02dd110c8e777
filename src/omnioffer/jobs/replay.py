"""Replay decisions through the service's own decision path, each at its own instant.

`omnioffer evaluate-serving` asks, for every customer-channel group of a version's test
window, what `/v1/decisions` would have served when that channel first showed the
customer an offer: the DecisionService the HTTP handler calls (service.make_service: the
settings' store, model holder and policy), with a clock the replay sets before each
decision. The customers' events up to that instant are ingested first, through the
service's own ingest (as the channels would have sent them), so contact rules and
features see what a live service would have seen. Decisions are dry runs naming the
offers to answer for (`explain`), so the why-not verdicts come from the rules that
served; nothing but the ingested events is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from omnioffer.contracts.http import (
    MAX_EVENTS_PER_BATCH,
    DecisionRequest,
    DecisionResponse,
    EventIn,
    EventsRequest,
)
from omnioffer.errors import DataError
from omnioffer.service import make_service, open_service_store
from omnioffer.settings import Settings


@dataclass(frozen=True)
class Ask:
    """One decision to replay: who, where, when (epoch seconds), the offers to explain."""

    customer_id: str
    channel: str
    at: float
    explain: tuple[str, ...] = ()


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def replay(
    settings: Settings, asks: Sequence[Ask], events: Sequence[EventIn] = (), *, k: int
) -> list[DecisionResponse]:
    """The decision of each ask, in the order given. `events`: in time order, numeric
    timestamps; each is ingested before the first decision after it. A store that fails
    mid-replay is an error, not a fallback: a degraded answer would measure the outage."""
    clock = _Clock()
    service = make_service(settings, open_service_store(settings), clock=clock)
    order = sorted(range(len(asks)), key=lambda n: asks[n].at)
    out: dict[int, DecisionResponse] = {}
    try:
        await service.holder.refresh()
        if service.holder.model is None:
            raise DataError(f"nothing to replay: no version is active in {settings.store_url}")
        sent = 0
        for n in order:
            ask = asks[n]
            clock.now = ask.at
            upto = sent
            while upto < len(events) and float(events[upto].timestamp) < ask.at:
                upto += 1
            for lo in range(sent, upto, MAX_EVENTS_PER_BATCH):
                batch = list(events[lo : min(lo + MAX_EVENTS_PER_BATCH, upto)])
                await service.ingest(EventsRequest(events=batch))
            sent = upto
            request = DecisionRequest(customer_id=ask.customer_id, channel=ask.channel, k=k,
                                      explain=list(ask.explain), dry_run=True)  # fmt: skip
            answer = await service.decide(request)
            if answer.fallback == "store_unavailable":
                raise DataError(f"the store {settings.store_url} failed during the replay")
            out[n] = answer
        return [out[n] for n in range(len(asks))]
    finally:
        await service.close()
