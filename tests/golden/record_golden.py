"""Re-record the golden version and its answers (run only on purpose, then review the diff).

    .venv/bin/python tests/golden/record_golden.py [--keep-version | --calls-only]

Generates a small retailer with the project's generator, trains a version with the
current code, copies it to tests/golden/models/, replays golden_script against it and
writes golden.json (the answers) and ranker_calls.npz (every ranker input and output,
with the CPU they were recorded on). The golden test then pins the serving path to
them: a refactor that changes a decision, a recommendation or a ranker input fails it.

--keep-version keeps the committed version and re-records the answers and calls: for a
deliberate change of serving behaviour (say why in the commit). --calls-only also
keeps the answers, refusing if they changed, and re-records the ranker calls alone:
for recording on another CPU model, whose float32 kernels differ in the last bits.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/: served_version
sys.path.insert(0, str(Path(__file__).parent))

from golden_script import CALLS, GOLDEN, MODELS, recorded_onnx, run_script
from serve_golden import golden_client

SIZE = {"customers": 600, "days": 120, "seed": 7, "items": 150, "offers": 40}


def _train(root: Path) -> None:
    from training.simulate.generate import generate
    from training.train import train

    generate(root / "retail", progress=False, **SIZE)  # type: ignore[arg-type]
    models = root / "models"
    outcome = train(root / "retail" / "data", models, progress=False, force=True)
    shutil.rmtree(MODELS, ignore_errors=True)
    MODELS.mkdir(parents=True)
    assert outcome.version is not None
    shutil.copytree(models / outcome.version, MODELS / outcome.version)
    (MODELS / "current").write_text(outcome.version + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-version", action="store_true")
    parser.add_argument("--calls-only", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if not (args.calls_only or args.keep_version):
            _train(root)
        with golden_client(root) as (client, now), recorded_onnx() as calls:
            answers = run_script(client, now)
    if args.calls_only and answers != json.loads(GOLDEN.read_text())["answers"]:
        sys.exit("the answers differ from golden.json: re-record everything, on purpose")
    GOLDEN.write_text(json.dumps({"answers": answers}, indent=1) + "\n")
    calls.save(CALLS)
    print(f"recorded {len(answers)} answers and {len(calls.rankers)} ranker calls")


if __name__ == "__main__":
    main()
