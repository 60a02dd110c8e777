"""Off-policy evaluation on simulated epsilon-greedy logs: SNIPS and DR 95 % CIs of a
different policy's value cover the simulated truth in >= 90 % of seeded runs; the
candidate's scores come from a version's serving files and the policy's levers."""

from __future__ import annotations

from pathlib import Path

import experiment_world as world
import polars as pl
import pytest

from omnioffer.errors import DataError
from omnioffer.jobs.evaluate_policy import evaluate_policy, version_scores

RESPOND = {"o1": 0.10, "o2": 0.05, "o3": 0.22, "o4": 0.08}
CANDIDATE = {"web": {"o1": 0.1, "o2": 0.2, "o3": 0.9, "o4": 0.3}}  # shows o3


def test_snips_and_dr_cover_the_candidates_true_value() -> None:
    runs = 100
    covered = {"ips": 0, "snips": 0, "doubly_robust": 0}
    for seed in range(runs):
        decisions, events = world.simulate_exploration(RESPOND, 3000, seed=seed)
        value = evaluate_policy(decisions, events, CANDIDATE)
        assert value.candidate_offers == {"web": "o3"}
        for e in value.estimates:
            covered[e.method] += e.ci_low <= RESPOND["o3"] <= e.ci_high
    # the target; P(Binomial(100, 0.95) < 90) is about 1 %
    assert covered["snips"] >= 90 and covered["doubly_robust"] >= 90, covered
    assert covered["ips"] >= 85, covered


def test_the_estimate_tells_the_candidate_from_the_logging_policy() -> None:
    decisions, events = world.simulate_exploration(RESPOND, 20_000, seed=1)
    value = evaluate_policy(decisions, events, CANDIDATE, version="v9")
    assert value.version == "v9" and value.decisions == 20_000
    assert 0.08 < value.logged_value < 0.12  # mostly o1 (0.10)
    snips = next(e for e in value.estimates if e.method == "snips")
    assert snips.ci_low > value.logged_value  # o3 (0.22) is visibly better
    assert value.matched == sum(d.offers[0].offer_id == "o3" for d in decisions)
    assert 0 < snips.effective_sample_size <= value.matched + 1e-9


def test_no_evaluable_decision_is_refused() -> None:
    decisions, events = world.simulate_exploration(RESPOND, 10, seed=1, channel="sms")
    with pytest.raises(DataError, match="no logged decision"):
        evaluate_policy(decisions, events, CANDIDATE)


def test_version_scores_read_channel_rates_and_levers(tmp_path: Path) -> None:
    serving = tmp_path / "v1" / "serving"
    serving.mkdir(parents=True)
    offers = {"offer_id": ["o1", "o2", "o3"], "channels": [[], ["app"], ["web"]],
              "of_rate": [0.1, 0.3, 0.2]}  # fmt: skip
    pl.DataFrame(offers).write_parquet(serving / "offers.parquet")
    pl.DataFrame(
        {"offer_id": ["o1", "o3"], "channel": ["web", "web"], "of_rate_channel": [0.15, 0.25]}
    ).write_parquet(serving / "offer_channels.parquet")
    scores = version_scores(tmp_path, "v1", {"o3": 0.5})
    assert scores == {"web": {"o1": 0.15, "o3": 0.125}, "app": {"o2": 0.3}}
    with pytest.raises(DataError, match="is 'v2' a version"):
        version_scores(tmp_path, "v2", {})
