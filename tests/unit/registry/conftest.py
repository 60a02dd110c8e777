"""A small staged model version: factor matrices, a vocabulary and a fake ONNX file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from omnioffer.contracts.artifact import Manifest, RankerEntry, TrainingWindow

FINGERPRINT = "1a2b3c4d5e6f7788"


@pytest.fixture
def staging(tmp_path: Path) -> Path:
    root = tmp_path / "staging"
    (root / "factors").mkdir(parents=True)
    np.save(root / "factors" / "users.npy", np.arange(12, dtype=np.float32).reshape(4, 3))
    np.save(root / "factors" / "items.npy", np.ones((5, 3), dtype=np.float32))
    (root / "items.json").write_text(json.dumps(["a", "b", "c", "d", "e"]))
    (root / "ranker_items.onnx").write_bytes(b"not really onnx, the registry does not care")
    return root


@pytest.fixture
def manifest() -> Manifest:
    return Manifest(
        created_at="2026-11-22T22:30:00Z",
        data_fingerprint=FINGERPRINT,
        training_window=TrainingWindow(
            start="2026-01-01T00:00:00Z",
            end="2026-10-01T00:00:00Z",
            test_start="2026-10-01T00:00:00Z",
            test_end="2026-11-01T00:00:00Z",
        ),
        params={"als": {"factors": 3}},
        rankers={
            "items": RankerEntry(
                feature_names=["f0", "f1"],
                file="ranker_items.onnx",
                onnx_max_abs_diff=1e-6,
                latency_ms_100_rows=0.2,
                objective="lambdarank",
            )
        },
        metrics={"items": {"ranker": {"ndcg@10": 0.31}, "popular": {"ndcg@10": 0.1}}},
    )


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"
