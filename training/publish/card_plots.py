"""The model card's PNG plots: grouped bars, feature importance, reliability diagram.

Plots use matplotlib's object API (Figure + Agg canvas), not pyplot: no global
backend switch, no display needed, safe to call from a worker thread. Images
are written with print_png so rcParams such as savefig.bbox cannot change their
pixel size, and without the Software tag so reruns are byte-identical.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 100
# (width, height) in inches; pixels are these times DPI.
SIZES = {"metrics": (8, 4), "channels": (8, 4), "importance": (8, 6), "calibration": (6, 7)}
CALIBRATION_BINS = 10
PLOT_FEATURES = 20

Floats = npt.NDArray[np.float64]
Grid = Mapping[str, Mapping[str, float]]  # group (metric or channel) -> model -> value


def quantile_bins(pred: Floats, bins: int) -> list[npt.NDArray[np.intp]]:
    """Row indices of each non-empty equal-count bin, in order of prediction."""
    order = np.argsort(pred, kind="stable")
    return [b for b in np.array_split(order, bins) if b.size]


def _figure(kind: str) -> Figure:
    return Figure(figsize=SIZES[kind], dpi=DPI, facecolor="white")


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    # print_png, not savefig: savefig.* rcParams (bbox, dpi) could resize the image.
    FigureCanvasAgg(fig).print_png(path, metadata={"Software": None})  # type: ignore[no-untyped-call]
    return path


def grouped_bars(path: Path, kind: str, table: Grid, models: Sequence[str], title: str) -> Path:
    """One bar per model within each group; a missing value leaves a gap, not a zero bar."""
    fig = _figure(kind)
    ax = fig.add_subplot()
    width = 0.8 / max(len(models), 1)
    x = np.arange(len(table), dtype=np.float64)
    for i, model in enumerate(models):
        heights = [row.get(model, math.nan) for row in table.values()]
        ax.bar(x + i * width, heights, width, label=model)
    ax.set_xticks(x + 0.4 - width / 2, list(table))
    ax.set_title(title)
    if models:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # never over a bar
    return _save(fig, path)


def importance_plot(path: Path, pairs: Sequence[tuple[str, float]], ranker: str) -> Path:
    top = pairs[:PLOT_FEATURES][::-1]  # barh draws bottom-up; biggest on top
    fig = _figure("importance")
    ax = fig.add_subplot()
    ax.barh([n for n, _ in top], [g for _, g in top])
    ax.set_xlabel("total gain")
    ax.set_title(f"{ranker} ranker: top {PLOT_FEATURES} features by gain")
    return _save(fig, path)


def calibration_plot(path: Path, pred: Floats, outcome: Floats, ranker: str) -> Path:
    """Reliability diagram over quantile bins, with the rows per bin underneath."""
    rows = quantile_bins(pred, CALIBRATION_BINS)
    fig = _figure("calibration")
    top, bottom = fig.subplots(2, 1, height_ratios=[3, 1])
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    means = [(pred[b].mean(), outcome[b].mean()) for b in rows]
    top.plot([p for p, _ in means], [o for _, o in means], marker="o", label=ranker)
    top.set(xlim=(0, 1), ylim=(0, 1), xlabel="mean predicted", ylabel="observed rate")
    top.set_title(f"{ranker}: reliability ({CALIBRATION_BINS} quantile bins)")
    top.legend(fontsize=8, loc="upper left")
    bottom.bar(np.arange(1, len(rows) + 1), [b.size for b in rows])
    bottom.set(xlabel="bin (by predicted probability)", ylabel="rows")
    bottom.set_xticks(np.arange(1, CALIBRATION_BINS + 1))
    return _save(fig, path)
