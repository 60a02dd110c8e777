"""Off-policy evaluation on a simulated contextual bandit: decisions logged by an
epsilon-greedy (0.1) policy over each context's eligible set value a different
candidate policy; SNIPS and DR intervals cover the simulated truth in >= 90 % of runs."""

from __future__ import annotations

import numpy as np
import pytest
from stats_world import make_bandit, ope_coverage

from omnioffer.errors import InputError
from omnioffer.stats.off_policy import doubly_robust, ips, snips


def test_snips_and_dr_cover_the_candidates_true_value_in_90_percent_of_runs() -> None:
    bandit = make_bandit(np.random.default_rng(71), epsilon=0.1)
    logged_value = float(bandit.context_p @ (bandit.logging * bandit.reward).sum(1))
    assert abs(bandit.truth - logged_value) > 0.01  # the candidate really is another policy
    assert not np.allclose(bandit.target, bandit.logging)
    coverage = ope_coverage(np.random.default_rng(72), bandit, runs=300, decisions=10_000)
    assert coverage["snips"] >= 0.90
    assert coverage["doubly_robust"] >= 0.90


def test_on_policy_all_three_are_the_mean_reward() -> None:
    rng = np.random.default_rng(73)
    reward = (rng.random(500) < 0.2).astype(float)
    mu = rng.uniform(0.05, 1.0, 500)
    for estimate in (ips(reward, mu, mu), snips(reward, mu, mu)):
        assert estimate.value == pytest.approx(reward.mean())
        assert estimate.effective_sample_size == pytest.approx(500)
    dr = doubly_robust(reward, mu, mu, np.full(500, 0.3), np.full(500, 0.3))
    assert dr.value == pytest.approx(reward.mean())


def test_a_good_reward_model_makes_dr_tighter_than_ips() -> None:
    rng = np.random.default_rng(74)
    n = 20_000
    p_true = rng.uniform(0.05, 0.4, n)  # each decision's true response probability
    reward = (rng.random(n) < p_true).astype(float)
    mu = rng.choice([0.1, 0.5, 0.9], n)
    pi = rng.choice([0.0, 1.0], n)
    plain = ips(reward, mu, pi)
    dr = doubly_robust(reward, mu, pi, p_true, pi * p_true)
    assert dr.se < plain.se
    assert dr.method == "doubly_robust" and plain.method == "ips"
    assert dr.max_weight == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("mu", "pi", "field"),
    [
        ([0.5, 0.0, 0.5], [1.0, 1.0, 1.0], "logging_propensity[1]"),
        ([0.5, 0.5, 1.2], [1.0, 1.0, 1.0], "logging_propensity[2]"),
        ([0.5, 0.5, 0.5], [1.0, -0.1, 1.0], "target_propensity[1]"),
        ([0.5, np.nan, 0.5], [1.0, 1.0, 1.0], "logging_propensity[1]"),
        ([0.5, 0.5], [1.0, 1.0, 1.0], "logging_propensity"),
    ],
)
def test_bad_logs_are_refused_naming_the_decision(
    mu: list[float], pi: list[float], field: str
) -> None:
    with pytest.raises(InputError) as caught:
        snips([1.0, 0.0, 1.0], mu, pi)
    assert caught.value.field == field


def test_a_log_needs_two_decisions_and_dr_its_predictions() -> None:
    with pytest.raises(InputError, match="at least 2"):
        ips([1.0], [0.5], [0.5])
    with pytest.raises(InputError) as caught:
        doubly_robust([1.0, 0.0], [0.5, 0.5], [1.0, 0.0], [0.2, 0.1], [0.2])
    assert caught.value.field == "predicted_target"
    with pytest.raises(InputError, match="nothing to weigh"):
        snips([1.0, 0.0], [0.5, 0.5], [0.0, 0.0])
