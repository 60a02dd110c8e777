"""Commands that read or write a data folder: `generate`, `validate`, `identities`.

Each handler prints what its command reports and picks the exit code. polars, the
data contract's loaders and `training` (for `generate`) are imported inside the
functions that use them, so building the argument table stays cheap.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from omnioffer.cli.args import Subparsers, positive_int, strict_flag
from omnioffer.contracts.schema import DEFAULT_CHANNELS
from omnioffer.errors import UsageError

if TYPE_CHECKING:
    from omnioffer.contracts.problems import Dropped
    from omnioffer.identity import IdentityMap

log = logging.getLogger("omnioffer.identity")


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
    return run_validate(args.data, channels=args.channels, max_problems=args.max_problems,
                        strict=args.strict)  # fmt: skip


def cmd_identities(args: argparse.Namespace) -> int:
    return run_identities(args.data, out=args.out, channels=args.channels)


def run_validate(
    data_dir: Path,
    *,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    max_problems: int = 50,
    out: TextIO = sys.stdout,
    strict: bool = False,
) -> int:
    """Print one `file:row:column: message` line per problem and return 1, or the summary and 0
    (after the rows train would drop, per kind with their first rows; `strict` counts
    those as problems).

    A missing directory is a usage error (exit 2), not a data problem.
    """
    from omnioffer.contracts.summary import format_summary
    from omnioffer.contracts.validate import validate_dir

    if not data_dir.is_dir():
        raise UsageError(f"data directory not found: {data_dir}")
    result = validate_dir(data_dir, channels=channels, max_problems=max_problems, strict=strict)
    for problem in result.problems:
        print(problem, file=out)
    if result.total > len(result.problems):
        more = result.total - len(result.problems)
        print(f"... and {more} more problems ({result.total} in total)", file=out)
    if result.refused:
        print(f"({result.refused} of them refused by --strict only: without it train drops"
              " those rows)", file=out)  # fmt: skip
    if result.total:
        return 1
    print_dropped(result.dropped, max_problems, out)
    if result.summary is not None:
        print(format_summary(result.summary), file=out)
    return 0


def print_dropped(dropped: Sequence[Dropped], max_rows: int, out: TextIO) -> None:
    """What train drops: a line per kind, file and column, then its first rows."""
    if not dropped:
        return
    print("train drops these (validate --strict and train --strict refuse them):", file=out)
    for d in dropped:
        print(f"  {d.describe()}", file=out)
        for problem in d.first[:max_rows]:
            print(f"    {problem}", file=out)
        if d.rows > min(len(d.first), max_rows):
            print(f"    ... and {d.rows - min(len(d.first), max_rows):,} more", file=out)
    print(file=out)


def write_merges(identity_map: IdentityMap, path: Path) -> None:
    """Write the audit CSV atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    identity_map.merges.write_csv(partial)
    partial.replace(path)


def run_identities(
    data_dir: Path,
    *,
    out: Path,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    stream: TextIO = sys.stdout,
) -> int:
    """Resolve identities of a valid data folder; print what was merged and resolved."""
    import polars as pl

    from omnioffer.contracts.validate import load_valid
    from omnioffer.identity import build_identity_map, resolve_events

    dataset = load_valid(data_dir, channels=channels)
    identity_map = build_identity_map(dataset.identities, dataset.events)
    write_merges(identity_map, out)
    log.info("wrote %d merge rows to %s", identity_map.merged_count, out)
    counts = (
        resolve_events(dataset.events, identity_map)
        .select(
            pl.len().alias("events"),
            pl.col("anonymous").sum().alias("anonymous"),
            pl.col("customer_key").filter(~pl.col("anonymous")).n_unique().alias("customers"),
        )
        .collect()
        .row(0, named=True)
    )
    total = max(int(counts["events"]), 1)
    canonical = identity_map.customers.get_column("canonical_id").n_unique()
    print(f"customer ids          {identity_map.customers.height:>12,}", file=stream)
    print(f"resolved customers    {canonical:>12,}", file=stream)
    print(f"merged customer ids   {identity_map.merged_count:>12,}  (audit: {out})", file=stream)
    print(f"linked identifiers    {identity_map.identifiers.height:>12,}", file=stream)
    print(f"customers with events {int(counts['customers']):>12,}", file=stream)
    anonymous = int(counts["anonymous"])
    print(
        f"anonymous events      {anonymous:>12,}  ({100 * anonymous / total:.1f}% of events)",
        file=stream,
    )
    return 0


def add_generate(sub: Subparsers) -> None:
    p = sub.add_parser("generate", help="write a synthetic omnichannel retailer's history")
    p.add_argument("--out", type=Path, required=True, help="output folder (data/ and truth/)")
    p.add_argument("--customers", type=positive_int, default=20_000, help="default 20000")
    p.add_argument("--days", type=positive_int, default=180, help="history length, default 180")
    p.add_argument("--seed", type=int, default=7, help="random seed, default 7")
    p.add_argument("--items", type=positive_int, default=None, help="default scales with N")
    p.add_argument("--offers", type=positive_int, default=None, help="default scales with N")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    p.add_argument(
        "--profile",
        choices=("retail", "grocery"),
        default="retail",
        help="retail (default: mostly one-off goods) or grocery (mostly re-bought staples)",
    )
    p.set_defaults(handler=cmd_generate)


def add_validate(sub: Subparsers) -> None:
    p = sub.add_parser("validate", help="check a data folder against data contract v1")
    p.add_argument("data", type=Path, help="folder holding events.csv|parquet and friends")
    p.add_argument("--max-problems", type=positive_int, default=50, help="default 50")
    strict_flag(p)
    p.set_defaults(handler=cmd_validate)


def add_identities(sub: Subparsers) -> None:
    p = sub.add_parser("identities", help="resolve identities; write the merge audit")
    p.add_argument("data", type=Path, help="a valid data folder")
    p.add_argument("--out", type=Path, required=True, help="CSV file for the merge audit")
    p.set_defaults(handler=cmd_identities)
