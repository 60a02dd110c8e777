"""Problem formatting and the error that carries problems."""

from __future__ import annotations

from omnioffer.contracts.problems import ContractViolation, Problem
from omnioffer.errors import DataError


def test_problem_str_is_file_row_column_message() -> None:
    assert str(Problem("events.csv", 3, "channel", "unknown channel 'fax'")) == (
        "events.csv:3:channel: unknown channel 'fax'"
    )


def test_problems_sort_by_file_then_row() -> None:
    problems = [
        Problem("items.csv", 1, "-", "b"),
        Problem("events.csv", 10, "x", "a"),
        Problem("events.csv", 2, "y", "a"),
    ]
    assert [(p.file, p.row) for p in sorted(problems)] == [
        ("events.csv", 2),
        ("events.csv", 10),
        ("items.csv", 1),
    ]


def test_contract_violation_is_a_data_error_with_problems() -> None:
    problems = [Problem("events.csv", 1, "timestamp", "missing value")]
    error = ContractViolation(problems, total=7)
    assert isinstance(error, DataError)
    assert error.exit_code == 1
    assert error.problems == problems
    assert error.total == 7
    assert "events.csv:1:timestamp: missing value" in str(error)
    assert "6 more problems (7 in total)" in str(error)
