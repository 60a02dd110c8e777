"""The ranker reads its features in its manifest's order, whatever order they are built in."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from omnioffer.decide.score import _reorder
from omnioffer.version.scorer import OnnxScorer


class _Named:
    """Stands in for an OnnxScorer: _reorder reads only its feature names."""

    def __init__(self, names: list[str]) -> None:
        self.feature_names = names
        self.path = Path("ranker.onnx")


def _order(built: list[str], wanted: list[str]) -> np.ndarray | None:
    scorer: OnnxScorer = _Named(wanted)  # type: ignore[assignment]
    return _reorder(built, scorer)


def test_the_same_order_needs_no_reordering() -> None:
    assert _order(["a", "b", "c"], ["a", "b", "c"]) is None


def test_another_order_takes_each_feature_from_its_built_column() -> None:
    built = ["a", "b", "c", "d"]
    order = _order(built, ["c", "a", "d"])  # a ranker may also read fewer features
    assert order is not None and order.tolist() == [2, 0, 3]
    rows = np.arange(8, dtype=np.float32).reshape(2, 4)
    assert rows.take(order, axis=1).tolist() == [[2.0, 0.0, 3.0], [6.0, 4.0, 7.0]]


def test_a_feature_the_service_does_not_build_is_refused() -> None:
    with pytest.raises(KeyError, match=r"lack \['e'\].*service and model disagree"):
        _order(["a", "b"], ["a", "e"])


def test_the_spec_order_is_the_order_a_version_was_trained_in() -> None:
    """The committed golden version was trained before features/spec.py existed: its
    rankers list their features in the spec's order, so they need no reordering."""
    from omnioffer.contracts import serving as sf
    from omnioffer.features.spec import OFFER_FEATURES, item_feature_names

    models = Path(__file__).parents[2] / "golden" / "models"
    (version,) = [p for p in models.iterdir() if p.is_dir()]
    rankers = json.loads((version / "manifest.json").read_text())["rankers"]
    channels = json.loads((version / sf.rel(sf.META)).read_text())["channels"]
    assert rankers["items"]["feature_names"] == item_feature_names(channels)
    assert tuple(rankers["offers"]["feature_names"]) == OFFER_FEATURES
