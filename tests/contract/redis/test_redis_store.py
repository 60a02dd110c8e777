"""Redis-only behaviour: the capped event log, and writes cut off half-way."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from omnioffer.store import StoredEvent, StoreError, StoreUnavailable
from omnioffer.store.redis import RedisStore

RedisFactory = Callable[..., RedisStore]
TOTAL = 1000


def fill(store: RedisStore, aio: asyncio.Runner) -> None:
    """TOTAL events over 7 customers, in batches; payload = the event's number."""
    for start in range(0, TOTAL, 100):
        batch = [StoredEvent(f"e{i}", f"c{i % 7}", b"%d" % i) for i in range(start, start + 100)]
        assert len(aio.run(store.ingest(batch)).accepted) == 100


def logged(store: RedisStore, aio: asyncio.Runner) -> list[int]:
    """Every payload in the log, oldest first, read page by page like a consumer."""
    out: list[int] = []
    after: str | None = None
    while page := aio.run(store.read_log(after, 300)):
        out += [int(payload) for _, _, payload in page]
        after = page[-1][0]
    return out


def test_log_is_unbounded_by_default(redis_factory: RedisFactory, aio: asyncio.Runner) -> None:
    store = redis_factory()
    assert store.log_max_len is None
    fill(store, aio)
    assert logged(store, aio) == list(range(TOTAL))


def test_log_max_len_keeps_about_the_newest(
    redis_factory: RedisFactory, aio: asyncio.Runner
) -> None:
    store = redis_factory(log_max_len=10)
    fill(store, aio)
    kept = logged(store, aio)
    assert 10 <= len(kept) < TOTAL // 2  # approximate: Redis trims whole stream nodes
    assert kept == list(range(TOTAL - len(kept), TOTAL))  # the newest, in order
    record = aio.run(store.fetch_customer("v", "c0"))  # only the log is capped
    assert len(record.events) == len(range(0, TOTAL, 7))
    assert aio.run(store.ingest([StoredEvent("e0", "c0", b"0")])).duplicates == ("e0",)


@pytest.mark.parametrize("bad", [0, -5])
def test_log_max_len_must_be_positive(bad: int) -> None:
    with pytest.raises(StoreError, match="log_max_len"):
        RedisStore("redis://127.0.0.1:1/0", log_max_len=bad)


class CuttingProxy:
    """A TCP proxy to Redis that can drop the connection just before a given command.

    Redis receives every byte before the command and then a clean end of stream, like
    a client whose network dies half-way through sending a pipeline.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self._listener = socket.create_server(("127.0.0.1", 0))
        userinfo, _, _ = parts.netloc.rpartition("@")
        here = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self.url = urlunsplit(parts._replace(netloc=f"{userinfo}@{here}" if userinfo else here))
        self.marker: bytes | None = None
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._upstream)
            threading.Thread(target=self._to_redis, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._to_client, args=(upstream, client), daemon=True).start()

    def _to_redis(self, client: socket.socket, upstream: socket.socket) -> None:
        with contextlib.suppress(OSError):  # the other side may close first
            self._forward(client, upstream)
            upstream.shutdown(socket.SHUT_WR)  # Redis reads all it got, then closes

    def _forward(self, client: socket.socket, upstream: socket.socket) -> None:
        """Client bytes to Redis, holding back a possible start of the marker."""
        held = b""
        while data := client.recv(65536):
            held += data
            marker = self.marker
            cut = -1 if marker is None else held.find(marker)
            if marker is not None and cut >= 0:
                self.marker = None
                upstream.sendall(held[:cut])
                client.shutdown(socket.SHUT_RDWR)
                break
            keep = 0 if marker is None else _partial_marker(held, marker)
            upstream.sendall(held[: len(held) - keep])
            held = held[len(held) - keep :]

    def _to_client(self, upstream: socket.socket, client: socket.socket) -> None:
        """Drain Redis until it closes (never reset it early), forwarding while we can."""
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                with contextlib.suppress(OSError):
                    client.sendall(data)
        upstream.close()
        client.close()


def _partial_marker(data: bytes, marker: bytes) -> int:
    """Length of the longest end of `data` that could be the start of `marker`."""
    return next((k for k in range(len(marker) - 1, 0, -1) if data.endswith(marker[:k])), 0)


@pytest.fixture
def proxy(redis_url: str) -> Iterator[CuttingProxy]:
    if urlsplit(redis_url).scheme != "redis":
        pytest.skip("the cutting proxy reads plain-text RESP only")
    srv = CuttingProxy(redis_url)
    yield srv
    srv.close()


def test_put_customers_cut_half_way_writes_nothing(
    redis_factory: RedisFactory, proxy: CuttingProxy, aio: asyncio.Runner
) -> None:
    store = redis_factory(proxy.url)
    rows = [("c1", b"a"), ("c2", b"b")]
    aio.run(store.begin_version("v1"))
    proxy.marker = b"*4\r\n$7\r\nHINCRBY\r\n"  # the count, sent after the rows
    with pytest.raises(StoreUnavailable):
        aio.run(store.put_customers("v1", rows))
    assert aio.run(store.fetch_customer("v1", "c1")).batch is None  # all or nothing
    aio.run(store.put_customers("v1", rows))  # the caller's retry
    aio.run(store.finish_version("v1", {}))
    (version,) = aio.run(store.list_versions())
    assert version.customers == 2


@pytest.mark.parametrize("wire", [True, False], ids=["redis_wire", "redis-py"])
def test_a_round_trip_cut_off_mid_reply_never_hands_its_replies_to_the_next_call(
    wire: bool, redis_factory: RedisFactory, redis_url: str, aio: asyncio.Runner
) -> None:
    """A decision's write times out while Redis holds writes. The connection it was
    waiting on must be dropped (by RedisStore, redis_wire or redis-py's own
    cancellation handling), or the next reads on the same one-connection pool would
    get the write's stale OK/1/OK as their replies."""
    import redis as sync_redis

    store = redis_factory(max_connections=1, wire=wire)
    batch = StoredEvent("e1", "c1", b"payload-1")
    assert aio.run(store.ingest([batch])).accepted == ("e1",)
    admin = sync_redis.Redis.from_url(redis_url)
    try:
        admin.client_pause(60_000, all=False)  # writes wait; reads and CLIENT go on

        async def cut_off() -> None:
            async with asyncio.timeout(0.2):
                await store.remember_decision("d1", "c1", b"served")

        try:
            with pytest.raises(TimeoutError):
                aio.run(cut_off())
        finally:
            admin.client_unpause()
    finally:
        admin.close()
    record = aio.run(store.fetch_customer("v1", "c1"))
    assert record.batch is None  # no version loaded: GET's own nil, not a stale reply
    assert record.events == [b"payload-1"]
    aio.run(store.remember_decision("d2", "c1", b"again"))
    assert aio.run(store.recall_decision("d2")) == ("c1", b"again")


def test_the_log_index_forgets_trimmed_entries_once_it_is_long(
    redis_factory: RedisFactory, aio: asyncio.Runner, redis_url: str
) -> None:
    """A customer's log index keeps ids the log trimmed only while it is short (a stale
    id costs erasure nothing); past the events cap it drops them from its head."""
    import redis

    from omnioffer.store import StoreLimits
    from omnioffer.store.redis import keys

    store = redis_factory(limits=StoreLimits(max_events_per_customer=3))
    aio.run(store.ingest([StoredEvent(f"e{i}", "c1", b"%d" % i) for i in range(5)]))
    entries = aio.run(store.read_log(None, 10))
    aio.run(store.trim_log(entries[2][0]))  # e0..e2 go
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.llen(keys.customer_log("c1")) == 5
        aio.run(store.ingest([StoredEvent("e5", "c1", b"5")]))
        assert client.llen(keys.customer_log("c1")) == 3  # e3, e4, e5
    finally:
        client.close()
    assert aio.run(store.erase_customer("c1", 1.0)).removed["log"] == 3
    assert aio.run(store.read_log(None, 10)) == []


def test_a_decision_logged_after_a_script_flush_is_logged_once_and_indexed(
    redis_factory: RedisFactory, aio: asyncio.Runner, redis_url: str
) -> None:
    """A Redis that lost its scripts (restart, failover) answers NOSCRIPT to the decision
    log's script: the store loads it and sends the round trip again, once."""
    import redis

    from omnioffer.store.base import RecordedDecision
    from omnioffer.store.redis import keys

    store = redis_factory()
    client = redis.Redis.from_url(redis_url)
    try:
        for n in range(2):
            client.script_flush()
            aio.run(store.record_decision(RecordedDecision(f"d{n}", "c1", b"p", b"{}")))
        assert len(aio.run(store.read_decisions(None, 10))) == 2
        assert client.llen(keys.customer_decision_log("c1")) == 2
        assert client.zcard(keys.customer_decisions("c1")) == 2
    finally:
        client.close()
