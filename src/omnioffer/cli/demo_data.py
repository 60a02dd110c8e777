"""The demo's data and model, reused across runs: `omnioffer demo` run again keeps its
store (and every event ingested into it) and its trained version.

A demo folder holds the generated retailer (GENERATED.json names its settings), the
embedded store (store.sqlite) and DEMO.json (the version trained from that data). A
re-run with the same settings reuses the data and, if the registry still holds it,
the version; with other settings it would regenerate the folder, store included, so
it refuses unless --fresh is given. --fresh always starts over.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from omnioffer.cli.data import run_identities, run_validate
from omnioffer.cli.models import run_train
from omnioffer.contracts.artifact import ArtifactError
from omnioffer.contracts.schema import DEFAULT_CHANNELS
from omnioffer.errors import UsageError
from omnioffer.registry import get_current, set_current

GENERATED = "GENERATED.json"  # written by `omnioffer generate` (training.simulate.generate)
DEMO = "DEMO.json"
STORE = "store.sqlite"


class DemoStageError(Exception):
    """A demo stage failed and printed why; carries its exit code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _settings(out: Path) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = json.loads((out / GENERATED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found


def _reusable(out: Path, customers: int, seed: int) -> bool:
    """The folder holds a complete generated retailer with these settings."""
    found = _settings(out)
    return (
        found is not None
        and found.get("customers") == customers
        and found.get("seed") == seed
        and (out / "data").is_dir()
    )


def _trained(out: Path, models: Path) -> str | None:
    """The version DEMO.json names, if the registry still holds it."""
    try:
        version = json.loads((out / DEMO).read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(version, str) or not (models / version / "manifest.json").is_file():
        return None
    return version


def _generate(out: Path, customers: int, seed: int, *, fresh: bool) -> None:
    from training.simulate.generate import generate

    if not fresh and (out / STORE).exists():
        raise UsageError(
            f"{out} holds a demo feature store ({out / STORE}, with any events ingested "
            f"into it) for other settings than --customers {customers} --seed {seed}; "
            "generating would replace it: re-run with --fresh to start over, or choose "
            "another --out"
        )
    print(f"== 1/5 generate {customers:,} customers (seed {seed}) into {out}", flush=True)
    print(generate(out, customers=customers, seed=seed).describe())


def prepare_demo(out: Path, *, customers: int, seed: int, models: Path, fresh: bool) -> str:
    """Stages 1-4 (generate, validate, identities, train), each skipped when its result
    is already there; returns the demo's version, made current in `models`."""
    reuse = not fresh and _reusable(out, customers, seed)
    if reuse:
        print(f"== 1/5 reuse the retailer in {out} (--fresh regenerates it)", flush=True)
    else:
        _generate(out, customers, seed, fresh=fresh)
    data = out / "data"
    print(f"\n== 2/5 validate {data}", flush=True)
    if (code := run_validate(data)) != 0:
        raise DemoStageError(code)
    print(f"\n== 3/5 resolve identities of {data}", flush=True)
    if (code := run_identities(data, out=out / "identity_merges.csv")) != 0:
        raise DemoStageError(code)
    version = _trained(out, models) if reuse else None
    if version is not None:
        print(f"\n== 4/5 reuse model version {version}, trained on this data", flush=True)
        try:
            set_current(models, version)
        except ArtifactError as exc:  # changed since: train again
            print(f"cannot reuse it ({exc}); training again", flush=True)
            version = None
    if version is None:
        version = _train(data, models)
        (out / DEMO).write_text(json.dumps({"version": version}) + "\n", encoding="utf-8")
    print(f"\nmodel card: {models}/{version}/card.md")
    return version


def _train(data: Path, models: Path) -> str:
    print(f"\n== 4/5 train and evaluate into {models}/", flush=True)
    code = run_train(data, models, until=None, test_days=28, config=None, force=False,
                     channels=DEFAULT_CHANNELS, truth=None, progress=True)  # fmt: skip
    version = get_current(models)
    if code != 0 or version is None:
        raise DemoStageError(code or 1)
    return version
