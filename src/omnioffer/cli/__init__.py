"""The `omnioffer` command: the argument table, parsing and exit codes.

Exit codes: 0 ok, 1 data error, 2 usage error. Commands are grouped by what they
touch, one module each: `data` (generate, validate, identities), `models` (train,
versions, activate), `store` (materialize, export-events), `serve` and `demo`. Each
registers its subparsers and hands over to the code doing the work. Everything heavy
(polars, the service stack, `training`) is imported inside the handlers, so the
online install never needs `training` and `omnioffer --version` stays instant.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from omnioffer import __version__
from omnioffer.cli import data, demo, models, serve, store
from omnioffer.cli.args import Handler, channel_list, default_channels
from omnioffer.contracts.schema import DEFAULT_CHANNELS
from omnioffer.errors import OmniofferError, UsageError

# In `omnioffer --help` order.
COMMANDS = (
    data.add_generate,
    data.add_validate,
    data.add_identities,
    models.add_train,
    models.add_registry,
    demo.add_demo,
    store.add_materialize,
    serve.add_serve,
    store.add_export_events,
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
        args.channels = channel_list(default_channels())
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
