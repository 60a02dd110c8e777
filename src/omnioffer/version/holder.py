"""The model a worker serves, and how it follows `activate` without a restart.

Each worker re-reads the store's active version at most every `poll_s` seconds,
whether the store answered or failed: a hung or dead store is asked once per `poll_s`,
never once per request. Once a model is loaded the lookup runs in the background (one
at a time), so requests never wait for it and never queue behind it; they serve the
model the worker has. Only a worker with no model yet waits for its first answer.
A new version is loaded beside the old one (catalog from the store, ONNX rankers
from the models directory, checksums verified) and swapped in with one reference
assignment, so requests in flight finish on the model they started with and no
request ever sees a half-loaded version.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
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

    def __init__(
        self,
        store: FeatureStore,
        models_dir: Path,
        poll_s: float,
        *,
        ticker: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store, self._dir, self._poll, self._tick = store, models_dir, poll_s, ticker
        self._model: ActiveModel | None = None
        self.store_is_empty = False  # the store answered: no version is active
        self._due = -float("inf")  # when to ask the store again
        self._lock = asyncio.Lock()
        self._asking: asyncio.Task[None] | None = None

    @property
    def model(self) -> ActiveModel | None:
        return self._model

    async def current(self) -> ActiveModel | None:
        if self._tick() < self._due:
            return self._model
        if self._model is None:
            await self.refresh()  # nothing to serve yet: wait (only for one lookup)
        elif self._asking is None:
            self._asking = asyncio.create_task(self._refresh_aside())
        return self._model

    async def _refresh_aside(self) -> None:
        try:
            await self.refresh()
        finally:
            self._asking = None

    async def refresh(self) -> None:
        async with self._lock:
            if self._tick() < self._due:
                return
            try:
                active = await self._store.active_version()
            except (StoreUnavailable, TimeoutError) as exc:
                log.warning("cannot read the active version, keeping %s: %s",
                            self._model.name if self._model else "none", exc)  # fmt: skip
                return
            finally:  # answered or failed: the next lookup is one poll away
                self._due = self._tick() + self._poll
            self.store_is_empty = active is None
            if active is None or (self._model and self._model.name == active):
                return
            try:
                self._model = await load_model(self._store, self._dir, active)
                log.info("now serving model version %s", active)
            except (ArtifactError, StoreUnavailable) as exc:
                log.error("cannot switch to version %s, keeping %s: %s", active,
                          self._model.name if self._model else "none", exc)  # fmt: skip

    async def close(self) -> None:
        """Stop a lookup still running in the background."""
        task = self._asking
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
