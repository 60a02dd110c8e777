"""The wire client against real redis-servers: the same replies and failures as redis-py, a
reply never reaches the wrong caller, the pool stays bounded, and nothing leaks."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
import uvloop
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from omnioffer.store import CustomerRecord, StoreError, StoreUnavailable
from omnioffer.store.redis import RedisStore, keys
from omnioffer.store.redis.wire import WirePool, pack
from omnioffer.store.redis.wire_options import ClientOptions, Command, wire_options
from redis_server import RedisServer, free_port, require_redis_server

WireFactory = Callable[..., WirePool]
PASSWORD = "s3cret-pw"
BATCH = bytes(range(256)) * 8  # 2 KiB, with CR, LF and NUL bytes in it
EVENTS = [b'{"t":"view","i":"sku-%d"}' % n for n in range(5)]
LAST = b"\x93\xa3app\x92\xa2o1\xa2o2" + b"\x00\r\n$-1\r\n" * 15  # ~200 bytes


@pytest.fixture(params=["asyncio", "uvloop"])
def loop_runner(request: pytest.FixtureRequest) -> Iterator[asyncio.Runner]:
    """Both loops: the service runs on uvloop, the other tests on asyncio."""
    factory = uvloop.new_event_loop if request.param == "uvloop" else None
    with asyncio.Runner(loop_factory=factory) as runner:
        yield runner


@pytest.fixture
def wires(aio: asyncio.Runner) -> Iterator[WireFactory]:
    """WirePools built as RedisStore builds them; all closed afterwards."""
    made: list[WirePool] = []

    def make(url: str, **options: Any) -> WirePool:
        found = wire_options(url, ClientOptions(**options))
        assert found is not None, url
        made.append(WirePool(found))
        return made[-1]

    yield make
    for pool in made:
        aio.run(pool.close())


@pytest.fixture
def admin(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def trip(pool: WirePool, *commands: Command) -> Awaitable[list[Any]]:
    return pool.round_trip(pack(commands), len(commands))


async def redis_py_trip(url: str, *commands: Command) -> list[Any]:
    """The commands as the store sent them before redis_wire: replies as redis-py reads them."""
    client = aioredis.Redis.from_url(url)
    pool = client.connection_pool
    conn = await pool.get_connection()
    try:
        await conn.send_packed_command(conn.pack_commands(commands))
        return [await conn.read_response() for _ in commands]
    finally:
        await conn.disconnect()
        await pool.release(conn)
        await client.aclose()


def load_customer(client: redis.Redis, cid: str) -> None:
    client.set(keys.customer_batch("v1", cid), BATCH)
    client.rpush(keys.customer_events(cid), *EVENTS)
    client.set(keys.customer_last_decision(cid), LAST)


def reads(cid: str) -> tuple[Command, ...]:
    return (
        ("GET", keys.customer_batch("v1", cid)),
        ("LRANGE", keys.customer_events(cid), 0, -1),
        ("GET", keys.customer_last_decision(cid)),
    )


def writes(did: str, cid: str, payload: bytes | str) -> tuple[Command, ...]:
    key = keys.decision(did)
    return (
        ("HSET", key, "c", cid, "p", payload),
        ("EXPIRE", key, 600),
        ("SET", keys.customer_last_decision(cid), payload, "EX", 600),
    )


# --- which URLs ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "unix:///tmp/redis.sock?db=1",  # no unix sockets: the store keeps redis-py
        "redis://127.0.0.1:1/0?decode_responses=True",  # str replies: not the store's
        "redis://alice@127.0.0.1:1/0",  # a user without a password
        "redis://127.0.0.1:1/0?protocol=7",  # refused by redis-py, when it connects
    ],
)
def test_urls_left_to_redis_py(url: str) -> None:
    assert wire_options(url) is None
    assert RedisStore(url).wire_pool is None


def test_options_are_redis_pys() -> None:
    url = "rediss://bob:p%40ss@cache.example:6380/4"
    url += "?socket_timeout=3&socket_connect_timeout=2&client_name=oo"
    found = wire_options(url, ClientOptions(max_connections=9))
    assert found is not None
    assert (found.host, found.port, found.where) == ("cache.example", 6380, "cache.example:6380")
    assert (found.read_timeout, found.connect_timeout, found.max_connections) == (3.0, 2.0, 9)
    assert found.ssl is not None and found.keepalive
    commands = [step.command for step in found.hello]
    assert commands[0] == ("AUTH", "bob", "p@ss")
    assert commands[1] == ("CLIENT", "SETNAME", "oo")
    assert commands[-1] == ("SELECT", 4)
    plain = wire_options("redis://127.0.0.1:1")
    assert plain is not None and plain.ssl is None
    assert all(step.command[:2] == ("CLIENT", "SETINFO") for step in plain.hello)


# --- replies -----------------------------------------------------------------------
def test_replies_are_redis_pys(
    redis_factory: Callable[..., RedisStore],
    redis_url: str,
    admin: redis.Redis,
    wires: WireFactory,
    aio: asyncio.Runner,
) -> None:
    """GET, LRANGE, missing keys, HSET, EXPIRE, SET ... EX: the very values redis-py read."""
    redis_factory()  # empties the key prefix
    load_customer(admin, "c1")
    pool = wires(redis_url)
    for commands in (reads("c1"), reads("nobody"), reads("ké")):
        assert aio.run(trip(pool, *commands)) == aio.run(redis_py_trip(redis_url, *commands))
    for payload in (LAST, b"", "ünïcode"):
        for did in ("d-new", "d-new"):  # HSET counts new fields: 2, then 0
            wire = aio.run(trip(pool, *writes(did, "c1", payload)))
            old = aio.run(redis_py_trip(redis_url, *writes(did + "-old", "c2", payload)))
            assert wire == old
        admin.delete(keys.decision("d-new"), keys.decision("d-new-old"))
    assert aio.run(trip(pool, ("GET", keys.customer_last_decision("c1")))) == ["ünïcode".encode()]


def test_store_records_are_unchanged(
    redis_factory: Callable[..., RedisStore], admin: redis.Redis, aio: asyncio.Runner
) -> None:
    new, old = redis_factory(), redis_factory(wire=False)
    assert new.wire_pool is not None and old.wire_pool is None
    load_customer(admin, "c1")
    expected = CustomerRecord(batch=BATCH, events=EVENTS, last_decision=LAST)
    for store in (new, old):
        assert aio.run(store.fetch_customer("v1", "c1")) == expected
        assert aio.run(store.fetch_customer("v1", "nobody")) == CustomerRecord(None, [], None)
    aio.run(new.remember_decision("d1", "c3", b"served-new"))
    aio.run(old.remember_decision("d2", "c4", b"served-old"))
    assert aio.run(old.recall_decision("d1")) == ("c3", b"served-new")
    assert aio.run(new.recall_decision("d2")) == ("c4", b"served-old")
    assert admin.ttl(keys.decision("d1")) == admin.ttl(keys.decision("d2")) > 0
    assert admin.ttl(keys.customer_last_decision("c3")) > 0


def test_error_replies_raise_as_before_and_drop_the_connection(
    redis_factory: Callable[..., RedisStore],
    redis_url: str,
    admin: redis.Redis,
    wires: WireFactory,
    aio: asyncio.Runner,
) -> None:
    redis_factory()
    load_customer(admin, "c1")
    pool = wires(redis_url, max_connections=1)
    wrong = (*reads("c1")[:1], ("LRANGE", keys.customer_batch("v1", "c1"), 0, -1), ("GET", "x"))
    with pytest.raises(ResponseError) as new:
        aio.run(trip(pool, *wrong))
    with pytest.raises(ResponseError) as old:
        aio.run(redis_py_trip(redis_url, *wrong))
    assert type(new.value) is type(old.value)
    assert str(new.value) == str(old.value)
    assert str(new.value).startswith("WRONGTYPE")
    assert aio.run(trip(pool, ("GET", keys.customer_last_decision("c1")))) == [LAST]

    store = redis_factory()
    admin.set(keys.customer_events("c2"), b"not a list")
    with pytest.raises(StoreError, match="rejected fetch_customer: WRONGTYPE"):
        aio.run(store.fetch_customer("v1", "c2"))


def test_a_busy_server_is_unavailable(aio: asyncio.Runner) -> None:
    """BUSY (a script running too long) is StoreUnavailable, as it was through redis-py."""
    require_redis_server()
    server = RedisServer(extra_args=["--lua-time-limit", "10"]).start()
    blocker, admin = redis.Redis.from_url(server.url), redis.Redis.from_url(server.url)
    admin.ping()  # connected before Redis gets busy

    def block() -> None:
        with contextlib.suppress(redis.exceptions.RedisError):  # killed, or Redis stopped
            blocker.eval("while true do end", 0)

    thread = threading.Thread(target=block)
    store = RedisStore(server.url, socket_timeout=2)
    try:
        aio.run(store.fetch_customer("v1", "c1"))  # connected
        thread.start()
        for _ in range(10_000):  # until the script runs (each call waits for Redis)
            try:
                aio.run(store.fetch_customer("v1", "c1"))
            except StoreUnavailable as exc:
                assert "refused fetch_customer: BUSY" in str(exc)
                break
        else:
            pytest.fail("Redis never answered BUSY")
    finally:
        with contextlib.suppress(redis.exceptions.RedisError):
            admin.script_kill()
        server.cleanup()  # ends the script if it was not running yet when killed
        if thread.ident is not None:
            thread.join()
        blocker.close()
        admin.close()
        aio.run(store.close())


# --- connecting ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def secured() -> Iterator[RedisServer]:
    """A private redis-server with a password and an ACL user."""
    require_redis_server()
    acl = ["--requirepass", PASSWORD, "--user", "alice", "on", ">wonderland", "~*", "&*", "+@all"]
    server = RedisServer(extra_args=acl).start()
    yield server
    server.cleanup()


@pytest.mark.parametrize("userinfo", [f":{PASSWORD}", f"default:{PASSWORD}", "alice:wonderland"])
def test_auth(userinfo: str, secured: RedisServer, aio: asyncio.Runner) -> None:
    store = RedisStore(f"redis://{userinfo}@127.0.0.1:{secured.port}/0")
    assert store.wire_pool is not None
    aio.run(store.remember_decision("d1", "c1", b"p"))
    assert aio.run(store.fetch_customer("v1", "c1")).last_decision == b"p"
    aio.run(store.close())


@pytest.mark.parametrize(
    ("userinfo", "why"),
    [
        (":not-the-password", "invalid username-password pair"),
        ("alice:not-the-password", "invalid username-password pair"),
        ("", "Authentication required|authenticated"),  # NOAUTH (RESP2) or HELLO's
    ],
)
def test_auth_refused(userinfo: str, why: str, secured: RedisServer, aio: asyncio.Runner) -> None:
    url = f"redis://{userinfo}@127.0.0.1:{secured.port}/0" if userinfo else secured.url
    for wire in (True, False):  # redis-py's own path refuses it the same way
        store = RedisStore(url, wire=wire)
        for call in (store.fetch_customer("v1", "c1"), store.remember_decision("d", "c", b"p")):
            with pytest.raises(StoreUnavailable, match=why) as info:
                aio.run(call)
            assert "not-the-password" not in str(info.value)
            assert f"127.0.0.1:{secured.port}" in str(info.value)
        aio.run(store.close())


def test_db_number_is_selected(
    redis_url: str, admin: redis.Redis, wires: WireFactory, aio: asyncio.Runner
) -> None:
    base = redis_url.rsplit("/", 1)[0]
    key = keys.customer_last_decision("db-test")
    for url, db in ((f"{base}/3", 3), (f"{base}/3?db=5", 5), (f"{base}/0", 0)):
        aio.run(trip(wires(url), ("SET", key, b"in %d" % db)))
        client = redis.Redis.from_url(f"{base}/{db}")
        try:
            assert client.get(key) == b"in %d" % db
            client.delete(key)
        finally:
            client.close()
    assert admin.get(key) is None


def test_client_name_and_bounded_pool(
    redis_url: str, admin: redis.Redis, wires: WireFactory, aio: asyncio.Runner
) -> None:
    pool = wires(f"{redis_url}?client_name=oo-wire-bound", max_connections=3)

    async def many() -> None:
        await asyncio.gather(*(trip(pool, ("PING",)) for _ in range(50)))

    aio.run(many())
    named = [c for c in admin.client_list() if c["name"] == "oo-wire-bound"]
    assert len(named) == 3


@pytest.mark.parametrize("max_connections", [1, 2])
def test_concurrent_round_trips_get_their_own_replies(
    max_connections: int,
    redis_factory: Callable[..., RedisStore],
    redis_url: str,
    wires: WireFactory,
    loop_runner: asyncio.Runner,
) -> None:
    redis_factory()
    n = 300

    async def one(i: int, pool: WirePool) -> None:
        key, items = keys.customer_last_decision(f"c{i}"), keys.customer_events(f"c{i}")
        value = b"%d:" % i + b"v" * (i * 997 % 200_000)  # some replies span many reads
        replies = await trip(
            pool,
            ("SET", key, value),
            ("RPUSH", items, i, i + 1),
            ("GET", key),
            ("LRANGE", items, 0, -1),
        )
        assert replies == [b"OK", 2, value, [b"%d" % i, b"%d" % (i + 1)]]

    async def run() -> None:
        url = f"{redis_url}?socket_timeout=5"  # the (lazy) reply timer runs too
        found = wire_options(url, ClientOptions(max_connections=max_connections))
        assert found is not None
        pool = WirePool(found)
        try:
            await asyncio.gather(*(one(i, pool) for i in range(n)))
            assert pool.connections <= max_connections
        finally:
            await pool.close()

    loop_runner.run(run())


# --- failures ------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["socket_timeout", "cancelled"])
def test_a_round_trip_cut_off_drops_its_connection(
    how: str,
    redis_factory: Callable[..., RedisStore],
    redis_url: str,
    admin: redis.Redis,
    loop_runner: asyncio.Runner,
) -> None:
    """Writes wait (CLIENT PAUSE WRITE); the write's late OK must never reach the next
    caller on the one connection of the pool."""
    redis_factory()
    load_customer(admin, "c1")

    async def run() -> None:
        timeout = 0.2 if how == "socket_timeout" else 5.0  # else the outer timeout cuts
        found = wire_options(redis_url, ClientOptions(max_connections=1, socket_timeout=timeout))
        assert found is not None
        pool = WirePool(found)
        try:
            await trip(pool, ("PING",))  # connected before the pause
            admin.client_pause(60_000, all=False)
            try:
                started = time.monotonic()
                if how == "socket_timeout":
                    with pytest.raises(RedisTimeoutError, match="Timeout reading from"):
                        await trip(pool, *writes("d1", "c1", b"late"))
                else:
                    with pytest.raises(TimeoutError):
                        async with asyncio.timeout(0.2):
                            await trip(pool, *writes("d1", "c1", b"late"))
                assert time.monotonic() - started < 1.0
                assert await trip(pool, *reads("c1")) == [BATCH, EVENTS, LAST]
            finally:
                admin.client_unpause()
            assert await trip(pool, ("GET", keys.customer_batch("v1", "c1"))) == [BATCH]
            assert pool.connections == 1
        finally:
            await pool.close()

    loop_runner.run(run())


def test_waiting_for_a_connection_is_bounded(
    redis_factory: Callable[..., RedisStore],
    redis_url: str,
    admin: redis.Redis,
    wires: WireFactory,
    aio: asyncio.Runner,
) -> None:
    """All connections busy: a caller queues at most socket_connect_timeout."""
    redis_factory()
    pool = wires(redis_url, max_connections=1, socket_timeout=5, socket_connect_timeout=0.2)

    async def queued() -> None:
        """Runs after the write below has taken the one connection (tasks start in order)."""
        try:
            assert pool.idle == 0
            started = time.monotonic()
            with pytest.raises(RedisTimeoutError, match="No free connection"):
                await trip(pool, ("GET", "k"))
            assert 0.15 < time.monotonic() - started < 1.0
        finally:
            admin.client_unpause()

    async def run() -> None:
        await trip(pool, ("PING",))
        admin.client_pause(60_000, all=False)
        replies, _ = await asyncio.gather(trip(pool, *writes("d1", "c1", b"slow")), queued())
        assert replies[2] == b"OK"
        assert await trip(pool, ("GET", keys.customer_last_decision("c1"))) == [b"slow"]

    aio.run(run())


def test_outage_and_recovery(server: RedisServer, aio: asyncio.Runner) -> None:
    store = RedisStore(server.url, socket_timeout=0.25, socket_connect_timeout=0.25)
    aio.run(store.remember_decision("d1", "c1", b"p"))
    assert aio.run(store.fetch_customer("v1", "c1")).last_decision == b"p"
    server.stop()
    for call in (
        lambda: store.fetch_customer("v1", "c1"),
        lambda: store.remember_decision("d2", "c1", b"q"),
    ):
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match=f"127.0.0.1:{server.port}"):
            aio.run(call())
        assert time.monotonic() - started < 1.0
    server.start()  # same port, empty data
    aio.run(store.remember_decision("d3", "c1", b"r"))
    assert aio.run(store.fetch_customer("v1", "c1")).last_decision == b"r"
    aio.run(store.close())


def test_a_server_that_never_answers_times_out(aio: asyncio.Runner) -> None:
    """Connected (the kernel accepts), then silence: StoreUnavailable within the timeout."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        store = RedisStore(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", socket_timeout=0.2)
        for call in (store.fetch_customer("v1", "c1"), store.remember_decision("d", "c", b"p")):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match="Timeout reading"):
                aio.run(call)
            assert 0.15 < time.monotonic() - started < 1.0
        aio.run(store.close())


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (b"$100\r\nonly part of it", RedisConnectionError, "Connection closed by server"),
        (b"", RedisConnectionError, "Error while reading|Connection closed"),  # a reset
        (b"?garbage\r\n", InvalidResponse, "Protocol error"),
        (b"$1\r\nx\r\n+OK\r\n", RedisConnectionError, "Unexpected data"),  # one too many
    ],
)
def test_a_broken_reply_drops_the_connection(
    answer: bytes,
    error: type[Exception],
    message: str,
    wires: WireFactory,
    aio: asyncio.Runner,
) -> None:
    """A fake server answers each request once, badly, then closes or resets."""

    async def answer_badly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        if answer:
            writer.write(answer)
            await writer.drain()
        else:  # close with RST
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    async def run() -> None:
        fake = await asyncio.start_server(answer_badly, "127.0.0.1", 0)
        port = fake.sockets[0].getsockname()[1]
        pool = wires(f"redis://127.0.0.1:{port}/0", client_info=False)  # no greeting
        try:
            for _ in range(2):  # the second call gets a new connection, failing the same way
                with pytest.raises(error, match=message):
                    await trip(pool, ("GET", "k"))
                assert pool.connections == 0
        finally:
            fake.close()
            await fake.wait_closed()

    aio.run(run())


def test_too_many_clients_is_unavailable(loop_runner: asyncio.Runner) -> None:
    """Redis refuses a connection over maxclients with an error it sends unasked."""
    require_redis_server()
    server = RedisServer(extra_args=["--maxclients", "1"]).start()
    first, second = RedisStore(server.url), RedisStore(server.url)

    async def run() -> None:
        await first.fetch_customer("v1", "c1")  # holds the one client slot
        try:
            for call in (second.fetch_customer("v1", "c"), second.remember_decision("d", "c", b"")):
                with pytest.raises(StoreUnavailable, match="max number of clients reached"):
                    await call
        finally:
            await first.close()
            await second.close()

    try:
        loop_runner.run(run())
    finally:
        server.cleanup()


def sockets_to(port: int) -> int:
    """This process's TCP sockets connected to `port` (Linux /proc)."""
    ours = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = str(fd.readlink())
            if target.startswith("socket:["):
                ours.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[9] in ours:
                    count += 1
    return count


def command(url: str, *args: str | int) -> None:
    """One command on a connection of its own, closed at once (not counted as ours)."""
    client = redis.Redis.from_url(url)
    try:
        client.execute_command(*args)
    finally:
        client.close()


def test_close_releases_every_socket(server: RedisServer, loop_runner: asyncio.Runner) -> None:
    if not Path("/proc/net/tcp").exists():
        pytest.fail("this test counts sockets through Linux /proc, which is missing here")

    async def run() -> None:
        store = RedisStore(server.url, max_connections=4, socket_timeout=5)
        assert store.wire_pool is not None
        await asyncio.gather(*(store.fetch_customer("v1", f"c{i}") for i in range(20)))
        assert sockets_to(server.port) == 4
        command(server.url, "CLIENT", "PAUSE", 60_000, "WRITE")

        async def close() -> None:
            """Runs after the 6 writes below reached the pool (tasks start in order)."""
            try:
                assert store.wire_pool is not None and store.wire_pool.queued == 2
                await store.close()
                assert sockets_to(server.port) == 0
            finally:
                command(server.url, "CLIENT", "UNPAUSE")

        writes = [store.remember_decision(f"d{i}", "c", b"p") for i in range(6)]  # 4 busy
        *failed, closed = await asyncio.gather(*writes, close(), return_exceptions=True)
        assert closed is None
        assert all(isinstance(exc, StoreUnavailable) for exc in failed), failed
        assert all("closed" in str(exc) for exc in failed), failed
        assert sockets_to(server.port) == 0
        await store.fetch_customer("v1", "c1")  # usable again, as redis-py is after aclose
        assert sockets_to(server.port) == 1
        await store.close()
        assert sockets_to(server.port) == 0

    loop_runner.run(run())


# --- other transports ----------------------------------------------------------------
def make_certs(where: Path) -> Path:
    """A CA and a server certificate for 127.0.0.1 (openssl CLI); returns the CA file."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail(
            "openssl is not installed: the TLS test needs it to make certificates "
            "(apt-get install openssl)"
        )

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=where, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-days", "2", "-subj", "/CN=oo-test-ca")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1")  # fmt: skip
    (where / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.cnf")  # fmt: skip
    return where / "ca.crt"


def test_tls(tmp_path: Path, aio: asyncio.Runner) -> None:
    require_redis_server()
    ca = make_certs(tmp_path)
    tls_port = free_port()
    tls = ["--tls-port", str(tls_port), "--tls-cert-file", str(tmp_path / "server.crt"),
           "--tls-key-file", str(tmp_path / "server.key"), "--tls-ca-cert-file", str(ca),
           "--tls-auth-clients", "no", "--requirepass", PASSWORD]  # fmt: skip
    server = RedisServer(extra_args=tls).start()
    try:
        url = f"rediss://:{PASSWORD}@127.0.0.1:{tls_port}/2"
        store = RedisStore(f"{url}?ssl_ca_certs={ca}")
        assert store.wire_pool is not None
        aio.run(store.remember_decision("d1", "c1", b"over tls"))
        assert aio.run(store.fetch_customer("v1", "c1")).last_decision == b"over tls"
        aio.run(store.close())
        untrusted = RedisStore(url)  # the system CAs do not know ours
        with pytest.raises(StoreUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
            aio.run(untrusted.fetch_customer("v1", "c1"))
        aio.run(untrusted.close())
    finally:
        server.cleanup()


def test_unix_sockets_stay_on_redis_py(tmp_path: Path, aio: asyncio.Runner) -> None:
    require_redis_server()
    path = tmp_path / "redis.sock"
    server = RedisServer(extra_args=["--unixsocket", str(path), "--unixsocketperm", "700"]).start()
    try:
        store = RedisStore(f"unix://{path}?db=1")
        assert store.wire_pool is None
        aio.run(store.remember_decision("d1", "c1", b"over a unix socket"))
        assert aio.run(store.fetch_customer("v1", "c1")).last_decision == b"over a unix socket"
        aio.run(store.close())
    finally:
        server.cleanup()
