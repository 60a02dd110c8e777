"""The model card: card.md with metric tables and PNG plots, written into a version.

The card is what a reviewer reads before promoting a version, so it states the
comparison that matters (ranker vs the best baseline, and vs the oracle when the
data is synthetic) rather than leaving the reader to divide numbers by hand. The
markdown is written here; the plots it embeds come from `card_plots`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from omnioffer.contracts.problems import Dropped
from training.evaluate.scoreboard import Scoreboard
from training.publish.card_plots import (
    CALIBRATION_BINS,
    Floats,
    calibration_plot,
    grouped_bars,
    importance_plot,
    quantile_bins,
)
from training.publish.dropped import dropped_section

MISSING = "\N{EN DASH}"  # a model that has no value for a metric
CARD_FEATURES = 15
NOT_BASELINES = ("ranker", "oracle")

Lines = list[str]
Section = tuple[Lines, list[Path]]  # markdown, and the images it embeds


def expected_calibration_error(
    pred: Floats, outcome: Floats, bins: int = CALIBRATION_BINS
) -> float:
    """Size-weighted mean |mean predicted - observed rate| over equal-count bins.

    Equal-count (quantile) bins rather than fixed-width ones because response
    probabilities crowd near zero: fixed bins would leave most bins empty and
    judge the model on a handful of rows. NaN when there is nothing to judge.
    """
    pred, outcome = np.asarray(pred, dtype=np.float64), np.asarray(outcome, dtype=np.float64)
    if pred.shape != outcome.shape or pred.ndim != 1:
        raise ValueError(f"pred {pred.shape} and outcome {outcome.shape} must be equal 1-d")
    if bins < 1:
        raise ValueError("bins must be >= 1")
    if pred.size == 0:
        return math.nan
    rows = quantile_bins(pred, bins)
    gaps = [abs(pred[b].mean() - outcome[b].mean()) * b.size for b in rows]
    return float(sum(gaps) / pred.size)


def _slug(name: str) -> str:
    """File-name-safe form of a task or ranker name (no path separators)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "_"


def _fmt(value: float | None) -> str:
    return MISSING if value is None else f"{value:.4f}"


def _blocks(*blocks: str | Lines) -> Lines:
    """Markdown paragraphs: each block (a line or a list of lines) followed by a blank line."""
    out: Lines = []
    for block in blocks:
        out += [block, ""] if isinstance(block, str) else [*block, ""]
    return out


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> Lines:
    """Markdown table; pipes and newlines in cells are neutralised so rows stay rows."""
    cells = [[str(c).replace("|", "\\|").replace("\n", " ") for c in r] for r in [header, *rows]]
    lines = ["| " + " | ".join(r) + " |" for r in cells]
    return [lines[0], "|" + "---|" * len(header), *lines[1:]]


def _union(tables: Sequence[Mapping[str, Any]]) -> list[str]:
    """Keys of all tables in first-seen order, so a key missing from one still shows."""
    return list(dict.fromkeys(k for t in tables for k in t))


def _best_baseline(board: Scoreboard, metric: str) -> tuple[str, float] | None:
    """Board.best_baseline, but skipping baselines that lack the metric instead of failing."""
    have = [
        (m, v[metric]) for m, v in board.overall.items() if m not in NOT_BASELINES and metric in v
    ]
    return max(have, key=lambda p: p[1]) if have else None


def _lift(board: Scoreboard, metric: str) -> Lines:
    """Ranker over the best baseline (and over the oracle): the number promotion hinges on."""
    ranker = board.overall.get("ranker", {}).get(metric)
    best = _best_baseline(board, metric)
    if ranker is None or best is None:
        return _blocks(f"Lift on {metric}: n/a (needs both the ranker and a baseline).")
    name, value = best
    lift = f"{ranker / value:.3f}x" if value > 0 else "n/a (baseline is 0)"
    md = _blocks(
        f"**Lift** on {metric}: ranker {ranker:.4f} / best baseline `{name}` {value:.4f}"
        f" = **{lift}**"
    )
    oracle = board.overall.get("oracle", {}).get(metric)
    if oracle is not None:
        share = f"{ranker / oracle:.1%}" if oracle > 0 else "n/a (oracle is 0)"
        md += _blocks(
            f"**Share of oracle** on {metric}: ranker {ranker:.4f} / oracle {oracle:.4f}"
            f" = **{share}**"
        )
    return md


def _task_section(out_dir: Path, task: str, board: Scoreboard, metric: str) -> Section:
    """Tables and plots for one task; columns are the union over models, so gaps show as dashes."""
    metrics = _union(list(board.overall.values()))
    models, slug = _union([board.overall, *board.per_channel.values()]), _slug(task)
    by_metric = {k: {m: v[k] for m, v in board.overall.items() if k in v} for k in metrics}
    by_channel = {
        ch: {m: v[metric] for m, v in board.per_channel[ch].items() if metric in v}
        for ch in sorted(board.per_channel)
    }
    bars, channels = out_dir / f"metrics_{slug}.png", out_dir / f"channels_{slug}.png"
    grouped_bars(bars, "metrics", by_metric, list(board.overall), f"{task}: all models")
    grouped_bars(channels, "channels", by_channel, models, f"{task}: {metric} per channel")
    overall = [[m, *(_fmt(board.overall[m].get(k)) for k in metrics)] for m in board.overall]
    per_channel = [[ch, *(_fmt(row.get(m)) for m in models)] for ch, row in by_channel.items()]
    md = _blocks(
        f"## Task `{task}`",
        f"{board.groups:,} evaluation groups; primary metric {metric}.",
        _table(["model", *metrics], overall),
    )
    md += _lift(board, metric)
    md += _blocks(
        f"### {metric} per channel",
        _table(["channel", *models], per_channel),
        f"![{task} metrics]({bars.name})",
        f"![{task} per channel]({channels.name})",
    )
    return md, [bars, channels]


def _importance_section(out_dir: Path, ranker: str, pairs: Sequence[tuple[str, float]]) -> Section:
    """Top features by gain; sorted here so callers need not pre-sort (ties keep input order)."""
    ranked = sorted(pairs, key=lambda p: -p[1])
    total = sum(g for _, g in ranked)
    rows = [
        [i + 1, name, f"{gain:,.1f}", f"{gain / total:.1%}" if total > 0 else MISSING]
        for i, (name, gain) in enumerate(ranked[:CARD_FEATURES])
    ]
    path = importance_plot(out_dir / f"importance_{_slug(ranker)}.png", ranked, ranker)
    md = _blocks(
        f"## Feature importance: `{ranker}` ranker (gain, top {CARD_FEATURES})",
        _table(["rank", "feature", "gain", "share"], rows) if rows else "No features recorded.",
        f"![{ranker} importance]({path.name})",
    )
    return md, [path]


def _calibration_section(out_dir: Path, ranker: str, pred: Floats, outcome: Floats) -> Section:
    """ECE plus the per-bin numbers behind the reliability plot, for readers without images."""
    pred, outcome = np.asarray(pred, dtype=np.float64), np.asarray(outcome, dtype=np.float64)
    ece = expected_calibration_error(pred, outcome)
    path = calibration_plot(out_dir / f"calibration_{_slug(ranker)}.png", pred, outcome, ranker)
    rows = [
        [i + 1, b.size, f"{pred[b].mean():.4f}", f"{outcome[b].mean():.4f}"]
        for i, b in enumerate(quantile_bins(pred, CALIBRATION_BINS))
    ]
    summary = "No predictions to calibrate."
    if pred.size:
        summary = (
            f"Expected calibration error ({CALIBRATION_BINS} quantile bins): **{ece:.4f}** over"
            f" {pred.size:,} rows; mean predicted {pred.mean():.4f}, observed {outcome.mean():.4f}."
        )
    md = _blocks(
        f"## Calibration: `{ranker}`",
        summary,
        _table(["bin", "rows", "mean predicted", "observed"], rows),
        f"![{ranker} calibration]({path.name})",
    )
    return md, [path]


def _json_default(value: object) -> object:
    """numpy scalars/arrays as their JSON values; anything else as its str."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _recall(candidate_recall: Mapping[str, float] | None) -> Lines:
    """The ranker can only reorder what candidates contain: recall caps its ceiling."""
    if not candidate_recall:
        return []
    rows = [[src, _fmt(v)] for src, v in candidate_recall.items()]
    return _blocks(
        "## Candidate recall",
        "Share of test purchases each candidate source contains.",
        _table(["source", "recall"], rows),
    )


def _tail(
    timings: Mapping[str, float] | None, params: Mapping[str, Any] | None, notes: Sequence[str]
) -> Lines:
    """Provenance after the results: timings, params, notes (each only if given)."""
    md: Lines = []
    if timings:
        rows = [[stage, f"{s:.2f}"] for stage, s in timings.items()]
        rows.append(["**total**", f"{sum(timings.values()):.2f}"])
        md += _blocks("## Timings", _table(["stage", "seconds"], rows))
    if params is not None:
        text = json.dumps(params, indent=2, sort_keys=True, default=_json_default)
        md += _blocks("## Parameters", ["```json", text, "```"])
    if notes:
        md += _blocks("## Notes", [f"- {' '.join(str(n).split())}" for n in notes])
    return md


def write_card(
    out_dir: Path,
    *,
    version: str,
    window: Mapping[str, str],
    boards: Mapping[str, Scoreboard],
    primary: Mapping[str, str],
    importance: Mapping[str, Sequence[tuple[str, float]]],
    calibration: Mapping[str, tuple[Floats, Floats]] | None = None,
    candidate_recall: Mapping[str, float] | None = None,
    timings: Mapping[str, float] | None = None,
    params: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
    dropped: Sequence[Dropped] = (),
) -> list[Path]:
    """Write card.md and its plots into out_dir; return the files written (card.md first).

    Everything is a pure function of the arguments (no clock, no host names) so
    two runs on the same inputs produce the same bytes and cards diff cleanly.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    window_rows = [[k, v] for k, v in window.items()]
    md = _blocks(
        f"# Model card: {version}", "## Training window", _table(["boundary", "value"], window_rows)
    )
    md += dropped_section(dropped)
    files: list[Path] = []
    calibration = calibration or {}
    sections = [_task_section(out_dir, t, b, primary[t]) for t, b in boards.items()]
    sections.append((_recall(candidate_recall), []))
    sections += [_importance_section(out_dir, r, p) for r, p in importance.items()]
    sections += [_calibration_section(out_dir, r, p, o) for r, (p, o) in calibration.items()]
    for lines, paths in sections:
        md += lines
        files += paths
    md += _tail(timings, params, notes)
    card = out_dir / "card.md"
    card.write_text("\n".join(md).rstrip("\n") + "\n", encoding="utf-8")
    return [card, *files]
