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
    assert keys.KEY_LAYOUT_VERSION == 2
    assert keys.PREFIX == "oo:2:"
    assert keys.active() == "oo:2:active"
    assert keys.versions() == "oo:2:versions"
    assert keys.version_state("v1") == "oo:2:m:v1:state"
    assert keys.version_pattern("v1") == "oo:2:m:v1:*"
    assert keys.global_blob("2026-11.a_b", "vocab") == "oo:2:m:2026-11.a_b:g:vocab"
    assert keys.customer_batch("v1", "c42") == "oo:2:m:v1:{c:c42}:f"
    assert keys.customer_events("c42") == "oo:2:{c:c42}:ev"
    assert keys.identity("email", "a@x.org") == "oo:2:id:email:a@x.org"
    assert keys.customer_seen("c42") == "oo:2:{c:c42}:seen"
    assert keys.customer_identities("c42") == "oo:2:{c:c42}:ids"
    assert keys.identity_member("email", "a@x.org") == "email:a@x.org"
    assert keys.customer_log("c42") == "oo:2:{c:c42}:log"
    assert keys.customer_consent("c42") == "oo:2:{c:c42}:consent"
    assert keys.customer_decisions("c42") == "oo:2:{c:c42}:dids"
    assert keys.tombstones() == "oo:2:erased"
    assert keys.log() == "oo:2:log"
    assert keys.decision("d-1") == "oo:2:d:d-1"
    assert keys.customer_last_decision("c42") == "oo:2:{c:c42}:ld"
    assert keys.counters("offer-9") == "oo:2:ctr:offer-9"


@pytest.mark.parametrize("customer_id", ["c42", "anon:abc", "ünï", "a b"])
def test_customer_keys_share_one_slot(customer_id: str) -> None:
    batch = keys.customer_batch("v-2026.1", customer_id)
    every = [batch, *(key_of(customer_id) for key_of in keys.CUSTOMER_KEYS.values())]
    for key in every:
        assert key.index("{") == key.index(f"{{c:{customer_id}}}")  # the tag comes first
    assert {slot(key) for key in every} == {slot(f"{{c:{customer_id}}}")}


@pytest.mark.parametrize("bad", ["", "a b", "v:1", "v/1", "v*", "v?", "{v}", "é", "x" * 101])
def test_bad_version_names(bad: str) -> None:
    with pytest.raises(StoreError, match="invalid version"):
        keys.customer_batch(bad, "c1")


def test_longest_version_name() -> None:
    assert keys.global_blob("x" * 100, "g").startswith("oo:2:m:" + "x" * 100)


@pytest.mark.parametrize("bad", ["", "c{1", "c}1", "{c}", "x" * 1025])
def test_bad_ids(bad: str) -> None:
    for build in (
        lambda: keys.customer_events(bad),
        lambda: keys.customer_batch("v1", bad),
        lambda: keys.customer_seen(bad),
        lambda: keys.customer_consent(bad),
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
