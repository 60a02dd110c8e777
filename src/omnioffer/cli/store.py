"""Commands that load or read the feature store: `materialize`, `export-events`,
`export-decisions`, `erase`, and the store half of `versions` and `activate`.

The store is the one named by --store or OMNIOFFER_STORE_URL; without either, the
embedded default file is used only if it already exists (so listing versions never
creates an empty store by accident). The work itself lives in `omnioffer.jobs`;
this module opens the store, prints what happened and picks the exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from omnioffer.cli.args import Subparsers, store_flag
from omnioffer.errors import UsageError

if TYPE_CHECKING:
    from omnioffer.store.base import FeatureStore, VersionInfo


def cmd_materialize(args: argparse.Namespace) -> int:
    store = configured_store(args.store)
    if store is None:  # cannot happen without must_exist; keeps the type honest
        raise UsageError("no feature store configured")
    return run_materialize(store, args.models, args.version)


def cmd_export_events(args: argparse.Namespace) -> int:
    store = configured_store(args.store, must_exist=True)
    if store is None:
        raise UsageError("no feature store: pass --store URL or set OMNIOFFER_STORE_URL")
    return run_export(store, args.out, args.format, trim=args.trim)


def cmd_erase(args: argparse.Namespace) -> int:
    if (args.id_type is None) != (args.id_value is None):
        raise UsageError("--id-type and --id-value go together")
    if (args.customer_id is None) == (args.id_type is None):
        raise UsageError("name the customer by ID or by --id-type and --id-value (one of them)")
    store = configured_store(args.store, must_exist=True)
    if store is None:
        raise UsageError("no feature store: pass --store URL or set OMNIOFFER_STORE_URL")
    identifier = None if args.id_type is None else (args.id_type, args.id_value)
    return run_erase(store, store_url(args.store), args.customer_id, identifier)


def cmd_export_decisions(args: argparse.Namespace) -> int:
    store = configured_store(args.store, must_exist=True)
    if store is None:
        raise UsageError("no feature store: pass --store URL or set OMNIOFFER_STORE_URL")
    return run_export_decisions(store, args.out, args.after)


def store_url(flag: str | None) -> str | None:
    """--store, else OMNIOFFER_STORE_URL, else None (the embedded default file)."""
    return flag or os.environ.get("OMNIOFFER_STORE_URL") or None


def configured_store(url: str | None, *, must_exist: bool = False) -> FeatureStore | None:
    from omnioffer.store import DEFAULT_EMBEDDED_PATH, StoreOptions, open_store
    from omnioffer.store.password import password_from_env

    url = store_url(url)
    if url is None and must_exist and not Path(DEFAULT_EMBEDDED_PATH).exists():
        return None
    return open_store(url, StoreOptions(password=password_from_env(os.environ)))


def store_versions(store: FeatureStore) -> list[VersionInfo]:
    import asyncio

    async def go() -> list[VersionInfo]:
        try:
            return await store.list_versions()
        finally:
            await store.close()

    return asyncio.run(go())


def print_store_versions(
    store: FeatureStore | None, url: str | None, out: TextIO = sys.stdout
) -> None:
    """The store's versions under a line naming the store read (or why none was)."""
    from omnioffer.store import describe_store

    label = describe_store(url)
    if store is None:
        print(f"feature store: none read ({label.removeprefix('the ')} does not exist;"
              " pass --store URL or set OMNIOFFER_STORE_URL)", file=out)  # fmt: skip
        return
    versions = store_versions(store)
    print(f"feature store: {label.removeprefix('the ')}", file=out)
    if not versions:
        print("  no materialized versions", file=out)
    for v in versions:
        mark = "*" if v.active else " "
        print(f"{mark} store {v.name}  {v.state}  {v.customers} customers", file=out)


def run_materialize(
    store: FeatureStore, models_dir: Path, version: str | None, out: TextIO = sys.stdout
) -> int:
    import asyncio
    import time

    from omnioffer.jobs.materialize import materialize
    from omnioffer.registry import get_current

    async def go() -> tuple[str, int]:
        try:
            return await materialize(store, models_dir, version or get_current(models_dir))
        finally:
            await store.close()

    started = time.perf_counter()
    name, count = asyncio.run(go())
    took = time.perf_counter() - started
    print(f"materialized {name}: {count} customers in {took:.1f} s; now active", file=out)
    return 0


def run_export(
    store: FeatureStore, out_dir: Path, fmt: str, out: TextIO = sys.stdout, *, trim: bool = False
) -> int:
    from omnioffer.jobs.export_events import export_events

    done = export_events(store, out_dir, fmt, trim=trim)
    n = done.events
    trimmed = f"; {n} entries deleted from the log" if trim and n else ""
    print(f"exported {n} events to {done.path}{trimmed}", file=out)
    if done.consents or done.tombstones or done.withheld:
        print(f"  {done.consents} consent changes, {done.tombstones} tombstones; "
              f"{done.withheld} entries of erased customers withheld", file=out)  # fmt: skip
    return 0


def run_erase(
    store: FeatureStore,
    url: str | None,
    customer_id: str | None,
    identifier: tuple[str, str] | None,
    out: TextIO = sys.stdout,
) -> int:
    import asyncio

    from omnioffer.jobs.erase import describe, erase
    from omnioffer.store import describe_store

    erased, done = asyncio.run(erase(store, customer_id, identifier))
    print(describe(erased, done, describe_store(url)), file=out)
    return 0


def add_erase(sub: Subparsers) -> None:
    p = sub.add_parser(
        "erase",
        help="remove every online trace of a customer from the feature store (idempotent)",
        description="Remove a customer's batch features (every version), real-time events, "
        "identity links, decisions, consent, dedup markers and event-log entries from the "
        "store, and write the tombstone that export-events and train honour.",
    )
    p.add_argument("customer_id", nargs="?", metavar="ID",
                   help="the customer id (or an anon:<type>:<value> pseudo-id)")  # fmt: skip
    p.add_argument("--id-type", default=None, help="name the customer by an identifier...")
    p.add_argument("--id-value", default=None, help="... and its value")
    store_flag(p)
    p.set_defaults(handler=cmd_erase)


def run_export_decisions(
    store: FeatureStore, out_file: Path, after: str | None, out: TextIO = sys.stdout
) -> int:
    from omnioffer.jobs.export_decisions import export_decisions

    n, last = export_decisions(store, out_file, after=after)
    cursor = f"; last entry {last} (pass --after {last} to continue)" if last else ""
    print(f"exported {n} decisions to {out_file}{cursor}", file=out)
    return 0


def add_materialize(sub: Subparsers) -> None:
    p = sub.add_parser("materialize", help="load a model version into the feature store, activate")
    p.add_argument("--models", type=Path, default=Path("models"), help="default models/")
    p.add_argument("--version", default=None, help="default: the registry's current version")
    store_flag(p)
    p.set_defaults(handler=cmd_materialize)


def add_export_events(sub: Subparsers) -> None:
    p = sub.add_parser("export-events", help="write the ingested event log as a contract file")
    p.add_argument("--out", type=Path, required=True, help="folder for events.parquet|csv")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    p.add_argument(
        "--trim",
        action="store_true",
        help="then delete the exported events from the log, once the file is on disk "
        "(refused if the folder already holds an events file)",
    )
    store_flag(p)
    p.set_defaults(handler=cmd_export_events)


def add_export_decisions(sub: Subparsers) -> None:
    p = sub.add_parser("export-decisions", help="write the decision log as JSON Lines")
    p.add_argument("--out", type=Path, required=True, help="the .jsonl file to write")
    p.add_argument("--after", default=None, help="only entries after this entry id")
    store_flag(p)
    p.set_defaults(handler=cmd_export_decisions)
