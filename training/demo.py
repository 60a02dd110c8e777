"""`omnioffer demo`: the main job end to end on the embedded store.

generate a synthetic retailer -> validate it -> resolve identities -> train,
evaluate and register a model version. Serving joins here when it is built.
"""

from __future__ import annotations

from pathlib import Path

from omnioffer.contracts.report import run_validate
from omnioffer.contracts.schema import DEFAULT_CHANNELS
from omnioffer.identity_report import run_identities
from training.simulate.generate import generate
from training.train_cli import run_train


def run_demo(
    out: Path, *, customers: int = 20_000, seed: int = 7, models: Path = Path("models")
) -> int:
    """Run every stage that exists; stop at the first one that fails."""
    print(f"== 1/4 generate {customers:,} customers (seed {seed}) into {out}", flush=True)
    print(generate(out, customers=customers, seed=seed).describe())
    data = out / "data"
    print(f"\n== 2/4 validate {data}", flush=True)
    if (code := run_validate(data)) != 0:
        return code
    print(f"\n== 3/4 resolve identities of {data}", flush=True)
    if (code := run_identities(data, out=out / "identity_merges.csv")) != 0:
        return code
    print(f"\n== 4/4 train and evaluate into {models}/", flush=True)
    code = run_train(
        data,
        models,
        until=None,
        test_days=28,
        config=None,
        force=False,
        channels=DEFAULT_CHANNELS,
        truth=None,
        progress=True,
    )
    if code == 0:
        print(f"\ndemo finished: data in {data}, model card in {models}/<current version>/card.md")
    return code
