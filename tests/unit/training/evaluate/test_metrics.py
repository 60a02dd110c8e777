"""Ranking metrics: identity, no-hit, hand-computed goldens, edge cases, slow reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import sparse

from training.evaluate import (
    drop_users_without_relevant,
    hit_at_k,
    map_at_k,
    mean_metrics,
    ndcg_at_k,
    pack_relevant,
    parse_metric,
    precision_at_k,
    recall_at_k,
)

ALL = [hit_at_k, precision_at_k, recall_at_k, map_at_k, ndcg_at_k]


def rel(*rows: list[int]) -> list[np.ndarray]:
    return [np.asarray(r, dtype=np.int64) for r in rows]


@pytest.mark.parametrize("fn", [hit_at_k, recall_at_k, map_at_k, ndcg_at_k])
def test_perfect_prediction_scores_one(fn) -> None:
    recommended = np.array([[3, 1, 2], [7, -1, -1]])
    assert np.allclose(fn(recommended, rel([1, 2, 3], [7]), 3), 1.0)


@pytest.mark.parametrize("fn", ALL)
def test_no_hit_scores_zero(fn) -> None:
    recommended = np.array([[4, 5, 6], [-1, -1, -1]])
    assert np.all(fn(recommended, rel([1, 2], [1]), 3) == 0.0)


def test_golden_single_user() -> None:
    # recommended 10, 20, 30, 40; relevant {20, 40, 99}; k = 4 -> hits at ranks 2 and 4.
    recommended = np.array([[10, 20, 30, 40]])
    relevant = rel([20, 40, 99])
    # hit: 1; precision: 2/4; recall: 2/3
    assert hit_at_k(recommended, relevant, 4)[0] == 1.0
    assert precision_at_k(recommended, relevant, 4)[0] == pytest.approx(0.5)
    assert recall_at_k(recommended, relevant, 4)[0] == pytest.approx(2 / 3)
    # map: (P@2 + P@4) / min(4, 3) = (1/2 + 2/4) / 3 = 1/3
    assert map_at_k(recommended, relevant, 4)[0] == pytest.approx(1 / 3)
    # dcg = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068 = 1.06161
    # idcg (3 relevant) = 1 + 1/log2(3) + 1/log2(4) = 1 + 0.63093 + 0.5 = 2.13093
    # ndcg = 1.06161 / 2.13093 = 0.49819
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 0.5
    assert ndcg_at_k(recommended, relevant, 4)[0] == pytest.approx(dcg / idcg)
    assert ndcg_at_k(recommended, relevant, 4)[0] == pytest.approx(0.49819, abs=1e-5)


def test_golden_map_at_12_more_relevant_than_slots() -> None:
    # k = 2, relevant {1, 2, 3}: both slots hit -> (1/1 + 2/2) / min(2, 3) = 1.0
    # recall stays 2/3 because it divides by |relevant|.
    recommended = np.array([[1, 2, 3]])
    assert map_at_k(recommended, rel([1, 2, 3]), 2)[0] == pytest.approx(1.0)
    assert recall_at_k(recommended, rel([1, 2, 3]), 2)[0] == pytest.approx(2 / 3)


def test_golden_first_position_miss() -> None:
    # recommended 5, 1; relevant {1}; k = 2: map = (1/2) / 1 = 0.5;
    # ndcg = (1/log2(3)) / 1 = 0.63093
    recommended = np.array([[5, 1]])
    assert map_at_k(recommended, rel([1]), 2)[0] == pytest.approx(0.5)
    assert ndcg_at_k(recommended, rel([1]), 2)[0] == pytest.approx(1 / math.log2(3))


def test_padding_never_hits_and_counts_as_miss_for_precision() -> None:
    # one real hit then two pads; precision@3 = 1/3, hit = 1
    recommended = np.array([[1, -1, -1]])
    assert precision_at_k(recommended, rel([1]), 3)[0] == pytest.approx(1 / 3)
    assert ndcg_at_k(recommended, rel([1]), 3)[0] == pytest.approx(1.0)


def test_k_larger_than_list_is_padded() -> None:
    # width 2, k = 5: the missing slots are padding. precision = 1/5, recall = 1/2
    recommended = np.array([[1, 9]])
    relevant = rel([1, 2])
    assert precision_at_k(recommended, relevant, 5)[0] == pytest.approx(0.2)
    assert recall_at_k(recommended, relevant, 5)[0] == pytest.approx(0.5)
    # map: (P@1 = 1) / min(5, 2) = 0.5
    assert map_at_k(recommended, relevant, 5)[0] == pytest.approx(0.5)


def test_cut_off_ignores_hits_after_k() -> None:
    recommended = np.array([[9, 8, 1]])
    assert hit_at_k(recommended, rel([1]), 2)[0] == 0.0


def test_repeated_recommendation_counts_once() -> None:
    # 1 recommended twice: only rank 1 hits. precision@2 = 1/2
    recommended = np.array([[1, 1]])
    assert precision_at_k(recommended, rel([1, 2]), 2)[0] == pytest.approx(0.5)


def test_duplicate_relevant_ids_count_once() -> None:
    recommended = np.array([[1, 2]])
    assert recall_at_k(recommended, rel([1, 1]), 2)[0] == pytest.approx(1.0)


def test_csr_relevant_matches_list() -> None:
    recommended = np.array([[0, 3, 2], [1, 4, 0]])
    lists = rel([2, 3], [4])
    matrix = sparse.csr_matrix(([1, 1, 1], ([0, 0, 1], [2, 3, 4])), shape=(2, 5))
    for fn in ALL:
        assert np.allclose(fn(recommended, lists, 3), fn(recommended, matrix, 3))


def test_users_without_relevant_are_refused_then_filtered() -> None:
    recommended = np.array([[1, 2], [3, 4], [5, 6]])
    relevant = rel([1], [], [6])
    with pytest.raises(ValueError, match="1 user"):
        ndcg_at_k(recommended, relevant, 2)
    kept_rec, kept_rel, kept = drop_users_without_relevant(recommended, relevant)
    assert kept.tolist() == [0, 2]
    assert kept_rec.tolist() == [[1, 2], [5, 6]]
    assert [r.tolist() for r in kept_rel] == [[1], [6]]
    # user 0 hits at rank 1 (1.0); user 2 at rank 2 (1/log2(3) / 1)
    assert ndcg_at_k(kept_rec, kept_rel, 2) == pytest.approx([1.0, 1 / math.log2(3)])


def test_input_validation() -> None:
    with pytest.raises(ValueError, match="2-D"):
        hit_at_k(np.array([1, 2]), rel([1]), 1)
    with pytest.raises(ValueError, match="rows"):
        hit_at_k(np.array([[1, 2]]), rel([1], [2]), 1)
    with pytest.raises(ValueError, match="k must be"):
        hit_at_k(np.array([[1, 2]]), rel([1]), 0)
    with pytest.raises(ValueError, match="integers"):
        hit_at_k(np.array([[1.0, 2.0]]), rel([1]), 1)


def test_mean_metrics_and_names() -> None:
    recommended = np.array([[1, 2], [3, 4]])
    relevant = rel([1], [9])
    # ndcg@2 = (1 + 0) / 2; hit@1 = (1 + 0) / 2
    assert mean_metrics(recommended, relevant, ["ndcg@2", "hit@1"]) == {
        "ndcg@2": pytest.approx(0.5),
        "hit@1": pytest.approx(0.5),
    }
    assert parse_metric("map@12") == (map_at_k, 12)
    for bad in ["map", "mrr@5", "ndcg@0", "ndcg@x"]:
        with pytest.raises(ValueError, match="unknown metric"):
            parse_metric(bad)


def _reference(recommended: np.ndarray, relevant: list[np.ndarray], k: int) -> dict:
    """Slow per-user loop straight from the textbook definitions."""
    out: dict[str, list[float]] = {n: [] for n in ["hit", "prec", "rec", "map", "ndcg"]}
    for row, truth in zip(recommended, relevant, strict=True):
        truth_set, seen, hits = set(truth.tolist()), set(), []
        for item in list(row[:k]) + [-1] * (k - len(row[:k])):
            hits.append(item >= 0 and item in truth_set and item not in seen)
            seen.add(item)
        n_hits, ap, dcg = 0, 0.0, 0.0
        for i, hit in enumerate(hits, start=1):
            if hit:
                n_hits += 1
                ap += n_hits / i
                dcg += 1 / math.log2(i + 1)
        idcg = sum(1 / math.log2(i + 1) for i in range(1, min(k, len(truth_set)) + 1))
        out["hit"].append(float(n_hits > 0))
        out["prec"].append(n_hits / k)
        out["rec"].append(n_hits / len(truth_set))
        out["map"].append(ap / min(k, len(truth_set)))
        out["ndcg"].append(dcg / idcg)
    return {name: np.array(values) for name, values in out.items()}


@pytest.mark.parametrize("k", [1, 5, 12, 30])
def test_matches_slow_reference_on_random_data(k: int) -> None:
    rng = np.random.default_rng(k)
    n_users, width, n_items = 300, 20, 40
    recommended = rng.integers(0, n_items, size=(n_users, width))
    recommended[rng.random((n_users, width)) < 0.1] = -1
    relevant = [rng.choice(n_items, size=rng.integers(1, 15), replace=True) for _ in range(n_users)]
    expected = _reference(recommended, relevant, k)
    assert np.allclose(hit_at_k(recommended, relevant, k), expected["hit"])
    assert np.allclose(precision_at_k(recommended, relevant, k), expected["prec"])
    assert np.allclose(recall_at_k(recommended, relevant, k), expected["rec"])
    assert np.allclose(map_at_k(recommended, relevant, k), expected["map"])
    assert np.allclose(ndcg_at_k(recommended, relevant, k), expected["ndcg"])


@pytest.mark.parametrize("fn", ALL)
def test_packed_relevant_sets_score_like_the_list_they_pack(fn) -> None:
    rng = np.random.default_rng(5)
    relevant = [rng.choice(40, rng.integers(1, 6), replace=False) for _ in range(200)]
    recommended = rng.integers(-1, 40, size=(200, 12))
    packed = pack_relevant(relevant)
    assert packed.indptr[-1] == sum(r.size for r in relevant)
    np.testing.assert_array_equal(fn(recommended, packed, 10), fn(recommended, relevant, 10))
    with pytest.raises(ValueError, match="integers"):
        pack_relevant([np.array([0.5])])
