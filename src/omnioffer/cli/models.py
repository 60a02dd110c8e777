"""What `omnioffer train` prints, and its exit code."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from omnioffer.errors import UsageError
from training.config import load_config
from training.scoreboard import Scoreboard
from training.train import PRIMARY, TrainOutcome, train


def parse_until(text: str | None) -> datetime | None:
    """`--until`: ISO 8601 (naive = UTC) or a date."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--until: expected an ISO 8601 date or time, got {text!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_board(task: str, board: Scoreboard) -> str:
    metrics = list(next(iter(board.overall.values())))
    head = f"{task} ({board.groups:,} customer-channel groups)".ljust(34)
    lines = [head + "".join(f"{m:>12}" for m in metrics)]
    for model, values in board.overall.items():
        lines.append(f"  {model:<32}" + "".join(f"{values[m]:>12.4f}" for m in metrics))
    return "\n".join(lines)


def report(outcome: TrainOutcome, models_dir: Path, out: TextIO) -> int:
    for task, board in outcome.boards.items():
        print(format_board(task, board), file=out)
    for gate in outcome.gates:
        print(gate.describe(), file=out)
    for note in outcome.notes:
        print(f"note: {note}", file=out)
    if outcome.version is None:
        metrics = ", ".join(PRIMARY.values())
        print(
            f"not activated: the ranker must beat the best baseline on {metrics}"
            " (use --force to write and activate anyway)",
            file=out,
        )
        return 1
    print(f"model version {outcome.version} written to {models_dir} and activated", file=out)
    return 0


def run_train(
    data: Path,
    models: Path,
    *,
    until: str | None,
    test_days: int,
    config: Path | None,
    force: bool,
    channels: Sequence[str],
    truth: Path | None,
    progress: bool,
    out: TextIO = sys.stdout,
) -> int:
    if not data.is_dir():
        raise UsageError(f"--data {data} is not a folder")
    outcome = train(
        data, models, until=parse_until(until), test_days=test_days, config=load_config(config),
        force=force, channels=channels, truth_dir=truth, progress=progress,
    )  # fmt: skip
    return report(outcome, models, out)
