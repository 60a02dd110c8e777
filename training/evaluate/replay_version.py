"""A model version as it would have served at an earlier instant, for replays.

Its rankers, factors and vocabularies are the version's own; its `serving/` files are
written again from the data at `cutoff` (the same write_serving training uses), so the
batch features, histories and offer statistics are those of that instant. It is
published into a registry of its own and materialized into a store of its own: the
version and the store it came from are never touched.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from omnioffer.contracts import evaluation as ev
from omnioffer.contracts import serving as sf
from omnioffer.jobs.materialize import materialize
from omnioffer.registry import LoadedVersion, set_current, write_version
from omnioffer.store import open_store
from training.items.candidates import CandidateConfig
from training.prep.resolve import TrainingData
from training.publish.serving_export import ServingInputs, write_serving

_REWRITTEN = (sf.DIR, ev.OFFERS.split("/")[0])  # serving/ is rewritten, evaluation/ not needed


def write_replay_version(
    loaded: LoadedVersion, data: TrainingData, cutoff: datetime, registry: Path
) -> None:
    """Publish `loaded` with `serving/` written at `cutoff` into `registry`, as current."""
    meta = json.loads(loaded.file(sf.rel(sf.META)).read_text("utf-8"))
    sf.check_meta(meta, loaded.name)
    with tempfile.TemporaryDirectory(prefix="omnioffer-replay-staging-") as tmp:
        staging = Path(tmp)
        for rel in loaded.manifest.files:
            if rel.split("/")[0] in _REWRITTEN:
                continue
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(loaded.path / rel, staging / rel)
        inputs = ServingInputs(
            dataset=data.dataset, identity=data.identity, events=data.events, items=data.items,
            offers=data.offers, offer_items=data.offer_items, channels=tuple(meta["channels"]),
            candidates=CandidateConfig(**loaded.manifest.params["candidates"]),
        )  # fmt: skip
        write_serving(staging, inputs, cutoff)
        write_version(registry, loaded.name, staging, loaded.manifest)
    set_current(registry, loaded.name)


def materialize_into(store_url: str, registry: Path) -> None:
    """Materialize the registry's current version into the store at `store_url`."""

    async def go() -> None:
        store = open_store(store_url)
        try:
            await materialize(store, registry)
        finally:
            await store.close()

    asyncio.run(go())
