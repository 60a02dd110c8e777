"""Erasure: remove every online trace of one customer, and leave a tombstone.

The store does the removing (store/families.FAMILIES, both backends) and writes the
tombstones (contracts/erasure.py) that `export-events` and `train` honour; this stage
checks the id, stamps the erasure with the service clock and words the answer. The id
is a customer id, or an anonymous pseudo-id (`anon:<id_type>:<id_value>`, what
decisions answer for an unlinked identifier). Erasing what was never stored is no error:
the answer says so, and the tombstone is written anyway (the customer may still be in
history files).
"""

from __future__ import annotations

from collections.abc import Callable

from omnioffer.contracts.http import ErasureResponse
from omnioffer.errors import InputError
from omnioffer.store.base import FeatureStore, StoreError

MAX_ID_CHARS = 1024


def check_path_id(customer_id: str) -> str:
    """The id as the store will take it; InputError at `$.customer_id` otherwise."""
    if not customer_id or len(customer_id) > MAX_ID_CHARS:
        raise InputError("$.customer_id", f"must be 1..{MAX_ID_CHARS} characters")
    if "{" in customer_id or "}" in customer_id:
        raise InputError("$.customer_id", "must not contain '{' or '}'")
    return customer_id


async def erase(
    store: FeatureStore, customer_id: str, clock: Callable[[], float]
) -> ErasureResponse:
    cid = check_path_id(customer_id)
    try:
        done = await store.erase_customer(cid, clock())
    except StoreError as exc:
        raise InputError("$.customer_id", str(exc)) from exc
    total = sum(done.removed.values())
    if done.anything:
        detail = (f"erased {total} stored items of {cid!r}; its tombstone keeps it out of "
                  "export-events and the next train")  # fmt: skip
    else:
        detail = (f"nothing was stored for {cid!r}; its tombstone is written anyway, so "
                  "export-events and the next train leave it out")  # fmt: skip
    return ErasureResponse(customer_id=cid, erased=done.anything, removed=done.removed,
                           tombstones=done.tombstones, detail=detail)  # fmt: skip
