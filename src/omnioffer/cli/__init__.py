"""The `omnioffer` command: the argument table, parsing and exit codes.

Exit codes: 0 ok, 1 data error (bad data, a missing version, an unreachable or empty
store), 2 usage error (a bad flag, settings file or `[policy]` value), 3 internal error
(a bug: one line names it, OMNIOFFER_DEBUG=1 shows the traceback). No traceback reaches
a user otherwise. Commands are grouped by what they
touch, one module each: `data` (generate, validate, identities), `models` (train,
versions, activate), `store` (materialize, export-events, erase), `serve` and `demo`. Each
registers its subparsers and hands over to the code doing the work. Everything heavy
(polars, the service stack, `training`) is imported inside the handlers, so the
online install never needs `training` and `omnioffer --version` stays instant.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from omnioffer import __version__
from omnioffer.cli import data, demo, experiments, keys, models, serve, store
from omnioffer.cli.args import Handler, channel_list, default_channels
from omnioffer.contracts.schema import DEFAULT_CHANNELS
from omnioffer.errors import OmniofferError

INTERNAL_ERROR = 3
DEBUG_ENV = "OMNIOFFER_DEBUG"

# In `omnioffer --help` order.
COMMANDS = (
    data.add_generate,
    data.add_validate,
    data.add_identities,
    models.add_train,
    models.add_evaluate_serving,
    models.add_registry,
    demo.add_demo,
    store.add_materialize,
    serve.add_serve,
    store.add_export_events,
    store.add_erase,
    store.add_export_decisions,
    keys.add_keys,
    experiments.add_experiments,
    experiments.add_evaluate_policy,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omnioffer", description="Next-best-offer engine for omnichannel retail."
    )
    parser.add_argument("--version", action="version", version=f"omnioffer {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings only, no progress")
    parser.add_argument(
        "--channels",
        type=channel_list,
        default=None,
        help="comma-separated channel list (env OMNIOFFER_CHANNELS); default: "
        + ",".join(DEFAULT_CHANNELS),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.channels_flag = args.channels  # None unless given: `serve` lets its settings decide
    if args.channels is None:
        try:
            args.channels = channel_list(default_channels())
        except argparse.ArgumentTypeError as exc:
            parser.error(f"OMNIOFFER_CHANNELS: {exc}")
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler: Handler = args.handler
    try:
        return handler(args)
    except OmniofferError as exc:  # UsageError included: one line, no usage block
        print(f"omnioffer {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        what = " ".join(str(exc).split())  # one line, whatever the exception says
        print(f"omnioffer {args.command}: internal error: {type(exc).__name__}: {what} "
              f"(a bug; rerun with {DEBUG_ENV}=1 for the traceback)", file=sys.stderr)  # fmt: skip
        return INTERNAL_ERROR
