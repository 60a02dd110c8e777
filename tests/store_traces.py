"""Every trace of some ids in a whole store, read the hard way: each Redis key's name and
value (SCAN over the whole keyspace, every type), or each cell of every SQLite table
(shared by the store contract tests and the service's erasure tests)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import redis


def _redis_values(client: redis.Redis, key: bytes) -> list[bytes]:
    """Every value a key holds (members and fields included), whatever its type."""
    read: dict[bytes, Callable[[], list[bytes]]] = {
        b"string": lambda: [client.get(key) or b""],
        b"list": lambda: list(client.lrange(key, 0, -1)),
        b"set": lambda: list(client.smembers(key)),
        b"hash": lambda: [x for pair in client.hgetall(key).items() for x in pair],
        b"zset": lambda: [m for m, _ in client.zrange(key, 0, -1, withscores=True)],
        b"stream": lambda: [x for _, f in client.xrange(key) for pair in f.items() for x in pair],
        b"none": list,  # expired between SCAN and TYPE
    }
    kind = client.type(key)
    if kind not in read:
        raise AssertionError(f"key {key!r} has a type this scan cannot read: {kind!r}")
    return read[kind]()


def redis_traces(url: str, needles: Iterable[str]) -> list[str]:
    """Where any needle appears in a key name or value of the whole database."""
    wanted = [n.encode() for n in needles]
    client = redis.Redis.from_url(url)
    found: list[str] = []
    try:
        for key in client.scan_iter(count=1000):
            for blob in [key, *_redis_values(client, key)]:
                found += [f"{key!r}: {n!r}" for n in wanted if n in blob]
    finally:
        client.close()
    return found


def sqlite_traces(path: Path, needles: Iterable[str]) -> list[str]:
    """Where any needle appears in a cell (text or blob) of any table of the file."""
    wanted = [n.encode() for n in needles]
    conn = sqlite3.connect(path)
    found: list[str] = []
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f"SELECT * FROM {table}"):  # names from the file itself
                found += [f"{table}: {n!r}" for cell in row for n in wanted if n in _bytes(cell)]
    finally:
        conn.close()
    return found


def sqlite_tables(path: Path) -> Sequence[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    finally:
        conn.close()


def _bytes(cell: object) -> bytes:
    if isinstance(cell, bytes):
        return cell
    return b"" if cell is None else str(cell).encode()
