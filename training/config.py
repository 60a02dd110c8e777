"""`omnioffer train --config FILE`: a TOML file overriding training defaults.

Sections map onto the config dataclasses; an unknown section or key is an error
naming it, so a typo never silently trains with defaults.

    [cf]            model = "als", factors = 64, ...
    [interactions]  half_life_days = 90.0
    [interactions.event_weights]  purchase = 4.0, view = 0.5, ...
    [candidates]    n_als = 100, ...
    [item_ranker]   num_leaves = 31, ...
    [offer_ranker]  num_leaves = 31, ...
    [search]        cf_grid = [{factors = 32}, {factors = 64}]
    [train]         max_train_groups = 15000, max_eval_groups = 20000
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from omnioffer.errors import UsageError
from training.items.candidates import CandidateConfig
from training.items.cf import CFConfig
from training.items.task import ItemTaskConfig
from training.prep.interactions import InteractionConfig
from training.ranker import RankerConfig


@dataclass(frozen=True)
class TrainConfig:
    items: ItemTaskConfig = field(default_factory=ItemTaskConfig)
    offer_ranker: RankerConfig = field(
        default_factory=lambda: RankerConfig(objective="binary", min_data_in_leaf=20)
    )


def _build(cls: type[Any], values: dict[str, Any], where: str) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UsageError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    try:
        built = msgspec.convert(values, cls)
    except msgspec.ValidationError as exc:
        rule, _, at = str(exc).partition(" - at `$.")
        raise UsageError(f"{where} {at.rstrip('`')}: {rule}") from None
    _check_ranges(built, where)
    return built


# Counts and rates that must be > 0; fractions in (0, 1]; every other number >= 0.
_POSITIVE = {
    *("factors", "iterations", "learning_rate", "num_leaves", "max_rounds"),
    *("early_stopping", "min_data_in_leaf", "max_train_groups", "max_eval_groups"),
}
_FRACTIONS = {"feature_fraction": (0.0, 1.0), "holdout": (0.0, 0.9)}


def _check_ranges(config: Any, where: str) -> None:
    for key, value in vars(config).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if key in _FRACTIONS:
            lo, hi = _FRACTIONS[key]
            ok, rule = lo < value <= hi, f"must be in ({lo}, {hi}]"
        elif key in _POSITIVE:
            ok, rule = value > 0, "must be > 0"
        else:
            ok, rule = value >= 0, "must be >= 0"
        if not ok:
            raise UsageError(f"{where} {key}: {rule} (got {value!r})")


def load_config(path: Path | None) -> TrainConfig:
    """Defaults, overridden by the TOML file when given."""
    if path is None:
        return TrainConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: {exc}") from None
    sections = {
        "cf",
        "interactions",
        "candidates",
        "item_ranker",
        "offer_ranker",
        "search",
        "train",
    }
    unknown = sorted(set(raw) - sections)
    if unknown:
        raise UsageError(f"{path}: unknown section(s) {', '.join(unknown)}")
    base = ItemTaskConfig()
    items = dataclasses.replace(
        base,
        cf=_build(CFConfig, {**base.cf.as_dict(), **raw.get("cf", {})}, f"{path} [cf]"),
        interactions=_build(
            InteractionConfig, raw.get("interactions", {}), f"{path} [interactions]"
        ),
        candidates=_build(CandidateConfig, raw.get("candidates", {}), f"{path} [candidates]"),
        ranker=_build(RankerConfig, raw.get("item_ranker", {}), f"{path} [item_ranker]"),
        **_build(_Search, raw.get("search", {}), f"{path} [search]").as_overrides(),
        **_build(_Train, raw.get("train", {}), f"{path} [train]").as_overrides(),
    )
    offer = {"objective": "binary", "min_data_in_leaf": 20, **raw.get("offer_ranker", {})}
    return TrainConfig(items, _build(RankerConfig, offer, f"{path} [offer_ranker]"))


@dataclass(frozen=True)
class _Search:
    cf_grid: list[dict[str, Any]] | None = None

    def as_overrides(self) -> dict[str, Any]:
        return {} if self.cf_grid is None else {"cf_grid": tuple(self.cf_grid)}


@dataclass(frozen=True)
class _Train:
    max_train_groups: int | None = None
    max_eval_groups: int | None = None
    seed: int | None = None

    def as_overrides(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
