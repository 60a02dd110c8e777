"""Experiment definitions: the universal holdout and the A/B tests (public contract).

One `Definitions` set is read from the experiments TOML file (format FORMAT) or built
from the admin API's JSON bodies; contracts/experiment_rules.py parses and validates
both, and docs/experiments.md describes every field. Each variant is a policy
override: what it changes for the customers it serves (a model version, a strategy,
an exploration rate, any `[policy]` key); nothing set means "as configured".

The structs only describe the shapes; the rules across fields (weights summing to 1,
end after start, namespaces not overlapping, policy keys that exist) are
experiment_rules.py's, so build a Definitions through it rather than by hand.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

import msgspec

FORMAT = 1

# Ids and variant names end up in store keys, Prometheus labels and URL paths.
Name = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
ModelVersion = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._-]{1,100}$")]
Share = Annotated[float, msgspec.Meta(ge=0, le=1)]
Salt = Annotated[str, msgspec.Meta(max_length=200)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]

Strategy = Literal["ranker", "als", "popular", "random_eligible", "none"]
STRATEGIES: tuple[str, ...] = get_args(Strategy)
Status = Literal["draft", "running", "stopped"]
HoldoutTreatment = Literal["none", "random_eligible"]

HOLDOUT_SALT = "omnioffer-holdout"
WEIGHT_TOLERANCE = 1e-9  # the variants' weights must sum to 1 within this


class _Strict(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Unknown keys are refused everywhere: a typo never silently does nothing."""


class Override(_Strict, frozen=True, kw_only=True):
    """What a variant changes; None (or no policy key) leaves the service's own setting."""

    model_version: ModelVersion | None = None  # a materialized version, served beside
    strategy: Strategy | None = None  # ranker when nobody says otherwise
    exploration: Share | None = None  # epsilon: share of decisions explored
    policy: dict[str, Any] = {}  # [policy] keys, checked against decide/policy.py's

    def touched(self) -> list[str]:
        """The settings this override touches: "strategy", "policy.daily_cap", ..."""
        own = ("model_version", "strategy", "exploration")
        return [k for k in own if getattr(self, k) is not None] + [
            f"policy.{k}" for k in self.policy
        ]


NO_OVERRIDE = Override()


class Variant(Override, frozen=True, kw_only=True):
    name: Name
    weight: Share


class Targeting(_Strict, frozen=True, kw_only=True):
    """Who may enter; an empty list means every channel (segment)."""

    channels: tuple[Label, ...] = ()
    segments: tuple[Label, ...] = ()


class Namespace(_Strict, frozen=True, kw_only=True):
    """Experiments of one namespace with disjoint ranges never share a customer."""

    name: Name
    range: tuple[Share, Share]  # [start, end) of the namespace's hash, start < end


class Experiment(_Strict, frozen=True, kw_only=True):
    id: Name
    variants: tuple[Variant, ...]  # the first one is the control
    description: str = ""
    salt: Salt = ""  # "" = the id (parsing fills it in)
    status: Status = "draft"
    start: datetime | None = None  # UTC after parsing; None: open-ended
    end: datetime | None = None
    targeting: Targeting = Targeting()
    coverage: Share = 1.0  # share of the eligible customers that enter
    namespace: Namespace | None = None

    @property
    def control(self) -> Variant:
        return self.variants[0]


class Holdout(_Strict, frozen=True, kw_only=True):
    """The universal holdout: `share` of all customers get `treatment` on every channel
    and are in no experiment."""

    share: Share = 0.0
    treatment: HoldoutTreatment = "none"
    salt: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] = HOLDOUT_SALT


class Definitions(_Strict, frozen=True, kw_only=True):
    """Everything the experiments file holds (and the admin API edits)."""

    format: int = FORMAT
    holdout: Holdout = Holdout()
    experiments: tuple[Experiment, ...] = ()

    def find(self, experiment_id: str) -> Experiment | None:
        return next((e for e in self.experiments if e.id == experiment_id), None)


class Exposure(msgspec.Struct, frozen=True):
    """One experiment a decision ran under (responses carry a list of these)."""

    id: str
    variant: str


class Recorded(msgspec.Struct, frozen=True, kw_only=True):
    """A customer's first assignment, which wins over hashing them again (first touch:
    an anonymous id keeps its holdout answer and variants once linked). `holdout`: the
    salt of the holdout `held_out` was drawn under ("" none); `variants`: experiment id
    -> variant name, only for experiments the customer was in."""

    holdout: str = ""
    held_out: bool = False
    variants: dict[str, str] = {}


def encode_definitions(defs: Definitions) -> bytes:
    """Key-ordered JSON of a definition set (what a store keeps and GET returns)."""
    return msgspec.json.encode(defs, order="sorted")


def checksum(defs: Definitions) -> str:
    """The version of a definition set: sha256 of its key-ordered JSON. Two sets with
    the same content (times normalised to UTC, salts filled in) have the same one."""
    return hashlib.sha256(encode_definitions(defs)).hexdigest()
