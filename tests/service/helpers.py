"""Small HTTP helpers for the service tests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import polars as pl
from litestar.testing import TestClient

from omnioffer.store import open_store


def decide(client: TestClient, customer: str, channel: str, k: int = 10) -> dict[str, Any]:
    r = client.post("/v1/decisions", json={"customer_id": customer, "channel": channel, "k": k})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def post_events(client: TestClient, *events: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/v1/events", json={"events": list(events)})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def customer_with_offers(client: TestClient, channels: tuple[str, ...], k: int = 10) -> str:
    """The first known customer who gets at least two offers on every channel given."""
    for i in range(400):
        cid = f"c{i:07d}"
        answers = [decide(client, cid, ch, k) for ch in channels]
        if all(a["fallback"] is None and len(a["offers"]) >= 2 for a in answers):
            return cid
    raise AssertionError(f"no customer with offers on {channels} among the first 400")


def covered_items(models: Path, offer_id: str) -> list[str]:
    """An offer's covered items, from the version's serving files."""
    (version,) = [p for p in models.iterdir() if p.is_dir() and (p / "serving").is_dir()][:1]
    table = pl.read_parquet(version / "serving" / "offers.parquet")
    row = table.filter(pl.col("offer_id") == offer_id)
    items: list[str] = row.get_column("covered_items").item().to_list()
    return items


def rank_of(decision: dict[str, Any], offer_id: str) -> int | None:
    for o in decision["offers"]:
        if o["offer_id"] == offer_id:
            rank: int = o["rank"]
            return rank
    return None


def event_log(url: str, limit: int = 1000) -> list[tuple[str, str, bytes]]:
    """The store's event log, read through a store of its own (entry id, customer, bytes)."""

    async def read() -> list[tuple[str, str, bytes]]:
        store = open_store(url)
        try:
            return await store.read_log(None, limit)
        finally:
            await store.close()

    return asyncio.run(read())
