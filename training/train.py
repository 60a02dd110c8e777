"""`omnioffer train`: data -> resolved events -> tasks -> ONNX -> gated model version.

`models/current` moves to the new version only when the ranker beats the best
baseline on each task's primary metric; otherwise nothing is written and the
exit code is 1 with the margin it lost by (`--force` writes and activates anyway).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from omnioffer.contracts.artifact import make_version_name
from omnioffer.contracts.schema import DEFAULT_CHANNELS
from omnioffer.registry import set_current, write_version
from training.config import TrainConfig
from training.evaluate.oracle import find_oracle
from training.evaluate.scoreboard import Scoreboard
from training.items.task import ItemTaskResult, run_items_task
from training.offers.task import OfferTaskResult, has_offer_events, run_offers_task
from training.prep.resolve import TrainingData, load_training_data
from training.prep.split import TimeSplit, make_split
from training.publish.artifacts import (
    export_rankers,
    make_manifest,
    metrics_of,
    parity_rows_of,
    write_cf_files,
    write_per_channel,
)
from training.publish.card import write_card
from training.publish.dropped import dropped_notes
from training.publish.offer_evaluation import write_offer_evaluation
from training.publish.serving_export import ServingInputs, serving_cutoff, write_serving
from training.stages import StageTimer

log = logging.getLogger("omnioffer.train")

PRIMARY = {"items": "ndcg@10", "offers": "ndcg@5"}
STAGES = ("load", "items", "offers", "export", "write")


@dataclass(frozen=True)
class GateResult:
    task: str
    metric: str
    ranker: float
    baseline: str
    baseline_value: float

    @property
    def passed(self) -> bool:
        return self.ranker > self.baseline_value

    def describe(self) -> str:
        ratio = self.ranker / self.baseline_value if self.baseline_value else float("inf")
        verb = "beats" if self.passed else "LOSES to"
        return (
            f"{self.task}: ranker {self.metric} {self.ranker:.4f} {verb} {self.baseline} "
            f"{self.baseline_value:.4f} (x{ratio:.3f}, {self.ranker - self.baseline_value:+.4f})"
        )


@dataclass
class TrainOutcome:
    version: str | None
    activated: bool
    gates: list[GateResult]
    boards: dict[str, Scoreboard]
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)


def gate(boards: dict[str, Scoreboard]) -> list[GateResult]:
    out = []
    for task, board in boards.items():
        metric = PRIMARY[task]
        name, value = board.best_baseline(metric)
        out.append(GateResult(task, metric, board.overall["ranker"][metric], name, value))
    return out


def train(
    data_dir: Path,
    models_dir: Path,
    *,
    until: datetime | None = None,
    test_days: int = 28,
    config: TrainConfig | None = None,
    force: bool = False,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    truth_dir: Path | None = None,
    progress: bool = True,
    strict: bool = False,
) -> TrainOutcome:
    """Run the whole offline pipeline; see the module docstring for the gate. `strict`:
    refuse data with rows it would otherwise drop (contracts/problems.DROP_KINDS)."""
    config = config or TrainConfig()
    chans = tuple(channels)
    timer = StageTimer(STAGES, progress=progress)
    notes: list[str] = []
    with timer.stage("load"):
        data = load_training_data(data_dir, channels=chans, strict=strict)
        notes += dropped_notes(data.dataset.dropped)
        for note in notes:
            log.warning(note)
        split = make_split(data.events, until=until, test_days=test_days)
        oracle = find_oracle(data_dir, truth_dir)
    with timer.stage("items"):
        items = run_items_task(
            data.events, data.items, split, channels=chans, config=config.items, oracle=oracle,
            notes=notes,
        )  # fmt: skip
    offers: OfferTaskResult | None = None
    with timer.stage("offers"):
        if has_offer_events(data.events) and data.offers.height:
            offers = run_offers_task(
                data.events,
                split,
                offers=data.offers,
                segments=data.segments,
                pairs=data.offer_items,
                items=items,
                config=config.offer_ranker,
                oracle=oracle,
                notes=notes,
            )
        else:
            notes.append("no offer events in the data: trained the items task only")
            log.warning(notes[-1])
    boards = {"items": items.scoreboard} | ({"offers": offers.scoreboard} if offers else {})
    gates = gate(boards)
    for g in gates:
        log.info(g.describe())
    outcome = TrainOutcome(None, False, gates, boards, timer.timings, notes)
    if not outcome.passed and not force:
        timer.close()
        return outcome
    if not outcome.passed:
        notes.append("activated with --force although the ranker lost to a baseline")
    run = _Run(data, split, items, offers, boards, config, timer, notes)
    outcome.version = _publish(models_dir, run)
    set_current(models_dir, outcome.version)
    outcome.activated = True
    timer.close()
    return outcome


@dataclass
class _Run:
    """What one training run produced, for publishing."""

    data: TrainingData
    split: TimeSplit
    items: ItemTaskResult
    offers: OfferTaskResult | None
    boards: dict[str, Scoreboard]
    config: TrainConfig
    timer: StageTimer
    notes: list[str]


def _publish(models_dir: Path, run: _Run) -> str:
    data, split, items, offers = run.data, run.split, run.items, run.offers
    boards, config, timer, notes = run.boards, run.config, run.timer, run.notes
    version = make_version_name(data.fingerprint)
    with tempfile.TemporaryDirectory(prefix="omnioffer-train-") as tmp:
        staging = Path(tmp)
        with timer.stage("export"):
            write_cf_files(staging, items, data.offer_items)
            write_serving(staging, _serving_inputs(run), serving_cutoff(split.end))
            rankers = {"items": (items.booster, items.feature_names, parity_rows_of(items))}
            if offers is not None:
                rankers["offers"] = (offers.booster, offers.feature_names, parity_rows_of(offers))
            entries = export_rankers(staging, rankers)
            if offers is not None:
                write_offer_evaluation(staging, *offers.extra["offline"])
        with timer.stage("write"):
            params = _params(config, items, split)
            write_per_channel(staging, boards)
            write_card(
                staging,
                version=version,
                window=split.as_dict(),
                boards=boards,
                primary=PRIMARY,
                importance=_importance(items, offers),
                calibration={"offers": offers.calibration} if offers else None,
                candidate_recall=items.candidate_recall,
                timings=timer.timings,
                params=params,
                notes=notes,
                dropped=data.dataset.dropped,
            )
            manifest = make_manifest(
                fingerprint=data.fingerprint,
                split=split,
                params=params,
                rankers=entries,
                metrics=metrics_of(boards, entries),
                notes="\n".join(notes),
                dropped=data.dataset.dropped,
            )
            write_version(models_dir, version, staging, manifest)
    log.info("wrote model version %s to %s", version, models_dir)
    return version


def _serving_inputs(run: _Run) -> ServingInputs:
    data = run.data
    return ServingInputs(
        dataset=data.dataset,
        identity=data.identity,
        events=data.events,
        items=data.items,
        offers=data.offers,
        offer_items=data.offer_items,
        channels=run.items.snapshot.channels,
        candidates=run.items.config.candidates,
    )


def _params(config: TrainConfig, items: ItemTaskResult, split: TimeSplit) -> dict[str, Any]:
    return {
        "split": split.as_dict(),
        "cf": items.cf_config.as_dict(),
        "interactions": asdict(config.items.interactions),
        "candidates": asdict(config.items.candidates),
        "item_ranker": config.items.ranker.as_dict(),
        "offer_ranker": config.offer_ranker.as_dict(),
        "item_train_rows": items.train_rows,
        "candidate_recall": items.candidate_recall,
    }


def _importance(
    items: ItemTaskResult, offers: OfferTaskResult | None
) -> dict[str, list[tuple[str, float]]]:
    out = {}
    for name, result in (("items", items), ("offers", offers)):
        if result is None:
            continue
        gains = result.booster.feature_importance(importance_type="gain")
        pairs = sorted(
            zip(result.feature_names, map(float, gains), strict=True), key=lambda p: -p[1]
        )
        out[name] = pairs
    return out
