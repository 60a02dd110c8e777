"""Vocabulary: external string ids <-> dense int indices, saved in every artifact.

Unknown ids map to -1 rather than raising, so callers can fall back (cold start)
instead of crashing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

UNKNOWN = -1


class Vocabulary:
    """An ordered, duplicate-free list of ids with O(1) lookup both ways."""

    def __init__(self, ids: Iterable[str]) -> None:
        self._ids: list[str] = list(ids)
        self._index: dict[str, int] = {v: i for i, v in enumerate(self._ids)}
        if len(self._index) != len(self._ids):
            raise ValueError("vocabulary ids must be unique")

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item: object) -> bool:
        return item in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self._ids == other._ids

    def __hash__(self) -> int:
        return hash(tuple(self._ids))

    @property
    def ids(self) -> list[str]:
        return list(self._ids)

    def index(self, item_id: str) -> int:
        """Dense index of one id, or UNKNOWN (-1)."""
        return self._index.get(item_id, UNKNOWN)

    def indices(self, ids: Sequence[str]) -> npt.NDArray[np.int64]:
        """Dense indices of many ids; unknown ids give UNKNOWN (-1)."""
        get = self._index.get
        return np.fromiter((get(v, UNKNOWN) for v in ids), dtype=np.int64, count=len(ids))

    def lookup(self, indices: npt.NDArray[np.integer]) -> list[str]:
        """External ids of dense indices (all must be valid)."""
        return [self._ids[int(i)] for i in indices]

    def to_array(self) -> npt.NDArray[np.str_]:
        """A fixed-width unicode array: saves as .npy with allow_pickle=False."""
        return np.asarray(self._ids, dtype=np.str_)

    @classmethod
    def from_array(cls, array: npt.NDArray[np.str_]) -> Vocabulary:
        return cls(str(v) for v in array.tolist())
