"""GrowthBook's bucketing against its own published golden cases.

growthbook_cases.json holds the `hash`, `getBucketRange`, `chooseVariation` and
`inNamespace` vectors of GrowthBook's SDK spec, copied unchanged (its `_source` names
the repository, path and commit). Nothing is fetched at test time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from omnioffer.decide.bucketing import (
    bucket_ranges,
    choose_variation,
    equal_weights,
    fnv1a32,
    in_namespace,
    seeded_hash,
    unit_hash,
)

CASES: dict[str, Any] = json.loads((Path(__file__).parent / "growthbook_cases.json").read_text())


def test_the_fixture_names_its_source_and_holds_every_kind() -> None:
    source = CASES["_source"]
    assert source["repository"] == "https://github.com/growthbook/growthbook"
    assert source["path"] == "packages/sdk-js/test/cases.json"
    assert len(source["commit"]) == 40
    assert {k: len(v) for k, v in CASES.items() if k != "_source"} == {
        "hash": 15, "getBucketRange": 13, "chooseVariation": 13, "inNamespace": 16,
    }  # fmt: skip


@pytest.mark.parametrize(("seed", "value", "version", "expected"), CASES["hash"])
def test_hash_golden_cases(seed: str, value: str, version: int, expected: float | None) -> None:
    assert unit_hash(seed, value, version) == expected  # exact: n / 10,000 is one double


@pytest.mark.parametrize(("name", "args", "expected"), CASES["getBucketRange"])
def test_bucket_range_golden_cases(name: str, args: list[Any], expected: list[list[float]]) -> None:
    n, coverage, weights = args
    got = bucket_ranges(n, coverage, weights)
    assert len(got) == len(expected), name
    for (lo, hi), (want_lo, want_hi) in zip(got, expected, strict=True):
        assert lo == pytest.approx(want_lo, abs=1e-12), name
        assert hi == pytest.approx(want_hi, abs=1e-12), name


@pytest.mark.parametrize(("name", "n", "ranges", "expected"), CASES["chooseVariation"])
def test_choose_variation_golden_cases(
    name: str, n: float, ranges: list[list[float]], expected: int
) -> None:
    assert choose_variation(n, [(lo, hi) for lo, hi in ranges]) == expected, name


@pytest.mark.parametrize(("name", "value", "namespace", "expected"), CASES["inNamespace"])
def test_in_namespace_golden_cases(
    name: str, value: str, namespace: list[Any], expected: bool
) -> None:
    ns, lo, hi = namespace
    assert in_namespace(value, ns, lo, hi) is expected, name


def test_fnv1a32_matches_the_published_fnv_vectors() -> None:
    # the FNV-1a 32-bit test vectors of the FNV reference (draft-eastlake-fnv)
    assert fnv1a32("") == 0x811C9DC5
    assert fnv1a32("a") == 0xE40C292C
    assert fnv1a32("foobar") == 0xBF9CF968


# Computed by running GrowthBook's own JavaScript `hash` (packages/sdk-js/src/util.ts at
# the fixture's commit) under node 20: outside ASCII it hashes UTF-16 code units.
NON_ASCII = [
    ["exp-1", "café", 2, 0.5999], ["exp-1", "Müller-ß", 2, 0.7932],
    ["s", "日本語-42", 2, 0.6615], ["s", "😀x", 2, 0.6451], ["ünï", "c123", 2, 0.4762],
    ["exp-1", "café", 1, 0.833], ["exp-1", "Müller-ß", 1, 0.472], ["s", "日本語-42", 1, 0.1],
    ["s", "😀x", 1, 0.857], ["ünï", "c123", 1, 0.997],
]  # fmt: skip


@pytest.mark.parametrize(("seed", "value", "version", "expected"), NON_ASCII)
def test_non_ascii_ids_hash_as_the_javascript_reference_does(
    seed: str, value: str, version: int, expected: float
) -> None:
    assert unit_hash(seed, value, version) == expected


def test_an_astral_character_hashes_as_its_surrogate_pair() -> None:
    assert fnv1a32("😀") == fnv1a32("\ud83d\ude00")  # what JavaScript's charCodeAt sees
    assert fnv1a32("😀") != fnv1a32("\ud83d")


def test_equal_weights() -> None:
    assert equal_weights(0) == []
    assert equal_weights(-1) == []
    assert equal_weights(4) == [0.25] * 4


def test_raising_coverage_only_widens_each_range_from_its_start() -> None:
    weights = [0.2, 0.3, 0.5]
    low, high = bucket_ranges(3, 0.1, weights), bucket_ranges(3, 0.5, weights)
    for (lo1, hi1), (lo2, hi2) in zip(low, high, strict=True):
        assert lo1 == lo2
        assert hi1 < hi2


@pytest.mark.parametrize(("prefix", "rest"), [("", "c1"), ("ranker-vs-popular", "c0042"),
                                              ("ünï", "😀x"), ("seed", "")])  # fmt: skip
def test_a_prefix_state_continues_the_hash(prefix: str, rest: str) -> None:
    assert fnv1a32(rest, fnv1a32(prefix)) == fnv1a32(prefix + rest)
    assert seeded_hash(fnv1a32(prefix), rest) == unit_hash(prefix, rest, 2)
