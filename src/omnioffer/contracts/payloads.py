"""What the feature store holds, encoded with msgpack (compact, no pickle).

A version's globals are one Catalog blob (items, offers, popularity, CF item
factors) under the global key CATALOG. Real-time events keep string ids (they
outlive model versions); a version's batch record holds the customer's compact
history, segment, consents and CF factors. Written by materialize and ingest, read
by the decision path.
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


class ConsentChange(msgspec.Struct, frozen=True, kw_only=True):
    """A live consent change, as the event log keeps it beside the events: a map, where
    an Event is an array, so one log decoder tells the two apart."""

    ts: float  # epoch seconds, the service clock
    consent: dict[str, bool]  # channel -> granted


_event_encoder = msgspec.msgpack.Encoder()
_event_decoder = msgspec.msgpack.Decoder(Event)
_consent_decoder = msgspec.msgpack.Decoder(ConsentChange)
_MSGPACK_MAPS = (0xDE, 0xDF)  # map16, map32; fixmap is 0x80..0x8f
_batch_decoder = msgspec.msgpack.Decoder(CustomerBatch)


def encode_event(event: Event) -> bytes:
    return _event_encoder.encode(event)


def decode_event(payload: bytes) -> Event:
    return _event_decoder.decode(payload)


def encode_consent(change: ConsentChange) -> bytes:
    return _event_encoder.encode(change)


def decode_log_entry(payload: bytes) -> Event | ConsentChange:
    """A log entry's payload: an ingested event (a msgpack array), or a consent change
    (a msgpack map)."""
    first = payload[0] if payload else 0
    if first & 0xF0 == 0x80 or first in _MSGPACK_MAPS:
        return _consent_decoder.decode(payload)
    return _event_decoder.decode(payload)


def encode_batch(batch: CustomerBatch) -> bytes:
    return _event_encoder.encode(batch)


def decode_batch(payload: bytes) -> CustomerBatch:
    return _batch_decoder.decode(payload)


CATALOG = "catalog"  # the store's global key of a version's Catalog


class OfferRow(msgspec.Struct, kw_only=True):
    offer_id: str
    title: str
    discount: float | None
    value: float | None
    start: float | None
    end: float | None
    channels: list[str]
    segments: list[str]
    max_per_customer: int | None
    covered_items: list[str]
    covered_categories: list[str]
    of_log_items: float | None
    of_rate: float | None
    of_log_impressions: float | None
    rate_channel: dict[str, float]


class Catalog(msgspec.Struct, kw_only=True):
    """Columns as plain lists: the wire form of a version's globals."""

    version: str
    cutoff: float
    prior: float
    channels: list[str]
    candidates: dict[str, int]
    item_ids: list[str]
    category: list[str | None]
    item_stats: dict[str, list[float | None]]  # it_price, it_pop28, ... aligned with item_ids
    channel_pop: dict[str, dict[str, tuple[float, float]]]  # channel -> item -> (pop, share)
    popular: list[str]
    popular_channel: dict[str, list[str]]
    cf_items: list[str]
    n_factors: int
    item_factors: bytes
    offers: list[OfferRow]
    offer_vocab: list[str]
    offer_vectors: bytes


_catalog_encoder = msgspec.msgpack.Encoder()
_catalog_decoder = msgspec.msgpack.Decoder(Catalog)


def encode_catalog(catalog: Catalog) -> bytes:
    return _catalog_encoder.encode(catalog)


def decode_catalog(blob: bytes) -> Catalog:
    return _catalog_decoder.decode(blob)
