"""Ground truth: the generative parameters, and the oracle that scores from them.

Training never reads this folder. The oracle gives each customer's expected
purchases of each item in the last `truth_days` (staple cycles plus discovery
buys by taste and popularity), and the true offer-response propensity.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from training.simulate.offers import OFFER_CH, Offers, propensity
from training.simulate.shopping import STAPLE_KEEP, Staples
from training.simulate.world import DIM, PROFILES, Catalog, Customers

F64 = npt.NDArray[np.float64]
_CUSTOMER = (
    "archetype",
    "activity",
    "join_day",
    "churn_day",
    "user_vec",
    "cat_logit",
    "price_sens",
    "consent_email",
    "consent_sms",
    "segment",
    "region",
)
_CATALOG = (
    "cat_vec",
    "consumable",
    "base_cycle",
    "item_cat",
    "item_vec",
    "item_pop",
    "price",
    "brand",
)
_OFFER = ("cat", "discount", "vec", "segment")


def save_truth(
    folder: Path,
    *,
    cat: Catalog,
    cust: Customers,
    staples: Staples,
    offers: Offers,
    params: dict[str, Any],
    secondary_of: npt.NDArray[np.int64],
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {f"customer_{k}": getattr(cust, k) for k in _CUSTOMER}
    arrays |= {f"catalog_{k}": getattr(cat, k) for k in _CATALOG}
    arrays |= {f"offer_{k}": getattr(offers, k) for k in _OFFER}
    arrays |= {
        "staple_cust": staples.cust,
        "staple_item": staples.item,
        "staple_cycle": staples.cycle,
    }
    arrays["staple_due"] = staples.due if staples.due is not None else np.zeros(staples.cust.size)
    arrays["secondary_of"] = secondary_of
    for name, value in arrays.items():
        np.save(folder / f"{name}.npy", np.asarray(value), allow_pickle=False)
    (folder / "params.json").write_text(json.dumps(params, indent=2, sort_keys=True) + "\n")


@dataclass
class Truth:
    """Oracle scores from saved parameters (see module docstring)."""

    folder: Path
    params: dict[str, Any]
    a: dict[str, Any]

    def customer_index(self, customer_ids: Sequence[str]) -> npt.NDArray[np.int64]:
        idx = np.array([int(c[1:]) for c in customer_ids], dtype=np.int64)
        n = int(self.params["customers"])
        secondary = self.a["secondary_of"]
        over = idx >= n
        idx[over] = secondary[idx[over] - n]
        return idx

    def item_scores(self, customer_ids: Sequence[str], item_ids: Sequence[str]) -> F64:
        c = self.customer_index(customer_ids)
        items = np.array([int(i[1:]) for i in item_ids], dtype=np.int64)
        unique, back = np.unique(c, return_inverse=True)
        return self._all_item_scores(unique)[back][:, items]

    def _all_item_scores(self, c: npt.NDArray[np.int64]) -> F64:
        a, p = self.a, self.params
        days, window = float(p["days"]), float(p["truth_days"])
        lo = days - window
        active = (
            np.clip(
                np.minimum(a["customer_churn_day"][c], days)
                - np.maximum(a["customer_join_day"][c], lo),
                0,
                window,
            )
            / window
        )
        logits = a["customer_cat_logit"][c].astype(np.float64)
        p_cat = np.exp(logits - logits.max(axis=1, keepdims=True))
        p_cat /= p_cat.sum(axis=1, keepdims=True)
        item_cat = a["catalog_item_cat"]
        w = a["catalog_item_pop"][None, :] * np.exp(
            a["customer_user_vec"][c] @ a["catalog_item_vec"].T / np.sqrt(DIM)
        )
        z = w @ self._category_one_hot  # per category sum of w (np.add.at is ~10x slower)
        p_item = w / z[:, item_cat]
        rate = (
            a["customer_activity"][c]
            * PROFILES[p["profile"]].discovery_per_activity
            * window
            / days
            * active
        )
        scores = rate[:, None] * p_cat[:, item_cat] * p_item
        mine = self._staples_of(c)
        rows = np.searchsorted(c, a["staple_cust"][mine])  # c is sorted and unique
        np.add.at(scores, (rows, a["staple_item"][mine]), STAPLE_KEEP * a["staple_due"][mine])
        return scores

    @cached_property
    def _category_one_hot(self) -> F64:
        """items x categories, 1.0 where the item is in the category (made once, not per
        chunk of customers)."""
        item_cat = self.a["catalog_item_cat"]
        one_hot = np.zeros((item_cat.size, self.a["customer_cat_logit"].shape[1]))
        one_hot[np.arange(item_cat.size), item_cat] = 1.0
        return one_hot

    @cached_property
    def _staples_by_customer(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(positions, customers) of the staple rows, sorted by customer."""
        order = np.argsort(self.a["staple_cust"], kind="stable")
        return order, self.a["staple_cust"][order]

    def _staples_of(self, c: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Row positions of the staples of customers `c` (sorted, unique). The staple rows
        are sorted by customer once; an `isin` over all of them per chunk of customers
        cost more than the chunk's own arithmetic at 1M customers."""
        order, by_customer = self._staples_by_customer
        lo = np.searchsorted(by_customer, c, side="left")
        counts = np.searchsorted(by_customer, c, side="right") - lo
        starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
        picked: npt.NDArray[np.int64] = order[np.arange(int(counts.sum())) + starts]
        return picked

    def offer_scores(
        self, customer_ids: Sequence[str], offer_ids: Sequence[str], channel: str
    ) -> F64:
        c = self.customer_index(customer_ids)
        o = np.array([int(x[1:]) for x in offer_ids], dtype=np.int64)
        cc, oo = np.repeat(c, o.size), np.tile(o, c.size)
        from training.simulate.events import CH

        ch = np.full(cc.size, CH[channel], dtype=np.int8)
        if CH[channel] not in OFFER_CH:
            return np.zeros((c.size, o.size))
        cust = _customers(self.a)
        offers = _offers(self.a)
        p = propensity(cust, offers, cc, oo, channel=ch, fatigue=np.zeros(cc.size))
        return p.reshape(c.size, o.size)


def _customers(a: dict[str, Any]) -> Customers:
    return Customers(**{k: a[f"customer_{k}"] for k in _CUSTOMER})


def _offers(a: dict[str, Any]) -> Offers:
    n = a["offer_cat"].size
    return Offers(
        cat=a["offer_cat"],
        items=[],
        by_category=np.zeros(n, bool),
        channels=np.zeros((n, 5), bool),
        start=np.zeros(n),
        end=np.zeros(n),
        discount=a["offer_discount"],
        value=np.zeros(n),
        segment=a["offer_segment"],
        max_per_customer=np.zeros(n, np.int64),
        vec=a["offer_vec"],
    )


def load_truth(folder: Path) -> Truth:
    params = json.loads((folder / "params.json").read_text())
    arrays = {p.stem: np.load(p, allow_pickle=False) for p in sorted(folder.glob("*.npy"))}
    return Truth(folder, params, arrays)
