"""Find the files of a data directory and read them as typed polars LazyFrames.

Everything here is lazy (scan_csv / scan_parquet), so a 20M-row history costs memory
near its own size only when a query actually needs it. CSV is always read as text
(an id like "007" stays "007"), then each contract column is parsed by its `Kind`;
Parquet keeps its native types where they already fit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from omnioffer.contracts.problems import FILE_ROW, NO_COLUMN, ContractViolation, Dropped, Problem
from omnioffer.contracts.schema import (
    EVENTS,
    LIST_SEPARATOR,
    SUPPORTED_EXTENSIONS,
    TABLES,
    Kind,
    TableSpec,
)

log = logging.getLogger("omnioffer.contracts")

TIMESTAMP_DTYPE = pl.Datetime("us", "UTC")
LIST_DTYPE = pl.List(pl.String)
KIND_DTYPES: dict[Kind, pl.DataType] = {
    Kind.STR: pl.String(),
    Kind.INT: pl.Int64(),
    Kind.FLOAT: pl.Float64(),
    Kind.BOOL: pl.Boolean(),
    Kind.TIMESTAMP: TIMESTAMP_DTYPE,
    Kind.LIST: LIST_DTYPE,
}
# Tables whose unknown columns are attributes worth keeping; others drop them.
ATTRIBUTE_TABLES = frozenset({"items", "offers", "customers"})
_BOOL_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_EPOCH_PATTERN = r"^[+-]?(\d+\.?\d*|\.\d+)$"
_OFFSET_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z")
_NAIVE_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class Dataset:
    """A data directory's tables, typed and lazy; optional tables are None when absent.

    Every contract column is present (typed null, or an empty list, when the file
    lacks it) so downstream code never checks for columns; events.quantity is never
    null (default 1). `dropped`: what validate.load_valid took out (referential problems,
    repeated event ids, backwards offer windows), per kind, file and column.
    """

    root: Path
    events: pl.LazyFrame
    items: pl.LazyFrame | None = None
    offers: pl.LazyFrame | None = None
    offer_items: pl.LazyFrame | None = None
    customers: pl.LazyFrame | None = None
    identities: pl.LazyFrame | None = None
    consents: pl.LazyFrame | None = None
    erasures: pl.LazyFrame | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    dropped: tuple[Dropped, ...] = ()


def locate_files(data_dir: Path) -> tuple[dict[str, Path], list[Problem]]:
    """Map table name -> file; files named like a table but unusable become problems.

    A file belongs to a table when its name up to the first dot is the table's name,
    so `events.json` and `events.csv.gz` are reported instead of silently ignored.
    """
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    for path in sorted(data_dir.iterdir()):
        table, _, _ = path.name.partition(".")
        if table not in TABLES or not path.is_file():
            continue
        suffix = path.name[len(table) :].lower()
        if suffix not in SUPPORTED_EXTENSIONS:
            message = f"unsupported file type; use {' or '.join(SUPPORTED_EXTENSIONS)}"
            problems.append(Problem(path.name, FILE_ROW, NO_COLUMN, message))
        elif table in found:
            message = f"{found[table].name} is also present; keep one file per table"
            problems.append(Problem(path.name, FILE_ROW, NO_COLUMN, message))
        else:
            found[table] = path
    return found, problems


def is_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv"


def scan_raw(path: Path) -> pl.LazyFrame:
    """Scan a file untyped: CSV as all-text (never inferred), Parquet as stored."""
    if is_csv(path):
        return pl.scan_csv(path, infer_schema=False, encoding="utf8-lossy")
    return pl.scan_parquet(path)


def parse_column(name: str, kind: Kind, raw: pl.DataType) -> pl.Expr:
    """Expression turning raw column `name` into its contract dtype; bad values -> null."""
    col = pl.col(name)
    if isinstance(raw, pl.Categorical | pl.Enum):
        return _parse_text(col.cast(pl.String), kind)
    if raw == pl.String:
        return _parse_text(col, kind)
    return _convert_native(col, kind, raw).alias(name)


def _parse_text(col: pl.Expr, kind: Kind) -> pl.Expr:
    """Parse text by kind; surrounding whitespace is ignored for every non-text kind."""
    text = col.str.strip_chars()
    if kind is Kind.STR:
        return col
    if kind is Kind.INT:
        return text.cast(pl.Int64, strict=False)
    if kind is Kind.FLOAT:
        return text.cast(pl.Float64, strict=False)
    if kind is Kind.BOOL:
        words = text.str.to_lowercase()
        return words.replace_strict(_BOOL_WORDS, default=None, return_dtype=pl.Boolean)
    if kind is Kind.TIMESTAMP:
        return parse_timestamp_text(text)
    return _split_list(col)


def _convert_native(col: pl.Expr, kind: Kind, raw: pl.DataType) -> pl.Expr:
    """Convert an already-typed (Parquet) column; only the few sensible casts are tried."""
    if kind is Kind.TIMESTAMP:
        return _native_timestamp(col, raw)
    if kind is Kind.LIST:
        if isinstance(raw, pl.List):
            return col.cast(LIST_DTYPE, strict=False).fill_null(pl.lit([], dtype=LIST_DTYPE))
        return _split_list(col.cast(pl.String, strict=False))
    if kind is Kind.INT and raw.is_float():
        return pl.when(col == col.floor()).then(col.cast(pl.Int64, strict=False))
    if kind is Kind.BOOL and raw.is_integer():
        return pl.when(col == 1).then(True).when(col == 0).then(False)
    return col.cast(KIND_DTYPES[kind], strict=False)


def _native_timestamp(col: pl.Expr, raw: pl.DataType) -> pl.Expr:
    """Datetime (naive = UTC), Date, epoch-seconds numbers, or text."""
    if isinstance(raw, pl.Datetime):
        utc = col.dt.replace_time_zone("UTC")
        if raw.time_zone:
            utc = col.dt.convert_time_zone("UTC")
        return utc.cast(TIMESTAMP_DTYPE)
    if raw == pl.Date:
        return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    if raw.is_numeric():
        return _epoch_seconds(col.cast(pl.Float64, strict=False))
    return parse_timestamp_text(col.cast(pl.String, strict=False).str.strip_chars())


def parse_timestamp_text(text: pl.Expr) -> pl.Expr:
    """ISO 8601 with or without offset (naive = UTC), date only, or epoch seconds."""
    iso = text.str.replace(r"[Zz]$", "+00:00").str.replace(" ", "T", literal=True)
    attempts = [
        iso.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")
        for fmt in _OFFSET_FORMATS
    ]
    attempts += [
        iso.str.to_datetime(fmt, strict=False, time_unit="us").dt.replace_time_zone("UTC")
        for fmt in _NAIVE_FORMATS
    ]
    date_only = iso.str.to_date("%Y-%m-%d", strict=False)
    attempts.append(date_only.cast(pl.Datetime("us")).dt.replace_time_zone("UTC"))
    epoch = pl.when(text.str.contains(_EPOCH_PATTERN)).then(
        _epoch_seconds(text.cast(pl.Float64, strict=False))
    )
    return pl.coalesce([epoch, *attempts])


def _epoch_seconds(seconds: pl.Expr) -> pl.Expr:
    micros = (seconds * 1_000_000).round(0).cast(pl.Int64, strict=False)
    return micros.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _split_list(text: pl.Expr) -> pl.Expr:
    """`a|b|c` -> ["a", "b", "c"]; an empty cell or empty parts give no elements."""
    parts = text.fill_null("").str.split(LIST_SEPARATOR)
    return parts.list.eval(pl.element().str.strip_chars()).list.filter(pl.element() != "")


def typed_frame(spec: TableSpec, raw: pl.LazyFrame) -> pl.LazyFrame:
    """Parse every contract column, add absent ones as typed nulls, decide on the rest."""
    schema = raw.collect_schema()
    extras = [name for name in schema if spec.column(name) is None]
    frame = raw.select(*typed_columns(spec, schema), *_extra_columns(spec, schema, extras))
    if spec is EVENTS:
        frame = frame.with_columns(pl.col("quantity").fill_null(1))
    return frame


def typed_columns(spec: TableSpec, schema: pl.Schema) -> list[pl.Expr]:
    """Expressions for every contract column of `spec`: parsed if present, else typed null."""
    exprs: list[pl.Expr] = []
    for name, dtype in schema.items():
        column = spec.column(name)
        if column is not None:
            exprs.append(parse_column(name, column.kind, dtype).alias(name))
    exprs += [_absent(c.name, c.kind) for c in spec.columns if c.name not in schema]
    return exprs


def _absent(name: str, kind: Kind) -> pl.Expr:
    if kind is Kind.LIST:
        return pl.lit([], dtype=LIST_DTYPE).alias(name)
    return pl.lit(None, dtype=KIND_DTYPES[kind]).alias(name)


def _extra_columns(spec: TableSpec, schema: pl.Schema, extras: list[str]) -> list[pl.Expr]:
    """Unknown columns: attributes (as text) for some tables, dropped with a warning else."""
    if not extras:
        return []
    if spec.name not in ATTRIBUTE_TABLES:
        log.warning("%s: ignoring unknown columns %s", spec.name, ", ".join(extras))
        return []
    return [
        pl.col(name) if schema[name].is_nested() else pl.col(name).cast(pl.String)
        for name in extras
    ]


def load_dataset(data_dir: Path) -> Dataset:
    """The directory's tables as typed lazy frames, without validating them.

    Loading never validates (validate.py imports this module, not the other way
    round): `validate.load_valid` composes the two, and is what every pipeline uses.
    Raises ContractViolation only when the required events file is missing.
    """
    paths, _ = locate_files(data_dir)
    if EVENTS.name not in paths:
        missing = Problem(EVENTS.name, FILE_ROW, NO_COLUMN, "required file missing")
        raise ContractViolation([missing], 1)
    frames = {name: typed_frame(TABLES[name], scan_raw(path)) for name, path in paths.items()}
    return Dataset(
        root=data_dir,
        events=frames[EVENTS.name],
        items=frames.get("items"),
        offers=frames.get("offers"),
        offer_items=frames.get("offer_items"),
        customers=frames.get("customers"),
        identities=frames.get("identities"),
        consents=frames.get("consents"),
        erasures=frames.get("erasures"),
        paths=paths,
    )


def offer_item_pairs(ds: Dataset) -> pl.LazyFrame:
    """Every (offer_id, item_id) an offer covers, from offers.items and offer_items."""
    frames: list[pl.LazyFrame] = []
    if ds.offers is not None:
        listed = ds.offers.select("offer_id", pl.col("items").alias("item_id"))
        frames.append(listed.explode("item_id"))
    if ds.offer_items is not None:
        frames.append(ds.offer_items.select("offer_id", "item_id"))
    if not frames:
        return pl.LazyFrame(schema={"offer_id": pl.String, "item_id": pl.String})
    return pl.concat(frames).drop_nulls().unique(maintain_order=True)
