"""Assignment: the issue's targets, from seeded runs over 100k ids.

Bounds are computed here, not tuned: a 50/50 split must pass a chi-square test at
p > 0.001; shares must fall within the two-sided 99.9 % binomial bound around their
expected value.
"""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from statistics import NormalDist
from typing import Any

import pytest

from omnioffer.contracts.experiment_rules import parse_definitions
from omnioffer.contracts.experiments import NO_OVERRIDE, Definitions, Recorded
from omnioffer.decide.assignment import Assigner, Assignment
from omnioffer.decide.policy import check_override

N = 100_000
P_MIN = 0.001
Z = NormalDist().inv_cdf(1 - P_MIN / 2)  # two-sided 99.9 %
CHANNELS = ("web", "app", "store", "email", "sms", "call_center", "social")
NOW = datetime(2026, 6, 1, tzinfo=UTC).timestamp()


def seeded_ids(n: int, seed: int) -> list[str]:
    """Customer ids as a retailer has them: random, not sequential."""
    rng = random.Random(seed)
    return [f"c{rng.getrandbits(48):012x}" for _ in range(n)]


IDS = seeded_ids(N, seed=15)


def defs(*experiments: dict[str, Any], holdout: dict[str, Any] | None = None) -> Definitions:
    raw = {"holdout": holdout or {}, "experiments": list(experiments)}
    return parse_definitions(raw, check_policy=check_override)


def ab(eid: str = "ab", weights: tuple[float, ...] = (0.5, 0.5), **more: Any) -> dict[str, Any]:
    names = ["control", "treatment", "third", "fourth"]
    variants = [{"name": names[i], "weight": w} for i, w in enumerate(weights)]
    return {"id": eid, "status": "running", "variants": variants, **more}


def variant_of(a: Assignment, eid: str) -> str | None:
    return next((x.variant for x in a.exposures if x.id == eid), None)


def chi_square_p(counts: list[int], shares: list[float]) -> float:
    """p-value of Pearson's chi-square for counts against expected shares (k - 1 df;
    closed forms for 1 and 2 df, the cases tested here)."""
    total = sum(counts)
    stat = sum((c - total * s) ** 2 / (total * s) for c, s in zip(counts, shares, strict=True))
    df = len(counts) - 1
    if df == 1:
        return math.erfc(math.sqrt(stat / 2))
    assert df == 2
    return math.exp(-stat / 2)


def within_binomial(k: int, n: int, p: float) -> bool:
    return abs(k - n * p) <= Z * math.sqrt(n * p * (1 - p))


def test_a_50_50_split_of_100k_ids_passes_chi_square() -> None:
    assigner = Assigner(defs(ab()))
    counts = Counter(variant_of(assigner.assign(c, "web", NOW), "ab") for c in IDS)
    assert set(counts) == {"control", "treatment"}  # coverage 1: everybody is in
    p = chi_square_p([counts["control"], counts["treatment"]], [0.5, 0.5])
    assert p > P_MIN, (counts, p)


def test_uneven_weights_follow_their_shares() -> None:
    assigner = Assigner(defs(ab(weights=(0.2, 0.3, 0.5))))
    counts = Counter(variant_of(assigner.assign(c, "web", NOW), "ab") for c in IDS)
    p = chi_square_p([counts["control"], counts["treatment"], counts["third"]], [0.2, 0.3, 0.5])
    assert p > P_MIN, (counts, p)


def test_a_10_to_50_percent_ramp_moves_nobody() -> None:
    before = Assigner(defs(ab(coverage=0.1)))
    after = Assigner(defs(ab(coverage=0.5)))
    first = {c: variant_of(before.assign(c, "web", NOW), "ab") for c in IDS}
    then = {c: variant_of(after.assign(c, "web", NOW), "ab") for c in IDS}
    entered = [c for c in IDS if first[c] is not None]
    assert within_binomial(len(entered), N, 0.1)
    assert all(then[c] == first[c] for c in entered)  # nobody moved
    assert within_binomial(sum(v is not None for v in then.values()), N, 0.5)  # only added
    ramped = Counter(then[c] for c in IDS if then[c] is not None)
    assert chi_square_p([ramped["control"], ramped["treatment"]], [0.5, 0.5]) > P_MIN


def test_the_same_id_gets_the_same_variant_on_every_channel() -> None:
    targeted = ab("web-only", targeting={"channels": ["web", "app"]}, salt="w")
    assigner = Assigner(defs(ab(), targeted))
    for c in IDS[:10_000]:
        seen = {ch: assigner.assign(c, ch, NOW) for ch in CHANNELS}
        assert len({variant_of(a, "ab") for a in seen.values()}) == 1
        on_web = variant_of(seen["web"], "web-only")
        assert on_web is not None and variant_of(seen["app"], "web-only") == on_web
        assert all(variant_of(seen[ch], "web-only") is None for ch in CHANNELS[2:])


def test_assignment_is_the_same_in_another_process() -> None:
    """Another worker, or a restart: nothing depends on the process (hash seeds...)."""
    code = (
        "import sys; from test_assignment import IDS, NOW, Assigner, defs, ab, variant_of\n"
        "a = Assigner(defs(ab(coverage=0.7), holdout={'share': 0.1}))\n"
        "print(''.join(str(variant_of(a.assign(c, 'web', NOW), 'ab'))[0] for c in IDS[:2000]))"
    )
    here = str(Path(__file__).parent)
    env = {**os.environ, "PYTHONHASHSEED": "12345",
           "PYTHONPATH": os.pathsep.join([here, *sys.path])}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    a = Assigner(defs(ab(coverage=0.7), holdout={"share": 0.1}))
    mine = "".join(str(variant_of(a.assign(c, "web", NOW), "ab"))[0] for c in IDS[:2000])
    assert out == mine
    assert set(mine) == {"c", "t", "N"}  # both variants and "not in it" occur


def test_namespaces_are_mutually_exclusive() -> None:
    left = ab("left", namespace={"name": "home", "range": [0, 0.5]}, salt="l")
    right = ab("right", namespace={"name": "home", "range": [0.5, 1]}, salt="r")
    free = ab("free", salt="f")  # no namespace: meets both
    assigner = Assigner(defs(left, right, free))
    seen = [assigner.assign(c, "web", NOW) for c in IDS]
    in_left = [variant_of(a, "left") is not None for a in seen]
    in_right = [variant_of(a, "right") is not None for a in seen]
    assert not any(x and y for x, y in zip(in_left, in_right, strict=True))
    assert all(x or y for x, y in zip(in_left, in_right, strict=True))  # the ranges tile [0, 1)
    assert within_binomial(sum(in_left), N, 0.5)
    assert all(variant_of(a, "free") is not None for a in seen)


def test_a_5_percent_holdout_holds_out_5_percent_who_are_in_no_experiment() -> None:
    assigner = Assigner(defs(ab(), ab("second", salt="s2"), holdout={"share": 0.05}))
    held = [c for c in IDS if assigner.assign(c, "web", NOW).held_out]
    assert within_binomial(len(held), N, 0.05), len(held)
    for c in held:
        for ch in CHANNELS:
            a = assigner.assign(c, ch, NOW)
            assert a.held_out and a.exposures == ()
            assert a.override.strategy == "none" and a.override.policy == {}
    exposed = [assigner.assign(c, "web", NOW) for c in IDS[:20_000]]
    kept = [a for a in exposed if not a.held_out]
    assert all(len(a.exposures) == 2 for a in kept)  # everybody else is in both
    # the split inside the experiment does not lean on the holdout (different salts)
    counts = Counter(variant_of(a, "ab") for a in kept)
    assert chi_square_p([counts["control"], counts["treatment"]], [0.5, 0.5]) > P_MIN


def test_the_holdout_treatment_and_its_growth() -> None:
    small = Assigner(defs(holdout={"share": 0.05, "treatment": "random_eligible"}))
    large = Assigner(defs(holdout={"share": 0.10}))
    held_small = {c for c in IDS[:20_000] if small.held_out(c)}
    held_large = {c for c in IDS[:20_000] if large.held_out(c)}
    assert held_small < held_large  # raising the share only adds customers
    c = next(iter(held_small))
    assert small.assign(c, "web", NOW).override.strategy == "random_eligible"
    assert not any(Assigner(defs(holdout={"share": 0.0})).held_out(c) for c in IDS[:5_000])


def test_the_window_status_and_segments_decide_who_may_enter() -> None:
    window = ab("w", start="2026-05-01T00:00:00Z", end="2026-06-01T00:00:00Z", salt="w")
    draft = {**ab("d", salt="d"), "status": "draft"}
    stopped = {**ab("s", salt="s"), "status": "stopped"}
    gold = ab("g", targeting={"segments": ["gold", "vip"]}, salt="g")
    assigner = Assigner(defs(window, draft, stopped, gold))
    start = datetime(2026, 5, 1, tzinfo=UTC).timestamp()
    c = IDS[0]
    assert variant_of(assigner.assign(c, "web", start), "w") is not None  # start: inclusive
    assert variant_of(assigner.assign(c, "web", start - 1), "w") is None
    assert variant_of(assigner.assign(c, "web", NOW), "w") is None  # end: exclusive
    for when in (start, NOW):
        a = assigner.assign(c, "web", when, segments=["silver"])
        assert variant_of(a, "d") is None and variant_of(a, "s") is None
        assert variant_of(a, "g") is None
        assert variant_of(assigner.assign(c, "web", when, segments=["vip"]), "g") is not None


def test_no_experiment_means_no_override() -> None:
    a = Assigner(defs()).assign(IDS[0], "web", NOW)
    assert a == Assignment(held_out=False, exposures=(), override=NO_OVERRIDE)


def test_overrides_of_several_experiments_merge() -> None:
    one = ab("one", salt="1")
    one["variants"][1]["policy"] = {"daily_cap": 2}
    one["variants"][0]["policy"] = {"daily_cap": 2}
    two = ab("two", salt="2", weights=(0.0, 1.0))
    two["variants"][1].update(strategy="popular", model_version="v2", exploration=0.1)
    two["variants"][1]["policy"] = {"levers": {"o1": 2.0}}
    a = Assigner(defs(one, two)).assign(IDS[0], "web", NOW)
    assert [x.id for x in a.exposures] == ["one", "two"]
    assert variant_of(a, "two") == "treatment"
    assert a.override.policy == {"daily_cap": 2, "levers": {"o1": 2.0}}
    assert (a.override.strategy, a.override.model_version, a.override.exploration) == (
        "popular", "v2", 0.1,
    )  # fmt: skip


# --- first touch -------------------------------------------------------------------------
def test_10k_anonymous_ids_keep_their_variant_once_linked() -> None:
    assigner = Assigner(defs(ab(coverage=0.6), holdout={"share": 0.05}))
    anonymous = [f"anon:cookie:{c}" for c in seeded_ids(10_000, seed=16)]
    customers = seeded_ids(10_000, seed=17)
    moved = exposed = held = 0
    for cid, anon in zip(customers, anonymous, strict=True):
        first = assigner.assign(anon, "web", NOW)
        linked = assigner.assign(cid, "app", NOW, recorded=first.record())
        assert linked.held_out == first.held_out  # in or out of the holdout: kept
        if first.held_out:
            held += 1
            assert linked.held_out and not linked.exposures
        elif first.exposures:
            exposed += 1
            assert linked.exposures == first.exposures
            moved += assigner.assign(cid, "app", NOW).exposures != first.exposures
    assert within_binomial(held, 10_000, 0.05)
    assert within_binomial(exposed, 10_000, 0.95 * 0.6)
    assert moved > exposed / 4  # without the record many would have moved: the test can fail


def test_a_record_wins_but_not_over_window_channel_or_a_gone_variant() -> None:
    assigner = Assigner(defs(ab(coverage=0.01, targeting={"channels": ["web"]},
                                namespace={"name": "n", "range": [0, 0.01]},
                                end="2026-07-01T00:00:00Z")))  # fmt: skip
    outsider = next(c for c in IDS if not assigner.assign(c, "web", NOW).exposures)
    record = Recorded(variants={"ab": "treatment"})
    kept = assigner.assign(outsider, "web", NOW, segments=(), recorded=record)
    assert variant_of(kept, "ab") == "treatment"  # coverage and namespace not re-checked
    assert not assigner.assign(outsider, "app", NOW, recorded=record).exposures  # channel
    later = datetime(2026, 7, 1, tzinfo=UTC).timestamp()
    assert not assigner.assign(outsider, "web", later, recorded=record).exposures  # window
    gone = Recorded(variants={"ab": "renamed"})
    assert not assigner.assign(outsider, "web", NOW, recorded=gone).exposures  # hashed again


def test_a_recorded_holdout_answer_wins_while_that_holdout_runs() -> None:
    running = Assigner(defs(ab(), holdout={"share": 0.05}))
    held = next(c for c in IDS if running.held_out(c))
    free = next(c for c in IDS if not running.held_out(c))
    was_held = Recorded(holdout="omnioffer-holdout", held_out=True)
    was_free = Recorded(holdout="omnioffer-holdout", held_out=False)
    assert running.assign(free, "web", NOW, recorded=was_held).held_out
    assert not running.assign(held, "web", NOW, recorded=was_free).held_out
    assert running.assign(held, "web", NOW, recorded=Recorded()).held_out  # nothing recorded
    redrawn = Assigner(defs(ab(), holdout={"share": 0.05, "salt": "holdout-2027"}))
    assert not redrawn.assign(free, "web", NOW, recorded=was_held).held_out  # another holdout
    ended = Assigner(defs(ab(), holdout={"share": 0.0}))
    assert not ended.assign(free, "web", NOW, recorded=was_held).held_out
    record = ended.assign(free, "web", NOW).record()  # no holdout runs: none drawn
    assert (record.holdout, record.held_out, list(record.variants)) == ("", False, ["ab"])


def test_records_never_put_one_customer_in_two_experiments_of_a_namespace() -> None:
    left = ab("left", namespace={"name": "home", "range": [0, 0.5]}, salt="l")
    right = ab("right", namespace={"name": "home", "range": [0.5, 1]}, salt="r")
    left["variants"][1]["policy"] = {"daily_cap": 1}
    right["variants"][1]["policy"] = {"daily_cap": 5}
    assigner = Assigner(defs(left, right))
    both = Recorded(variants={"left": "treatment", "right": "treatment"})
    a = assigner.assign(IDS[0], "web", NOW, recorded=both)
    assert [x.id for x in a.exposures] == ["left"]
    assert a.override.policy == {"daily_cap": 1}


@pytest.mark.parametrize("share", [0.05, 0.2])
def test_the_record_of_an_assignment_round_trips(share: float) -> None:
    assigner = Assigner(defs(ab(), ab("b2", salt="b2", coverage=0.5), holdout={"share": share}))
    for c in IDS[:2_000]:
        a = assigner.assign(c, "web", NOW)
        assert assigner.assign(c, "web", NOW, recorded=a.record()) == a
