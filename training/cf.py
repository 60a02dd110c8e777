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
        out[valid] = np.einsum("ij,ij->i", self.user_factors[u], self.item_factors[i])
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
        for lo in range(0, users.size, chunk):
            block = self.user_factors[users[lo : lo + chunk]] @ self.item_factors.T
            top = np.argpartition(-block, n - 1, axis=1)[:, :n]
            top_scores = np.take_along_axis(block, top, axis=1)
            order = np.argsort(-top_scores, axis=1, kind="stable")
            ids[lo : lo + chunk] = np.take_along_axis(top, order, axis=1)
            scores[lo : lo + chunk] = np.take_along_axis(top_scores, order, axis=1)
        return ids, scores

    def similar_items(self, items: IntArray, n: int) -> IntArray:
        """Top-n most similar items (cosine on item factors) per item, itself excluded."""
        norms = np.linalg.norm(self.item_factors, axis=1, keepdims=True)
        unit = self.item_factors / np.maximum(norms, 1e-9)
        sims = unit[items] @ unit.T
        sims[np.arange(items.size), items] = -np.inf
        n = min(n, unit.shape[0] - 1)
        top = np.argpartition(-sims, n - 1, axis=1)[:, :n]
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1, kind="stable")
        return np.take_along_axis(top, order, axis=1)


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
