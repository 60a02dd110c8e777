"""`omnioffer demo`: the main job end to end on the embedded store.

generate a synthetic retailer -> validate it -> resolve identities -> train,
evaluate and register a model version -> materialize it into the embedded store ->
serve it, ask for one real decision over HTTP and print ready-to-paste curl commands.
"""

from __future__ import annotations

from pathlib import Path

from omnioffer.cli.data import run_identities
from omnioffer.cli.demo import serve_demo
from omnioffer.cli.models import run_train
from omnioffer.contracts.report import run_validate
from omnioffer.contracts.schema import DEFAULT_CHANNELS
from training.simulate.generate import generate


def run_demo(
    out: Path,
    *,
    customers: int = 20_000,
    seed: int = 7,
    models: Path = Path("models"),
    port: int = 8000,
    keep_serving: bool = True,
) -> int:
    """Run every stage that exists; stop at the first one that fails."""
    print(f"== 1/5 generate {customers:,} customers (seed {seed}) into {out}", flush=True)
    print(generate(out, customers=customers, seed=seed).describe())
    data = out / "data"
    print(f"\n== 2/5 validate {data}", flush=True)
    if (code := run_validate(data)) != 0:
        return code
    print(f"\n== 3/5 resolve identities of {data}", flush=True)
    if (code := run_identities(data, out=out / "identity_merges.csv")) != 0:
        return code
    print(f"\n== 4/5 train and evaluate into {models}/", flush=True)
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
    if code != 0:
        return code
    print(f"\nmodel card: {models}/<current version>/card.md")
    print("\n== 5/5 materialize into the embedded store and serve", flush=True)
    return serve_demo(models, out, port=port, keep_serving=keep_serving)
