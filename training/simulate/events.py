"""Event blocks: parallel numpy arrays, concatenated once at the end."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from omnioffer.contracts.schema import EVENT_TYPES

ET = {name: i for i, name in enumerate(EVENT_TYPES)}
CHANNELS = ("web", "app", "store", "email", "sms", "call_center", "social")
CH = {name: i for i, name in enumerate(CHANNELS)}
# how an event names its customer
ID_CUSTOMER, ID_COOKIE, ID_DEVICE, ID_LOYALTY, ID_TOKEN = range(5)


@dataclass
class Events:
    cust: npt.NDArray[np.int64]
    day: npt.NDArray[np.float64]
    etype: npt.NDArray[np.int8]
    channel: npt.NDArray[np.int8]
    item: npt.NDArray[np.int64]
    offer: npt.NDArray[np.int64]
    qty: npt.NDArray[np.int64]
    session: npt.NDArray[np.int64]

    @classmethod
    def make(
        cls,
        cust: npt.NDArray[np.int64],
        day: npt.NDArray[np.float64],
        etype: int | npt.NDArray[np.int8],
        channel: int | npt.NDArray[np.int8],
        *,
        item: npt.NDArray[np.int64] | None = None,
        offer: npt.NDArray[np.int64] | None = None,
        qty: npt.NDArray[np.int64] | None = None,
        session: npt.NDArray[np.int64] | None = None,
    ) -> Events:
        n = cust.size

        def full(v: int | npt.NDArray[np.integer] | None, fill: int, dt: type) -> npt.NDArray:  # type: ignore[type-arg]
            if v is None:
                return np.full(n, fill, dtype=dt)
            return np.broadcast_to(np.asarray(v, dtype=dt), (n,)).copy()

        return cls(
            cust.astype(np.int64),
            day.astype(np.float64),
            full(etype, 0, np.int8),
            full(channel, 0, np.int8),
            full(item, -1, np.int64),
            full(offer, -1, np.int64),
            full(qty, 1, np.int64),
            full(session, -1, np.int64),
        )

    def __len__(self) -> int:
        return int(self.cust.size)

    def select(self, mask: npt.NDArray[np.bool_]) -> Events:
        return Events(*(getattr(self, f.name)[mask] for f in fields(self)))


def concat(blocks: list[Events]) -> Events:
    return Events(*(np.concatenate([getattr(b, f.name) for b in blocks]) for f in fields(Events)))
