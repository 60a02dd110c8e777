"""Grocery-style re-buying: recommendations keep a customer's own items unless excluded."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from litestar.testing import TestClient

from training.train import TrainOutcome


def _repeat_buyers(models: Path, n: int) -> list[tuple[str, str]]:
    """(customer, item) for the customers who bought one item most often in the history."""
    (version,) = [p for p in models.iterdir() if p.is_dir() and (p / "serving").is_dir()][:1]
    hist = pl.read_parquet(version / "serving" / "history.parquet")
    counts = (
        hist.filter((pl.col("event_type") == "purchase") & pl.col("item_id").is_not_null())
        .group_by("customer_key", "item_id")
        .len()
        .sort(["len", "customer_key", "item_id"], descending=[True, False, False])
        .unique("customer_key", keep="first", maintain_order=True)
        .head(n)
    )
    return [(c, i) for c, i, _ in counts.iter_rows()]


def test_recommendations_keep_items_the_customer_keeps_buying_unless_excluded(
    trained: tuple[Path, TrainOutcome], served: tuple[TestClient, float]
) -> None:
    models, _ = trained
    client, _ = served
    kept = 0
    buyers = _repeat_buyers(models, 10)
    for customer, item in buyers:
        body = {"customer_id": customer, "channel": "web", "k": 20}
        r = client.post("/v1/recommendations", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["fallback"] is None
        kept += item in [i["item_id"] for i in r.json()["items"]]
        r = client.post("/v1/recommendations", json={**body, "exclude": [item]})
        assert item not in [i["item_id"] for i in r.json()["items"]]
    # past purchases are never filtered out by default: the most re-bought item of
    # nearly every heavy re-buyer is among their 20 recommendations
    assert kept >= len(buyers) - 2, f"{kept} of {len(buyers)}"
