"""ONNX export of LightGBM rankers: parity through the online scorer, tamper and shape checks."""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm as lgb
import numpy as np
import onnx
import pytest

from omnioffer.contracts.artifact import ArtifactError, Manifest, RankerEntry, TrainingWindow
from omnioffer.registry import load_version, write_version
from omnioffer.version.scorer import FEATURE_NAMES_KEY, FeatureShapeError, OnnxScorer, sigmoid
from training.publish.export_onnx import (
    ExportParityError,
    check_parity,
    export_ranker,
    to_onnx,
)


@pytest.mark.parametrize("name", ["lambdarank_booster", "binary_booster"])
def test_export_matches_booster_raw_score(
    features: list[str],
    name: str,
    request: pytest.FixtureRequest,
    parity_rows: np.ndarray,
    tmp_path: Path,
) -> None:
    booster: lgb.Booster = request.getfixturevalue(name)
    path = tmp_path / "ranker.onnx"
    report = export_ranker(booster, features, path, parity_rows=parity_rows)
    assert report.path == path
    assert path.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["ranker.onnx"]  # no temp file left
    assert report.max_abs_diff < 1e-4
    assert 0 < report.latency_ms_100_rows < 1000
    assert report.objective.startswith(name.removesuffix("_booster"))

    scores = OnnxScorer(path, features).score(parity_rows)
    assert scores.dtype == np.float32
    assert scores.shape == (parity_rows.shape[0],)
    raw = booster.predict(parity_rows, raw_score=True)
    assert np.max(np.abs(scores - raw)) < 1e-4


def test_binary_export_is_the_margin_not_the_probability(
    features: list[str], binary_booster: lgb.Booster, parity_rows: np.ndarray, tmp_path: Path
) -> None:
    path = tmp_path / "offers.onnx"
    export_ranker(binary_booster, features, path, parity_rows=parity_rows)
    raw = OnnxScorer(path, features).score(parity_rows)
    assert raw.min() < 0 or raw.max() > 1  # a margin, not bounded to [0, 1]
    probability = binary_booster.predict(parity_rows)
    assert np.max(np.abs(sigmoid(raw) - probability)) < 1e-5


def test_graph_contract(features: list[str], lambdarank_booster: lgb.Booster) -> None:
    model = to_onnx(lambdarank_booster, features)
    assert [i.name for i in model.graph.input] == ["features"]
    assert [o.name for o in model.graph.output] == ["score"]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[1].dim_value == len(features)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta[FEATURE_NAMES_KEY]) == features
    assert meta["omnioffer.output"] == "raw_score"


def test_other_boosters_onnx_fails_parity(
    features: list[str],
    lambdarank_booster: lgb.Booster,
    other_lambdarank_booster: lgb.Booster,
    parity_rows: np.ndarray,
    tmp_path: Path,
) -> None:
    path = tmp_path / "other.onnx"
    export_ranker(other_lambdarank_booster, features, path, parity_rows=parity_rows)
    with pytest.raises(ExportParityError, match=r"other\.onnx: ONNX scores differ"):
        check_parity(lambdarank_booster, OnnxScorer(path, features), parity_rows)


def test_failed_parity_leaves_no_file(
    features: list[str], lambdarank_booster: lgb.Booster, parity_rows: np.ndarray, tmp_path: Path
) -> None:
    path = tmp_path / "ranker.onnx"
    with pytest.raises(ExportParityError):
        # float32 ONNX cannot match float64 LightGBM to 1e-12 across 150 trees
        export_ranker(lambdarank_booster, features, path, parity_rows=parity_rows, tolerance=0.0)
    assert list(tmp_path.iterdir()) == []


def test_feature_name_checks(features: list[str], lambdarank_booster: lgb.Booster) -> None:
    with pytest.raises(ValueError, match="5 features, 4 names"):
        to_onnx(lambdarank_booster, features[:4])


def test_scorer_rejects_wrong_shapes(
    features: list[str], lambdarank_booster: lgb.Booster, parity_rows: np.ndarray, tmp_path: Path
) -> None:
    path = tmp_path / "ranker.onnx"
    export_ranker(lambdarank_booster, features, path, parity_rows=parity_rows)
    scorer = OnnxScorer(path, features)
    with pytest.raises(FeatureShapeError, match=r"expects features of shape \(n, 5\).*\(3, 4\)"):
        scorer.score(np.zeros((3, 4), dtype=np.float32))
    with pytest.raises(FeatureShapeError, match=r"got shape \(5,\)"):
        scorer.score(np.zeros(5, dtype=np.float32))
    assert scorer.score(np.zeros((0, 5), dtype=np.float32)).shape == (0,)
    float64_scores = scorer.score(parity_rows.astype(np.float64))
    assert np.array_equal(float64_scores, scorer.score(parity_rows))


def test_scorer_checks_manifest_feature_names(
    features: list[str], lambdarank_booster: lgb.Booster, parity_rows: np.ndarray, tmp_path: Path
) -> None:
    path = tmp_path / "ranker.onnx"
    export_ranker(lambdarank_booster, features, path, parity_rows=parity_rows)
    with pytest.raises(ArtifactError, match=r"input shape \[.*5\] does not take the 6 features"):
        OnnxScorer(path, [*features, "extra"])
    with pytest.raises(ArtifactError, match="feature names in the model differ"):
        OnnxScorer(path, list(reversed(features)))
    with pytest.raises(ArtifactError, match="cannot load ONNX model"):
        bad = tmp_path / "bad.onnx"
        bad.write_bytes(b"garbage")
        OnnxScorer(bad, features)


def test_scorer_from_registry_version(
    features: list[str], lambdarank_booster: lgb.Booster, parity_rows: np.ndarray, tmp_path: Path
) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    report = export_ranker(
        lambdarank_booster, features, staging / "ranker_items.onnx", parity_rows=parity_rows
    )
    entry = RankerEntry(
        feature_names=features,
        file="ranker_items.onnx",
        onnx_max_abs_diff=report.max_abs_diff,
        latency_ms_100_rows=report.latency_ms_100_rows,
        objective=report.objective,
    )
    window = TrainingWindow(start="a", end="b", test_start="b", test_end="c")
    manifest = Manifest(
        created_at="2026-11-22T22:30:00Z",
        data_fingerprint="00000000",
        training_window=window,
        rankers={"items": entry},
    )
    models = tmp_path / "models"
    write_version(models, "v1", staging, manifest)
    loaded = load_version(models, "v1")
    scorer = OnnxScorer.from_version(loaded, "items")
    raw = lambdarank_booster.predict(parity_rows, raw_score=True)
    assert np.max(np.abs(scorer.score(parity_rows) - raw)) < 1e-4
    with pytest.raises(ArtifactError, match="no ranker 'offers'"):
        OnnxScorer.from_version(loaded, "offers")


def test_named_booster_must_match_feature_order(features: list[str]) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, len(features)))
    data = lgb.Dataset(x, label=x[:, 0], feature_name=features)
    booster = lgb.train({"objective": "regression", "verbose": -1}, data, num_boost_round=3)
    to_onnx(booster, features)
    with pytest.raises(ValueError, match="feature names differ"):
        to_onnx(booster, list(reversed(features)))


def test_early_stopped_booster_exports_best_iteration(
    features: list[str], parity_rows: np.ndarray, tmp_path: Path
) -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, len(features)))
    params = {"objective": "regression", "verbose": -1, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(x, label=x[:, 1]), num_boost_round=30)
    booster.best_iteration = 10  # what early stopping leaves behind
    report = export_ranker(booster, features, tmp_path / "r.onnx", parity_rows=parity_rows)
    assert report.max_abs_diff < 1e-4
    all_trees = booster.predict(parity_rows, num_iteration=-1)
    assert (
        np.max(np.abs(OnnxScorer(tmp_path / "r.onnx", features).score(parity_rows) - all_trees))
        > 1e-3
    )
