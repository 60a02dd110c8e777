"""Parse and validate experiment definitions, from the TOML file or a JSON body.

Every refusal is an InputError naming the path of the offending value: from the file
`experiments[2].variants[1].weight` (0-based, as in the file's `[[experiments]]`
order), from a JSON body `$.variants[1].weight`. Nothing is half-applied: a parse
returns a new set or raises, and the set it started from is unchanged.

The rules, in the order they are checked:
- types, ranges and unknown keys (msgspec, on every struct of contracts/experiments);
- `format` is FORMAT;
- per experiment: at least two variants, unique variant names, weights summing to 1
  (within WEIGHT_TOLERANCE), each variant's `policy` table accepted by the caller's
  `check_policy` (decide/policy.py's: contracts know no policy), end after start,
  namespace start < end, targeted channels among the configured ones (when given);
- across the set: unique ids; salts unique and not the holdout's (equal salts would
  correlate two assignments); two running experiments of one namespace with
  overlapping ranges are refused; so are two running experiments that can serve the
  same customer (not excluded by namespace, channels or time window) and override the
  same setting: one setting, one owner, so a customer's merged override never depends
  on an order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec

from omnioffer.contracts.experiments import (
    FORMAT,
    WEIGHT_TOLERANCE,
    Definitions,
    Experiment,
    Holdout,
)
from omnioffer.errors import InputError, NotFound

PolicyCheck = Callable[[Mapping[str, Any], str], None]
"""(a variant's policy table, its path) -> None, or an InputError naming the key."""

T = TypeVar("T")
_AT_PATH = re.compile(r"^(?P<message>.*) - at `\$(?P<path>[^`]*)`$", re.DOTALL)
_NAMED = re.compile(r"^Object (?:missing required|contains unknown) field `(?P<name>[^`]*)`$")


def child(base: str, name: str) -> str:
    """`base.name`; at the root of a file (base "") just `name`."""
    return f"{base}.{name}" if base else name


def _convert(raw: Any, kind: type[T], root: str) -> T:
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        at = _AT_PATH.match(str(exc))
        message, rest = (at["message"], at["path"]) if at else (str(exc), "")
        path = root + rest if root else rest.removeprefix(".")
        if named := _NAMED.match(message):  # an unknown/missing key is a path of its own
            path = child(path, named["name"])
        raise InputError(path or "$", message) from exc


def parse_definitions(
    raw: Any,
    *,
    check_policy: PolicyCheck,
    root: str = "",
    channels: Collection[str] | None = None,
) -> Definitions:
    """A whole set (the experiments file as a table, or a JSON object); `root` is ""
    for a file, "$" for a JSON body."""
    defs = _convert(raw, Definitions, root)
    if defs.format != FORMAT:
        raise InputError(child(root, "format"), f"format {defs.format} is not supported "
                         f"(this omnioffer reads {FORMAT})")  # fmt: skip
    at = child(root, "experiments")
    experiments = tuple(
        _checked(e, f"{at}[{i}]", check_policy, channels) for i, e in enumerate(defs.experiments)
    )
    _check_set(experiments, [f"{at}[{i}]" for i in range(len(experiments))], defs.holdout)
    return msgspec.structs.replace(defs, experiments=experiments)


def parse_experiment(
    raw: Any,
    *,
    check_policy: PolicyCheck,
    root: str = "$",
    experiment_id: str | None = None,
    channels: Collection[str] | None = None,
) -> Experiment:
    """One experiment (an admin PUT body). With `experiment_id` (the URL's), the body may
    leave `id` out; if it gives one, it must be the same."""
    if experiment_id is not None and isinstance(raw, dict):
        given = raw.get("id", experiment_id)
        if given != experiment_id:
            raise InputError(child(root, "id"), f"{given!r} is not the id of the URL "
                             f"({experiment_id!r})")  # fmt: skip
        raw = {**raw, "id": experiment_id}
    return _checked(_convert(raw, Experiment, root), root, check_policy, channels)


def with_experiment(defs: Definitions, experiment: Experiment, root: str = "$") -> Definitions:
    """The set with `experiment` added, or replacing the one of its id (in place), after
    the checks across the set; a refusal names `experiment`'s fields under `root`."""
    others = [e for e in defs.experiments if e.id != experiment.id]
    roots = [f"experiments[{i}]" for i in range(len(others))]
    _check_set([*others, experiment], [*roots, root], defs.holdout)  # the new one is blamed
    if defs.find(experiment.id) is None:
        return msgspec.structs.replace(defs, experiments=(*defs.experiments, experiment))
    kept = tuple(experiment if e.id == experiment.id else e for e in defs.experiments)
    return msgspec.structs.replace(defs, experiments=kept)


def parse_holdout(raw: Any, root: str = "$") -> Holdout:
    """The universal holdout alone (the body of `PUT /v1/holdout`)."""
    return _convert(raw, Holdout, root)


def with_holdout(defs: Definitions, holdout: Holdout, root: str = "$") -> Definitions:
    """The set with another holdout, after the checks across the set (an experiment's
    salt must not be the holdout's: that one is refused at `root`.salt)."""
    if any(e.salt == holdout.salt for e in defs.experiments):
        raise InputError(child(root, "salt"), f"{holdout.salt!r} is the salt of an experiment")
    return msgspec.structs.replace(defs, holdout=holdout)


def stopped(defs: Definitions, experiment_id: str) -> Definitions:
    """The set with that experiment stopped (its customers return to the default policy)."""
    if defs.find(experiment_id) is None:
        raise NotFound(f"no experiment {experiment_id!r}")
    kept = tuple(
        msgspec.structs.replace(e, status="stopped") if e.id == experiment_id else e
        for e in defs.experiments
    )
    return msgspec.structs.replace(defs, experiments=kept)


# --- one experiment ------------------------------------------------------------------
def _utc(moment: datetime | None) -> datetime | None:
    """Naive times are UTC (as everywhere in omnioffer); aware ones are converted."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _checked(
    e: Experiment, at: str, check_policy: PolicyCheck, channels: Collection[str] | None
) -> Experiment:
    _check_variants(e, at, check_policy)
    start, end = _utc(e.start), _utc(e.end)
    if start is not None and end is not None and end <= start:
        raise InputError(child(at, "end"), f"{end.isoformat()} is not after start "
                         f"{start.isoformat()}")  # fmt: skip
    if e.namespace is not None and e.namespace.range[0] >= e.namespace.range[1]:
        lo, hi = e.namespace.range
        raise InputError(child(at, "namespace.range"),
                         f"[{lo}, {hi}] is empty: the start must be below the end")  # fmt: skip
    if channels is not None:
        for k, channel in enumerate(e.targeting.channels):
            if channel not in channels:
                raise InputError(
                    f"{child(at, 'targeting.channels')}[{k}]",
                    f"unknown channel {channel!r} (known: {', '.join(channels)})",
                )
    return msgspec.structs.replace(e, salt=e.salt or e.id, start=start, end=end)


def _check_variants(e: Experiment, at: str, check_policy: PolicyCheck) -> None:
    variants = child(at, "variants")
    if len(e.variants) < 2:
        raise InputError(variants, "an experiment needs at least two variants (the first is "
                         f"the control), got {len(e.variants)}")  # fmt: skip
    seen: set[str] = set()
    for j, v in enumerate(e.variants):
        if v.name in seen:
            raise InputError(f"{variants}[{j}].name", f"variant name {v.name!r} is used twice")
        seen.add(v.name)
        if v.policy:
            check_policy(v.policy, f"{variants}[{j}].policy")
    total = math.fsum(v.weight for v in e.variants)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        weights = ", ".join(repr(v.weight) for v in e.variants)
        raise InputError(variants, f"the weights ({weights}) sum to {total!r}, not 1 "
                         f"(tolerance {WEIGHT_TOLERANCE})")  # fmt: skip


# --- across the set ------------------------------------------------------------------
def _check_set(experiments: Sequence[Experiment], roots: Sequence[str], holdout: Holdout) -> None:
    """Each experiment against the ones before it; the later one of a clash is blamed."""
    for j, b in enumerate(experiments):
        at = roots[j]
        if b.salt == holdout.salt:
            raise InputError(
                child(at, "salt"),
                f"{b.salt!r} is the holdout's salt: the "
                "experiment would split along the holdout; set another salt",
            )
        for i, a in enumerate(experiments[:j]):
            other = f"experiment {a.id!r} ({roots[i]})"
            if a.id == b.id:
                raise InputError(child(at, "id"), f"{b.id!r} is already the id of {other}")
            if a.salt == b.salt:
                raise InputError(
                    child(at, "salt"),
                    f"{b.salt!r} is already the salt of "
                    f"{other}: their assignments would be correlated",
                )
            if a.status == "running" and b.status == "running":
                _check_running_pair(a, b, at, other)


def _check_running_pair(a: Experiment, b: Experiment, at: str, other: str) -> None:
    if a.namespace and b.namespace and a.namespace.name == b.namespace.name:
        (a_lo, a_hi), (b_lo, b_hi) = a.namespace.range, b.namespace.range
        if a_lo < b_hi and b_lo < a_hi:
            raise InputError(child(at, "namespace.range"),
                             f"[{b_lo}, {b_hi}) overlaps [{a_lo}, {a_hi}) of running {other}"
                             f" in namespace {a.namespace.name!r}")  # fmt: skip
    if _exclusive(a, b):
        return
    taken = set().union(*(v.touched() for v in a.variants))
    for j, v in enumerate(b.variants):
        for key in v.touched():
            if key in taken:
                raise InputError(f"{child(at, 'variants')}[{j}].{key}",
                                 f"also set by running {other}, which can serve the same "
                                 "customers: set it in one of them, or put both in one "
                                 "namespace with disjoint ranges")  # fmt: skip


def _exclusive(a: Experiment, b: Experiment) -> bool:
    """Whether no decision can be in both: disjoint ranges of one namespace, disjoint
    targeted channels, or disjoint time windows."""
    if a.namespace and b.namespace and a.namespace.name == b.namespace.name:
        return True  # running ones of a namespace never overlap (checked before)
    a_ch, b_ch = set(a.targeting.channels), set(b.targeting.channels)
    if a_ch and b_ch and not a_ch & b_ch:
        return True
    return (a.end is not None and b.start is not None and a.end <= b.start) or (
        b.end is not None and a.start is not None and b.end <= a.start
    )
