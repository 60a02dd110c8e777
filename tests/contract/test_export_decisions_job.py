"""`export-decisions`: the decision log as JSON Lines of LoggedDecision, on both stores,
paged, continued with --after, and refused (no file) on a record that is not one."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from omnioffer.contracts.decision_log import LoggedDecision, LoggedOffer, decode_line, encode_line
from omnioffer.contracts.experiments import Exposure
from omnioffer.errors import DataError
from omnioffer.jobs.export_decisions import export_decisions
from omnioffer.store import FeatureStore
from omnioffer.store.sqlite import EmbeddedStore

ROOT = Path(__file__).resolve().parents[2]


def _record(n: int) -> LoggedDecision:
    offers = [LoggedOffer(offer_id=f"o{n}", rank=1, score=0.5, propensity=0.9)]
    return LoggedDecision(decision_id=f"d{n}", ts=1000.0 + n, customer_id=f"c{n % 3}",
                          channel="web", model_version="v1", strategy="ranker",
                          experiments=[Exposure("exp", "a")], exploration=0.1, eligible=4,
                          offers=offers)  # fmt: skip


def _log(store: FeatureStore, aio: asyncio.Runner, records: list[LoggedDecision]) -> None:
    rows = [(r.customer_id or "", encode_line(r).rstrip(b"\n")) for r in records]
    aio.run(store.log_decisions(rows))


def test_export_pages_the_log_and_continues_after_an_entry(
    store_factory: Callable[..., FeatureStore], aio: asyncio.Runner, tmp_path: Path
) -> None:
    make = store_factory
    records = [_record(n) for n in range(7)]
    _log(make(), aio, records[:5])
    out = tmp_path / "decisions.jsonl"
    n, last = export_decisions(make(), out, page=2)
    assert n == 5 and last is not None
    assert [decode_line(line) for line in out.read_bytes().splitlines()] == records[:5]
    _log(make(), aio, records[5:])
    more = tmp_path / "more.jsonl"
    assert export_decisions(make(), more, after=last)[0] == 2
    assert [decode_line(line) for line in more.read_bytes().splitlines()] == records[5:]


def test_a_record_that_is_not_a_logged_decision_stops_the_export_and_writes_nothing(
    store_factory: Callable[..., FeatureStore], aio: asyncio.Runner, tmp_path: Path
) -> None:
    store = store_factory()
    _log(store, aio, [_record(1)])
    aio.run(store.log_decisions([("c1", b'{"decision_id": 3}')]))
    out = tmp_path / "export" / "decisions.jsonl"
    with pytest.raises(DataError, match=r"decision log entry \S+: .*\$\.decision_id"):
        export_decisions(store_factory(), out)
    assert list(out.parent.iterdir()) == []


def test_the_cli_writes_json_lines(tmp_path: Path, aio: asyncio.Runner) -> None:
    db = tmp_path / "store.sqlite"
    store = EmbeddedStore(db)
    _log(store, aio, [_record(1), _record(2)])
    aio.run(store.close())
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    proc = subprocess.run(
        [sys.executable, "-m", "omnioffer", "export-decisions", "--out", str(out),
         "--store", f"sqlite:///{db}"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "exported 2 decisions" in proc.stdout
    assert [decode_line(x).decision_id for x in out.read_bytes().splitlines()] == ["d1", "d2"]
