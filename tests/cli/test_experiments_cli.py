"""`omnioffer experiments results` from exported files, in a subprocess: its JSON is the
results computation's over the same records; bad files are refused by file and line."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import polars as pl
import pytest

sys.path.append(str(Path(__file__).resolve().parents[1] / "unit" / "jobs"))
import experiment_world as world

from omnioffer.contracts.decision_log import encode_line
from omnioffer.contracts.experiment_results import Query
from omnioffer.jobs.experiment_results import experiment_results
from omnioffer.jobs.export_events import SCHEMA

TOML = """format = 1
[[experiments]]
id = "exp1"
status = "running"
[[experiments.variants]]
name = "control"
weight = 0.5
[[experiments.variants]]
name = "treatment"
weight = 0.5
"""


def close(a: object, b: object) -> bool:
    """Equal JSON, floats to 1e-9 (the file round trip reorders sums)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9, abs=1e-12)
    return a == b


def omnioffer(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "omnioffer", "--quiet", *map(str, args)],
                          capture_output=True, text=True, check=False, timeout=300)  # fmt: skip


def write_logs(tmp: Path, customers: int = 400, seed: int = 9) -> tuple[Path, Path, Path]:
    """The simulated logs as export-decisions and export-events (CSV) would write them."""
    decisions, events = world.simulate(world.DEFAULT, customers, seed=seed)
    log = tmp / "decisions.jsonl"
    log.write_bytes(b"".join(encode_line(d) for d in decisions))
    rows = [{"event_id": e.event_id, "timestamp": datetime.fromtimestamp(e.ts, tz=UTC),
             "event_type": e.type, "channel": e.channel, "customer_id": cid, "id_type": None,
             "id_value": None, "item_id": e.item, "offer_id": e.offer, "quantity": e.qty,
             "revenue": e.revenue} for cid, e in events]  # fmt: skip
    out = tmp / "events"
    out.mkdir()
    pl.DataFrame(rows, schema=SCHEMA, orient="row").write_parquet(out / "events.parquet")
    defs = tmp / "experiments.toml"
    defs.write_text(TOML)
    return log, out, defs


def test_results_json_equals_the_computation(tmp_path: Path) -> None:
    log, events, defs = write_logs(tmp_path)
    done = omnioffer("experiments", "results", "exp1", "--decisions", log, "--events", events,
                     "--experiments", defs, "--mode", "fixed", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = msgspec.json.decode(done.stdout)
    decisions, sim_events = world.simulate(world.DEFAULT, 400, seed=9)
    expected = experiment_results(world.experiment(world.DEFAULT), decisions, sim_events,
                                  Query(mode="fixed"))  # fmt: skip
    want = msgspec.json.decode(msgspec.json.encode(expected))
    assert close(got["variants"], want["variants"]) and close(got["overall"], want["overall"])
    assert close(got["holdout"], want["holdout"]) and close(got["srm"], want["srm"])
    text = omnioffer("experiments", "results", "exp1", "--decisions", log, "--events", events,
                     "--experiments", defs)  # fmt: skip
    assert text.returncode == 0, text.stderr
    control = want["overall"]["exposed_customers"]
    assert "experiment exp1 (sequential, attribution 7 days; 400 decisions" in text.stdout
    assert "two_proportion_z+confidence_sequence" in text.stdout and control == 400


def test_bad_inputs_are_refused_by_name(tmp_path: Path) -> None:
    log, events, defs = write_logs(tmp_path, customers=20)
    unknown = omnioffer("experiments", "results", "nope", "--decisions", log, "--events",
                        events, "--experiments", defs)  # fmt: skip
    assert unknown.returncode == 1 and "no experiment 'nope' (defined: exp1)" in unknown.stderr
    lines = log.read_bytes().splitlines(keepends=True)
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(lines[0] + b'{"decision_id": 3}\n')
    refused = omnioffer("experiments", "results", "exp1", "--decisions", bad, "--events",
                        events, "--experiments", defs)  # fmt: skip
    assert refused.returncode == 1 and f"{bad}:2:" in refused.stderr, refused.stderr
    half = omnioffer("experiments", "results", "exp1", "--decisions", log)
    assert half.returncode == 2 and "--decisions, --events and --experiments" in half.stderr
    days = omnioffer("experiments", "results", "exp1", "--attribution-days", "0")
    assert days.returncode == 2 and "--attribution-days" in days.stderr


def test_evaluate_policy_from_files(tmp_path: Path) -> None:
    respond = {"o1": 0.10, "o2": 0.05, "o3": 0.22, "o4": 0.08}
    decisions, events = world.simulate_exploration(respond, 4000, seed=2)
    log = tmp_path / "decisions.jsonl"
    log.write_bytes(b"".join(encode_line(d) for d in decisions))
    rows = [{"event_id": e.event_id, "timestamp": datetime.fromtimestamp(e.ts, tz=UTC),
             "event_type": e.type, "channel": e.channel, "customer_id": cid, "id_type": None,
             "id_value": None, "item_id": None, "offer_id": e.offer, "quantity": 1,
             "revenue": None} for cid, e in events]  # fmt: skip
    pl.DataFrame(rows, schema=SCHEMA, orient="row").write_csv(tmp_path / "events.csv")
    serving = tmp_path / "models" / "v2" / "serving"
    serving.mkdir(parents=True)
    offers = {"offer_id": list(respond), "channels": [["web"]] * 4,
              "of_rate": [0.3, 0.2, 0.1, 0.25]}  # fmt: skip
    pl.DataFrame(offers).write_parquet(serving / "offers.parquet")
    policy = tmp_path / "settings.toml"
    policy.write_text("[policy]\nlevers = { o3 = 5.0 }\n")  # the lever makes o3 the top offer
    done = omnioffer("evaluate-policy", "--decisions", log, "--events", tmp_path / "events.csv",
                     "--models", tmp_path / "models", "--version", "v2", "--policy", policy,
                     "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    value = msgspec.json.decode(done.stdout)
    assert value["candidate_offers"] == {"web": "o3"} and value["decisions"] == 4000
    assert [e["method"] for e in value["estimates"]] == ["ips", "snips", "doubly_robust"]
    snips = value["estimates"][1]
    assert snips["ci_low"] <= respond["o3"] <= snips["ci_high"]
    missing = omnioffer("evaluate-policy", "--decisions", log, "--events", tmp_path / "events.csv",
                        "--models", tmp_path / "models", "--version", "v3")  # fmt: skip
    assert missing.returncode == 1 and "is 'v3' a version" in missing.stderr
