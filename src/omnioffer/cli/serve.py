"""`omnioffer serve`: run the HTTP decision service.

Flags override the settings file and the environment; everything that pulls in the
service stack is imported inside the handler.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from omnioffer.cli.args import Subparsers, store_flag
from omnioffer.errors import UsageError


def cmd_serve(args: argparse.Namespace) -> int:
    from omnioffer.server import run_server
    from omnioffer.service import check_settings, startup_warning
    from omnioffer.settings import CONFIG_ENV, load_settings

    overrides = {
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "store_url": args.store,
        "models_dir": str(args.models) if args.models else None,
        "as_of": args.as_of,
        "replay_clock": args.replay_clock,
        "channels": args.channels_flag,
    }
    from_env = os.environ.get(CONFIG_ENV, "").strip()
    config: Path | None = args.config or (Path(from_env) if from_env else None)
    settings = load_settings(config, overrides=overrides)
    try:
        check_settings(settings)
    except UsageError as exc:
        raise UsageError(f"{exc} in {config}" if config else str(exc)) from exc
    if (warning := startup_warning(settings)) is not None:
        print(f"omnioffer serve: warning: {warning}", file=sys.stderr, flush=True)
    run_server(settings, config)
    return 0


def add_serve(sub: Subparsers) -> None:
    p = sub.add_parser("serve", help="run the HTTP decision service")
    p.add_argument("--host", default=None, help="default 127.0.0.1 (env OMNIOFFER_HOST)")
    p.add_argument("--port", type=int, default=None, help="default 8000 (env OMNIOFFER_PORT)")
    p.add_argument("--workers", type=int, default=None, help="default 1 (env OMNIOFFER_WORKERS)")
    p.add_argument("--models", type=Path, default=None, help="default models/")
    p.add_argument("--as-of", default=None, help="replay clock (ISO 8601); default: wall clock")
    p.add_argument(
        "--replay-clock", choices=("moving", "frozen"), default=None,
        help="the --as-of clock advances with wall time (moving, the default) or stays",
    )  # fmt: skip
    p.add_argument(
        "--config", type=Path, default=None, help="TOML settings file (env OMNIOFFER_CONFIG)"
    )
    store_flag(p)
    p.set_defaults(handler=cmd_serve)
