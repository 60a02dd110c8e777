"""The model card: card.md with metric tables and PNG plots, written into a version.

Plots use matplotlib's object API (Figure + Agg canvas), not pyplot, so nothing
global changes and no display is needed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from training.scoreboard import Scoreboard

DPI = 100


def expected_calibration_error(
    pred: npt.NDArray[np.float64], outcome: npt.NDArray[np.float64], bins: int = 10
) -> float:
    """Mean |predicted - observed| over equal-count bins, weighted by bin size."""
    if pred.size == 0:
        return 0.0
    order = np.argsort(pred, kind="stable")
    gaps = [
        abs(float(pred[b].mean()) - float(outcome[b].mean())) * b.size
        for b in np.array_split(order, bins)
        if b.size
    ]
    return float(sum(gaps) / pred.size)


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    return path


def _metric_bars(path: Path, board: Scoreboard, title: str) -> Path:
    models = list(board.overall)
    metrics = list(next(iter(board.overall.values())))
    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot()
    width = 0.8 / len(models)
    for i, model in enumerate(models):
        ax.bar(
            np.arange(len(metrics)) + i * width,
            [board.overall[model].get(m, 0.0) for m in metrics],
            width,
            label=model,
        )
    ax.set_xticks(np.arange(len(metrics)) + 0.4 - width / 2, metrics)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def _channel_bars(path: Path, board: Scoreboard, metric: str, title: str) -> Path:
    channels = sorted(board.per_channel)
    models = list(board.overall)
    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot()
    width = 0.8 / max(len(models), 1)
    for i, model in enumerate(models):
        values = [board.per_channel[ch].get(model, {}).get(metric, 0.0) for ch in channels]
        ax.bar(np.arange(len(channels)) + i * width, values, width, label=model)
    ax.set_xticks(np.arange(len(channels)) + 0.4 - width / 2, channels)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def _importance_bars(path: Path, pairs: Sequence[tuple[str, float]], title: str) -> Path:
    top = list(pairs)[:20][::-1]
    fig = Figure(figsize=(7, 6))
    ax = fig.add_subplot()
    ax.barh([n for n, _ in top], [v for _, v in top])
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, path)


def _calibration_plot(
    path: Path, pred: npt.NDArray[np.float64], outcome: npt.NDArray[np.float64], title: str
) -> Path:
    order = np.argsort(pred, kind="stable")
    bins = [b for b in np.array_split(order, 10) if b.size]
    fig = Figure(figsize=(5, 5))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax.plot([pred[b].mean() for b in bins], [outcome[b].mean() for b in bins], marker="o")
    ax.set_xlabel("predicted response probability")
    ax.set_ylabel("observed response rate")
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, path)


def _table(board: Scoreboard) -> list[str]:
    metrics = list(next(iter(board.overall.values())))
    lines = ["| model | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for model, values in board.overall.items():
        cells = [f"{values[m]:.4f}" if m in values else "-" for m in metrics]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return lines


def _lift(board: Scoreboard, metric: str) -> list[str]:
    name, best = board.best_baseline(metric)
    ranker = board.overall.get("ranker", {}).get(metric)
    if ranker is None:
        return []
    lines = [
        f"Ranker {metric} {ranker:.4f} = x{ranker / best:.3f} "
        f"the best baseline ({name}, {best:.4f})."
    ]
    oracle = board.overall.get("oracle", {}).get(metric)
    if oracle:
        lines.append(f"Share of oracle: {ranker / oracle:.3f} (oracle {oracle:.4f}).")
    return lines


def _channel_table(board: Scoreboard, metric: str) -> list[str]:
    models = list(board.overall)
    lines = ["| channel | " + " | ".join(models) + " |", "|---" * (len(models) + 1) + "|"]
    for ch in sorted(board.per_channel):
        row = board.per_channel[ch]
        lines.append(
            f"| {ch} | "
            + " | ".join(f"{row[m][metric]:.4f}" if m in row else "-" for m in models)
            + " |"
        )
    return lines


def write_card(
    out_dir: Path,
    *,
    version: str,
    window: Mapping[str, str],
    boards: Mapping[str, Scoreboard],
    primary: Mapping[str, str],
    importance: Mapping[str, Sequence[tuple[str, float]]],
    calibration: Mapping[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]
    | None = None,
    candidate_recall: Mapping[str, float] | None = None,
    timings: Mapping[str, float] | None = None,
    params: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
) -> list[Path]:
    """Write card.md and its plots into out_dir; return the files written."""
    files: list[Path] = []
    md = [
        f"# Model card: {version}",
        "",
        "Training window: " + ", ".join(f"{k} {v}" for k, v in window.items()),
        "",
    ]
    for task, board in boards.items():
        metric = primary[task]
        files.append(
            _metric_bars(out_dir / f"metrics_{task}.png", board, f"{task}: models side by side")
        )
        files.append(
            _channel_bars(
                out_dir / f"channels_{task}.png", board, metric, f"{task}: {metric} per channel"
            )
        )
        md += [
            f"## Task `{task}` ({board.groups:,} customer-channel groups)",
            "",
            *_table(board),
            "",
        ]
        md += [
            *_lift(board, metric),
            "",
            f"### {metric} per channel",
            "",
            *_channel_table(board, metric),
            "",
        ]
        md += [f"![metrics](metrics_{task}.png)", f"![channels](channels_{task}.png)", ""]
    if candidate_recall:
        md += ["## Candidate recall (share of test purchases each source contains)", ""]
        md += [f"- {k}: {v:.3f}" for k, v in candidate_recall.items()] + [""]
    for name, pairs in importance.items():
        files.append(
            _importance_bars(out_dir / f"importance_{name}.png", pairs, f"{name} ranker: gain")
        )
        md += [f"## Feature importance: {name} ranker (gain, top 15)", ""]
        md += [f"{i + 1}. {n}: {v:,.1f}" for i, (n, v) in enumerate(list(pairs)[:15])]
        md += ["", f"![importance](importance_{name}.png)", ""]
    for name, (pred, outcome) in (calibration or {}).items():
        files.append(
            _calibration_plot(
                out_dir / f"calibration_{name}.png", pred, outcome, f"{name}: calibration"
            )
        )
        ece = expected_calibration_error(pred, outcome)
        md += [
            f"## Calibration: {name}",
            "",
            f"Expected calibration error (10 bins): {ece:.4f}",
            "",
        ]
        md += [f"![calibration](calibration_{name}.png)", ""]
    if timings:
        md += ["## Timings (s)", ""] + [f"- {k}: {v:.1f}" for k, v in timings.items()] + [""]
    if notes:
        md += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    md += [
        "## Parameters",
        "",
        "```json",
        json.dumps(params or {}, indent=2, sort_keys=True, default=str),
        "```",
        "",
    ]
    card = out_dir / "card.md"
    card.write_text("\n".join(md), encoding="utf-8")
    return [card, *files]
