"""The decision path's shortcuts score exactly what the full computation scores.

A decision scores only the candidate items its eligible offers cover (`score_items`
with `only`), and remembers the items similar to a seed per version; both must give
the same numbers as the full computation, on the real trained version and its ONNX
rankers.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from pathlib import Path

import numpy as np

from omnioffer.contracts.http import DecisionRequest
from omnioffer.decide.eligibility import candidate_offers
from omnioffer.decide.score import offer_propensity, score_items
from omnioffer.decide.service import DecisionService
from omnioffer.features.candidates import similar_to
from omnioffer.service import make_service, open_service_store
from served_version import AS_OF_DAYS, iso, load_into, service_settings
from training.train import TrainOutcome

CHANNELS = ("web", "app", "email", "store")


async def _check(service: DecisionService, customers: list[str]) -> tuple[int, int]:
    """(customers checked, offers compared); asserts equality along the way."""
    await service.holder.refresh()
    model = await service.holder.current()
    assert model is not None
    compared = checked = 0
    rng = random.Random(3)
    for cid in customers:
        channel = rng.choice(CHANNELS)
        ctx = await service.resolver.context(DecisionRequest(customer_id=cid, channel=channel))
        if ctx.fallback is not None:
            continue
        offers, _ = candidate_offers(model.data, ctx.history, channel, ctx.who, service.policy)
        covered = model.data.offer_table.items_of(offers)
        full = score_items(model, ctx.history, ctx.user, channel)
        part = score_items(model, ctx.history, ctx.user, channel, only=covered)
        ids, index = model.data.catalog.item_ids, model.data.item_index
        whole = full.by_id(ids)
        assert part.by_id(ids) == {i: s for i, s in whole.items() if index[i] in covered}
        if offers:
            a = offer_propensity(model, ctx.history, ctx.user, offers, channel=channel,
                                 items=full)  # fmt: skip
            b = offer_propensity(model, ctx.history, ctx.user, offers, channel=channel,
                                 items=part)  # fmt: skip
            np.testing.assert_array_equal(a, b)
            compared += len(offers)
        checked += 1
    return checked, compared


def test_scoring_only_the_covered_items_changes_no_propensity(
    trained: tuple[Path, TrainOutcome], tmp_path: Path
) -> None:
    models, _ = trained
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    cutoff = load_into(url, models)
    now = cutoff + timedelta(days=AS_OF_DAYS).total_seconds()
    settings = service_settings(url, models, as_of=iso(now), replay_clock="frozen")
    service = make_service(settings, open_service_store(settings))
    version = next(p for p in models.iterdir() if p.is_dir() and (p / "serving").is_dir())
    customers = sorted(np.load(version / "vocab" / "customers.npy").astype(str).tolist())
    sample = random.Random(5).sample(customers, min(60, len(customers)))
    try:
        checked, compared = asyncio.run(_check(service, sample))
    finally:
        asyncio.run(service.close())
    assert checked >= 40, checked  # most sampled customers are known to the version
    assert compared > 0


def test_similar_items_are_remembered_per_version_and_equal_a_fresh_computation(
    trained: tuple[Path, TrainOutcome], tmp_path: Path
) -> None:
    models, _ = trained
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    load_into(url, models)
    settings = service_settings(url, models)
    service = make_service(settings, open_service_store(settings))
    try:
        asyncio.run(service.holder.refresh())
        model = asyncio.run(service.holder.current())
    finally:
        asyncio.run(service.close())
    assert model is not None
    data = model.data
    rows = range(min(20, data.cf_unit.shape[0]))
    first = [similar_to(data, r, 10) for r in rows]
    assert len(data.similar) == len(rows)
    again = [similar_to(data, r, 10) for r in rows]
    assert again == first
    for r, got in zip(rows, first, strict=True):
        sims = data.cf_unit @ data.cf_unit[r]
        sims[r] = -np.inf
        mine = sims[data.cf_row_of_item[got]]
        assert data.item_of_cf_row[r] not in got
        assert (np.diff(mine) <= 0).all()  # best first
        np.testing.assert_array_equal(mine, np.sort(sims)[::-1][:10])  # the 10 most similar
