"""Collaborative filtering: implicit ALS (or BPR) factors and batch-first scoring.

implicit fits the factors; scoring is plain numpy on the factor matrices so the
same arithmetic serves candidates, ranker features and (later) the online
service, which never imports implicit. Past items are NOT filtered out: in
grocery-like retail, re-buying is the most common next purchase.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

FloatMatrix = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
_BLOCK_CELLS = 16_000_000  # (users x items) scores per block product in score_pairs
# score_pairs gathers factor rows per pair below one pair per this many (user, item)
# cells: a gathered pair costs about as much as 300 cells of a BLAS product
_PAIRS_PER_BLOCK_CELL = 300


class ModelFitError(RuntimeError):
    """The factorisation produced unusable factors (NaN or inf)."""


@dataclass(frozen=True)
class CFConfig:
    model: Literal["als", "bpr"] = "als"
    factors: int = 64
    regularization: float = 0.05
    alpha: float = 2.0
    iterations: int = 15
    learning_rate: float = 0.01  # bpr only
    seed: int = 7

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CFModel:
    user_factors: FloatMatrix  # customers x f
    item_factors: FloatMatrix  # items x f

    def score_pairs(self, users: IntArray, items: IntArray) -> npt.NDArray[np.float32]:
        """Dot product of aligned (user, item) index pairs; -1 indices score NaN."""
        valid = (users >= 0) & (items >= 0)
        out = np.full(users.shape[0], np.nan, dtype=np.float32)
        u, i = users[valid], items[valid]
        distinct, row = np.unique(u, return_inverse=True)
        n_items = self.item_factors.shape[0]
        if u.size * _PAIRS_PER_BLOCK_CELL < distinct.size * n_items:
            # few pairs per user (e.g. only the items an offer covers): gather both rows
            out[valid] = np.einsum("ij,ij->i", self.user_factors[u], self.item_factors[i])
            return out
        # many pairs per user (a customer's candidates): one BLAS product per user
        # against every item, then a gather; far cheaper than gathering two factor
        # rows per pair. Users go in chunks so the (users x items) block stays bounded.
        order = np.argsort(row, kind="stable")
        ends = np.searchsorted(row[order], np.arange(distinct.size + 1))
        step = max(1, _BLOCK_CELLS // max(n_items, 1))
        scores = np.empty(u.size, dtype=np.float32)
        for lo in range(0, distinct.size, step):
            hi = min(lo + step, distinct.size)
            block = self.user_factors[distinct[lo:hi]] @ self.item_factors.T
            at = order[ends[lo] : ends[hi]]
            scores[at] = block[row[at] - lo, i[at]]
        out[valid] = scores
        return out

    def recommend(
        self, users: IntArray, n: int, *, chunk: int = 4096
    ) -> tuple[IntArray, npt.NDArray[np.float32]]:
        """Top-n item indices and scores per user, best first (batch-first, like implicit)."""
        if users.ndim != 1:
            raise ValueError(f"users must be a 1-d index array, got shape {users.shape}")
        if users.size and (users.min() < 0 or users.max() >= self.user_factors.shape[0]):
            raise IndexError("user index out of range for this model")
        n = min(n, self.item_factors.shape[0])
        ids = np.empty((users.size, n), dtype=np.int64)
        scores = np.empty((users.size, n), dtype=np.float32)
        if n == 0:
            return ids, scores
        from implicit.cpu.topk import topk

        # implicit's fused dot product + top-k: about 4x faster than numpy's
        # argpartition over the (users x items) block, and it never holds the block
        for lo in range(0, users.size, chunk):
            top, top_scores = topk(
                self.item_factors, self.user_factors[users[lo : lo + chunk]], n, num_threads=1
            )
            ids[lo : lo + chunk] = top
            scores[lo : lo + chunk] = top_scores
        return ids, scores

    def similar_items(self, items: IntArray, n: int) -> IntArray:
        """Top-n most similar items (cosine on item factors) per item, itself excluded."""
        norms = np.linalg.norm(self.item_factors, axis=1, keepdims=True)
        unit = np.ascontiguousarray(self.item_factors / np.maximum(norms, 1e-9))
        n = min(n, unit.shape[0] - 1)
        if items.size == 0 or n <= 0:
            return np.empty((items.size, max(n, 0)), dtype=np.int64)
        from implicit.cpu.topk import topk

        # the n + 1 best hold the item itself (unless ties push it out): drop it, or
        # the last one when it is not there
        top, _ = topk(unit, unit[items], n + 1, num_threads=1)
        top = top.astype(np.int64)
        self_at = top == items[:, None]
        self_at[~self_at.any(axis=1), -1] = True
        return top[~self_at].reshape(items.size, n)


def fit_cf(matrix: sp.csr_matrix, config: CFConfig, *, threads: int = 0) -> CFModel:
    """Fit on a customers x items confidence matrix.

    BLAS is pinned to one thread while implicit runs its own thread pool: both
    together oversubscribe the cores and slow ALS down badly.
    """
    import implicit.cpu.als  # noqa: F401  (load its BLAS before limiting threads)

    with threadpool_limits(1, "blas"):
        model = _make_model(config, threads)
        model.fit(matrix.astype(np.float32), show_progress=False)
    users = np.ascontiguousarray(model.user_factors, dtype=np.float32)
    items = np.ascontiguousarray(model.item_factors, dtype=np.float32)
    if not (np.isfinite(users).all() and np.isfinite(items).all()):
        raise ModelFitError(f"{config.model} produced non-finite factors with {config.as_dict()}")
    return CFModel(users, items)


def _make_model(config: CFConfig, threads: int) -> Any:
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    if config.model == "als":
        return AlternatingLeastSquares(
            factors=config.factors,
            regularization=config.regularization,
            alpha=config.alpha,
            iterations=config.iterations,
            num_threads=threads,
            random_state=config.seed,
        )
    return BayesianPersonalizedRanking(
        factors=config.factors,
        learning_rate=config.learning_rate,
        regularization=config.regularization,
        iterations=config.iterations,
        num_threads=threads,
        random_state=config.seed,
    )
