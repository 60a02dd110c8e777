"""Golden tests of the Redis key layout: changing a key string is a layout version bump."""

from __future__ import annotations

import pytest

from omnioffer.store import StoreError
from omnioffer.store.redis import keys


def crc16(data: bytes) -> int:
    """CRC16-XMODEM (poly 0x1021, init 0), the hash Redis Cluster uses for slots."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def slot(key: str) -> int:
    """Redis Cluster slot: hash the text between the first '{' and the next '}' if non-empty."""
    start = key.find("{")
    if start >= 0:
        end = key.find("}", start + 1)
        if end > start + 1:
            key = key[start + 1 : end]
    return crc16(key.encode()) % 16384


def test_crc16_reference_values() -> None:
    assert crc16(b"123456789") == 0x31C3
    assert slot("foo") == 12182  # CLUSTER KEYSLOT foo
    assert slot("{user1000}.following") == slot("{user1000}.followers")


def test_golden_key_strings() -> None:
    assert keys.KEY_LAYOUT_VERSION == 1
    assert keys.PREFIX == "oo:1:"
    assert keys.active() == "oo:1:active"
    assert keys.versions() == "oo:1:versions"
    assert keys.version_state("v1") == "oo:1:m:v1:state"
    assert keys.version_pattern("v1") == "oo:1:m:v1:*"
    assert keys.global_blob("2026-11.a_b", "vocab") == "oo:1:m:2026-11.a_b:g:vocab"
    assert keys.customer_batch("v1", "c42") == "oo:1:m:v1:{c:c42}:f"
    assert keys.customer_events("c42") == "oo:1:{c:c42}:ev"
    assert keys.identity("email", "a@x.org") == "oo:1:id:email:a@x.org"
    assert keys.seen("evt-1") == "oo:1:seen:evt-1"
    assert keys.log() == "oo:1:log"
    assert keys.decision("d-1") == "oo:1:d:d-1"
    assert keys.customer_last_decision("c42") == "oo:1:{c:c42}:ld"
    assert keys.counters("offer-9") == "oo:1:ctr:offer-9"


@pytest.mark.parametrize("customer_id", ["c42", "anon:abc", "ünï", "a b"])
def test_customer_keys_share_one_slot(customer_id: str) -> None:
    batch = keys.customer_batch("v-2026.1", customer_id)
    events = keys.customer_events(customer_id)
    last = keys.customer_last_decision(customer_id)
    for key in (batch, events, last):
        assert key.index("{") == key.index(f"{{c:{customer_id}}}")  # the tag comes first
    assert slot(batch) == slot(events) == slot(last) == slot(f"{{c:{customer_id}}}")


@pytest.mark.parametrize("bad", ["", "a b", "v:1", "v/1", "v*", "v?", "{v}", "é", "x" * 101])
def test_bad_version_names(bad: str) -> None:
    with pytest.raises(StoreError, match="invalid version"):
        keys.customer_batch(bad, "c1")


def test_longest_version_name() -> None:
    assert keys.global_blob("x" * 100, "g").startswith("oo:1:m:" + "x" * 100)


@pytest.mark.parametrize("bad", ["", "c{1", "c}1", "{c}", "x" * 1025])
def test_bad_ids(bad: str) -> None:
    for build in (
        lambda: keys.customer_events(bad),
        lambda: keys.customer_batch("v1", bad),
        lambda: keys.seen(bad),
        lambda: keys.decision(bad),
        lambda: keys.counters(bad),
        lambda: keys.identity("email", bad),
        lambda: keys.identity(bad, "x"),
        lambda: keys.global_blob("v1", bad),
    ):
        with pytest.raises(StoreError):
            build()


def test_identifier_type_without_colon() -> None:
    with pytest.raises(StoreError, match="':'"):
        keys.identity("a:b", "c")
