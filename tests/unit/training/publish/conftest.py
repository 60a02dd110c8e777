"""Small LightGBM boosters trained on synthetic numpy data, shared by the ONNX tests."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

FEATURES = ["recency", "frequency", "affinity", "price", "channel_share"]
N_ROWS = 1200
GROUP = 20


def _data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N_ROWS, len(FEATURES))).astype(np.float32)
    x[rng.random(x.shape) < 0.05] = np.nan  # LightGBM and ONNX must agree on missing values
    signal = np.nan_to_num(x[:, 0]) - 0.7 * np.nan_to_num(x[:, 2]) + 0.3 * rng.normal(size=N_ROWS)
    return x, signal


def _train(objective: str, seed: int, rounds: int = 150) -> lgb.Booster:
    x, signal = _data(seed)
    params = {
        "objective": objective,
        "num_leaves": 15,
        "min_data_in_leaf": 10,
        "learning_rate": 0.1,
        "num_threads": 1,
        "verbose": -1,
        "seed": seed,
    }
    if objective == "lambdarank":
        grades = np.digitize(signal, np.quantile(signal, [0.6, 0.85, 0.95]))
        data = lgb.Dataset(x, label=grades, group=[GROUP] * (N_ROWS // GROUP))
    else:
        data = lgb.Dataset(x, label=(signal > 0.5).astype(int))
    return lgb.train(params, data, num_boost_round=rounds)


@pytest.fixture(scope="session")
def features() -> list[str]:
    return list(FEATURES)


@pytest.fixture(scope="session")
def lambdarank_booster() -> lgb.Booster:
    return _train("lambdarank", seed=1)


@pytest.fixture(scope="session")
def binary_booster() -> lgb.Booster:
    return _train("binary", seed=2)


@pytest.fixture(scope="session")
def other_lambdarank_booster() -> lgb.Booster:
    return _train("lambdarank", seed=3, rounds=40)


@pytest.fixture(scope="session")
def parity_rows() -> np.ndarray:
    x, _ = _data(seed=99)
    return x[:300]
