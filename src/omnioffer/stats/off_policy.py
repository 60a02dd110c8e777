"""Off-policy evaluation: a candidate policy's value from decisions logged under another.

Each logged decision i showed action a_i, which the logging policy chose with
probability mu_i > 0 (logged with the decision), and earned reward r_i; the candidate
policy would choose a_i with probability pi_i. With importance weights w_i = pi_i / mu_i:

- IPS (inverse propensity scoring, Horvitz-Thompson): V = mean(w_i r_i). Unbiased
  whenever mu > 0 wherever pi > 0; variance grows with the weights.
- SNIPS (self-normalised IPS): V = sum(w_i r_i) / sum(w_i). Slightly biased (O(1/n)),
  usually far less variable, and invariant to a constant added to every reward.
- Doubly robust (Dudik, Langford and Li, "Doubly robust policy evaluation and
  learning", ICML 2011): V = mean(dm_i + w_i (r_i - q_i)), q_i a reward model's
  prediction for the logged action and dm_i = sum over actions a of pi(a | x_i)
  qhat(x_i, a), its expected reward under the candidate. Unbiased if either the
  propensities or the reward model are right; low variance when the model is good.

Each 95 % interval is the normal approximation over the per-decision terms: the terms'
standard deviation / sqrt(n) for IPS and DR; for SNIPS the delta method for a ratio,
se^2 = sum(w_i^2 (r_i - V)^2) / sum(w_i)^2. The propensities must be exact (logged,
not re-estimated) and never 0 where the candidate acts: epsilon-greedy exploration
over the eligible set guarantees both.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from omnioffer.contracts.statistics import OffPolicyMethod, PolicyEstimate
from omnioffer.errors import InputError
from omnioffer.stats.distributions import normal_isf
from omnioffer.stats.interval import checked_confidence

Floats = npt.NDArray[np.float64]


def _column(values: npt.ArrayLike, field: str, n: int | None) -> Floats:
    """`values` as a 1-d float array of length `n`, every value finite."""
    out = np.asarray(values, dtype=np.float64)
    if out.ndim != 1:
        raise InputError(field, f"must be one value per decision, got shape {out.shape}")
    if n is not None and out.size != n:
        raise InputError(field, f"has {out.size} values for {n} decisions")
    bad = np.flatnonzero(~np.isfinite(out))
    if bad.size:
        raise InputError(f"{field}[{bad[0]}]", f"must be a finite number, got {out[bad[0]]}")
    return out


def _probabilities(values: npt.ArrayLike, field: str, n: int, *, zero_ok: bool) -> Floats:
    out = _column(values, field, n)
    bad = np.flatnonzero((out < 0 if zero_ok else out <= 0) | (out > 1))
    if bad.size:
        allowed = "[0, 1]" if zero_ok else "(0, 1]"
        raise InputError(
            f"{field}[{bad[0]}]", f"must be a probability in {allowed}, got {out[bad[0]]}"
        )
    return out


def _weights(
    reward: npt.ArrayLike, logging_propensity: npt.ArrayLike, target_propensity: npt.ArrayLike
) -> tuple[Floats, Floats]:
    r = _column(reward, "reward", None)
    if r.size < 2:
        raise InputError("reward", f"needs at least 2 logged decisions, got {r.size}")
    mu = _probabilities(logging_propensity, "logging_propensity", r.size, zero_ok=False)
    pi = _probabilities(target_propensity, "target_propensity", r.size, zero_ok=True)
    return r, pi / mu


def _estimate(
    method: OffPolicyMethod, value: float, se: float, w: Floats, confidence: float
) -> PolicyEstimate:
    half = normal_isf((1.0 - confidence) / 2.0) * se
    w_sq = float(w @ w)
    return PolicyEstimate(
        method=method, value=value, se=se, ci_low=value - half, ci_high=value + half,
        confidence=confidence, n=int(w.size),
        effective_sample_size=float(w.sum()) ** 2 / w_sq if w_sq > 0 else 0.0,
        max_weight=float(w.max()),
    )  # fmt: skip


def _mean_of_terms(
    method: OffPolicyMethod, terms: Floats, w: Floats, confidence: float
) -> PolicyEstimate:
    se = float(terms.std(ddof=1)) / math.sqrt(terms.size)
    return _estimate(method, float(terms.mean()), se, w, confidence)


def ips(
    reward: npt.ArrayLike, logging_propensity: npt.ArrayLike, target_propensity: npt.ArrayLike,
    *, confidence: float = 0.95,
) -> PolicyEstimate:  # fmt: skip
    """Inverse propensity scoring: mean(w r)."""
    confidence = checked_confidence(confidence)
    r, w = _weights(reward, logging_propensity, target_propensity)
    return _mean_of_terms("ips", w * r, w, confidence)


def snips(
    reward: npt.ArrayLike, logging_propensity: npt.ArrayLike, target_propensity: npt.ArrayLike,
    *, confidence: float = 0.95,
) -> PolicyEstimate:  # fmt: skip
    """Self-normalised IPS: sum(w r) / sum(w)."""
    confidence = checked_confidence(confidence)
    r, w = _weights(reward, logging_propensity, target_propensity)
    total = float(w.sum())
    if total == 0.0:
        raise InputError("target_propensity", "is 0 for every logged action: nothing to weigh")
    value = float(w @ r) / total
    residual = w * (r - value)
    return _estimate("snips", value, math.sqrt(float(residual @ residual)) / total, w, confidence)


def doubly_robust(
    reward: npt.ArrayLike, logging_propensity: npt.ArrayLike, target_propensity: npt.ArrayLike,
    predicted_logged: npt.ArrayLike, predicted_target: npt.ArrayLike,
    *, confidence: float = 0.95,
) -> PolicyEstimate:  # fmt: skip
    """Doubly robust: mean(dm + w (r - q)); `predicted_logged` is the reward model's q for
    each logged action, `predicted_target` its expected reward dm under the candidate."""
    confidence = checked_confidence(confidence)
    r, w = _weights(reward, logging_propensity, target_propensity)
    q = _column(predicted_logged, "predicted_logged", r.size)
    dm = _column(predicted_target, "predicted_target", r.size)
    return _mean_of_terms("doubly_robust", dm + w * (r - q), w, confidence)
