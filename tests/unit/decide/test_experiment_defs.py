"""Experiment definitions: the documented file parses, and every rule refuses bad input
naming the path, from the TOML file and from JSON bodies alike."""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from omnioffer.contracts.experiment_rules import parse_definitions, stopped, with_experiment
from omnioffer.contracts.experiments import Definitions, checksum, encode_definitions
from omnioffer.decide.experiment_defs import (
    check_model_versions,
    definitions_from_json,
    experiment_from_json,
    load_experiments_file,
)
from omnioffer.decide.policy import Policy, check_override, overridden
from omnioffer.errors import InputError, NotFound, UsageError

DOC = Path(__file__).parents[3] / "docs" / "experiments.md"
CHANNELS = ("web", "app", "store", "email", "sms")


def doc_example() -> str:
    """The full TOML example of docs/experiments.md (its first toml block)."""
    found = re.search(r"```toml\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert found, "docs/experiments.md has no toml example"
    return found.group(1)


def base() -> dict[str, Any]:
    """A valid set: a holdout, two running experiments in one namespace, one draft."""
    return {
        "holdout": {"share": 0.05},
        "experiments": [
            {"id": "a", "status": "running", "coverage": 0.5,
             "start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z",
             "namespace": {"name": "ns", "range": [0.0, 0.5]},
             "targeting": {"channels": ["web", "app"]},
             "variants": [{"name": "control", "weight": 0.5},
                          {"name": "t", "weight": 0.5, "strategy": "popular",
                           "policy": {"daily_cap": 3}}]},
            {"id": "b", "status": "running",
             "namespace": {"name": "ns", "range": [0.5, 1.0]},
             "variants": [{"name": "control", "weight": 0.25},
                          {"name": "t", "weight": 0.75, "policy": {"daily_cap": 2}}]},
            {"id": "c", "status": "draft",
             "variants": [{"name": "x", "weight": 0.3}, {"name": "y", "weight": 0.7,
                                                          "strategy": "als"}]},
        ],
    }  # fmt: skip


def file_route(raw: dict[str, Any]) -> Definitions:
    """What load_experiments_file does once tomllib has read the file."""
    return parse_definitions(raw, check_policy=check_override, channels=CHANNELS)


def json_route(raw: dict[str, Any]) -> Definitions:
    return definitions_from_json(msgspec.json.encode(raw), channels=CHANNELS)


def test_the_documented_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "experiments.toml"
    path.write_text(doc_example())
    defs = load_experiments_file(path, CHANNELS)
    assert defs.holdout.share == 0.05
    first, second = defs.experiments
    assert first.id == "ranker-vs-popular" and first.salt == "ranker-vs-popular"
    assert first.start == datetime(2026, 12, 1, tzinfo=UTC)
    assert first.control.name == "control"
    treated = first.variants[1]
    assert treated.strategy == "popular" and treated.exploration == 0.1
    assert treated.policy == {"daily_cap": 3, "levers": {"o0042": 2.0}}
    assert second.variants[1].policy == {"daily_cap": 2, "max_impressions_per_offer": 1}


def test_file_json_and_back_are_one_version(tmp_path: Path) -> None:
    path = tmp_path / "experiments.toml"
    path.write_text(doc_example())
    from_file = load_experiments_file(path)
    again = definitions_from_json(encode_definitions(from_file))
    assert again == from_file
    assert checksum(again) == checksum(from_file)
    changed = copy.deepcopy(tomllib.loads(doc_example()))
    changed["experiments"][0]["coverage"] = 0.6
    assert checksum(file_route(changed)) != checksum(from_file)


def test_times_in_any_offset_and_default_salts_give_one_checksum() -> None:
    raw = base()
    same = copy.deepcopy(raw)
    same["experiments"][0]["start"] = "2026-01-01T01:00:00+01:00"  # the same instant
    same["experiments"][1]["salt"] = "b"  # the default, spelled out
    assert checksum(json_route(raw)) == checksum(json_route(same))
    naive = copy.deepcopy(raw)
    naive["experiments"][0]["start"] = datetime(2026, 1, 1)  # naive = UTC
    assert file_route(naive).experiments[0].start == datetime(2026, 1, 1, tzinfo=UTC)


def _parent(raw: dict[str, Any], path: str) -> tuple[Any, str | int]:
    """The container of a dotted path with [i] indexes, and the last key in it."""
    parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]
    node: Any = raw
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """An edit setting `value` at `path` ("experiments[0].coverage")."""

    def edit(raw: dict[str, Any]) -> None:
        node, key = _parent(raw, path)
        node[key] = value

    return edit


def _remove(path: str) -> Callable[[dict[str, Any]], None]:
    def edit(raw: dict[str, Any]) -> None:
        node, key = _parent(raw, path)
        del node[key]

    return edit


def _all(*edits: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def edit(raw: dict[str, Any]) -> None:
        for one in edits:
            one(raw)

    return edit


BAD: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    # (case, edit of base(), path of the refusal, words of the message)
    ("unknown top key", _set("holdotu", {}), "holdotu", "unknown field"),
    ("unknown experiment key", _set("experiments[0].covrage", 0.5), "experiments[0].covrage",
     "unknown field"),
    ("unknown variant key", _set("experiments[1].variants[1].colour", "red"),
     "experiments[1].variants[1].colour", "unknown field"),
    ("unknown holdout key", _set("holdout.shares", 0.1), "holdout.shares", "unknown field"),
    ("unknown targeting key", _set("experiments[0].targeting.segment", ["x"]),
     "experiments[0].targeting.segment", "unknown field"),
    ("missing variants", _remove("experiments[2].variants"), "experiments[2].variants",
     "missing required field"),
    ("missing weight", _remove("experiments[0].variants[1].weight"),
     "experiments[0].variants[1].weight", "missing required field"),
    ("unknown policy key", _set("experiments[0].variants[1].policy", {"daily_cpa": 2}),
     "experiments[0].variants[1].policy.daily_cpa", "not a [policy] key"),
    ("bad policy value", _set("experiments[0].variants[1].policy", {"daily_cap": -1}),
     "experiments[0].variants[1].policy.daily_cap", ">= 0"),
    ("weights sum below 1", _set("experiments[1].variants[1].weight", 0.7),
     "experiments[1].variants", "sum to 0.95, not 1"),
    ("weights sum off by more than 1e-9", _set("experiments[1].variants[1].weight", 0.750001),
     "experiments[1].variants", "not 1"),
    ("negative weight", _set("experiments[0].variants[1].weight", -0.5),
     "experiments[0].variants[1].weight", ">= 0.0"),
    ("coverage above 1", _set("experiments[0].coverage", 1.5), "experiments[0].coverage",
     "<= 1.0"),
    ("coverage below 0", _set("experiments[0].coverage", -0.1), "experiments[0].coverage",
     ">= 0.0"),
    ("coverage not a number", _set("experiments[0].coverage", "half"),
     "experiments[0].coverage", "Expected `float`"),
    ("end before start", _set("experiments[0].end", "2025-12-01T00:00:00Z"),
     "experiments[0].end", "is not after start"),
    ("end at start", _set("experiments[0].end", "2026-01-01T00:00:00Z"), "experiments[0].end",
     "is not after start"),
    ("start not a time", _set("experiments[0].start", "yesterday"), "experiments[0].start",
     "datetime"),
    ("duplicate variant names", _set("experiments[1].variants[1].name", "control"),
     "experiments[1].variants[1].name", "used twice"),
    ("one variant", _set("experiments[2].variants", [{"name": "x", "weight": 1.0}]),
     "experiments[2].variants", "at least two variants"),
    ("overlapping namespace ranges", _set("experiments[1].namespace.range", [0.4, 1.0]),
     "experiments[1].namespace.range", "overlaps [0.0, 0.5) of running experiment 'a'"),
    ("empty namespace range", _set("experiments[1].namespace.range", [0.5, 0.5]),
     "experiments[1].namespace.range", "is empty"),
    ("namespace range beyond 1", _set("experiments[1].namespace.range", [0.5, 1.5]),
     "experiments[1].namespace.range[1]", "<= 1.0"),
    ("unknown strategy", _set("experiments[0].variants[1].strategy", "bandit"),
     "experiments[0].variants[1].strategy", "Invalid enum value 'bandit'"),
    ("exploration above 1", _set("experiments[0].variants[1].exploration", 2),
     "experiments[0].variants[1].exploration", "<= 1.0"),
    ("bad model version name", _set("experiments[0].variants[1].model_version", "../v1"),
     "experiments[0].variants[1].model_version", "matching regex"),
    ("unknown status", _set("experiments[0].status", "paused"), "experiments[0].status",
     "Invalid enum value 'paused'"),
    ("bad id", _set("experiments[0].id", "a b"), "experiments[0].id", "matching regex"),
    ("duplicate id", _set("experiments[2].id", "a"), "experiments[2].id",
     "is already the id of experiment 'a'"),
    ("duplicate salt", _set("experiments[2].salt", "b"), "experiments[2].salt",
     "is already the salt of experiment 'b'"),
    ("the holdout's salt", _set("experiments[2].salt", "omnioffer-holdout"),
     "experiments[2].salt", "is the holdout's salt"),
    ("unknown channel", _set("experiments[0].targeting.channels", ["web", "kiosk"]),
     "experiments[0].targeting.channels[1]", "unknown channel 'kiosk'"),
    ("holdout share above 1", _set("holdout.share", 5), "holdout.share", "<= 1.0"),
    ("holdout treatment", _set("holdout.treatment", "popular"), "holdout.treatment",
     "Invalid enum value 'popular'"),
    ("holdout salt empty", _set("holdout.salt", ""), "holdout.salt", "length >= 1"),
    ("format", _set("format", 2), "format", "format 2 is not supported"),
    ("two owners of one policy key",
     _all(_set("experiments[2].status", "running"),
          _set("experiments[2].variants[1]", {"name": "y", "weight": 0.7,
                                              "policy": {"daily_cap": 1}})),
     "experiments[2].variants[1].policy.daily_cap", "also set by running experiment 'a'"),
    ("two owners of the strategy", _set("experiments[2].status", "running"),
     "experiments[2].variants[1].strategy", "also set by running experiment 'a'"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "path", "words"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])  # fmt: skip
def test_every_rule_names_the_path_in_a_file_and_in_json(
    edit: Callable[[dict[str, Any]], None], path: str, words: str
) -> None:
    file_route(base())  # the base is valid: every refusal is the edit's
    raw = base()
    edit(raw)
    with pytest.raises(InputError) as in_file:
        file_route(raw)
    assert in_file.value.field == path
    assert words in in_file.value.message
    with pytest.raises(InputError) as in_json:
        json_route(raw)
    assert in_json.value.field == "$." + path
    assert words in in_json.value.message


def test_a_bad_file_is_one_usage_error_naming_file_and_path(tmp_path: Path) -> None:
    path = tmp_path / "experiments.toml"
    path.write_text(doc_example().replace("weight = 0.5", "weight = 0.4", 1))
    with pytest.raises(UsageError, match=re.escape(f"experiments file {path}: "
                       "experiments[0].variants: the weights (0.4, 0.5) sum to 0.9")):  # fmt: skip
        load_experiments_file(path)
    path.write_text("format = 1\n[[experiments]\n")
    with pytest.raises(UsageError, match="is not valid TOML"):
        load_experiments_file(path)
    with pytest.raises(UsageError, match="cannot read the experiments file"):
        load_experiments_file(tmp_path / "missing.toml")


@pytest.mark.parametrize(("case", "edit"), [
    ("a draft may overlap a running one",
     _set("experiments[2].namespace", {"name": "ns", "range": [0, 1]})),
    ("disjoint channels may share a key",
     _all(_set("experiments[2].status", "running"),
          _set("experiments[2].targeting", {"channels": ["email"]}))),
    ("disjoint windows may share a key",
     _all(_set("experiments[2].status", "running"),
          _set("experiments[2].start", "2026-02-01T00:00:00Z"))),
    ("other namespaces overlap freely",
     _all(_set("experiments[1].namespace", {"name": "other", "range": [0, 1]}),
          _set("experiments[1].variants[1].policy", {"max_per_category": 1}))),
    ("a stopped one is not checked across the set",
     _all(_set("experiments[2].status", "stopped"),
          _set("experiments[2].namespace", {"name": "ns", "range": [0, 1]}))),
])  # fmt: skip
def test_what_the_rules_allow(case: str, edit: Callable[[dict[str, Any]], None]) -> None:
    raw = base()
    edit(raw)
    assert len(file_route(raw).experiments) == 3, case


def test_other_namespace_of_the_same_key_is_refused_when_they_can_meet() -> None:
    raw = base()
    _set("experiments[1].namespace", {"name": "other", "range": [0, 1]})(raw)
    _set("experiments[1].variants[1].policy", {"daily_cap": 2})(raw)
    _set("experiments[1].targeting", {"channels": ["app", "sms"]})(raw)  # meets a on app
    with pytest.raises(InputError) as refused:
        file_route(raw)
    assert refused.value.field == "experiments[1].variants[1].policy.daily_cap"


# --- one experiment: the admin PUT body -------------------------------------------------
PUT = {"status": "running", "coverage": 0.1,
       "variants": [{"name": "control", "weight": 0.5},
                    {"name": "explore", "weight": 0.5, "exploration": 0.2}]}  # fmt: skip


def test_a_put_body_takes_its_id_from_the_url_and_joins_the_set() -> None:
    defs = json_route(base())
    new = experiment_from_json(msgspec.json.encode(PUT), "d")
    assert new.id == "d" and new.salt == "d"
    grown = with_experiment(defs, new)
    assert [e.id for e in grown.experiments] == ["a", "b", "c", "d"]
    assert checksum(grown) != checksum(defs)
    replaced = with_experiment(grown, msgspec.structs.replace(new, coverage=0.5))
    assert [e.id for e in replaced.experiments] == ["a", "b", "c", "d"]
    assert replaced.find("d") is not None and replaced.find("d").coverage == 0.5  # type: ignore[union-attr]


def test_a_refused_put_names_the_body_path_and_changes_nothing() -> None:
    defs = json_route(base())
    before = checksum(defs)
    body = {**PUT, "namespace": {"name": "ns", "range": [0.25, 0.75]}}
    new = experiment_from_json(msgspec.json.encode(body), "d")
    with pytest.raises(InputError) as refused:
        with_experiment(defs, new)
    assert refused.value.field == "$.namespace.range"
    assert "overlaps [0.0, 0.5) of running experiment 'a' (experiments[0])" in refused.value.message
    assert checksum(defs) == before
    conflicting = {
        **PUT,
        "variants": [
            PUT["variants"][0],  # type: ignore[index]
            {"name": "p", "weight": 0.5, "strategy": "popular"},
        ],
    }
    new = experiment_from_json(msgspec.json.encode(conflicting), "d")
    with pytest.raises(InputError) as refused:
        with_experiment(defs, new)
    assert refused.value.field == "$.variants[1].strategy"


@pytest.mark.parametrize(("body", "path", "words"), [
    (b'{"status": "running"', "$", "not valid JSON"),
    (b"[1, 2]", "$", "Expected `object`, got `array`"),
    (msgspec.json.encode({**PUT, "id": "other"}), "$.id", "is not the id of the URL ('d')"),
    (msgspec.json.encode({**PUT, "coverage": 2}), "$.coverage", "<= 1.0"),
    (msgspec.json.encode({**PUT, "variants": [{"name": "control", "weight": 0.5},
                                               {"name": "x", "weight": 0.4}]}),
     "$.variants", "sum to 0.9"),
    (msgspec.json.encode({**PUT, "variants": [
        {"name": "control", "weight": 0.5},
        {"name": "x", "weight": 0.5, "policy": {"levers": {"o1": -1}}}]}),
     "$.variants[1].policy.levers[...]", ">= 0.0"),
])  # fmt: skip
def test_bad_put_bodies(body: bytes, path: str, words: str) -> None:
    with pytest.raises(InputError) as refused:
        experiment_from_json(body, "d")
    assert refused.value.field == path
    assert words in refused.value.message


def test_stopping_and_unknown_ids() -> None:
    defs = json_route(base())
    after = stopped(defs, "a")
    assert [e.status for e in after.experiments] == ["stopped", "running", "draft"]
    assert defs.experiments[0].status == "running"  # a new set; the old one is unchanged
    with pytest.raises(NotFound, match="no experiment 'zz'"):
        stopped(defs, "zz")


def test_model_versions_must_be_materialized() -> None:
    raw = base()
    _set("experiments[0].variants[1].model_version", "v2")(raw)
    experiment = file_route(raw).experiments[0]
    check_model_versions(experiment, {"v1", "v2"}, "experiments[0]")
    with pytest.raises(InputError) as refused:
        check_model_versions(experiment, {"v1"}, "experiments[0]")
    assert refused.value.field == "experiments[0].variants[1].model_version"
    assert "'v2' is not materialized (materialized: v1)" in refused.value.message
    with pytest.raises(InputError) as refused:
        check_model_versions(experiment, set())
    assert refused.value.field == "$.variants[1].model_version"


DOCUMENTED = [("README.md", "## Experiments"), ("docs/api.md", "## Experiments"),
              ("docs/experiments.md", "### JSON bodies")]  # fmt: skip


@pytest.mark.parametrize(("doc", "heading"), DOCUMENTED)
def test_the_other_documented_examples_are_accepted(doc: str, heading: str) -> None:
    text = (DOC.parents[1] / doc).read_text()
    section = text[text.index(heading) :]
    if (toml := re.search(r"```toml\n(.*?)```", section, re.DOTALL)) is not None:
        assert file_route(tomllib.loads(toml.group(1))).experiments[0].status == "running"
    else:
        body = re.search(r"```json\n(.*?)```", section, re.DOTALL)
        assert body is not None, f"{doc} {heading} has no example"
        assert experiment_from_json(body.group(1).encode(), "e").status == "running"


def test_a_variant_policy_replaces_the_service_policy_key_by_key() -> None:
    service = Policy(levers={"o1": 2.0}, daily_cap=6, cart_lift=2.0)
    changes = {"daily_cap": 3, "levers": {"o2": 1.5}, "consent_channels": ["sms"]}
    check_override(changes, "$.variants[1].policy")
    p = overridden(service, changes)
    assert (p.daily_cap, p.levers, p.consent_channels) == (3, {"o2": 1.5}, ("sms",))
    assert p.cart_lift == 2.0  # untouched keys keep the service's value
    assert service.daily_cap == 6  # a new policy; the service's is unchanged
    assert overridden(service, {}) is service
