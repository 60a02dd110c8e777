"""Experiment definitions as the service reads them: the experiments file and JSON bodies,
validated with the real `[policy]` keys (decide/policy.check_override).

The rules themselves are contracts/experiment_rules.py's; this module supplies the
policy check they need and turns a bad file into one UsageError naming the file and
the path (`experiments.toml: experiments[2].variants[1].weight: ...`), the way a bad
settings file is refused. JSON bodies raise InputError (HTTP 422 with the JSON path).
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from pathlib import Path

import msgspec

from omnioffer.contracts.experiment_rules import child, parse_definitions, parse_experiment
from omnioffer.contracts.experiments import Definitions, Experiment
from omnioffer.decide.policy import check_override
from omnioffer.errors import InputError, UsageError


def load_experiments_file(path: Path, channels: Collection[str] | None = None) -> Definitions:
    """The experiments TOML file; UsageError naming the file and the field path."""
    try:
        raw = tomllib.loads(path.read_bytes().decode())
    except OSError as exc:
        raise UsageError(f"cannot read the experiments file {path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"experiments file {path} is not valid TOML: {exc}") from exc
    try:
        return parse_definitions(raw, check_policy=check_override, channels=channels)
    except InputError as exc:
        raise UsageError(f"experiments file {path}: {exc.field}: {exc.message}") from exc


def definitions_from_json(body: bytes, channels: Collection[str] | None = None) -> Definitions:
    """A whole set as JSON (what encode_definitions writes); InputError at its JSON path."""
    return parse_definitions(_json(body), check_policy=check_override, root="$",
                             channels=channels)  # fmt: skip


def experiment_from_json(
    body: bytes, experiment_id: str, channels: Collection[str] | None = None
) -> Experiment:
    """One experiment, the body of `PUT /v1/experiments/{experiment_id}`."""
    return parse_experiment(_json(body), check_policy=check_override,
                            experiment_id=experiment_id, channels=channels)  # fmt: skip


def check_model_versions(
    experiment: Experiment, materialized: Collection[str], at: str = "$"
) -> None:
    """Refuse a variant whose model version is not materialized: InputError at
    `at`.variants[j].model_version (`at` "$" for a PUT body, "experiments[i]" in a file)."""
    for j, v in enumerate(experiment.variants):
        if v.model_version is not None and v.model_version not in materialized:
            known = ", ".join(sorted(materialized)) or "none"
            raise InputError(child(at, f"variants[{j}].model_version"),
                             f"model version {v.model_version!r} is not materialized "
                             f"(materialized: {known})")  # fmt: skip


def _json(body: bytes) -> object:
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise InputError("$", f"the body is not valid JSON: {exc}") from exc
