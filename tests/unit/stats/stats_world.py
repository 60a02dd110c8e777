"""Seeded simulations with a known truth, shared by the stats tests (small counts) and
benchmarks/bench_stats.py (large counts): every function draws its data vectorised,
runs the library on each simulated experiment and returns the rate the targets speak
of (coverage, false positives, flags, false discoveries), so what is asserted is
computed from the simulation, never a constant tuned to pass."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from omnioffer.contracts.statistics import (
    CovariateSummary,
    Effect,
    ProportionSummary,
    Sequential,
)
from omnioffer.stats import off_policy
from omnioffer.stats.distributions import normal_sf
from omnioffer.stats.fdr import benjamini_hochberg
from omnioffer.stats.means import cuped_welch_delta, welch_delta
from omnioffer.stats.proportions import two_proportion_z
from omnioffer.stats.srm import srm_check

Covariate = Literal["correlated", "independent"]
CHUNK = 100  # simulations drawn at once (bounds memory for the benchmark's large counts)


def covers(effect: Effect, truth: float) -> bool:
    assert effect.ci_low is not None and effect.ci_high is not None, effect.note
    return effect.ci_low <= truth <= effect.ci_high


def _chunks(sims: int) -> Iterator[int]:
    for start in range(0, sims, CHUNK):
        yield min(CHUNK, sims - start)


def rate_coverage(rng: np.random.Generator, sims: int, n: int, p_c: float, p_t: float) -> float:
    """Share of simulated experiments whose two-proportion interval covers p_t - p_c."""
    control = rng.binomial(n, p_c, sims)
    treatment = rng.binomial(n, p_t, sims)
    hits = [
        covers(
            two_proportion_z(
                ProportionSummary(n=n, successes=int(c)), ProportionSummary(n=n, successes=int(t))
            ),
            p_t - p_c,
        )
        for c, t in zip(control, treatment, strict=True)
    ]
    return float(np.mean(hits))


@dataclass(frozen=True)
class RevenueRun:
    """One simulated experiment on revenue per exposed customer, summarised per arm."""

    control: CovariateSummary
    treatment: CovariateSummary
    correlation: float  # pooled within-arm corr(pre-period spend, revenue)


def _summaries(y: np.ndarray, x: np.ndarray) -> list[CovariateSummary]:
    """Per-row summaries of (rows, n) arrays, the sums taken vectorised."""
    sums = zip(y.sum(1), (y * y).sum(1), x.sum(1), (x * x).sum(1), (x * y).sum(1), strict=True)
    names = ("total", "total_sq", "pre_total", "pre_total_sq", "cross_total")
    return [
        CovariateSummary(n=y.shape[1], **dict(zip(names, map(float, row), strict=True)))
        for row in sums
    ]


def revenue_runs(
    rng: np.random.Generator, sims: int, n: int, lift: float, covariate: Covariate
) -> Iterator[RevenueRun]:
    """Experiments whose treatment multiplies every customer's expected revenue by
    1 + lift: revenue = buys * value * noise, value a customer's lognormal spending level,
    60 % buying in the period. The pre-period spend is the same customer's value times
    independent noise (correlated) or an unrelated customer's (independent)."""
    for size in _chunks(sims):
        shape = (size, 2, n)
        value = rng.lognormal(3.0, 0.8, shape)
        revenue = (rng.random(shape) < 0.6) * value * rng.gamma(4.0, 0.25, shape)
        revenue[:, 1] *= 1.0 + lift
        base = value if covariate == "correlated" else rng.lognormal(3.0, 0.8, shape)
        pre = base * rng.gamma(4.0, 0.25, shape)
        control = _summaries(revenue[:, 0], pre[:, 0])
        treatment = _summaries(revenue[:, 1], pre[:, 1])
        centred_y = revenue - revenue.mean(2, keepdims=True)
        centred_x = pre - pre.mean(2, keepdims=True)
        corr = (centred_x * centred_y).sum((1, 2)) / np.sqrt(
            (centred_x**2).sum((1, 2)) * (centred_y**2).sum((1, 2))
        )
        for c, t, r in zip(control, treatment, corr, strict=True):
            yield RevenueRun(c, t, float(r))


@dataclass(frozen=True)
class MeanOutcome:
    """What simulated revenue experiments showed for plain Welch and for CUPED."""

    welch_coverage: float
    cuped_coverage: float
    welch_mean_lift: float
    cuped_mean_lift: float
    cuped_lift_se: float  # standard error of cuped_mean_lift over the simulations
    median_width_ratio: float  # CUPED interval width / Welch interval width
    median_correlation: float


def _width(effect: Effect) -> float:
    assert effect.ci_low is not None and effect.ci_high is not None, effect.note
    return effect.ci_high - effect.ci_low


def mean_outcome(
    rng: np.random.Generator, sims: int, n: int, lift: float, covariate: Covariate
) -> MeanOutcome:
    welch, cuped, corr = [], [], []
    for run in revenue_runs(rng, sims, n, lift, covariate):
        welch.append(welch_delta(run.control, run.treatment))
        cuped.append(cuped_welch_delta(run.control, run.treatment))
        corr.append(run.correlation)
    cuped_lifts = np.array([e.lift for e in cuped], dtype=float)
    return MeanOutcome(
        welch_coverage=float(np.mean([covers(e, lift) for e in welch])),
        cuped_coverage=float(np.mean([covers(e, lift) for e in cuped])),
        welch_mean_lift=float(np.mean([e.lift for e in welch])),
        cuped_mean_lift=float(cuped_lifts.mean()),
        cuped_lift_se=float(cuped_lifts.std(ddof=1) / np.sqrt(sims)),
        median_width_ratio=float(
            np.median([_width(c) / _width(w) for c, w in zip(cuped, welch, strict=True)])
        ),
        median_correlation=float(np.median(corr)),
    )


def peeking_false_positives(
    rng: np.random.Generator, *, sims: int, looks: int, n_per_look: int, rate: float,
    tuning_n: float,
) -> tuple[float, float]:  # fmt: skip
    """A/A experiments read after every `n_per_look` units per arm, `looks` times: the
    share declared significant at some look by the naive fixed-horizon test and by
    the sequential one."""
    per_look = rng.binomial(n_per_look, rate, (sims, looks, 2))
    running = per_look.cumsum(1)
    sequential = Sequential(tuning_n=tuning_n)
    naive = always_valid = 0
    for sim in running:
        fixed_hit = seq_hit = False
        for look, (c, t) in enumerate(sim, start=1):
            arms = (
                ProportionSummary(n=look * n_per_look, successes=int(c)),
                ProportionSummary(n=look * n_per_look, successes=int(t)),
            )
            fixed_hit = fixed_hit or _significant(two_proportion_z(*arms))
            seq_hit = seq_hit or _significant(two_proportion_z(*arms, sequential=sequential))
        naive += fixed_hit
        always_valid += seq_hit
    return naive / sims, always_valid / sims


def _significant(effect: Effect) -> bool:
    return effect.p_value is not None and effect.p_value < 1.0 - effect.confidence


def srm_flag_rate(rng: np.random.Generator, sims: int, n: int, control_share: float) -> float:
    """Share of 50/50 experiments flagged when units really land at `control_share`."""
    control = rng.binomial(n, control_share, sims)
    weights = {"control": 0.5, "treatment": 0.5}
    flags = [
        srm_check({"control": int(c), "treatment": n - int(c)}, weights).mismatch for c in control
    ]
    return float(np.mean(flags))


@dataclass(frozen=True)
class FdrOutcome:
    """Multiple testing over simulated metrics: false discovery rate (mean share of true
    nulls among the rejected, 0 when none is) and power (share of real effects found)."""

    bh_fdr: float
    bh_power: float
    unadjusted_fdr: float  # every metric tested alone at level q
    bonferroni_power: float  # every metric tested at level q / m


def bh_outcome(
    rng: np.random.Generator, *, sims: int, metrics: int, true_effects: int, shift: float,
    q: float,
) -> FdrOutcome:  # fmt: skip
    """Benjamini-Hochberg over `metrics` z tests of which the first `true_effects` have a
    real effect (z shifted by `shift`), against no adjustment and Bonferroni."""
    z = rng.standard_normal((sims, metrics))
    z[:, :true_effects] += shift
    names = [f"m{k}" for k in range(metrics)]
    real = np.arange(metrics) < true_effects

    def rates(rejected: np.ndarray) -> tuple[float, float]:
        false = (rejected & ~real).sum(1)
        share = false / np.maximum(1, rejected.sum(1))
        return float(share.mean()), float((rejected & real).sum(1).mean() / true_effects)

    p = np.vectorize(normal_sf)(np.abs(z)) * 2.0
    by_bh = np.zeros_like(p, dtype=bool)
    for row, values in zip(by_bh, p.tolist(), strict=True):
        chosen = set(benjamini_hochberg(dict(zip(names, values, strict=True)), q=q).rejected)
        row[:] = [name in chosen for name in names]
    bh_fdr, bh_power = rates(by_bh)
    unadjusted_fdr, _ = rates(p <= q)
    _, bonferroni_power = rates(p <= q / metrics)
    return FdrOutcome(bh_fdr, bh_power, unadjusted_fdr, bonferroni_power)


@dataclass(frozen=True)
class Bandit:
    """A contextual bandit with a known reward probability per (context, action), an
    eligible set per context, an epsilon-greedy logging policy around a production
    ranker and a different, deterministic candidate policy (a new ranker)."""

    context_p: np.ndarray  # (C,) how often each context comes
    reward: np.ndarray  # (C, K) true response probability
    logging: np.ndarray  # (C, K) logging policy's probabilities
    target: np.ndarray  # (C, K) candidate's probabilities
    model: np.ndarray  # (C, K) a misspecified reward model (for DR)

    @property
    def truth(self) -> float:
        """The candidate's true value: expected reward per decision."""
        return float(self.context_p @ (self.target * self.reward).sum(1))


def _greedy(score: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    best = np.where(eligible, score, -np.inf).argmax(1)
    return np.eye(score.shape[1])[best]


def make_bandit(
    rng: np.random.Generator, contexts: int = 40, actions: int = 10, epsilon: float = 0.1
) -> Bandit:
    eligible = rng.random((contexts, actions)) < 0.6
    eligible[np.arange(contexts), rng.integers(0, actions, contexts)] = True
    eligible[np.arange(contexts), rng.integers(0, actions, contexts)] = True
    reward = rng.beta(2.0, 18.0, (contexts, actions))
    production = _greedy(reward + rng.normal(0.0, 0.05, reward.shape), eligible)
    explore = eligible / eligible.sum(1, keepdims=True)
    logging = (1.0 - epsilon) * production + epsilon * explore
    target = _greedy(reward + rng.normal(0.0, 0.02, reward.shape), eligible)
    model = np.clip(reward * rng.lognormal(0.0, 0.3, reward.shape), 0.0, 1.0)
    return Bandit(rng.dirichlet(np.ones(contexts)), reward, logging, target, model)


def ope_coverage(
    rng: np.random.Generator, bandit: Bandit, runs: int, decisions: int
) -> dict[str, float]:
    """Share of logged runs in which each estimator's 95 % interval covers the truth."""
    hits: dict[str, list[bool]] = {"ips": [], "snips": [], "doubly_robust": []}
    cumulative = bandit.logging.cumsum(1)
    dm = (bandit.target * bandit.model).sum(1)
    for size in _chunks(runs):
        ctx = rng.choice(bandit.context_p.size, size=(size, decisions), p=bandit.context_p)
        u = rng.random((size, decisions, 1))
        action = np.minimum((u > cumulative[ctx]).sum(2), bandit.reward.shape[1] - 1)
        reward = (rng.random((size, decisions)) < bandit.reward[ctx, action]).astype(float)
        mu, pi = bandit.logging[ctx, action], bandit.target[ctx, action]
        for r, m, p, c, a in zip(reward, mu, pi, ctx, action, strict=True):
            estimates = (
                off_policy.ips(r, m, p),
                off_policy.snips(r, m, p),
                off_policy.doubly_robust(r, m, p, bandit.model[c, a], dm[c]),
            )
            for e in estimates:
                hits[e.method].append(e.ci_low <= bandit.truth <= e.ci_high)
    return {method: float(np.mean(h)) for method, h in hits.items()}
