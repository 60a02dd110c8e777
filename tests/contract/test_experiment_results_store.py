"""Contract: experiment results read from the store (decision log, event log, stored
definitions) equal the results computed from the same records in memory, on both
backends; an unknown experiment is NotFound naming the ids defined."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import msgspec
import pytest

sys.path.append(str(Path(__file__).resolve().parents[1] / "unit" / "jobs"))
import experiment_world as world

from omnioffer.contracts.decision_log import encode_line
from omnioffer.contracts.experiment_results import Query
from omnioffer.contracts.experiments import Definitions, checksum, encode_definitions
from omnioffer.contracts.payloads import encode_event
from omnioffer.errors import DataError, NotFound
from omnioffer.jobs.experiment_inputs import results_from_store
from omnioffer.jobs.experiment_results import experiment_results
from omnioffer.store import FeatureStore, StoredEvent


def test_results_from_the_store_equal_the_in_memory_results(
    store: FeatureStore, aio: asyncio.Runner
) -> None:
    decisions, events = world.simulate(world.DEFAULT, 300, seed=5)
    exp = world.experiment(world.DEFAULT)
    defs = Definitions(experiments=(exp,))
    assert aio.run(store.put_experiments(checksum(defs), encode_definitions(defs), ""))
    aio.run(store.log_decisions([(d.customer_id or "", encode_line(d)) for d in decisions]))
    aio.run(store.ingest([StoredEvent(e.event_id or f"e{i}", cid, encode_event(e))
                          for i, (cid, e) in enumerate(events)]))  # fmt: skip
    query = Query(mode="fixed")
    got = aio.run(results_from_store(store, "exp1", query))
    # the store assigns ids to events without one: compare without them
    expected = experiment_results(exp, decisions, events, query)
    assert msgspec.to_builtins(got) == msgspec.to_builtins(expected)
    assert got.overall.exposed_customers == 300
    with pytest.raises(NotFound, match=r"'nope' \(defined: exp1\)"):
        aio.run(results_from_store(store, "nope", query))


def test_a_log_over_the_limit_or_a_corrupt_record_is_refused_by_name(
    store: FeatureStore, aio: asyncio.Runner
) -> None:
    decisions, _ = world.simulate(world.DEFAULT, 5, seed=5)
    defs = Definitions(experiments=(world.experiment(world.DEFAULT),))
    assert aio.run(store.put_experiments(checksum(defs), encode_definitions(defs), ""))
    aio.run(store.log_decisions([(d.customer_id or "", encode_line(d)) for d in decisions]))
    with pytest.raises(DataError, match="decision log holds more than 4 entries"):
        aio.run(results_from_store(store, "exp1", Query(), limit=4))
    aio.run(store.log_decisions([("c9", b"{not json")]))
    with pytest.raises(DataError, match="decision log entry "):
        aio.run(results_from_store(store, "exp1", Query()))
