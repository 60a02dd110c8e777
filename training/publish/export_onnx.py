"""Export a LightGBM ranker to ONNX, proven equal to the booster before it is kept.

The exported graph has one float32 input `features` (n, n_features) and one
float32 output `score` (n, 1): the booster's raw score, i.e.
`booster.predict(x, raw_score=True)`, for every objective we use.

- lambdarank: the raw score is the ranking score; there is nothing else.
- binary: we export the raw margin (log-odds), not the probability. onnxmltools
  would otherwise emit a classifier with a label output and a (n, 2) probability
  output; one output shape for every ranker keeps the online scorer uniform,
  the margin orders candidates exactly like the probability, and the online side
  applies `omnioffer.version.scorer.sigmoid` where it needs a calibrated propensity. To
  get the margin, the objective is renamed to `regression` in a copy of the
  model text before conversion; the trees are untouched.

Like `booster.predict`, the export keeps only the trees up to `best_iteration`
when early stopping set one.

Parity is checked on caller-supplied rows through the same `OnnxScorer` the
service uses, and the file only appears at `path` once the check passed.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import onnx
from onnxmltools import convert_lightgbm
from onnxmltools.convert.common.data_types import FloatTensorType

from omnioffer.errors import OmniofferError
from omnioffer.version.scorer import FEATURE_NAMES_KEY, INPUT_NAME, OnnxScorer

OUTPUT_NAME = "score"
TARGET_OPSET = 15  # pinned so the graph does not change with the installed onnx version
TREES_PER_NODE = 100  # onnxmltools `split`: sums tree groups in double, keeps float32 error flat
SUPPORTED_OBJECTIVES = ("lambdarank", "rank_xendcg", "binary", "regression")
LATENCY_ROWS = 100


class ExportParityError(OmniofferError):
    """The ONNX graph's scores differ from the booster's by more than the tolerance."""


@dataclass(frozen=True)
class ExportReport:
    path: Path
    max_abs_diff: float
    latency_ms_100_rows: float
    objective: str  # LightGBM's objective string, e.g. "lambdarank", "binary sigmoid:1"


def booster_objective(booster: lgb.Booster) -> str:
    """The objective line of the model text ('binary sigmoid:1'), which survives reloads."""
    match = re.search(r"^objective=(.*)$", booster.model_to_string(), re.M)
    if match is None:
        raise ValueError("booster has no objective (custom objectives are not exportable)")
    return match.group(1).strip()


def as_raw_score_booster(booster: lgb.Booster) -> lgb.Booster:
    """A copy whose objective says 'regression', so the converter emits the raw margin."""
    text = booster.model_to_string()
    text = re.sub(r"^objective=.*$", "objective=regression", text, count=1, flags=re.M)
    text = re.sub(r"^\[objective: .*\]$", "[objective: regression]", text, flags=re.M)
    return lgb.Booster(model_str=text)


def _check_feature_names(booster: lgb.Booster, feature_names: list[str]) -> None:
    """Same count; and the same order whenever the booster was trained with names."""
    names = list(booster.feature_name())
    if len(names) != len(feature_names):
        raise ValueError(f"booster has {len(names)} features, {len(feature_names)} names given")
    auto = [f"Column_{i}" for i in range(len(names))]
    if names not in (auto, feature_names):
        raise ValueError(f"feature names differ from the booster's: {names} != {feature_names}")


def to_onnx(booster: lgb.Booster, feature_names: list[str]) -> onnx.ModelProto:
    """Convert to the `features` -> `score` graph, feature names stored as metadata."""
    objective = booster_objective(booster)
    if not objective.startswith(SUPPORTED_OBJECTIVES):
        raise ValueError(f"objective {objective!r} is not exportable; use {SUPPORTED_OBJECTIVES}")
    _check_feature_names(booster, feature_names)
    raw = as_raw_score_booster(booster)
    # onnxmltools refuses `split` when one chunk would hold every tree.
    split = TREES_PER_NODE if raw.num_trees() > TREES_PER_NODE else None
    model: onnx.ModelProto = convert_lightgbm(
        raw,
        name="omnioffer_ranker",
        initial_types=[(INPUT_NAME, FloatTensorType([None, len(feature_names)]))],
        target_opset=TARGET_OPSET,
        zipmap=False,
        split=split,
    )
    _rename_output(model, OUTPUT_NAME)
    for key, value in {
        FEATURE_NAMES_KEY: json.dumps(feature_names),
        "omnioffer.objective": objective,
        "omnioffer.output": "raw_score",
    }.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    return model


def _rename_output(model: onnx.ModelProto, name: str) -> None:
    old = model.graph.output[0].name
    for node in model.graph.node:
        node.output[:] = [name if out == old else out for out in node.output]
        node.input[:] = [name if inp == old else inp for inp in node.input]
    model.graph.output[0].name = name


def _float_rows(rows: npt.ArrayLike, n_features: int) -> npt.NDArray[np.float32]:
    matrix = np.asarray(rows, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[1] != n_features or matrix.shape[0] == 0:
        raise ValueError(f"parity rows must have shape (n >= 1, {n_features}), got {matrix.shape}")
    return matrix


def check_parity(
    booster: lgb.Booster,
    scorer: OnnxScorer,
    rows: npt.ArrayLike,
    tolerance: float = 1e-4,
) -> float:
    """Max |booster raw score - ONNX score| on rows; ExportParityError above tolerance."""
    matrix = _float_rows(rows, scorer.n_features)
    expected = np.asarray(booster.predict(matrix, raw_score=True), dtype=np.float64)
    actual = scorer.score(matrix).astype(np.float64)
    diff = float(np.max(np.abs(expected - actual)))
    if not diff <= tolerance:  # also catches NaN
        raise ExportParityError(
            f"{scorer.path.name}: ONNX scores differ from the booster by {diff:.3g} "
            f"(tolerance {tolerance:g}) on {matrix.shape[0]} rows"
        )
    return diff


def measure_latency_ms(scorer: OnnxScorer, rows: npt.ArrayLike, repeats: int = 50) -> float:
    """Median wall time of scoring 100 rows (rows cycled to 100), after a warm-up."""
    matrix = _float_rows(rows, scorer.n_features)
    batch = matrix[np.arange(LATENCY_ROWS) % matrix.shape[0]]
    for _ in range(5):
        scorer.score(batch)
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        scorer.score(batch)
        timings.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(timings)


def export_ranker(
    booster: lgb.Booster,
    feature_names: list[str],
    path: Path,
    *,
    parity_rows: npt.NDArray[np.floating],
    tolerance: float = 1e-4,
) -> ExportReport:
    """Write `booster` to `path` as ONNX after proving parity on `parity_rows`.

    The graph is written to a temporary sibling first and renamed only when the
    parity check passed, so a failed export never leaves a file at `path`.
    Latency is measured with one intra-op and one inter-op thread, as served.
    """
    model = to_onnx(booster, feature_names)
    temp = path.with_name(f".{path.name}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        temp.write_bytes(model.SerializeToString())
        scorer = OnnxScorer(temp, feature_names, threads=1)
        diff = check_parity(booster, scorer, parity_rows, tolerance)
        latency = measure_latency_ms(scorer, parity_rows)
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)
    return ExportReport(path, diff, latency, booster_objective(booster))
