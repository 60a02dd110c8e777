"""The online-service commands of `omnioffer`: materialize, serve, export-events.

Kept apart from cli.py so the command table stays short; every import that pulls
in the service stack happens inside the handler.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from omnioffer.errors import UsageError


def cmd_materialize(args: argparse.Namespace) -> int:
    from omnioffer.cli.store import configured_store
    from omnioffer.jobs.materialize import run_materialize

    store = configured_store(args.store)
    if store is None:  # cannot happen without must_exist; keeps the type honest
        raise UsageError("no feature store configured")
    return run_materialize(store, args.models, args.version)


def cmd_serve(args: argparse.Namespace) -> int:
    from omnioffer.api.server import run_server
    from omnioffer.settings import load_settings

    overrides = {
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "store_url": args.store,
        "models_dir": str(args.models) if args.models else None,
        "as_of": args.as_of,
        "channels": args.channels_flag,
    }
    settings = load_settings(args.config, overrides=overrides)
    run_server(settings)
    return 0


def cmd_export_events(args: argparse.Namespace) -> int:
    from omnioffer.cli.store import configured_store
    from omnioffer.jobs.export_events import run_export

    store = configured_store(args.store, must_exist=True)
    if store is None:
        raise UsageError("no feature store: pass --store URL or set OMNIOFFER_STORE_URL")
    return run_export(store, args.out, args.format, trim=args.trim)


def _store_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        default=None,
        help="feature store URL: redis://host:port/db or sqlite:///path "
        "(env OMNIOFFER_STORE_URL; default: the embedded ./omnioffer-store.sqlite)",
    )


def add_service_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("materialize", help="load a model version into the feature store, activate")
    p.add_argument("--models", type=Path, default=Path("models"), help="default models/")
    p.add_argument("--version", default=None, help="default: the registry's current version")
    _store_flag(p)
    p.set_defaults(handler=cmd_materialize)

    p = sub.add_parser("serve", help="run the HTTP decision service")
    p.add_argument("--host", default=None, help="default 127.0.0.1 (env OMNIOFFER_HOST)")
    p.add_argument("--port", type=int, default=None, help="default 8000 (env OMNIOFFER_PORT)")
    p.add_argument("--workers", type=int, default=None, help="default 1 (env OMNIOFFER_WORKERS)")
    p.add_argument("--models", type=Path, default=None, help="default models/")
    p.add_argument("--as-of", default=None, help="replay clock (ISO 8601); default: wall clock")
    p.add_argument(
        "--config", type=Path, default=None, help="TOML settings file (env OMNIOFFER_CONFIG)"
    )
    _store_flag(p)
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("export-events", help="write the ingested event log as a contract file")
    p.add_argument("--out", type=Path, required=True, help="folder for events.parquet|csv")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    p.add_argument(
        "--trim",
        action="store_true",
        help="then delete the exported events from the log, once the file is on disk "
        "(refused if the folder already holds an events file)",
    )
    _store_flag(p)
    p.set_defaults(handler=cmd_export_events)
