"""The store gate: a failed read closes it to all but one probe; any answer opens it."""

from __future__ import annotations

import pytest

from omnioffer.decide.store_gate import StoreGate
from omnioffer.errors import InputError
from omnioffer.store.base import StoreUnavailable


def fail(gate: StoreGate, exc: Exception) -> None:
    with pytest.raises(type(exc)), gate.asking():
        raise exc


def test_a_failure_lets_one_probe_through_and_an_answer_opens_the_gate() -> None:
    gate = StoreGate()
    assert not gate.closed()
    fail(gate, TimeoutError())
    with gate.asking():  # the probe
        assert gate.closed() and gate.closed()  # everyone else falls back meanwhile
    assert not gate.closed() and gate.skipped == 2


def test_a_failed_probe_keeps_it_down_and_lets_the_next_probe_through() -> None:
    gate = StoreGate()
    fail(gate, StoreUnavailable("hung"))
    fail(gate, StoreUnavailable("still hung"))  # the probe failed
    assert gate.down and not gate.closed()  # no probe out: the next read asks


def test_errors_that_are_not_the_stores_leave_it_up() -> None:
    gate = StoreGate()
    fail(gate, InputError("$.customer_id", "bad"))
    assert not gate.down and not gate.closed()
