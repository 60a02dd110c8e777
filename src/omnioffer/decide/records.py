"""What the store holds per customer, encoded with msgpack (compact, no pickle).

Real-time events keep string ids (they outlive model versions); a version's batch
record holds the customer's compact history, segment, consents and CF factors.
"""

from __future__ import annotations

import msgspec


class Event(msgspec.Struct, array_like=True, frozen=True):
    """One event in a customer's history (batch or real time)."""

    ts: float  # epoch seconds
    type: str
    channel: str
    item: str | None = None
    offer: str | None = None
    qty: int = 1
    revenue: float | None = None
    event_id: str | None = None  # kept for export-events, so retraining can deduplicate


class CustomerBatch(msgspec.Struct, array_like=True):
    """A customer's batch record in one model version."""

    segment: str | None
    consent: dict[str, bool]  # channel -> consent; channels not listed need none
    factors: bytes  # float32 CF factors, empty when the CF model does not know them
    events: list[Event]


_event_encoder = msgspec.msgpack.Encoder()
_event_decoder = msgspec.msgpack.Decoder(Event)
_batch_decoder = msgspec.msgpack.Decoder(CustomerBatch)


def encode_event(event: Event) -> bytes:
    return _event_encoder.encode(event)


def decode_event(payload: bytes) -> Event:
    return _event_decoder.decode(payload)


def encode_batch(batch: CustomerBatch) -> bytes:
    return _event_encoder.encode(batch)


def decode_batch(payload: bytes) -> CustomerBatch:
    return _batch_decoder.decode(payload)
