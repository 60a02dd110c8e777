"""`omnioffer erase`: a customer's online traces out of the feature store, tombstone in.

The same erasure as `DELETE /v1/customers/{id}` (store.erase_customer), for an
operator at a shell: the customer is named by its id, or by one of its identifiers,
which resolves through the store's links as a request would (an identifier linked to
nobody names its anonymous pseudo-id). The tombstone is stamped with the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from omnioffer.contracts.erasure import anonymous_id
from omnioffer.store.base import Erasure, FeatureStore, StoreUnavailable


async def erase(
    store: FeatureStore,
    customer_id: str | None,
    identifier: tuple[str, str] | None,
    clock: Callable[[], float] = time.time,
) -> tuple[str, Erasure]:
    """The id erased and what went; the store is closed afterwards, whatever happened."""
    try:
        if customer_id is None:
            if identifier is None:
                raise ValueError("erase needs a customer id or an identifier")
            found = await store.resolve(*identifier)
            customer_id = found or anonymous_id(*identifier)
        try:
            return customer_id, await store.erase_customer(customer_id, clock())
        except StoreUnavailable as exc:
            raise StoreUnavailable(f"{exc}; run the same erase again: it finishes what "
                                   "this one left") from exc  # fmt: skip
    finally:
        await store.close()


def describe(customer_id: str, done: Erasure, store_label: str) -> str:
    """What the command prints: the counts per family, or that nothing was stored."""
    if not done.anything:
        what = "nothing was stored"
    else:
        what = ", ".join(f"{n} {family}" for family, n in done.removed.items() if n)
    return (f"erased {customer_id} from {store_label}: {what}; "
            f"{done.tombstones} tombstone digests written")  # fmt: skip
