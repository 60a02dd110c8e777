"""Score candidate feature rows with an exported ranker through onnxruntime.

The online service never imports LightGBM: a ranker reaches it as an `.onnx`
file whose graph takes float32 `features` of shape (n, n_features) and returns
one raw score per row (see `training/publish/export_onnx.py`). The feature order is the
contract: the manifest lists it, the ONNX metadata repeats it, and the scorer
refuses to start when the two disagree, because a silently permuted feature
vector still produces plausible-looking scores.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from omnioffer.contracts.artifact import ArtifactError
from omnioffer.errors import OmniofferError

if TYPE_CHECKING:
    from omnioffer.registry import LoadedVersion

INPUT_NAME = "features"
FEATURE_NAMES_KEY = "omnioffer.feature_names"  # ONNX metadata_props key


class FeatureShapeError(OmniofferError, ValueError):
    """The feature matrix handed to a scorer does not have the ranker's shape."""


def sigmoid(raw: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Probability from a binary ranker's raw margin (the ONNX graph returns the margin)."""
    return np.asarray(1.0 / (1.0 + np.exp(-raw)), dtype=np.float32)


def _session(path: Path, threads: int) -> ort.InferenceSession:
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped exception classes
        raise ArtifactError(f"{path.name}: cannot load ONNX model: {exc}") from exc


class OnnxScorer:
    """One ONNX ranker session, checked against the feature names it must receive.

    `threads` defaults to 1: the service runs several workers, each scoring a
    few dozen rows per request, where extra intra-op threads only add contention.
    """

    def __init__(self, path: Path, feature_names: Sequence[str], *, threads: int = 1) -> None:
        self.path = path
        self.feature_names = list(feature_names)
        self._session = _session(path, threads)
        self._output = self._check_signature()

    @classmethod
    def from_version(cls, loaded: LoadedVersion, ranker: str, *, threads: int = 1) -> OnnxScorer:
        """The scorer for ranker `ranker` ('items', 'offers') of a verified version."""
        entry = loaded.manifest.rankers.get(ranker)
        if entry is None:
            known = ", ".join(sorted(loaded.manifest.rankers)) or "none"
            raise ArtifactError(f"{loaded.name}: no ranker {ranker!r} (has: {known})")
        return cls(loaded.file(entry.file), entry.feature_names, threads=threads)

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def _check_signature(self) -> str:
        """Input name and width, and metadata feature names, must match the manifest."""
        inputs = self._session.get_inputs()
        if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
            names = [i.name for i in inputs]
            raise ArtifactError(f"{self.path.name}: expected one input {INPUT_NAME!r}, got {names}")
        shape: list[Any] = list(inputs[0].shape)
        width = shape[1] if len(shape) == 2 else None
        if not isinstance(width, int) or width != self.n_features:
            raise ArtifactError(
                f"{self.path.name}: model input shape {shape} does not take the "
                f"{self.n_features} features the manifest lists"
            )
        stored = self._session.get_modelmeta().custom_metadata_map.get(FEATURE_NAMES_KEY)
        if stored is not None and json.loads(stored) != self.feature_names:
            raise ArtifactError(
                f"{self.path.name}: feature names in the model differ from the manifest's"
            )
        return str(self._session.get_outputs()[0].name)

    def score(self, features: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Raw scores, one per row of a (n, n_features) matrix; float input is cast to float32."""
        matrix = np.asarray(features)
        if matrix.ndim != 2 or matrix.shape[1] != self.n_features:
            raise FeatureShapeError(
                f"{self.path.name} expects features of shape (n, {self.n_features}) "
                f"[{', '.join(self.feature_names)}], got shape {matrix.shape}"
            )
        if not (
            np.issubdtype(matrix.dtype, np.floating) or np.issubdtype(matrix.dtype, np.integer)
        ):
            raise FeatureShapeError(f"features must be numeric, got dtype {matrix.dtype}")
        if matrix.shape[0] == 0:
            return np.empty(0, dtype=np.float32)
        rows = np.ascontiguousarray(matrix, dtype=np.float32)
        (scores,) = self._session.run([self._output], {INPUT_NAME: rows})
        return np.asarray(scores, dtype=np.float32).reshape(rows.shape[0])
