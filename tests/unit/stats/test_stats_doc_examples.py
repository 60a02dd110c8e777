"""docs/api.md's experiment-statistics examples are what the library answers for the
inputs the text states."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgspec

from omnioffer.contracts.statistics import ProportionSummary, Sequential
from omnioffer.stats.fdr import benjamini_hochberg
from omnioffer.stats.proportions import two_proportion_z
from omnioffer.stats.srm import srm_check

API_MD = Path(__file__).parents[3] / "docs" / "api.md"


def examples() -> list[Any]:
    text = API_MD.read_text().split("\n## Experiment statistics\n")[1].split("\n## ")[0]
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S)]


def as_json(result: msgspec.Struct) -> Any:
    return msgspec.json.decode(msgspec.json.encode(result))


def test_the_documented_results_are_the_librarys() -> None:
    control = ProportionSummary(n=10_000, successes=480)
    treatment = ProportionSummary(n=10_050, successes=560)
    computed = [
        two_proportion_z(control, treatment),
        two_proportion_z(control, treatment, sequential=Sequential(tuning_n=20_000)),
        srm_check({"control": 10_000, "treatment": 10_050}, {"control": 0.5, "treatment": 0.5}),
        benjamini_hochberg(
            {"response_rate": 0.0107, "revenue_per_customer": 0.032, "redemption_rate": 0.41}
        ),
    ]
    assert examples() == [as_json(result) for result in computed]
