"""Identity resolution: union-find merges, chains, anonymous identifiers, audit rows."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from omnioffer.identity import build_identity_map, connected_components, resolve_events


def _identities(rows: list[tuple[str, str, str]]) -> pl.LazyFrame:
    return pl.DataFrame(rows, schema=["customer_id", "id_type", "id_value"], orient="row").lazy()


def _events(rows: list[dict[str, str | None]]) -> pl.LazyFrame:
    schema = {"customer_id": pl.String, "id_type": pl.String, "id_value": pl.String}
    return pl.DataFrame(rows, schema=schema).lazy()


def test_components_follow_long_chains_to_the_smallest_node() -> None:
    # 9-8-7-...-0 in a chain given in an order that needs several hook rounds.
    left = np.array([9, 7, 5, 3, 1, 8, 6, 4, 2], dtype=np.int64)
    right = np.array([8, 6, 4, 2, 0, 7, 5, 3, 1], dtype=np.int64)
    labels = connected_components(12, left, right)
    assert labels.tolist() == [0] * 10 + [10, 11]


def test_components_match_a_reference_union_find_on_random_graphs() -> None:
    rng = np.random.default_rng(3)
    n = 500
    left = rng.integers(0, n, 400)
    right = rng.integers(0, n, 400)
    reference = list(range(n))

    def find(x: int) -> int:
        while reference[x] != x:
            x = reference[x]
        return x

    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        ra, rb = find(a), find(b)
        reference[max(ra, rb)] = min(ra, rb)
    expected = []
    for node in range(n):
        members = [m for m in range(n) if find(m) == find(node)]
        expected.append(min(members))
    assert connected_components(n, left, right).tolist() == expected


def test_chain_cookie_login_loyalty_card_resolves_to_one_customer() -> None:
    # A web cookie logs in as c2; c2's email hash is shared with c1, who holds the
    # loyalty card used in store. All of it is one person: c1 (the smaller id).
    identities = _identities(
        [
            ("c2", "email_hash", "e-77"),
            ("c1", "email_hash", "e-77"),
            ("c1", "loyalty_card", "L-9"),
        ]
    )
    events = _events(
        [
            {"customer_id": None, "id_type": "cookie", "id_value": "ck-1"},  # before login
            {"customer_id": "c2", "id_type": "cookie", "id_value": "ck-1"},  # login
            {"customer_id": None, "id_type": "loyalty_card", "id_value": "L-9"},  # in store
            {"customer_id": "c2", "id_type": None, "id_value": None},
            {"customer_id": None, "id_type": "cookie", "id_value": "ck-404"},  # never linked
            {"customer_id": "c3", "id_type": None, "id_value": None},
        ]
    )
    idmap = build_identity_map(identities, events)
    resolved = resolve_events(events, idmap).collect()
    assert resolved.get_column("customer_key").to_list() == [
        "c1",
        "c1",
        "c1",
        "c1",
        "anon:cookie:ck-404",
        "c3",
    ]
    assert resolved.get_column("anonymous").to_list() == [False] * 4 + [True, False]
    merges = idmap.merges.to_dicts()
    assert merges == [
        {
            "customer_id": "c2",
            "canonical_id": "c1",
            "group_size": 2,
            "via": "cookie:ck-1;email_hash:e-77;loyalty_card:L-9",
        }
    ]


def test_resolution_does_not_depend_on_row_order() -> None:
    rows = [("c5", "device_id", "d1"), ("c4", "device_id", "d1"), ("c9", "cookie", "k")]
    forward = build_identity_map(_identities(rows))
    backward = build_identity_map(_identities(rows[::-1]))
    assert forward.customers.equals(backward.customers)
    assert forward.customers.filter(pl.col("customer_id") == "c5")["canonical_id"].item() == "c4"
    assert forward.merged_count == 1


def test_events_keep_their_order_and_length() -> None:
    events = _events(
        [{"customer_id": f"c{i % 7}", "id_type": None, "id_value": None} for i in range(50)]
    )
    idmap = build_identity_map(_identities([("c1", "cookie", "x"), ("c6", "cookie", "x")]))
    resolved = resolve_events(events, idmap).collect()
    expected = ["c1" if i % 7 == 6 else f"c{i % 7}" for i in range(50)]
    assert resolved.get_column("customer_key").to_list() == expected


@pytest.mark.parametrize("with_events", [True, False])
def test_empty_inputs_give_empty_maps(with_events: bool) -> None:
    events = _events([]) if with_events else None
    idmap = build_identity_map(_identities([]), events)
    assert idmap.customers.height == 0
    assert idmap.merges.height == 0
