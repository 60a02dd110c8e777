"""The training issue's quality targets, on the demo-sized data (20k customers).

The shared 4k-customer fixture is too small for them (its offers test window holds a
few hundred answered groups, so the offers margin swings by several points between
seeds); at the size `make demo` trains on, both rankers must clear x1.10 of the best
baseline scored on the same groups in the same run, and the item ranker 0.6 of the
oracle (the generator's true propensities).
"""

from __future__ import annotations

import pytest

from training.train import train

TARGET = 1.10  # x the best baseline, the target for both tasks
ORACLE_SHARE = 0.6  # of the oracle, items
PRIMARY = {"items": "ndcg@10", "offers": "ndcg@5"}


@pytest.mark.slow
def test_both_rankers_reach_x1_10_of_the_best_baseline_on_demo_sized_data(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from training.simulate.generate import generate

    root = tmp_path_factory.mktemp("quality")
    generate(root / "retail", customers=20_000, seed=7, progress=False)
    outcome = train(root / "retail" / "data", root / "models", progress=False)
    for task, metric in PRIMARY.items():
        board = outcome.boards[task]
        name, best = board.best_baseline(metric)
        ranker = board.overall["ranker"][metric]
        assert ranker >= TARGET * best, (
            f"{task}: ranker {metric} {ranker:.4f} is x{ranker / best:.3f} of {name} {best:.4f}"
        )
    items = outcome.boards["items"].overall
    assert items["ranker"]["ndcg@10"] >= ORACLE_SHARE * items["oracle"]["ndcg@10"]
