"""One customer, one conversation: the top offer holds across channels until something happens.

Each served decision is remembered with a marker of the customer's real-time events
at that moment. If the next decision, on any channel, finds the same marker (nothing
new happened since) within `sticky_minutes`, and the previous top offer is still
allowed here with at least `sticky_min_share` of the best offer's priority, it stays
on top, so web and app do not contradict each other just because their channel
features differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

import msgspec

from omnioffer.decide.policy import Policy
from omnioffer.decide.ranked import Ranked


class Served(msgspec.Struct, array_like=True):
    """What a decision served (also the feedback check: which offers were in it)."""

    channel: str
    offers: list[str]
    at: float = 0.0
    marker: str = ""


def events_marker(events: Sequence[bytes]) -> str:
    """Changes whenever an event is added (count alone saturates at the list cap)."""
    if not events:
        return "0"
    return f"{len(events)}:{hashlib.sha256(events[-1]).hexdigest()[:16]}"


def decode_served(payload: bytes | None) -> Served | None:
    if payload is None:
        return None
    try:
        return msgspec.msgpack.decode(payload, type=Served)
    except msgspec.DecodeError:
        return None  # written by an incompatible version: start a new conversation


def keep_top(
    ranked: list[Ranked], last: Served | None, marker: str, now: float, policy: Policy
) -> list[Ranked]:
    if last is None or not last.offers or last.marker != marker:
        return ranked
    if now - last.at > policy.sticky_minutes * 60:
        return ranked
    top = last.offers[0]
    at = next((i for i, r in enumerate(ranked) if r.offer.offer_id == top), None)
    if not at:  # None: not allowed here any more; 0: already on top
        return ranked
    held = ranked[at]
    if held.priority < policy.sticky_min_share * ranked[0].priority:
        return ranked  # a clearly better offer wins over the conversation
    why = [*held.reasons, f"also your top offer on {last.channel}"]
    return [replace(held, reasons=why), *ranked[:at], *ranked[at + 1 :]]
