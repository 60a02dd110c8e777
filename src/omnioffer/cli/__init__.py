"""The `omnioffer` command: argument parsing and exit codes, nothing else.

Exit codes: 0 ok, 1 data error, 2 usage error. Each subcommand is a thin
function that hands over to the module doing the work. Offline commands
(`generate`, `demo`) import `training` lazily, so the online install never
needs it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from omnioffer import __version__
from omnioffer.cli.serve import add_service_commands
from omnioffer.contracts.schema import DEFAULT_CHANNELS
from omnioffer.errors import OmniofferError, UsageError

log = logging.getLogger("omnioffer")

Handler = Callable[[argparse.Namespace], int]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _channels(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected a comma-separated list of channel names")
    return names


def _default_channels() -> str:
    return os.environ.get("OMNIOFFER_CHANNELS", ",".join(DEFAULT_CHANNELS))


def cmd_generate(args: argparse.Namespace) -> int:
    from training.simulate.generate import generate

    result = generate(
        args.out,
        customers=args.customers,
        days=args.days,
        seed=args.seed,
        items=args.items,
        offers=args.offers,
        fmt=args.format,
        progress=not args.quiet,
        profile=args.profile,
    )
    print(result.describe())
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from omnioffer.contracts.report import run_validate

    return run_validate(args.data, channels=args.channels, max_problems=args.max_problems)


def cmd_identities(args: argparse.Namespace) -> int:
    from omnioffer.cli.data import run_identities

    return run_identities(args.data, out=args.out, channels=args.channels)


def cmd_train(args: argparse.Namespace) -> int:
    from omnioffer.cli.models import run_train

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
    )


def cmd_versions(args: argparse.Namespace) -> int:
    from omnioffer.cli.store import configured_store, print_store_versions
    from omnioffer.registry_report import run_versions

    code = run_versions(args.models)
    store = configured_store(args.store, must_exist=args.store is None)
    if store is not None:
        print_store_versions(store)
    return code


def cmd_activate(args: argparse.Namespace) -> int:
    """Registry first (it verifies checksums), then the store, so both name one version."""
    from omnioffer.cli.store import activate_in_store, configured_store
    from omnioffer.registry_report import run_activate

    code = run_activate(args.models, args.version)
    store = configured_store(args.store, must_exist=args.store is None)
    if store is not None:
        activate_in_store(store, args.version)
        print(f"feature store now serves {args.version}")
    return code


def cmd_demo(args: argparse.Namespace) -> int:
    from training.demo import run_demo

    return run_demo(
        args.out,
        customers=args.customers,
        seed=args.seed,
        models=args.models,
        port=args.port,
        keep_serving=not args.exit_after_decision,
    )


def _add_generate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("generate", help="write a synthetic omnichannel retailer's history")
    p.add_argument("--out", type=Path, required=True, help="output folder (data/ and truth/)")
    p.add_argument("--customers", type=_positive_int, default=20_000, help="default 20000")
    p.add_argument("--days", type=_positive_int, default=180, help="history length, default 180")
    p.add_argument("--seed", type=int, default=7, help="random seed, default 7")
    p.add_argument("--items", type=_positive_int, default=None, help="default scales with N")
    p.add_argument("--offers", type=_positive_int, default=None, help="default scales with N")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    p.add_argument(
        "--profile",
        choices=("retail", "grocery"),
        default="retail",
        help="retail (default: mostly one-off goods) or grocery (mostly re-bought staples)",
    )
    p.set_defaults(handler=cmd_generate)


def _add_validate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("validate", help="check a data folder against data contract v1")
    p.add_argument("data", type=Path, help="folder holding events.csv|parquet and friends")
    p.add_argument("--max-problems", type=_positive_int, default=50, help="default 50")
    p.set_defaults(handler=cmd_validate)


def _add_identities(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("identities", help="resolve identities; write the merge audit")
    p.add_argument("data", type=Path, help="a valid data folder")
    p.add_argument("--out", type=Path, required=True, help="CSV file for the merge audit")
    p.set_defaults(handler=cmd_identities)


def _add_train(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("train", help="train, evaluate and register a model version")
    p.add_argument("--data", type=Path, required=True, help="a valid data folder")
    p.add_argument(
        "--out", type=Path, default=Path("models"), help="model registry, default models/"
    )
    p.add_argument("--until", default=None, help="end of history (ISO 8601); default last event")
    p.add_argument("--test-days", type=_positive_int, default=28, help="test window, default 28")
    p.add_argument("--config", type=Path, default=None, help="TOML file overriding defaults")
    p.add_argument("--force", action="store_true", help="write and activate even if it loses")
    p.add_argument("--truth", type=Path, default=None, help="ground truth (default ../truth)")
    p.set_defaults(handler=cmd_train)


def _add_registry(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("versions", help="list model versions in the registry and the store")
    p.add_argument("--models", type=Path, default=Path("models"), help="default models/")
    p.add_argument("--store", default=None, help="feature store URL (env OMNIOFFER_STORE_URL)")
    p.set_defaults(handler=cmd_versions)
    p = sub.add_parser("activate", help="make a model version current and served (or roll back)")
    p.add_argument("version", help="a version name from `omnioffer versions`")
    p.add_argument("--models", type=Path, default=Path("models"), help="default models/")
    p.add_argument("--store", default=None, help="feature store URL (env OMNIOFFER_STORE_URL)")
    p.set_defaults(handler=cmd_activate)


def _add_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="generate, train, materialize and serve a demo retailer")
    p.add_argument("--out", type=Path, default=Path("demo-data"), help="default ./demo-data")
    p.add_argument("--customers", type=_positive_int, default=20_000, help="default 20000")
    p.add_argument("--seed", type=int, default=7, help="default 7")
    p.add_argument("--models", type=Path, default=Path("models"), help="registry, default models/")
    p.add_argument("--port", type=int, default=8000, help="default 8000 (or a free one)")
    p.add_argument(
        "--exit-after-decision",
        action="store_true",
        help="stop the service after the first decision instead of serving until Ctrl-C",
    )
    p.set_defaults(handler=cmd_demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omnioffer", description="Next-best-offer engine for omnichannel retail."
    )
    parser.add_argument("--version", action="version", version=f"omnioffer {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings only, no progress")
    parser.add_argument(
        "--channels",
        type=_channels,
        default=None,
        help="comma-separated channel list (env OMNIOFFER_CHANNELS); default: "
        + ",".join(DEFAULT_CHANNELS),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (
        _add_generate,
        _add_validate,
        _add_identities,
        _add_train,
        _add_registry,
        _add_demo,
        add_service_commands,
    ):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.channels_flag = args.channels  # None unless given: `serve` lets its settings decide
    if args.channels is None:
        args.channels = _channels(_default_channels())
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler: Handler = args.handler
    try:
        return handler(args)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"omnioffer {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OmniofferError as exc:
        print(f"omnioffer {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
