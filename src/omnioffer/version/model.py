"""A model version's global serving data: items, offers, popularity, CF item factors.

Stored once per version in the feature store (one msgpack blob) and held in memory
by each worker as numpy arrays; per-request work then only indexes into them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from omnioffer.contracts.payloads import Catalog
from omnioffer.features.spec import ITEM_FILL, ITEM_STATS
from omnioffer.version.offer_table import OfferTable

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class VersionModel:
    """The in-memory, array form of a Catalog (item index = position in item_ids)."""

    catalog: Catalog
    item_index: dict[str, int]
    category_of: list[str | None]
    stats: dict[str, F64]  # nulls already filled
    cf_factors: F32  # rows aligned with catalog.cf_items
    cf_unit: F32  # row-normalised, for cosine similarity
    cf_row_of_item: I64  # item index -> cf row, -1 when the CF model does not know it
    item_of_cf_row: I64
    offer_vectors: F32  # rows aligned with catalog.offer_vocab
    offer_table: OfferTable  # arrays aligned with catalog.offers
    category_code: I64  # item index -> position of its category in sorted order, -1 none
    price_raw: F64  # item index -> it_price, NaN when unknown
    channel_pop: dict[str, tuple[F64, F64]]  # channel -> (pop, share) by item index, 0 fills
    popular: list[int]  # catalog.popular as item indices (items the version lacks dropped)
    popular_channel: dict[str, list[int]]  # the same per channel
    offer_index: dict[str, int] = field(default_factory=dict)
    channel_code: dict[str, int] = field(default_factory=dict)
    n_categories: int = 0  # category codes are 0 .. n_categories - 1
    similar: dict[tuple[int, int], list[int]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """features.candidates.similar_to's answers by (cf row, n), filled as seeds come."""
    tables: dict[VersionSlot[Any, Any], dict[Any, Any]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """What each VersionSlot derived from this version, by key (see VersionSlot)."""

    @cached_property
    def category_codes(self) -> list[int]:
        """category_code as a list, for per-purchase lookups in plain Python."""
        codes: list[int] = self.category_code.tolist()
        return codes

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> VersionModel:
        index = {item: i for i, item in enumerate(catalog.item_ids)}
        f = catalog.n_factors
        factors = np.frombuffer(catalog.item_factors, dtype=np.float32).reshape(-1, f)
        norms = np.linalg.norm(factors, axis=1, keepdims=True)
        unit = (factors / np.maximum(norms, 1e-9)).astype(np.float32)
        item_of_cf = np.array([index.get(i, -1) for i in catalog.cf_items], dtype=np.int64)
        cf_of_item = np.full(len(catalog.item_ids), -1, dtype=np.int64)
        known = item_of_cf >= 0
        cf_of_item[item_of_cf[known]] = np.flatnonzero(known)
        stats = {
            name: np.array(
                [ITEM_FILL[name] if v is None else v for v in catalog.item_stats[name]],
                dtype=np.float64,
            )
            for name in ITEM_STATS
        }
        vectors = np.frombuffer(catalog.offer_vectors, dtype=np.float32).reshape(-1, f)
        codes = {c: k for k, c in enumerate(sorted({c for c in catalog.category if c is not None}))}
        prices = catalog.item_stats["it_price"]
        return cls(
            catalog=catalog,
            item_index=index,
            category_of=list(catalog.category),
            stats=stats,
            cf_factors=factors,
            cf_unit=unit,
            cf_row_of_item=cf_of_item,
            item_of_cf_row=item_of_cf,
            offer_vectors=vectors,
            offer_table=OfferTable.of(catalog.offers, catalog.prior, index),
            category_code=np.array(
                [-1 if c is None else codes[c] for c in catalog.category], dtype=np.int64
            ),
            price_raw=np.array([np.nan if p is None else p for p in prices], dtype=np.float64),
            popular=[index[i] for i in catalog.popular if i in index],
            popular_channel={
                ch: [index[i] for i in items if i in index]
                for ch, items in catalog.popular_channel.items()
            },
            channel_pop={
                ch: _channel_columns(pop, catalog.item_ids)
                for ch, pop in catalog.channel_pop.items()
            },
            offer_index={o: i for i, o in enumerate(catalog.offer_vocab)},
            channel_code={c: i for i, c in enumerate(catalog.channels)},
            n_categories=len(codes),
        )


def _channel_columns(pop: dict[str, tuple[float, float]], item_ids: list[str]) -> tuple[F64, F64]:
    """(popularity, share) of every item on one channel, 0 for items not sold there."""
    rows = np.array([pop.get(i, (0.0, 0.0)) for i in item_ids], dtype=np.float64)
    rows = rows.reshape(len(item_ids), 2)
    return rows[:, 0].copy(), rows[:, 1].copy()


class VersionSlot(Generic[K, V]):
    """A table that one module derives from a loaded version, kept as long as the version.

    Declared once, at module level, by the module that builds it (`NAME =
    VersionSlot("what it holds", build)`), so every table a version carries is named,
    typed by its builder and found by grepping for VersionSlot. A loaded version is
    never modified, so a table built from it stays right for its whole life.
    """

    __slots__ = ("_build", "name")

    def __init__(self, name: str, build: Callable[[VersionModel, K], V] | None = None) -> None:
        self.name, self._build = name, build

    def get(self, model: VersionModel, key: K, build: Callable[[], V] | None = None) -> V:
        """The table for `key`, built on first use by `build` (else the slot's builder)."""
        per = model.tables.get(self)
        if per is None:
            per = model.tables[self] = {}
        if key in per:
            found: V = per[key]
            return found
        if build is not None:
            made = build()
        elif self._build is not None:
            made = self._build(model, key)
        else:
            raise TypeError(f"{self!r} has no builder")
        per[key] = made
        return made

    def __repr__(self) -> str:
        return f"VersionSlot({self.name!r})"
