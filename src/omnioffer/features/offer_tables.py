"""What the offer features derive from a loaded version alone, made once per version.

Batch statistics per channel as one (features x offers) block with the SPARSE fills,
each offer's positions, discount depth and categories, padded tables of the offers'
items and categories: kept in a VersionSlot, so they live and die with the
loaded version (which is never modified). Also where each of features/spec.py's
OFFER_FEATURES goes in the matrix (COLUMN).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import numpy.typing as npt

from omnioffer.features.spec import (
    DAY_S,
    OFFER_FEATURES,
    OFFER_FILLS,
    RECENT_DAYS,
    SPARSE_OFFER,
    US,
)
from omnioffer.version.model import VersionModel, VersionSlot

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
PADDING_LIMIT = 4  # pad offers' item lists to one width while that is <= 4x the items
# Per-offer features that keep their fill unless the customer's events touch the offer.
SPARSE = {name: OFFER_FILLS[name] for name in SPARSE_OFFER}
COLUMN = {name: j for j, name in enumerate(OFFER_FEATURES)}


@dataclass(frozen=True)
class Prepared:
    """What the features need from one VersionModel, derived once and reused by every
    call on it (a loaded model is never modified)."""

    names: tuple[str, ...]  # rows of a per-offer block: batch statistics, then SPARSE
    name_cols: I64  # where those rows go among OFFER_FEATURES
    per_offer: dict[str, F64]  # channel -> (names x catalog offers), SPARSE rows filled
    per_offer_default: F64  # the same for a channel without per-channel rates
    positions: dict[str, tuple[int, ...]]  # offer id -> every position of it in the catalog
    depth: dict[str, float]  # offer id -> discount depth (at offer_table.position)
    categories: dict[str, list[str]]  # offer id -> covered categories (the same)
    vocab_row: I64  # catalog offer -> its row of offer_vectors, -1 when not in offer_vocab
    in_vocab: bool  # every catalog offer has a row
    unscored: F64  # -inf per item, plus a padding item and one for items the version lacks
    item_pad: I64 | None  # catalog offer -> its known items, padded with the padding item
    items_flat: I64  # offer_table.items_flat: every offer's known items, offer after offer
    item_runs: I64  # where each offer with items starts in items_flat ...
    with_items: I64  # ... and its catalog position
    category: dict[str, int]  # covered category -> its column in category value rows
    category_pad: I64  # (width x catalog offers) offer -> its categories' columns, padded
    # with the `pad` column; the `no_category` column for an offer without categories
    browse_us: float  # recent_days in microseconds: the browsing that counts

    @property
    def sparse_row(self) -> int:
        """The first SPARSE row of a per-offer block."""
        return len(self.names) - len(SPARSE)

    @property
    def pad(self) -> int:
        """The category column of the padding: -inf, below every value."""
        return len(self.category)

    @property
    def no_category(self) -> int:
        """The category column of an offer without categories: the fill."""
        return len(self.category) + 1

    @classmethod
    def of(cls, model: VersionModel) -> Prepared:
        catalog, table = model.catalog, model.offer_table
        n = len(catalog.offers)
        fills = np.repeat(np.array([*SPARSE.values()])[:, None], n, axis=1)
        positions: dict[str, list[int]] = {}
        for k, o in enumerate(catalog.offers):
            positions.setdefault(o.offer_id, []).append(k)
        vocab_row = np.array(
            [model.offer_index.get(o.offer_id, -1) for o in catalog.offers], dtype=np.int64
        )
        items = table.known_items
        widest = max(map(len, items), default=0)
        n_items = len(catalog.item_ids)
        runs = np.flatnonzero(np.diff(table.item_start) > 0)
        covered = sorted({c for o in catalog.offers for c in o.covered_categories})
        category = {c: j for j, c in enumerate(covered)}
        no_category = [len(category) + 1]
        cats = [[category[c] for c in o.covered_categories] or no_category
                for o in catalog.offers]  # fmt: skip
        days = catalog.candidates.get("recent_days", RECENT_DAYS)
        names = (*table.stats, "of_rate_channel", *SPARSE)
        return cls(
            names=names,
            name_cols=np.array([COLUMN[name] for name in names], dtype=np.int64),
            per_offer={
                c: np.vstack([*table.stats.values(), rate, fills])
                for c, rate in table.rate_channel.items()
            },
            per_offer_default=np.vstack([*table.stats.values(), np.full(n, catalog.prior), fills]),
            positions={o: tuple(ks) for o, ks in positions.items()},
            depth={o: float(table.depth[k]) for o, k in table.position.items()},
            categories={o: catalog.offers[k].covered_categories for o, k in table.position.items()},
            vocab_row=vocab_row,
            in_vocab=bool((vocab_row >= 0).all()),
            unscored=np.full(n_items + 2, -np.inf),
            item_pad=(
                _padded(items, n_items)
                if 0 < n * widest <= PADDING_LIMIT * table.items_flat.size
                else None
            ),
            items_flat=table.items_flat,
            item_runs=table.item_start[runs],
            with_items=runs,
            category=category,
            category_pad=np.ascontiguousarray(_padded(cats, len(category)).T),
            browse_us=days * DAY_S * US,
        )


def _padded(rows: Sequence[Sequence[int]], pad: int) -> I64:
    """Rows of different lengths as one matrix (at least one column), padded with `pad`."""
    width = max([1, *map(len, rows)])
    out = np.array([[*row, *repeat(pad, width - len(row))] for row in rows], dtype=np.int64)
    return out.reshape(len(rows), width)


PREPARED: VersionSlot[None, Prepared] = VersionSlot(
    "offer-ranker tables", lambda model, _: Prepared.of(model)
)


def prepared(model: VersionModel) -> Prepared:
    """The model's Prepared, built on its first call and kept with the model."""
    return PREPARED.get(model, None)
