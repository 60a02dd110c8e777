"""Commands on model versions: `train`, `versions`, `activate`.

`train` prints each task's scoreboard and the promotion gates, and exits 1 when the
ranker did not earn activation. `versions` and `activate` work on the registry and
on the feature store, so both always name the same version. `training` is imported
only inside `run_train` and `report`: the online install never needs it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from omnioffer.cli.args import Subparsers, positive_int, strict_flag
from omnioffer.errors import UsageError

if TYPE_CHECKING:
    from training.evaluate.scoreboard import Scoreboard
    from training.train import TrainOutcome


def cmd_train(args: argparse.Namespace) -> int:
    return run_train(
        args.data,
        args.out,
        until=args.until,
        test_days=args.test_days,
        config=args.config,
        force=args.force,
        channels=args.channels,
        truth=args.truth,
        progress=not args.quiet,
        strict=args.strict,
    )


def cmd_evaluate_serving(args: argparse.Namespace) -> int:
    """Replay the test window through the decision path; exit 1 when it misses the target."""
    import os

    from omnioffer.cli.serve import settings_path
    from omnioffer.settings import CONFIG_ENV
    from training.evaluate.serving_fidelity import evaluate_serving

    if not args.data.is_dir():
        raise UsageError(f"--data {args.data} is not a folder")
    config = settings_path(args.config, os.environ.get(CONFIG_ENV, "").strip())
    fidelity = evaluate_serving(args.data, args.models, args.version, config=config,
                                channels=args.channels_flag, env=os.environ)  # fmt: skip
    print(fidelity.describe())
    if args.json is not None:
        fidelity.write(args.json)
    return 0 if fidelity.passed else 1


def cmd_versions(args: argparse.Namespace) -> int:
    from omnioffer.cli.store import configured_store, print_store_versions, store_url

    code = run_versions(args.models)
    store = configured_store(args.store, must_exist=args.store is None)
    print_store_versions(store, store_url(args.store))
    return code


def cmd_activate(args: argparse.Namespace) -> int:
    """Registry and store switch together, or neither does (jobs/activate.py)."""
    import asyncio

    from omnioffer.cli.store import configured_store
    from omnioffer.jobs.activate import activate

    store = configured_store(args.store, must_exist=args.store is None)

    async def go() -> str | None:
        try:
            return await activate(args.models, args.version, store)
        finally:
            if store is not None:
                await store.close()

    previous = asyncio.run(go())
    print(f"current model version: {args.version} (was {previous or 'none'})")
    if store is not None:
        print(f"feature store now serves {args.version}")
    return 0


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
    from training.train import PRIMARY

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
    strict: bool = False,
) -> int:
    from training.config import load_config
    from training.train import train

    if not data.is_dir():
        raise UsageError(f"--data {data} is not a folder")
    outcome = train(
        data, models, until=parse_until(until), test_days=test_days, config=load_config(config),
        force=force, channels=channels, truth_dir=truth, progress=progress, strict=strict,
    )  # fmt: skip
    return report(outcome, models, out)


def run_versions(models_dir: Path, out: TextIO = sys.stdout) -> int:
    from omnioffer.registry_list import list_versions

    if not models_dir.is_dir():
        raise UsageError(f"{models_dir} is not a model registry folder")
    versions = list_versions(models_dir)
    if not versions:
        print(f"no model versions in {models_dir}", file=out)
        return 0
    for info in versions:
        mark = "*" if info.current else " "
        primary = "  ".join(f"{k} {v:.4f}" for k, v in sorted(info.primary.items()))
        problem = f"  BROKEN: {info.problem}" if info.problem else ""
        print(f"{mark} {info.name}  {info.created_at}  {primary}{problem}", file=out)
    return 0


def add_train(sub: Subparsers) -> None:
    p = sub.add_parser("train", help="train, evaluate and register a model version")
    p.add_argument("--data", type=Path, required=True, help="a valid data folder")
    p.add_argument(
        "--out", type=Path, default=Path("models"), help="model registry, default models/"
    )
    p.add_argument("--until", default=None, help="end of history (ISO 8601); default last event")
    p.add_argument("--test-days", type=positive_int, default=28, help="test window, default 28")
    p.add_argument("--config", type=Path, default=None, help="TOML file overriding defaults")
    p.add_argument("--force", action="store_true", help="write and activate even if it loses")
    p.add_argument("--truth", type=Path, default=None, help="ground truth (default ../truth)")
    strict_flag(p)
    p.set_defaults(handler=cmd_train)


def add_evaluate_serving(sub: Subparsers) -> None:
    p = sub.add_parser(
        "evaluate-serving",
        help="replay a version's test window through the decision path: served vs offline NDCG",
    )
    p.add_argument("--data", type=Path, required=True, help="the data the version was trained on")
    p.add_argument("--models", type=Path, default=Path("models"), help="default models/")
    p.add_argument("--version", default=None, help="default: the current version")
    p.add_argument("--config", type=Path, default=None,
                   help="service settings whose [policy] decides (env OMNIOFFER_CONFIG; default"
                   " ./omnioffer.toml if there is one, else the default policy)")  # fmt: skip
    p.add_argument("--json", type=Path, default=None, help="also write the report as JSON here")
    p.set_defaults(handler=cmd_evaluate_serving)


def add_registry(sub: Subparsers) -> None:
    p = sub.add_parser("versions", help="list model versions in the registry and the store")
    p.add_argument("--models", type=Path, default=Path("models"), help="default models/")
    p.add_argument("--store", default=None, help="feature store URL (env OMNIOFFER_STORE_URL)")
    p.set_defaults(handler=cmd_versions)
    p = sub.add_parser("activate", help="make a model version current and served (or roll back)")
    p.add_argument("version", help="a version name from `omnioffer versions`")
    p.add_argument("--models", type=Path, default=Path("models"), help="default models/")
    p.add_argument("--store", default=None, help="feature store URL (env OMNIOFFER_STORE_URL)")
    p.set_defaults(handler=cmd_activate)
