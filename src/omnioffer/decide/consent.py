"""Live consent: a customer's per-channel consent, changed now, honoured on the next decision.

The change is stored as a real-time overlay over the batch profile's consent (the
store keeps it beside the customer's events: every worker reads it in the decision's
one round trip, so the next decision anywhere honours it), and recorded in the event
log as a ConsentChange (export-events writes it to the `consents` file). The overlay
wins over the batch consent until the customer is erased; it never expires.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from omnioffer.contracts.erasure import ANON_PREFIX
from omnioffer.contracts.http import ConsentResponse, member_path
from omnioffer.contracts.payloads import ConsentChange, encode_consent
from omnioffer.decide.erasure import check_path_id
from omnioffer.errors import InputError
from omnioffer.store.base import FeatureStore


def check_consent(consent: Mapping[str, bool], channels: Sequence[str]) -> dict[str, bool]:
    """Every member a configured channel (InputError at its path), at least one."""
    if not consent:
        raise InputError("$", 'name at least one channel: {"<channel>": true | false}')
    for channel in consent:
        if channel not in channels:
            known = ", ".join(channels)
            raise InputError(member_path(channel), f"unknown channel {channel!r} (known: {known})")
    return dict(consent)


def apply_overlay(batch: Mapping[str, bool], live: Mapping[str, bool]) -> dict[str, bool]:
    """The consent a decision uses: the batch profile's, with the live changes over it."""
    return {**batch, **live}


async def set_consent(
    store: FeatureStore,
    customer_id: str,
    consent: Mapping[str, bool],
    *,
    channels: Sequence[str],
    clock: Callable[[], float],
) -> ConsentResponse:
    cid = check_path_id(customer_id)
    if cid.startswith(ANON_PREFIX):
        raise InputError("$.customer_id", f"{cid!r} is an anonymous pseudo-id: consent "
                         "belongs to a customer id")  # fmt: skip
    changes = check_consent(consent, channels)
    payload = encode_consent(ConsentChange(ts=clock(), consent=changes))
    overlay = await store.set_consent(cid, changes, payload)
    return ConsentResponse(customer_id=cid, consent=overlay)
