"""Row-level contract checks as lazy polars queries over a 1-based row index.

A `Check` is a scalar `count` over a `source` frame plus a `rows` query giving the
offending (row, message) pairs in row order; validate.py batches the counts and
fetches rows only for checks that fail. Nothing here collects data. A check with a
`drop` kind (problems.DROP_KINDS) finds rows train drops rather than refuses; the
references between tables are checked in referential.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from omnioffer.contracts.erasure import DIGEST_CHARS
from omnioffer.contracts.load import typed_columns
from omnioffer.contracts.problems import FILE_ROW, NO_COLUMN
from omnioffer.contracts.schema import (
    EVENT_TYPES,
    EVENTS,
    ITEM_EVENT_TYPES,
    OFFER_EVENT_TYPES,
    Kind,
    TableSpec,
)

ROW = "__row"
MESSAGE = "message"
RAW = "__raw_"
VALUE = "__value"
PRIMARY_KEYED = ("items", "offers", "customers")
_PARSE_MESSAGES = {
    Kind.INT: "not an integer",
    Kind.FLOAT: "not a number",
    Kind.BOOL: "not a boolean (true/false/1/0/yes/no)",
    Kind.TIMESTAMP: "unparseable timestamp",
}


@dataclass(frozen=True)
class TableFrame:
    """One table ready for row checks: typed columns, raw text of parsed ones, a row index."""

    spec: TableSpec
    path: Path
    names: tuple[str, ...]
    kinds: dict[str, Kind]
    frame: pl.LazyFrame

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def file(self) -> str:
        return self.path.name


@dataclass(frozen=True, eq=False)
class Check:
    """A count over `source` and the offending rows; identity-hashed so it can key a dict."""

    file: str
    column: str
    source: pl.LazyFrame
    count: pl.Expr
    rows: pl.LazyFrame
    files: tuple[str, ...]
    path: Path | None = None
    drop: str | None = None  # a DROP_KINDS kind: train drops these rows (None: an error)

    @property
    def table(self) -> str:
        return self.file.partition(".")[0]


def table_frame(spec: TableSpec, path: Path, raw: pl.LazyFrame) -> TableFrame:
    """Index rows from 1 and keep each parsed column's raw value beside its typed one."""
    schema = raw.collect_schema()
    kinds = {n: c.kind for n in schema if (c := spec.column(n)) is not None}
    raws = [pl.col(n).alias(RAW + n) for n, k in kinds.items() if k in _PARSE_MESSAGES]
    frame = raw.with_row_index(ROW, offset=1).select(ROW, *raws, *typed_columns(spec, schema))
    return TableFrame(spec, path, tuple(schema.names()), kinds, frame)


def row_checks(frames: dict[str, TableFrame], channels: Sequence[str]) -> list[Check]:
    """Every check of a table's own rows that applies to the tables present."""
    checks: list[Check] = []
    for tf in frames.values():
        checks += _value_checks(tf)
        if tf.spec.required_file:
            checks.append(_no_rows(tf))
        if tf.spec is EVENTS:
            checks += _event_checks(tf, channels)
        if tf.name in PRIMARY_KEYED and tf.spec.required_columns[0] in tf.names:
            checks.append(_duplicates(tf, tf.spec.required_columns[0]))
        if tf.name == "offers":
            checks += _offer_checks(tf, channels)
        if tf.name == "consents":
            channel = pl.col("channel")
            unknown = ~channel.is_in(list(channels))
            checks.append(_mask(tf, "channel", unknown, quoted("unknown channel", channel)))
        if tf.name == "erasures":
            digest = pl.col("digest")
            bad = ~digest.str.contains(f"^[0-9a-f]{{{DIGEST_CHARS}}}$")
            checks.append(_mask(tf, "digest", bad, quoted("not a SHA-256 hex digest", digest)))
    return checks


def _no_rows(tf: TableFrame) -> Check:
    """A required table with a header and no data rows has nothing to learn from."""
    rows = pl.LazyFrame({ROW: [FILE_ROW], MESSAGE: ["no data rows"]})
    return Check(tf.file, NO_COLUMN, tf.frame, pl.len() == 0, rows, (tf.file,), tf.path)


def _mask(
    tf: TableFrame, column: str, bad: pl.Expr, message: pl.Expr, drop: str | None = None
) -> Check:
    bad = bad.fill_null(False)
    rows = tf.frame.filter(bad).select(ROW, message.alias(MESSAGE))
    return Check(tf.file, column, tf.frame, bad.sum(), rows, (tf.file,), tf.path, drop)


def quoted(label: str, value: pl.Expr) -> pl.Expr:
    """`label 'value'`, the value cut short so one bad cell cannot flood the report."""
    text = value.cast(pl.String).str.slice(0, 60)
    return pl.concat_str(pl.lit(f"{label} '"), text, pl.lit("'"))


def blank(name: str) -> pl.Expr:
    col = pl.col(name)
    return col.is_null() | (col.str.strip_chars() == "")


def _value_checks(tf: TableFrame) -> list[Check]:
    """Required values present; typed columns parse (the raw value was there, parsing failed)."""
    checks: list[Check] = []
    for name, kind in tf.kinds.items():
        raw = pl.col(RAW + name)
        present = raw.is_not_null()
        if tf.frame.collect_schema().get(RAW + name) == pl.String:
            present = present & (raw.str.strip_chars() != "")
        missing = ~present if kind in _PARSE_MESSAGES else blank(name)
        if name in tf.spec.required_columns:
            checks.append(_mask(tf, name, missing, pl.lit("missing value")))
        if kind in _PARSE_MESSAGES:
            typed = pl.col(name)
            broken = typed.is_null()
            if kind is Kind.FLOAT:
                broken = broken | ~typed.is_finite()
            checks.append(_mask(tf, name, present & broken, quoted(_PARSE_MESSAGES[kind], raw)))
    return checks


def _event_checks(tf: TableFrame, channels: Sequence[str]) -> list[Check]:
    """Vocabularies, the item/offer/customer each event type needs, quantity, event_id."""
    event_type, channel = pl.col("event_type"), pl.col("channel")
    checks = [
        _mask(
            tf,
            "event_type",
            ~event_type.is_in(EVENT_TYPES),
            quoted("unknown event_type", event_type),
        ),
        _mask(tf, "channel", ~channel.is_in(list(channels)), quoted("unknown channel", channel)),
    ]
    for types, column in ((ITEM_EVENT_TYPES, "item_id"), (OFFER_EVENT_TYPES, "offer_id")):
        needs = event_type.is_in(types) & blank(column)
        checks.append(
            _mask(tf, column, needs, pl.concat_str(event_type, pl.lit(f" event without {column}")))
        )
    if any(all(n in tf.names for n in group) for group in EVENTS.any_of):
        anonymous = blank("customer_id") & (blank("id_type") | blank("id_value"))
        checks.append(
            _mask(tf, "customer_id", anonymous, pl.lit("no customer_id and no id_type + id_value"))
        )
    quantity = pl.col("quantity")
    checks.append(
        _mask(tf, "quantity", quantity < 1, quoted("quantity must be >= 1, got", quantity))
    )
    if "event_id" in tf.names:
        checks.append(_duplicates(tf, "event_id", drop="duplicate_event_id"))
    return checks


def _duplicates(tf: TableFrame, key: str, drop: str | None = None) -> Check:
    """Each repeat of a key after its first row, naming that first row."""
    col = pl.col(key)
    count = col.drop_nulls().len() - col.drop_nulls().n_unique()
    first = pl.col(ROW).min().over(key)
    rows = (
        tf.frame.select(ROW, key)
        .filter(col.is_not_null())
        .with_columns(first.alias("__first"))
        .filter(pl.col(ROW) != pl.col("__first"))
        .sort(ROW)
        .select(
            ROW,
            pl.format("duplicate {} '{}' (first at row {})", pl.lit(key), col, "__first").alias(
                MESSAGE
            ),
        )
    )
    return Check(tf.file, key, tf.frame, count, rows, (tf.file,), tf.path, drop)


def _offer_checks(tf: TableFrame, channels: Sequence[str]) -> list[Check]:
    """Offer windows run forward; listed channels are known ones (empty list = all)."""
    backwards = pl.col("start") > pl.col("end")
    checks = [_mask(tf, "end", backwards, pl.lit("end is before start"), "end_before_start")]
    if "channels" in tf.names:
        values = exploded(tf, "channels")
        bad = values.filter(~pl.col(VALUE).is_in(list(channels)))
        message = quoted("unknown channel", pl.col(VALUE))
        checks.append(listed(tf, "channels", bad, message, (tf.file,)))
    return checks


def exploded(tf: TableFrame, column: str) -> pl.LazyFrame:
    """(row, value) for every non-empty value of a list or text column."""
    values = tf.frame.select(ROW, pl.col(column).alias(VALUE))
    if tf.kinds.get(column) is Kind.LIST:
        values = values.explode(VALUE)
    return values.filter(~blank(VALUE))


def listed(
    tf: TableFrame,
    column: str,
    bad: pl.LazyFrame,
    message: pl.Expr,
    files: tuple[str, ...],
    *,
    drop: str | None = None,
) -> Check:
    """A check over (row, value) pairs, e.g. the values of a list cell."""
    rows = bad.sort(ROW, VALUE).select(ROW, message.alias(MESSAGE))
    return Check(tf.file, column, bad, pl.len(), rows, files, drop=drop)
