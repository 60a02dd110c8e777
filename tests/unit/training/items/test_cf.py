"""CF on a block-structured (checkerboard) matrix where the right answer is known."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from training.items.cf import CFConfig, CFModel, fit_cf


def _blocks(n_users: int = 60, n_items: int = 40, seed: int = 1) -> sp.csr_matrix:
    """Two taste groups: even users like even items, odd users odd items (80% observed)."""
    rng = np.random.default_rng(seed)
    same = (np.arange(n_users)[:, None] % 2) == (np.arange(n_items)[None, :] % 2)
    seen = same & (rng.random((n_users, n_items)) < 0.8)
    return sp.csr_matrix(seen.astype(np.float32))


@pytest.mark.parametrize("model", ["als", "bpr"])
def test_recommendations_stay_in_the_users_block(model: str) -> None:
    matrix = _blocks()
    config = CFConfig(model=model, factors=8, iterations=30, learning_rate=0.05)  # type: ignore[arg-type]
    cf = fit_cf(matrix, config, threads=1)
    users = np.arange(matrix.shape[0], dtype=np.int64)
    ids, scores = cf.recommend(users, 10)
    assert ids.shape == (60, 10)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)  # best first
    in_block = (ids % 2) == (users[:, None] % 2)
    random_share = 0.5
    assert in_block.mean() > random_share + 0.4


def test_score_pairs_matches_recommend_scores_and_handles_unknowns() -> None:
    rng = np.random.default_rng(0)
    cf = CFModel(
        rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(7, 3)).astype(np.float32)
    )
    ids, scores = cf.recommend(np.array([2, 4]), 3)
    pairs = cf.score_pairs(np.repeat([2, 4], 3), ids.ravel())
    np.testing.assert_allclose(pairs, scores.ravel(), rtol=1e-5)
    assert np.isnan(cf.score_pairs(np.array([-1, 0]), np.array([0, -1]))).all()
    with pytest.raises(IndexError):
        cf.recommend(np.array([5]), 3)


def test_recommend_is_the_exact_top_n_in_order_across_chunks() -> None:
    rng = np.random.default_rng(3)
    cf = CFModel(
        rng.normal(size=(50, 6)).astype(np.float32), rng.normal(size=(30, 6)).astype(np.float32)
    )
    users = rng.permutation(50)[:23]
    ids, scores = cf.recommend(users, 7, chunk=5)
    full = cf.user_factors[users] @ cf.item_factors.T
    np.testing.assert_array_equal(ids, np.argsort(-full, axis=1, kind="stable")[:, :7])
    np.testing.assert_allclose(scores, np.take_along_axis(full, ids, axis=1), rtol=1e-5)
    wide, _ = cf.recommend(users[:2], 99)  # n above the catalog: every item, once
    assert wide.shape == (2, 30) and all(sorted(row) == list(range(30)) for row in wide)


@pytest.mark.parametrize("per_user", [1, 40])  # the gather path and the block path
def test_score_pairs_is_the_dot_product_of_each_pair(per_user: int) -> None:
    # 400 items: one pair per user stays under the block threshold, 40 go over it
    rng = np.random.default_rng(4)
    cf = CFModel(
        rng.normal(size=(60, 5)).astype(np.float32), rng.normal(size=(400, 5)).astype(np.float32)
    )
    users = np.repeat(rng.permutation(60), per_user)
    items = rng.integers(0, 400, size=users.size)
    users[::7], items[::5] = -1, -1
    got = cf.score_pairs(users, items)
    ok = (users >= 0) & (items >= 0)
    expected = (cf.user_factors[users[ok]] * cf.item_factors[items[ok]]).sum(axis=1)
    np.testing.assert_allclose(got[ok], expected, rtol=1e-5, atol=1e-6)
    assert np.isnan(got[~ok]).all()


def test_similar_items_exclude_the_item_itself() -> None:
    cf = fit_cf(_blocks(), CFConfig(factors=8, iterations=20), threads=1)
    similar = cf.similar_items(np.array([0, 1]), 5)
    assert 0 not in similar[0] and 1 not in similar[1]
    assert (similar[0] % 2 == 0).mean() >= 0.8


def test_similar_items_are_the_exact_cosine_top_n_in_order() -> None:
    rng = np.random.default_rng(6)
    cf = CFModel(
        rng.normal(size=(4, 8)).astype(np.float32), rng.normal(size=(120, 8)).astype(np.float32)
    )
    items = rng.integers(0, 120, size=30)
    unit = cf.item_factors / np.linalg.norm(cf.item_factors, axis=1, keepdims=True)
    sims = unit[items] @ unit.T
    sims[np.arange(items.size), items] = -np.inf
    expected = np.argsort(-sims, axis=1, kind="stable")[:, :9]
    np.testing.assert_array_equal(cf.similar_items(items, 9), expected)
    assert cf.similar_items(items, 500).shape == (30, 119)  # every other item, once
