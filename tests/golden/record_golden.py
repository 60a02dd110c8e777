"""Re-record the golden version and its answers (run only on purpose, then review the diff).

    .venv/bin/python tests/golden/record_golden.py

Generates a small retailer with the project's generator, trains a version with the
current code, copies it to tests/golden/models/, replays golden_script against it and
writes golden.json. The golden test then pins the serving path to these answers: a
refactor that changes a decision, a recommendation or a ranker input fails it.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/: served_version
sys.path.insert(0, str(Path(__file__).parent))

from golden_script import GOLDEN, MODELS, recorded_onnx, run_script
from serve_golden import golden_client

SIZE = {"customers": 600, "days": 120, "seed": 7, "items": 150, "offers": 40}


def main() -> None:
    from training.simulate.generate import generate
    from training.train import train

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "retail", progress=False, **SIZE)  # type: ignore[arg-type]
        models = root / "models"
        outcome = train(root / "retail" / "data", models, progress=False, force=True)
        shutil.rmtree(MODELS, ignore_errors=True)
        MODELS.mkdir(parents=True)
        assert outcome.version is not None
        shutil.copytree(models / outcome.version, MODELS / outcome.version)
        (MODELS / "current").write_text(outcome.version + "\n")
        with golden_client(root) as (client, now), recorded_onnx() as calls:
            answers = run_script(client, now)
    GOLDEN.write_text(json.dumps({"answers": answers, "onnx": calls}, indent=1) + "\n")
    print(f"recorded {len(answers)} answers and {len(calls)} ranker calls into {GOLDEN}")


if __name__ == "__main__":
    main()
