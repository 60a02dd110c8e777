"""The serving path pinned to answers recorded before the house refactor.

Same decisions, recommendations, similar items and ranker inputs (byte for byte)
from the committed golden version: a refactor of the decision path, the features,
the store or the doorway files that changes any of them fails here. Re-record only
on purpose (tests/golden/record_golden.py) and say why in the commit.
"""

from __future__ import annotations

import json
from pathlib import Path

from golden_script import GOLDEN, recorded_onnx, run_script
from serve_golden import golden_client


def test_answers_and_ranker_inputs_are_the_recorded_ones(tmp_path: Path) -> None:
    golden = json.loads(GOLDEN.read_text())
    with golden_client(tmp_path) as (client, now), recorded_onnx() as calls:
        answers = run_script(client, now)
    assert len(answers) == len(golden["answers"])
    for n, (got, want) in enumerate(zip(answers, golden["answers"], strict=True)):
        assert got == want, f"answer {n} differs"
    assert any(c["ranker"].startswith("offers") for c in calls)  # both rankers ran
    assert calls == golden["onnx"]
    assert any(a.get("response", {}).get("offers") for a in answers)  # not all empty
