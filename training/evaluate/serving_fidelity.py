"""Serving fidelity: is the ranking `/v1/decisions` serves as good as the offline one?

`omnioffer evaluate-serving` takes a trained version and the data it was trained on,
and replays every customer-channel group of the version's offline offers evaluation
(contracts/evaluation.py) through the real decision path:

1. a replay version (replay_version.py): the version's rankers and factors with
   `serving/` written at the test start (the cutoff of the offline evaluation's
   features), materialized into a private embedded store;
2. one dry-run decision per group (omnioffer.jobs.replay: the service's own
   DecisionService and the `[policy]` of the settings given) at the instant the channel
   first showed the customer an offer in the test window (for mailed coupons, the
   campaign's mailing), after ingesting the customer's events since the test start, as
   the channels sent them; k = TOP_K, asked to explain the offers of the offline top;
3. NDCG@5 / NDCG@10 of the served and of the offline lists on the same groups and the
   same relevant offers, and what each stage did to the offline top TOP_K: `removed`
   (not served: the verdict's stage and rule), `moved` (served, but placed otherwise:
   by the served propensity (`score`), by priority (`arbitration`) or by the category
   cap (`diversity`), each compared with the order before it within the offers that
   survived, so a removal above an offer is no move) and `added` (served offers from
   beyond the offline top TOP_K).

The offline evaluation ranks every offer valid at some time of the test window; a
decision can only serve the offers valid at its instant. Offers not valid at a group's
instant are left out of both of its lists and of its relevant set, so both rankings
answer the same question (`offline_all` keeps the training-time figure, `not_live`
counts the offers of the offline top TOP_K left out); groups left without a relevant
offer are not compared.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import polars as pl

from omnioffer.contracts import evaluation as ev
from omnioffer.contracts.artifact import ArtifactError
from omnioffer.contracts.http import DecisionResponse
from omnioffer.errors import DataError
from omnioffer.jobs.replay import Ask, replay
from omnioffer.registry import load_version
from omnioffer.settings import load_settings
from training.evaluate.metrics import ndcg_at_k
from training.evaluate.replay_inputs import channel_events, first_impressions, validity
from training.evaluate.replay_version import materialize_into, write_replay_version
from training.prep.resolve import load_training_data

METRICS = {"ndcg@5": 5, "ndcg@10": 10}
PRIMARY = "ndcg@5"
TARGET = 0.95  # served >= TARGET x offline on PRIMARY, on every profile (docs/benchmarks.md)
REPLAY_TIMEOUT_S = 30.0  # a busy machine's SQLite must not turn the replay into fallbacks


@dataclass
class Fidelity:
    """The offline and the served ranking of the same groups, and what the stages did."""

    version: str
    as_of: str  # the replay version's cutoff: the test start
    decided: tuple[str, str]  # the first and the last replayed decision's instant
    groups: int  # compared: with a relevant offer valid at their instant
    offline: dict[str, float]  # the offline ranking, cut to the offers valid then
    served: dict[str, float]
    removed: dict[str, int] = field(default_factory=dict)  # "stage/code" -> offers
    moved: dict[str, int] = field(default_factory=dict)  # stage -> offers
    added: int = 0
    fallbacks: dict[str, int] = field(default_factory=dict)  # fallback -> decisions
    offline_all: dict[str, float] = field(default_factory=dict)  # as training evaluated it
    groups_all: int = 0
    not_live: int = 0  # offers of the offline top TOP_K not valid at their group's instant
    events: int = 0  # channel events ingested before the decisions

    def ratio(self, metric: str = PRIMARY) -> float:
        base = self.offline[metric]
        return self.served[metric] / base if base else float("inf")

    @property
    def passed(self) -> bool:
        """At least one group compared, and served >= TARGET x offline on PRIMARY."""
        return self.groups > 0 and self.ratio() >= TARGET

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": {m: round(self.ratio(m), 4) for m in METRICS}}

    def describe(self) -> str:
        top = f"the offline top {ev.TOP_K}"
        head = f"  {'':<14}" + "".join(f"{m:>10}" for m in METRICS)
        lines = [
            f"serving fidelity of {self.version} (as of the test start {self.as_of})",
            f"  {self.groups:,} of {self.groups_all:,} customer-channel groups replayed, each at"
            f" its first offer impression ({self.decided[0]} .. {self.decided[1]}) after"
            f" {self.events:,} channel events; {self.not_live:,} offers of {top} not valid"
            " then are left out of both rankings",
            head,
        ]
        rows = (("offline (all)", self.offline_all), ("offline", self.offline),
                ("served", self.served))  # fmt: skip
        for name, values in rows:
            lines.append(f"  {name:<14}" + "".join(f"{values[m]:>10.4f}" for m in METRICS))
        lines.append(f"  {'ratio':<14}" + "".join(f"{self.ratio(m):>10.3f}" for m in METRICS))
        for label, counts in ((f"removed from {top}", self.removed),
                              (f"moved within {top}", self.moved),
                              ("fallback decisions", self.fallbacks)):  # fmt: skip
            shown = ", ".join(f"{k} {v:,}" for k, v in counts.items()) or "none"
            lines.append(f"  {label}: {shown}")
        lines.append(f"  served from beyond {top}: {self.added:,}")
        if not self.groups:
            lines.append("MISSES the target: no group had a relevant offer valid at its decision")
            return "\n".join(lines)
        verdict = "meets" if self.passed else "MISSES"
        lines.append(f"{verdict} the target: served {PRIMARY} >= {TARGET} x offline "
                     f"(x{self.ratio():.3f})")  # fmt: skip
        return "\n".join(lines)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")


def evaluate_serving(
    data_dir: Path,
    models_dir: Path,
    version: str | None = None,
    *,
    config: Path | None = None,
    channels: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Fidelity:
    """Replay the version's offline offers evaluation through the decision path (see the
    module docstring). `config` and `env` (OMNIOFFER_* variables, none by default): the
    service settings whose `[policy]` (and channels, unless `channels` is given) the
    decisions use, as `omnioffer serve` would read them."""
    extra = {} if channels is None else {"channels": tuple(channels)}
    base = load_settings(config, env=env or {}, overrides=extra)
    loaded = load_version(models_dir, version)
    if ev.OFFERS not in loaded.manifest.files:
        raise ArtifactError(
            f"{loaded.name} holds no {ev.OFFERS}: it has no offers ranker, or was trained"
            " before evaluate-serving existed (train it again)"
        )
    offline = pl.read_parquet(loaded.file(ev.OFFERS))
    ev.check_columns(offline.columns, loaded.name)
    data = load_training_data(data_dir, channels=base.channels)
    if data.fingerprint != loaded.manifest.data_fingerprint:
        raise DataError(
            f"{data_dir} is not the data {loaded.name} was trained on (its events' fingerprint"
            f" is {data.fingerprint}, the version's {loaded.manifest.data_fingerprint})"
        )
    window = loaded.manifest.training_window
    as_of = datetime.fromisoformat(window.test_start)
    at = first_impressions(data.events, as_of, datetime.fromisoformat(window.test_end))
    every = _groups(offline, at, None)
    groups = _groups(offline, at, validity(data.offers))
    until = max((g.at for g in groups), default=as_of.timestamp())
    events = channel_events(data.events, {g.customer_key for g in groups}, as_of, until)
    with tempfile.TemporaryDirectory(prefix="omnioffer-replay-") as tmp:
        registry, store_url = Path(tmp) / "models", f"sqlite:///{Path(tmp) / 'store.sqlite'}"
        write_replay_version(loaded, data, as_of, registry)
        materialize_into(store_url, registry)
        settings = msgspec.structs.replace(base, store_url=store_url, models_dir=str(registry),
                                           store_timeout_s=REPLAY_TIMEOUT_S)  # fmt: skip
        asks = [Ask(g.customer_key, g.channel, g.at, g.top) for g in groups]
        answers = asyncio.run(replay(settings, asks, events, k=ev.TOP_K))
    fidelity = _score(loaded.name, as_of.isoformat(), groups, answers)
    fidelity.offline_all, fidelity.groups_all = _means([g.top for g in every], every), len(every)
    live = {(g.customer_key, g.channel): set(g.top) for g in groups}
    fidelity.not_live = sum(len(set(g.top) - live.get((g.customer_key, g.channel), set()))
                            for g in every)  # fmt: skip
    fidelity.events = len(events)
    return fidelity


@dataclass(frozen=True)
class _Group:
    customer_key: str
    channel: str
    at: float  # the decision's instant: the group's first offer impression in the window
    top: tuple[str, ...]  # the offline top TOP_K, best first
    relevant: frozenset[str]


def _groups(
    offline: pl.DataFrame,
    at: Mapping[tuple[str, str], float],
    valid: Mapping[str, tuple[float, float]] | None,
) -> list[_Group]:
    """Each group's offline top TOP_K and relevant offers, cut to the offers `valid` at its
    instant (None: all; an offer `valid` does not know was never valid)."""
    rows = (
        offline.sort("customer_key", "channel", pl.col("rank").fill_null(ev.DEPTH + 1))
        .group_by("customer_key", "channel", maintain_order=True)
        .agg(
            pl.col("offer_id").filter(pl.col("rank").is_not_null()).alias("ranked"),
            pl.col("offer_id").filter(pl.col("relevant")).alias("answered"),
        )
    )
    out = []
    for cid, channel, ranked, answered in rows.iter_rows():
        t = at[(cid, channel)]  # every offline group was shown an offer in the window
        top = [o for o in ranked if _live(valid, o, t)][: ev.TOP_K]
        relevant = frozenset(o for o in answered if _live(valid, o, t))
        if relevant:  # a group without a relevant offer scores no metric
            out.append(_Group(cid, channel, t, tuple(top), relevant))
    return out


def _live(valid: Mapping[str, tuple[float, float]] | None, offer: str, t: float) -> bool:
    if valid is None:
        return True
    lo, hi = valid.get(offer, (float("inf"), float("-inf")))
    return lo <= t <= hi


def _score(
    version: str, as_of: str, groups: Sequence[_Group], answers: Sequence[DecisionResponse]
) -> Fidelity:
    served = [tuple(o.offer_id for o in a.offers[: ev.TOP_K]) for a in answers]
    removed: Counter[str] = Counter()
    moved: Counter[str] = Counter()
    fallbacks: Counter[str] = Counter()
    for group, answer in zip(groups, answers, strict=True):
        fallbacks.update([answer.fallback] if answer.fallback is not None else [])
        removed.update(f"{v.stage}/{v.code}" for v in answer.explained if not v.served)
        moved.update(_moves(group.top, answer))
    instants = sorted(g.at for g in groups) or [0.0]
    return Fidelity(
        version=version,
        as_of=as_of,
        decided=(_iso(instants[0]), _iso(instants[-1])),
        groups=len(groups),
        offline=_means([g.top for g in groups], groups),
        served=_means(served, groups),
        removed=dict(sorted(removed.items())),
        moved=dict(sorted(moved.items())),
        added=sum(o not in g.top for g, s in zip(groups, served, strict=True) for o in s),
        fallbacks=dict(sorted(fallbacks.items())),
    )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")


def _means(lists: Sequence[Sequence[str]], groups: Sequence[_Group]) -> dict[str, float]:
    """Mean NDCG@k of ranked offer lists against the groups' relevant offers."""
    if not groups:
        return dict.fromkeys(METRICS, 0.0)
    offers = sorted({o for g in groups for o in g.relevant} | {o for s in lists for o in s})
    index = {o: i for i, o in enumerate(offers)}
    ranked = np.full((len(groups), ev.TOP_K), -1, dtype=np.int64)
    for row, offered in enumerate(lists):
        ranked[row, : len(offered)] = [index[o] for o in offered]
    relevant = [np.array(sorted(index[o] for o in g.relevant), dtype=np.int64) for g in groups]
    return {m: float(np.mean(ndcg_at_k(ranked, relevant, k))) for m, k in METRICS.items()}


def _moves(top: Sequence[str], answer: DecisionResponse) -> Counter[str]:
    """Which stage placed each served offer of the offline top otherwise than the stage
    before it did, within the offers that survived (see the module docstring)."""
    kept = [o for o in answer.offers if o.offer_id in top]
    offline = sorted(kept, key=lambda o: top.index(o.offer_id))
    # ties (the answer's figures are rounded) keep the order of the stage before
    by_score = sorted(offline, key=lambda o: -o.propensity)
    by_priority = sorted(by_score, key=lambda o: -o.priority)
    out: Counter[str] = Counter()
    for stage, before, after in (("score", offline, by_score),
                                 ("arbitration", by_score, by_priority),
                                 ("diversity", by_priority, kept)):  # fmt: skip
        out[stage] += sum(a.offer_id != b.offer_id for a, b in zip(before, after, strict=True))
    return +out
