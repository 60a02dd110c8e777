"""VersionSlot: a table derived from a loaded version is built once per key and kept."""

from __future__ import annotations

import pytest
from decide_world import make_model

from omnioffer.version.model import VersionSlot


def test_built_once_per_key_and_kept_with_the_version() -> None:
    calls: list[str] = []

    def build(model: object, key: str) -> list[str]:
        calls.append(key)
        return [key]

    slot: VersionSlot[str, list[str]] = VersionSlot("test table", build)
    model, other = make_model(), make_model()
    first = slot.get(model, "web")
    assert slot.get(model, "web") is first and calls == ["web"]
    assert slot.get(model, "app") == ["app"] and calls == ["web", "app"]
    assert slot.get(other, "web") is not first  # another version, another table
    assert calls == ["web", "app", "web"]


def test_none_is_a_value_not_a_miss() -> None:
    calls: list[int] = []

    def build(model: object, key: int) -> None:
        calls.append(key)

    slot: VersionSlot[int, None] = VersionSlot("same order", build)
    model = make_model()
    assert slot.get(model, 1) is None and slot.get(model, 1) is None
    assert calls == [1]


def test_a_call_site_builder_and_a_slot_without_one() -> None:
    slot: VersionSlot[int, str] = VersionSlot("by id")
    model = make_model()
    assert slot.get(model, 7, lambda: "seven") == "seven"
    assert slot.get(model, 7, lambda: "other") == "seven"  # kept
    with pytest.raises(TypeError, match="by id"):
        slot.get(model, 8)
