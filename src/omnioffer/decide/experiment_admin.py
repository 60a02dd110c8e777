"""The admin side of experiments: what the `/v1/experiments` and `/v1/holdout` routes do.

Reads answer from the store's current set (read now, not the polled copy, so an
answer never lags a write made on another worker); writes validate the body (4xx at
its JSON path: contracts/experiment_rules.py and decide/experiment_defs.py), refuse
what this service cannot serve (experiment_source.check_servable, with the model
version served now) and store the new set conditionally on the one they edited.
"""

from __future__ import annotations

from collections.abc import Collection

import msgspec

from omnioffer.contracts.experiment_rules import parse_holdout
from omnioffer.contracts.experiments import Experiment
from omnioffer.contracts.http import ExperimentOut, ExperimentsOut, HoldoutOut
from omnioffer.decide.experiment_defs import experiment_from_json
from omnioffer.decide.experiment_source import ExperimentSource, check_servable
from omnioffer.errors import InputError, NotFound
from omnioffer.version.holder import ModelHolder


class ExperimentAdmin:
    def __init__(
        self, source: ExperimentSource, holder: ModelHolder, channels: Collection[str]
    ) -> None:
        self.source, self.holder, self.channels = source, holder, channels

    async def list(self) -> ExperimentsOut:
        await self.source.refresh_now()
        s = self.source
        return ExperimentsOut(checksum=s.checksum, experiments=list(s.defs.experiments))

    async def get(self, experiment_id: str) -> ExperimentOut:
        await self.source.refresh_now()
        return ExperimentOut(checksum=self.source.checksum, experiment=self._find(experiment_id))

    async def put(self, experiment_id: str, body: bytes, if_match: str | None) -> ExperimentOut:
        experiment = experiment_from_json(body, experiment_id, self.channels)
        model = self.holder.model
        check_servable(experiment, [model.name] if model else [])
        new = await self.source.put_experiment(experiment, if_match)
        return ExperimentOut(checksum=new, experiment=self._find(experiment_id))

    async def stop(self, experiment_id: str, if_match: str | None) -> ExperimentOut:
        new = await self.source.stop(experiment_id, if_match)
        return ExperimentOut(checksum=new, experiment=self._find(experiment_id))

    async def holdout(self) -> HoldoutOut:
        await self.source.refresh_now()
        return HoldoutOut(checksum=self.source.checksum, holdout=self.source.defs.holdout)

    async def put_holdout(self, body: bytes, if_match: str | None) -> HoldoutOut:
        try:
            raw = msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            raise InputError("$", f"the body is not valid JSON: {exc}") from exc
        new = await self.source.put_holdout(parse_holdout(raw), if_match)
        return HoldoutOut(checksum=new, holdout=self.source.defs.holdout)

    def _find(self, experiment_id: str) -> Experiment:
        found = self.source.defs.find(experiment_id)
        if found is None:
            raise NotFound(f"no experiment {experiment_id!r}")
        return found
