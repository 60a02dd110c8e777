"""The serving path pinned to answers recorded before the house refactor.

Same decisions, recommendations, similar items and ranker inputs from the committed
golden version: a refactor of the decision path, the features, the store or the
doorway files that changes any of them fails here. Re-record only on purpose
(tests/golden/record_golden.py) and say why in the commit.

Ranker inputs and outputs are compared bit for bit on the CPU model they were recorded
on. On another one they are compared to float32 rounding (rtol 1e-5): OpenBLAS and
numpy pick their float32 kernels by CPU, so the last bits of a dot product (the CF
affinity) or a logarithm can differ; first seen as 6 of 282 offer-ranker calls apart
between the Intel Xeon that recorded the file and an AMD EPYC, every answer the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from golden_script import CALLS, GOLDEN, RankerCalls, cpu, recorded_onnx, run_script
from serve_golden import golden_client

TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}  # on another CPU model than the recording one


def test_answers_and_ranker_inputs_are_the_recorded_ones(tmp_path: Path) -> None:
    golden = json.loads(GOLDEN.read_text())
    want, recorded_on = RankerCalls.load(CALLS)
    with golden_client(tmp_path) as (client, now), recorded_onnx() as calls:
        answers = run_script(client, now)
    assert len(answers) == len(golden["answers"])
    for n, (got, expected) in enumerate(zip(answers, golden["answers"], strict=True)):
        assert got == expected, f"answer {n} differs"
    assert any(a.get("response", {}).get("offers") for a in answers)  # not all empty
    assert calls.rankers == want.rankers
    assert {"items.onnx", "offers.onnx"} <= set(calls.rankers)  # both rankers ran
    exact = cpu() == recorded_on
    for n, ranker in enumerate(want.rankers):
        for side, got, expected in (("input", calls.inputs[n], want.inputs[n]),
                                    ("output", calls.outputs[n], want.outputs[n])):  # fmt: skip
            what = f"ranker call {n} ({ranker}) {side}"
            assert got.shape == expected.shape, what
            if exact:
                assert got.tobytes() == expected.tobytes(), f"{what} differs on {recorded_on}"
            else:
                np.testing.assert_allclose(got, expected, **TOLERANCE, err_msg=what)
