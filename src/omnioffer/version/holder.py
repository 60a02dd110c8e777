"""The model a worker serves, and how it follows `activate` without a restart.

Each worker re-reads the store's active version at most every `poll_s` seconds.
A new version is loaded beside the old one (catalog from the store, ONNX rankers
from the models directory, checksums verified) and swapped in with one reference
assignment, so requests in flight finish on the model they started with and no
request ever sees a half-loaded version.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from omnioffer.contracts.artifact import ArtifactError
from omnioffer.contracts.payloads import CATALOG, decode_catalog
from omnioffer.registry import LoadedVersion, load_version
from omnioffer.store.base import FeatureStore, StoreUnavailable
from omnioffer.version.model import VersionModel
from omnioffer.version.scorer import OnnxScorer

log = logging.getLogger("omnioffer.serve")


@dataclass(frozen=True)
class ActiveModel:
    name: str
    data: VersionModel
    items: OnnxScorer
    offers: OnnxScorer | None


async def load_model(store: FeatureStore, models_dir: Path, version: str) -> ActiveModel:
    blob = await store.get_global(version, CATALOG)
    if blob is None:
        raise ArtifactError(f"version {version} has no catalog in the store (materialize it)")
    loaded = await asyncio.to_thread(_verified_rankers, models_dir, version)
    entries = loaded.manifest.rankers
    if "items" not in entries:
        raise ArtifactError(f"version {version} has no items ranker")
    items = OnnxScorer(loaded.file(entries["items"].file), entries["items"].feature_names)
    offers = None
    if "offers" in entries:
        offers = OnnxScorer(loaded.file(entries["offers"].file), entries["offers"].feature_names)
    return ActiveModel(version, VersionModel.from_catalog(decode_catalog(blob)), items, offers)


def _verified_rankers(models_dir: Path, version: str) -> LoadedVersion:
    """The manifest, with only the ranker files' checksums verified."""
    manifest = load_version(models_dir, version, only=()).manifest
    files = {entry.file for entry in manifest.rankers.values()}
    return load_version(models_dir, version, only=files)


class ModelHolder:
    """The worker's current model; `current()` refreshes it when the store says so."""

    def __init__(self, store: FeatureStore, models_dir: Path, poll_s: float) -> None:
        self._store, self._dir, self._poll = store, models_dir, poll_s
        self._model: ActiveModel | None = None
        self.store_is_empty = False  # the store answered: no version is active
        self._checked = -float("inf")
        self._lock = asyncio.Lock()

    @property
    def model(self) -> ActiveModel | None:
        return self._model

    async def current(self) -> ActiveModel | None:
        if time.monotonic() - self._checked >= self._poll:
            await self.refresh()
        return self._model

    async def refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._checked < self._poll:
                return
            try:
                active = await self._store.active_version()
            except StoreUnavailable:
                return  # keep serving the model we have; retry on the next request
            self._checked = time.monotonic()
            self.store_is_empty = active is None
            if active is None or (self._model and self._model.name == active):
                return
            try:
                self._model = await load_model(self._store, self._dir, active)
                log.info("now serving model version %s", active)
            except (ArtifactError, StoreUnavailable) as exc:
                log.error("cannot switch to version %s, keeping %s: %s", active,
                          self._model.name if self._model else "none", exc)  # fmt: skip
