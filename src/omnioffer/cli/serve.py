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


def check_exposure(host: str, keys_file: str | None, *, insecure: bool) -> None:
    """Refuse to answer anyone on a non-loopback address without API keys."""
    from omnioffer.api.auth import is_loopback

    if keys_file is not None and not Path(keys_file).is_file():
        raise UsageError(
            f"--keys-file {keys_file}: no such file, so every call would be refused; create "
            f"a key first (`omnioffer keys create --keys-file {keys_file} ...`)"
        )
    if keys_file is None and not is_loopback(host) and not insecure:
        raise UsageError(
            f"--host {host} is reachable from other machines and no keys_file is set, so "
            "anyone could read any customer's decisions: create keys (`omnioffer keys "
            "create`) and pass --keys-file, or give --insecure to serve without them"
        )


def settings_path(flag: Path | None, from_env: str) -> Path | None:
    """The settings file serve reads: --config, else OMNIOFFER_CONFIG, else ./omnioffer.toml
    when there is one (what `omnioffer demo` leaves behind), else none."""
    from omnioffer.cli.demo_settings import SETTINGS_FILE

    if flag is not None:
        return flag
    if from_env:
        return Path(from_env)
    return SETTINGS_FILE if SETTINGS_FILE.is_file() else None


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
        "keys_file": args.keys_file,
    }
    from_env = os.environ.get(CONFIG_ENV, "").strip()
    config = settings_path(args.config, from_env)
    if config is not None and args.config is None and not from_env:
        print(f"omnioffer serve: settings from {config} (found in this folder)", file=sys.stderr)
    settings = load_settings(config, overrides=overrides)
    try:
        check_settings(settings)
    except UsageError as exc:
        raise UsageError(f"{exc} in {config}" if config else str(exc)) from exc
    check_exposure(settings.host, settings.keys_file, insecure=args.insecure)
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
        "--config", type=Path, default=None,
        help="TOML settings file (env OMNIOFFER_CONFIG; default ./omnioffer.toml if there is one)",
    )  # fmt: skip
    p.add_argument("--keys-file", default=None, help="API keys (env OMNIOFFER_KEYS_FILE)")
    p.add_argument("--insecure", action="store_true",
                   help="serve a non-loopback --host without API keys")  # fmt: skip
    store_flag(p)
    p.set_defaults(handler=cmd_serve)
