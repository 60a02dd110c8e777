"""Data contract v1: the tables a data directory holds and their columns.

This module is the single source of truth for names, kinds and vocabularies;
loading, validation, the synthetic generator and event export all read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

CONTRACT_VERSION = 1

DEFAULT_CHANNELS: tuple[str, ...] = ("web", "app", "store", "email", "sms", "call_center", "social")

ITEM_EVENT_TYPES: tuple[str, ...] = ("view", "add_to_cart", "purchase", "return")
OFFER_EVENT_TYPES: tuple[str, ...] = (
    "offer_impression",
    "offer_click",
    "offer_redeem",
    "offer_dismiss",
)
EVENT_TYPES: tuple[str, ...] = ITEM_EVENT_TYPES + OFFER_EVENT_TYPES

LIST_SEPARATOR = "|"
SUPPORTED_EXTENSIONS: tuple[str, ...] = (".csv", ".parquet")


class Kind(StrEnum):
    """Logical type of a contract column (physical dtype is decided by the loader)."""

    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    TIMESTAMP = "timestamp"  # ISO 8601 (naive = UTC) or epoch seconds
    LIST = "list"  # list of strings; `|`-separated in CSV


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False


@dataclass(frozen=True)
class TableSpec:
    """One contract file. `any_of` lists alternative groups of required columns."""

    name: str
    columns: tuple[Column, ...]
    required_file: bool = False
    any_of: tuple[tuple[str, ...], ...] = ()
    bool_prefix: str | None = None  # columns named `<prefix><channel>` are booleans

    def column(self, name: str) -> Column | None:
        for col in self.columns:
            if col.name == name:
                return col
        if self.bool_prefix and name.startswith(self.bool_prefix):
            return Column(name, Kind.BOOL)
        return None

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


EVENTS = TableSpec(
    name="events",
    required_file=True,
    columns=(
        Column("timestamp", Kind.TIMESTAMP, required=True),
        Column("event_type", Kind.STR, required=True),
        Column("channel", Kind.STR, required=True),
        Column("customer_id", Kind.STR),
        Column("id_type", Kind.STR),
        Column("id_value", Kind.STR),
        Column("item_id", Kind.STR),
        Column("offer_id", Kind.STR),
        Column("quantity", Kind.INT),
        Column("revenue", Kind.FLOAT),
        Column("event_id", Kind.STR),
        Column("session_id", Kind.STR),
    ),
    any_of=(("customer_id",), ("id_type", "id_value")),
)

ITEMS = TableSpec(
    name="items",
    columns=(
        Column("item_id", Kind.STR, required=True),
        Column("category", Kind.STR),
        Column("price", Kind.FLOAT),
        Column("brand", Kind.STR),
    ),
)

OFFERS = TableSpec(
    name="offers",
    columns=(
        Column("offer_id", Kind.STR, required=True),
        Column("title", Kind.STR),
        Column("items", Kind.LIST),
        Column("categories", Kind.LIST),
        Column("channels", Kind.LIST),
        Column("start", Kind.TIMESTAMP),
        Column("end", Kind.TIMESTAMP),
        Column("value", Kind.FLOAT),
        Column("discount", Kind.FLOAT),
        Column("segments", Kind.LIST),
        Column("max_per_customer", Kind.INT),
    ),
)

OFFER_ITEMS = TableSpec(
    name="offer_items",
    columns=(
        Column("offer_id", Kind.STR, required=True),
        Column("item_id", Kind.STR, required=True),
    ),
)

CUSTOMERS = TableSpec(
    name="customers",
    columns=(
        Column("customer_id", Kind.STR, required=True),
        Column("segment", Kind.STR),
        Column("region", Kind.STR),
    ),
    bool_prefix="consent_",
)

IDENTITIES = TableSpec(
    name="identities",
    columns=(
        Column("customer_id", Kind.STR, required=True),
        Column("id_type", Kind.STR, required=True),
        Column("id_value", Kind.STR, required=True),
    ),
)

# Written by `export-events` beside the events (and accepted from anyone): live consent
# changes, and the tombstones of erased customers (contracts/erasure.py), which `train`
# honours.
CONSENTS = TableSpec(
    name="consents",
    columns=(
        Column("customer_id", Kind.STR, required=True),
        Column("timestamp", Kind.TIMESTAMP, required=True),
        Column("channel", Kind.STR, required=True),
        Column("granted", Kind.BOOL, required=True),
    ),
)

ERASURES = TableSpec(
    name="erasures",
    columns=(
        Column("digest", Kind.STR, required=True),
        Column("erased_at", Kind.TIMESTAMP, required=True),
    ),
)

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (EVENTS, ITEMS, OFFERS, OFFER_ITEMS, CUSTOMERS, IDENTITIES, CONSENTS, ERASURES)
}
