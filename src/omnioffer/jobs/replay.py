"""Replay decisions through the service's own decision path, as of a given instant.

`omnioffer evaluate-serving` asks, for every customer-channel group of a version's test
window, what `/v1/decisions` would have served at the start of that window: the same
DecisionService the HTTP handler calls (service.make_service: the settings' store,
model holder, policy and a frozen replay clock), each request a dry run naming the
offers to answer for (`explain`), so the why-not verdicts come from the same rules
that served. Nothing is recorded in the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from omnioffer.contracts.http import DecisionRequest, DecisionResponse
from omnioffer.errors import DataError
from omnioffer.service import make_service, open_service_store
from omnioffer.settings import Settings


@dataclass(frozen=True)
class Ask:
    """One decision to replay: who, where, and the offers to answer for."""

    customer_id: str
    channel: str
    explain: tuple[str, ...] = ()


async def replay(settings: Settings, asks: Iterable[Ask], *, k: int) -> list[DecisionResponse]:
    """The decision of each ask, in order. `settings.as_of` is the replay instant (use
    replay_clock = "frozen"); a store that fails mid-replay is an error, not a fallback:
    a degraded answer would measure the outage, not the policy."""
    service = make_service(settings, open_service_store(settings))
    try:
        await service.holder.refresh()
        if service.holder.model is None:
            raise DataError(
                f"nothing to replay: no model version is active in {settings.store_url}"
            )
        out = []
        for ask in asks:
            request = DecisionRequest(customer_id=ask.customer_id, channel=ask.channel, k=k,
                                      explain=list(ask.explain), dry_run=True)  # fmt: skip
            answer = await service.decide(request)
            if answer.fallback == "store_unavailable":
                raise DataError(f"the store {settings.store_url} failed during the replay")
            out.append(answer)
        return out
    finally:
        await service.close()
