"""The one shared step of every ranking metric: which top-k positions are hits.

Every metric in `metrics.py` is a small formula over a boolean hit matrix
`(n_users, k)` and the per-user count of relevant items, so the validation and
the set lookup live here once, vectorised (no Python loop over users), and the
formulas stay readable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

PADDING = -1

IdMatrix: TypeAlias = npt.NDArray[np.integer[Any]]
BoolMatrix: TypeAlias = npt.NDArray[np.bool_]
IntVector: TypeAlias = npt.NDArray[np.int64]
FloatVector: TypeAlias = npt.NDArray[np.float64]


class CSRLike(Protocol):
    """Row-compressed sparse matrix (scipy csr_matrix / csr_array): row u = user u."""

    @property
    def indptr(self) -> npt.NDArray[np.integer[Any]]: ...

    @property
    def indices(self) -> npt.NDArray[np.integer[Any]]: ...


Relevant: TypeAlias = Sequence[npt.NDArray[np.integer[Any]]] | CSRLike


@dataclass(frozen=True)
class PackedRelevant:
    """Relevant sets packed once as row offsets + ids (a CSRLike), for callers that score
    many models and metrics on the same sets: each call then skips the per-user loop."""

    indptr: IntVector
    indices: IntVector


def pack_relevant(relevant: Sequence[npt.NDArray[np.integer[Any]]]) -> PackedRelevant:
    """Pack per-user id arrays (validated as `flatten_relevant` validates them)."""
    users, items = flatten_relevant(relevant, len(relevant))
    indptr = np.searchsorted(users, np.arange(len(relevant) + 1)).astype(np.int64)
    return PackedRelevant(indptr, items)


def flatten_relevant(relevant: Relevant, n_users: int) -> tuple[IntVector, IntVector]:
    """(user index, item id) pairs of the relevant sets, in one flat array each."""
    indptr = getattr(relevant, "indptr", None)
    if indptr is not None:
        items = np.asarray(getattr(relevant, "indices"), dtype=np.int64)  # noqa: B009
        bounds = np.asarray(indptr, dtype=np.int64)
        counts = bounds[1:] - bounds[:-1]
    else:
        rows = [np.asarray(r).ravel() for r in relevant]  # type: ignore[union-attr]
        for row in rows:
            if row.size and not np.issubdtype(row.dtype, np.integer):
                raise ValueError(f"relevant ids must be integers, got dtype {row.dtype}")
        counts = np.fromiter((r.size for r in rows), dtype=np.int64, count=len(rows))
        items = np.concatenate(rows).astype(np.int64) if rows else np.empty(0, np.int64)
    if counts.size != n_users:
        raise ValueError(f"relevant has {counts.size} users, recommended has {n_users} rows")
    if items.size and items.min() < 0:
        raise ValueError("relevant ids must be >= 0 (negative ids are reserved for padding)")
    users = np.repeat(np.arange(n_users, dtype=np.int64), counts)
    return users, items


def _first_occurrence(top: npt.NDArray[np.int64]) -> BoolMatrix:
    """True where an id appears for the first time in its row (repeats never count)."""
    order = np.argsort(top, axis=1, kind="stable")
    ranked = np.take_along_axis(top, order, axis=1)
    repeat = np.zeros_like(ranked, dtype=bool)
    repeat[:, 1:] = ranked[:, 1:] == ranked[:, :-1]
    first = np.empty_like(repeat)
    np.put_along_axis(first, order, ~repeat, axis=1)
    return first


def hit_matrix(recommended: IdMatrix, relevant: Relevant, k: int) -> tuple[BoolMatrix, IntVector]:
    """Hits in the top k of each row, and each user's number of distinct relevant ids.

    Ids < 0 are padding and never hit. A row narrower than k is treated as padded
    to k. An id repeated within a row counts once, at its first position, so a
    model cannot inflate precision by recommending the same item twice.
    """
    rec = np.asarray(recommended)
    if rec.ndim != 2:
        raise ValueError(f"recommended must be 2-D (n_users, n_ranked), got shape {rec.shape}")
    if rec.size and not np.issubdtype(rec.dtype, np.integer):
        raise ValueError(f"recommended ids must be integers, got dtype {rec.dtype}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    n_users = rec.shape[0]
    top = np.full((n_users, k), PADDING, dtype=np.int64)
    width = min(k, rec.shape[1])
    top[:, :width] = rec[:, :width]

    users, items = flatten_relevant(relevant, n_users)
    base = int(max(items.max(initial=0), top.max(initial=0))) + 1
    if n_users * base >= 2**62:
        raise ValueError("ids too large to pair with user indices; use dense item indices")
    rel_keys = np.unique(users * base + items)
    n_relevant = np.bincount(rel_keys // base, minlength=n_users).astype(np.int64)

    keys = np.arange(n_users, dtype=np.int64)[:, None] * base + top
    hits = np.isin(keys, rel_keys) & (top >= 0) & _first_occurrence(top)
    return hits, n_relevant


def require_relevant(n_relevant: IntVector) -> None:
    """Refuse users with nothing relevant: recall and MAP are undefined for them."""
    empty = int(np.count_nonzero(n_relevant == 0))
    if empty:
        raise ValueError(
            f"{empty} user(s) have no relevant items; metrics are undefined for them. "
            "Filter them first with training.evaluate.drop_users_without_relevant."
        )
