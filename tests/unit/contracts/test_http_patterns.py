"""The patterns of the HTTP contract mean the same to msgspec (Python's `re`, which
validates requests) and to ECMA-262 (which the OpenAPI document's readers use), and the
timestamp grammar admits only instants the service can read."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import jsonschema_rs
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnioffer.contracts.http import EARLIEST_TS, ISO_TIMESTAMP, LATEST_TS, Id, Name
from omnioffer.contracts.http_schema import timestamp_schema

# Every character either engine counts as white space, and a few that neither does.
SPACES = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()] + ["\ufeff"]
PLAIN = ["a", "é", "-", "_", "\x00", "\u200b", "\U0001d538"]


def _accepts(kind: object, value: str) -> bool:
    try:
        msgspec.convert(value, kind)
    except msgspec.ValidationError:
        return False
    return True


@pytest.mark.parametrize("kind", [Name, Id], ids=["Name", "Id"])
def test_python_and_ecma_patterns_agree_on_every_white_space_character(kind: object) -> None:
    (meta,) = kind.__metadata__  # type: ignore[attr-defined]
    ecma = jsonschema_rs.validator_for({"type": "string", "pattern": meta.pattern})
    for char in SPACES + PLAIN:
        for value in (f"a{char}b", f"ab{char}", char):
            assert _accepts(kind, value) == ecma.is_valid(value), (repr(value), meta.pattern)


def test_a_name_has_no_white_space_nor_trailing_newline() -> None:
    refused = ["cookie\n", "co okie", "a\tb", "a\ufeff", "a\x1c", "a\u3000", "a:b", "{a}"]
    assert not any(_accepts(Name, v) for v in refused)
    assert _accepts(Name, "email_hash") and _accepts(Id, "line\n")  # ids may hold anything


@settings(max_examples=300, deadline=None, database=None)
@given(st.from_regex(ISO_TIMESTAMP, fullmatch=True))
def test_every_timestamp_of_the_grammar_is_a_readable_instant(text: str) -> None:
    parsed = datetime.fromisoformat(text)  # never raises: the grammar has only real dates
    instant = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    near_an_end = text.startswith(("1970-01-01", "2099-12-31"))  # a zone can cross the range
    assert near_an_end or EARLIEST_TS <= instant <= LATEST_TS, text


def test_the_documented_timestamp_schema_is_the_grammar() -> None:
    ecma = jsonschema_rs.validator_for(timestamp_schema())
    for good in ("2024-02-29", "2024-01-01T00:00", "2024-01-01 00:00:00.5Z",
                 "2024-01-01T00:00:00+05", "2024-01-01T00:00:00-0530", 0, 1.5,
                 LATEST_TS):  # fmt: skip
        assert ecma.is_valid(good), good
    for bad in ("2023-02-29", "2024-04-31", "2024-01-01T24:00", "2024-01-01\n", "2100-01-01",
                "1969-12-31", "2024-01-01T00:00:00,5", -1, LATEST_TS + 1, True, None):  # fmt: skip
        assert not ecma.is_valid(bad), bad
