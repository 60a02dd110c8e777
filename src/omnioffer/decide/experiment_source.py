"""The experiment definitions a worker serves: kept in the feature store, followed live.

The store holds one blob (the key-ordered JSON of a Definitions set) and its checksum
(store `get/put_experiments`). Every worker reads the checksum at most every `poll_s`
seconds on the request path (one small read, like the policy file's poll) and the
blob only when it changed, so a PUT on one worker is served by every worker within
`model_poll_s` without a restart. A store that fails, or a stored blob that no longer
parses, keeps the last good set (logged once per checksum).

The experiments file and the admin API (docs/experiments.md, "Serving"): at startup
the file's set is written to the store when its checksum differs from the stored one
(the file wins at every start); the admin routes then edit the stored set, with the
checksum as its version (`If-Match`: a write based on an older set is refused, 412).

Serving limits, refused when a set is written (`check_servable`): strategy `als`
(this service has no CF-only offer score) and a `model_version` other than the one
being served (two versions at once are not served yet).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Collection

from omnioffer.contracts.experiment_rules import child, stopped, with_experiment, with_holdout
from omnioffer.contracts.experiments import (
    Definitions,
    Experiment,
    Holdout,
    checksum,
    encode_definitions,
)
from omnioffer.decide.assignment import Assigner
from omnioffer.decide.experiment_defs import check_model_versions, definitions_from_json
from omnioffer.errors import InputError, VersionMismatch
from omnioffer.store.base import FeatureStore, StoreUnavailable

log = logging.getLogger("omnioffer.serve")
EMPTY = Definitions()


def check_servable(experiment: Experiment, served: Collection[str], at: str = "$") -> None:
    """What this service cannot serve, refused at the variant's JSON path."""
    for j, v in enumerate(experiment.variants):
        if v.strategy == "als":
            raise InputError(child(at, f"variants[{j}].strategy"), "strategy 'als' is not "
                             "served (no CF-only offer score); use ranker or popular")  # fmt: skip
    check_model_versions(experiment, served, at)


class ExperimentSource:
    def __init__(
        self,
        store: FeatureStore,
        *,
        poll_s: float,
        timeout_s: float,
        channels: Collection[str] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store, self._poll, self._timeout = store, poll_s, timeout_s
        self._channels, self._tick = channels, monotonic
        self.defs, self.checksum = EMPTY, checksum(EMPTY)
        self.assigner = Assigner(EMPTY)
        self._stored: str | None = None  # the checksum last read from the store
        self._refused: str | None = None
        self._due = -math.inf if math.isfinite(poll_s) else math.inf  # inf: never polled

    async def current(self) -> Assigner:
        """The assigner of the set in force, after a poll if one is due."""
        if self._tick() >= self._due:
            await self.refresh()
        return self.assigner

    async def refresh(self) -> None:
        """Read the stored checksum now (and the blob if it changed)."""
        self._due = self._tick() + self._poll
        try:
            async with asyncio.timeout(self._timeout):
                stored = await self._store.experiments_checksum()
                if stored is None or stored in (self._stored, self._refused):
                    return
                found = await self._store.get_experiments()
        except (StoreUnavailable, TimeoutError) as exc:
            log.warning("cannot read the experiment definitions, keeping %s: %s",
                        self.checksum[:12], exc)  # fmt: skip
            return
        if found is not None:
            self._adopt(*found)

    def _adopt(self, stored: str, blob: bytes) -> None:
        try:
            defs = definitions_from_json(blob, self._channels)
        except InputError as exc:
            self._refused = stored
            log.error("stored experiment definitions %s refused, keeping %s: %s",
                      stored[:12], self.checksum[:12], exc)  # fmt: skip
            return
        self._stored, self.defs, self.checksum = stored, defs, stored
        self.assigner = Assigner(defs)
        log.info("experiment definitions %s in force (%d experiments)", stored[:12],
                 len(defs.experiments))  # fmt: skip

    def use(self, defs: Definitions) -> None:
        """Serve `defs` in this worker (the store could not take them); the next stored
        set read replaces them."""
        self.defs, self.checksum, self.assigner = defs, checksum(defs), Assigner(defs)

    # --- writes (the file at startup, the admin API) ------------------------------
    async def seed(self, defs: Definitions) -> None:
        """The experiments file's set into the store unless it is there already."""
        if await self._store.experiments_checksum() != checksum(defs):
            await self._write(defs, None)
        await self.refresh_now()

    async def put_experiment(self, experiment: Experiment, if_match: str | None) -> str:
        base, stored = await self._base(if_match)
        return await self._write(with_experiment(base, experiment), stored)

    async def stop(self, experiment_id: str, if_match: str | None) -> str:
        base, stored = await self._base(if_match)
        return await self._write(stopped(base, experiment_id), stored)

    async def put_holdout(self, holdout: Holdout, if_match: str | None) -> str:
        base, stored = await self._base(if_match)
        return await self._write(with_holdout(base, holdout), stored)

    async def _base(self, if_match: str | None) -> tuple[Definitions, str]:
        """The stored set a write edits (read now, not the polled copy) and its checksum
        as stored ("" none): the write is conditional on it."""
        await self.refresh_now()
        if if_match is not None and if_match != self.checksum:
            raise VersionMismatch(f"the definitions are at {self.checksum}, not {if_match}")
        return self.defs, self._stored or ""

    async def refresh_now(self) -> None:
        """Read the stored set now; StoreUnavailable goes to the caller (a 503)."""
        self._due = self._tick() + self._poll
        found = await self._store.get_experiments()
        if found is not None and found[0] != self._stored:
            self._adopt(*found)

    async def _write(self, defs: Definitions, expected: str | None) -> str:
        new, blob = checksum(defs), encode_definitions(defs)
        if not await self._store.put_experiments(new, blob, expected):
            raise VersionMismatch("the definitions changed meanwhile; read them and retry")
        self._adopt(new, blob)
        return new
