"""One conversation across channels: the events marker, the held top offer, Served decoding."""

from __future__ import annotations

import msgspec
import pytest
from decide_world import NOW, offer

from omnioffer.decide.policy import Policy
from omnioffer.decide.ranked import Ranked
from omnioffer.decide.stickiness import Served, decode_served, events_marker, keep_top

STICKY = Policy(sticky_minutes=30)


def ranked(*offer_ids: str) -> list[Ranked]:
    return [Ranked(offer(o), 0.5, 1.0, 1.0, [f"why {o}"]) for o in offer_ids]


def ids(rs: list[Ranked]) -> list[str]:
    return [r.offer.offer_id for r in rs]


# --- events_marker ----------------------------------------------------------------------------


def test_marker_of_no_events() -> None:
    assert events_marker([]) == "0"


def test_marker_changes_when_an_event_is_appended() -> None:
    first = [b"e1", b"e2"]
    assert events_marker(first) == events_marker([b"e1", b"e2"])  # stable
    assert events_marker([*first, b"e3"]) != events_marker(first)
    assert events_marker(first) != events_marker([])


def test_marker_sees_a_new_event_when_the_list_is_capped() -> None:
    # a capped list drops its oldest event while appending: same length, new last event
    assert events_marker([b"e1", b"e2"]) != events_marker([b"e2", b"e3"])
    assert events_marker([b"e1", b"e2"]).startswith("2:")
    assert events_marker([b"e1", b"e2"]) != events_marker([b"e1", b"e3"])  # the newest counts


# --- keep_top ---------------------------------------------------------------------------------


def test_previous_top_is_held_and_explained() -> None:
    last = Served("app", ["b", "a"], NOW - 60, "m1")
    out = keep_top(ranked("a", "b", "c"), last, "m1", NOW, STICKY)
    assert ids(out) == ["b", "a", "c"]
    assert out[0].reasons == ["why b", "also your top offer on app"]
    assert out[1].reasons == ["why a"]
    assert out[0].priority == 1.0  # only the order and the reasons change


def test_nothing_held_when_an_event_happened_since() -> None:
    last = Served("app", ["b"], NOW - 60, "m1")
    rs = ranked("a", "b", "c")
    assert keep_top(rs, last, "m2", NOW, STICKY) == rs


@pytest.mark.parametrize(("age_s", "held"), [
    (30 * 60, True),  # exactly sticky_minutes: still held
    (30 * 60 + 1, False),
    (0, True),
])  # fmt: skip
def test_sticky_minutes_boundary(age_s: float, held: bool) -> None:
    last = Served("web", ["b"], NOW - age_s, "m")
    out = keep_top(ranked("a", "b"), last, "m", NOW, STICKY)
    assert ids(out) == (["b", "a"] if held else ["a", "b"])


def test_sticky_minutes_comes_from_the_policy() -> None:
    last = Served("web", ["b"], NOW - 10 * 60, "m")
    assert ids(keep_top(ranked("a", "b"), last, "m", NOW, Policy(sticky_minutes=5))) == ["a", "b"]
    assert ids(keep_top(ranked("a", "b"), last, "m", NOW, Policy(sticky_minutes=15))) == ["b", "a"]


def test_previous_top_no_longer_allowed_is_not_brought_back() -> None:
    last = Served("app", ["gone", "a"], NOW - 60, "m")
    rs = ranked("a", "b")
    assert keep_top(rs, last, "m", NOW, STICKY) == rs


def test_previous_top_already_on_top_is_unchanged() -> None:
    last = Served("app", ["a"], NOW - 60, "m")
    rs = ranked("a", "b")
    out = keep_top(rs, last, "m", NOW, STICKY)
    assert out == rs
    assert out[0].reasons == ["why a"]


@pytest.mark.parametrize("last", [None, Served("app", [], NOW - 60, "m")])
def test_no_previous_decision(last: Served | None) -> None:
    rs = ranked("a", "b")
    assert keep_top(rs, last, "m", NOW, STICKY) == rs


# --- decode_served ----------------------------------------------------------------------------


def test_decode_served_round_trip() -> None:
    served = Served("web", ["o1", "o2"], NOW, "3:abc")
    assert decode_served(msgspec.msgpack.encode(served)) == served


def test_decode_served_old_short_form() -> None:
    # written before `at` and `marker` existed: defaults fill them in
    assert decode_served(msgspec.msgpack.encode(["web", ["o1"]])) == Served("web", ["o1"], 0.0, "")


@pytest.mark.parametrize("payload", [
    b"",
    b"\xc1",  # a byte msgpack never uses
    b"garbage bytes",
    msgspec.msgpack.encode({"channel": "web"}),  # a map, not the array form
    msgspec.msgpack.encode(["web", "not-a-list"]),
    msgspec.msgpack.encode(["web", ["o1"], 1.0, "m"])[:-2],  # truncated
])  # fmt: skip
def test_decode_served_tolerates_garbage(payload: bytes) -> None:
    assert decode_served(payload) is None


def test_decode_served_none() -> None:
    assert decode_served(None) is None


def scored(*pairs: tuple[str, float]) -> list[Ranked]:
    return [Ranked(offer(o), 0.5, 1.0, p, [f"why {o}"]) for o, p in pairs]


@pytest.mark.parametrize(
    ("held_priority", "held"),
    [(0.5, True), (0.4999, False), (0.05, False)],  # the best offer here has priority 1.0
)
def test_a_clearly_better_offer_wins_over_the_conversation(
    held_priority: float, held: bool
) -> None:
    last = Served("app", ["b"], NOW - 60, "m1")
    rs = scored(("a", 1.0), ("b", held_priority))
    out = ids(keep_top(rs, last, "m1", NOW, Policy(sticky_min_share=0.5)))
    assert out == (["b", "a"] if held else ["a", "b"])


def test_sticky_min_share_zero_always_holds() -> None:
    last = Served("app", ["b"], NOW - 60, "m1")
    rs = scored(("a", 1.0), ("b", 0.0001))
    assert ids(keep_top(rs, last, "m1", NOW, Policy(sticky_min_share=0.0))) == ["b", "a"]
