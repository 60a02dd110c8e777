"""The wire client reads URLs, options and error replies the way redis-py 8 does.

The wire client does its own parsing; redis-py's own (ConnectionPool.from_url, the
connection it would make, its reply parser) is the oracle here, so an upgrade of
redis-py that changes a meaning shows up as a failure of this table, not as different
behaviour on the wire. Reading redis-py's internals is fine in this test, and only here.
"""

from __future__ import annotations

import ssl
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis._parsers import BaseParser
from redis.asyncio.connection import Connection, SSLConnection
from redis.utils import format_error_message

from omnioffer.store.redis.wire_options import ClientOptions, WireOptions, wire_options
from omnioffer.store.redis.wire_replies import connect_error, reply_error

# lib_name and lib_version in a URL are deprecated by redis-py 8, and still honoured
pytestmark = pytest.mark.filterwarnings("ignore:Call to '__init__' function with deprecated")

TAKEN = [
    "redis://127.0.0.1:6379/0",
    "redis://localhost",
    "redis://",
    "redis://cache.example:7000",
    "REDIS://Cache.Example:1/2",
    "redis://[::1]:7000/2",
    "redis://h/3",
    "redis://h/3?db=5",
    "redis://h/abc",
    "redis://h/",
    "redis://h:0/1",
    "redis://:pw@h",
    "redis://default:pw@h",
    "redis://bob:p%40ss%2F@h:6380/4",
    "redis://h?password=qp&username=qu",
    "redis://qu:from-url@h?password=from-query",
    "redis://:a%20b@h?db=1&db=2",
    "redis://h?socket_timeout=3&socket_connect_timeout=2",
    "redis://h?socket_timeout=3",
    "redis://h?socket_connect_timeout=1.5",
    "redis://h?client_name=oo-wire",
    "redis://h?socket_keepalive=false",
    "redis://h?socket_keepalive=No",
    "redis://h?socket_keepalive=yes",
    "redis://h?max_connections=9",
    "redis://h?max_connections=0",
    "redis://h?protocol=2",
    "redis://h?protocol=3",
    "redis://h?health_check_interval=10&retry_on_timeout=true&socket_read_size=1024",
    "redis://h?legacy_responses=false",
    "redis://h?lib_name=oo&lib_version=1.2",
    "redis://h?lib_name=oo",
    "redis://h?lib_version=0.1",
    "redis://h?encoding=utf-8&encoding_errors=strict",
    "redis://h?client_name=a%20b&socket_timeout=",  # blank values are dropped
    "rediss://h",
    "rediss://:pw@h:6380/2?ssl_cert_reqs=none",
    "rediss://h?ssl_cert_reqs=optional&ssl_check_hostname=false",
    "rediss://h?ssl_check_hostname=0",
    "rediss://h?ssl_ca_certs=/x/ca.pem&ssl_certfile=/x/c.pem&ssl_keyfile=/x/k.pem&ssl_password=pw",
    "rediss://h?ssl_min_version=771&ssl_ciphers=HIGH",
    "rediss://h?ssl_include_verify_flags=VERIFY_X509_STRICT,VERIFY_X509_PARTIAL_CHAIN"
    "&ssl_exclude_verify_flags=[VERIFY_X509_TRUSTED_FIRST]",
    "rediss://h?ssl_ca_path=/etc/ssl/certs&ssl_ca_data=xyz",
]

# redis-py takes these, the wire client leaves them to redis-py (the store keeps it).
DEFERRED = [
    "unix:///tmp/redis.sock?db=1",  # no unix sockets
    "redis://h?decode_responses=True",  # str replies: not the store's
    "redis://h?decode_responses=False",  # any value: redis-py takes the string as true
    "redis://alice@h/0",  # a user without a password
    "redis://h?encoding=latin-1",  # the wire client encodes str arguments as UTF-8
    "redis://h?encoding_errors=replace",
]

# redis-py refuses these, in from_url or when it makes its first connection.
REFUSED = [
    "redis://h?protocol=7",
    "redis://h?protocol=1",
    "redis://h?timeout=3",  # a BlockingConnectionPool option
    "redis://h?no_such_option=1",
    "redis://h?db=x",
    "redis://h?socket_timeout=soon",
    "redis://h:99999",
    "redis://h?max_connections=-1",
    "redis://h?ssl_ca_certs=/x/ca.pem",  # TLS options on a plain connection
    "rediss://h?ssl_cert_reqs=sometimes",
    "rediss://h?ssl_include_verify_flags=VERIFY_NOTHING_OF_THE_KIND",
    "rediss://h?ssl_min_version=tls1.2",
    "https://h",
]

BASES = [
    ClientOptions(),
    ClientOptions(max_connections=64, socket_timeout=0.25, socket_connect_timeout=0.25),
    ClientOptions(socket_timeout=2, socket_connect_timeout=None, client_info=False),
    ClientOptions(max_connections=3, socket_timeout=None, socket_connect_timeout=None),
]


def redis_py_kwargs(base: ClientOptions) -> dict[str, Any]:
    """The same caller settings, as redis-py's from_url takes them."""
    kwargs: dict[str, Any] = {
        "max_connections": base.max_connections,
        "socket_timeout": base.socket_timeout,
        "socket_connect_timeout": base.socket_connect_timeout,
    }
    if not base.client_info:
        kwargs["driver_info"] = None
    return kwargs


def expected_hello(conn: Connection) -> list[tuple[Any, ...]]:
    """redis-py's on_connect under RESP2, as commands."""
    steps: list[tuple[Any, ...]] = []
    if conn.username or conn.password:
        steps.append(("AUTH", conn.username, conn.password) if conn.username
                     else ("AUTH", conn.password))  # fmt: skip
    if conn.client_name:
        steps.append(("CLIENT", "SETNAME", conn.client_name))
    info = conn.driver_info
    if info is not None and info.formatted_name:
        steps.append(("CLIENT", "SETINFO", "LIB-NAME", info.formatted_name))
    if info is not None and info.lib_version:
        steps.append(("CLIENT", "SETINFO", "LIB-VER", info.lib_version))
    if conn.db:
        steps.append(("SELECT", conn.db))
    return steps


def expected_tls(conn: Connection) -> dict[str, Any] | None:
    if not isinstance(conn, SSLConnection):
        return None
    ctx = conn.ssl_context
    return {
        "cert_reqs": ctx.cert_reqs,
        "check_hostname": ctx.check_hostname,
        "keyfile": ctx.keyfile,
        "certfile": ctx.certfile,
        "password": ctx.password,
        "ca_certs": ctx.ca_certs,
        "ca_data": ctx.ca_data,
        "ca_path": ctx.ca_path,
        "include_verify_flags": tuple(ctx.include_verify_flags or ()),
        "exclude_verify_flags": tuple(ctx.exclude_verify_flags or ()),
        "min_version": ctx.min_version,
        "ciphers": ctx.ciphers,
    }


def ours(found: WireOptions) -> dict[str, Any]:
    tls = None if found.ssl is None else found.ssl.options
    return {
        "where": (found.host, found.port),
        "timeouts": (found.read_timeout, found.connect_timeout),
        "keepalive": None if found.keepalive is None else dict(found.keepalive),
        "max_connections": found.max_connections,
        "hello": [step.command for step in found.hello],
        "tls": None if tls is None else {name: getattr(tls, name) for name in tls.__slots__},
    }


def redis_pys(url: str, base: ClientOptions) -> dict[str, Any]:
    pool = aioredis.ConnectionPool.from_url(url, **redis_py_kwargs(base))
    conn = pool.make_connection()
    assert isinstance(conn, Connection) and not conn.encoder.decode_responses
    return {
        "where": (conn.host, conn.port),
        "timeouts": (conn.socket_timeout, conn.socket_connect_timeout),
        "keepalive": dict(conn.socket_keepalive_options) if conn.socket_keepalive else None,
        "max_connections": pool.max_connections,
        "hello": expected_hello(conn),
        "tls": expected_tls(conn),
    }


@pytest.mark.parametrize("base", BASES, ids=range(len(BASES)))
@pytest.mark.parametrize("url", TAKEN)
def test_urls_are_read_as_redis_py_reads_them(url: str, base: ClientOptions) -> None:
    found = wire_options(url, base)
    assert found is not None, url
    assert ours(found) == redis_pys(url, base)
    kwargs = aioredis.ConnectionPool.from_url(url).connection_kwargs  # the URL's part alone
    assert (found.host, found.port) == (kwargs.get("host", "localhost"), kwargs.get("port", 6379))
    if "socket_timeout" in kwargs:
        assert found.read_timeout == kwargs["socket_timeout"]
    assert found.where == f"{found.host}:{found.port}"


@pytest.mark.parametrize("url", DEFERRED)
def test_urls_left_to_redis_py_are_ones_it_takes(url: str) -> None:
    assert wire_options(url) is None
    aioredis.ConnectionPool.from_url(url).make_connection()


@pytest.mark.parametrize("url", REFUSED)
def test_urls_redis_py_refuses_are_left_to_it(url: str) -> None:
    assert wire_options(url) is None
    with pytest.raises(Exception):  # noqa: B017 - whichever redis-py raises
        aioredis.ConnectionPool.from_url(url).make_connection()


def test_the_tls_context_is_redis_pys() -> None:
    url = "rediss://h?ssl_cert_reqs=optional&ssl_min_version=771&ssl_ciphers=HIGH"
    url += "&ssl_include_verify_flags=VERIFY_X509_STRICT"
    url += "&ssl_exclude_verify_flags=VERIFY_X509_TRUSTED_FIRST"
    found = wire_options(url)
    assert found is not None and found.ssl is not None
    conn = aioredis.ConnectionPool.from_url(url).make_connection()
    assert isinstance(conn, SSLConnection)
    mine, theirs = found.ssl(), conn.ssl_context.get()
    assert found.ssl() is mine  # made once, as redis-py's
    for name in ("check_hostname", "verify_mode", "verify_flags", "minimum_version"):
        assert getattr(mine, name) == getattr(theirs, name), name
    assert [c["name"] for c in mine.get_ciphers()] == [c["name"] for c in theirs.get_ciphers()]
    assert isinstance(mine, ssl.SSLContext)


REPLIES = [
    "ERR unknown command 'FOO'",
    "ERR max number of clients reached",
    "ERR invalid password",
    "ERR wrong number of arguments for 'auth' command",
    "ERR Client sent AUTH, but no password is set",
    "ERR no such fieldset",
    "WRONGTYPE Operation against a key holding the wrong kind of value",
    "WRONGPASS invalid username-password pair or user is disabled.",
    "NOAUTH Authentication required.",
    "NOPERM this user has no permissions to run the 'get' command",
    "LOADING Redis is loading the dataset in memory",
    "READONLY You can't write against a read only replica.",
    "OOM command not allowed when used memory > 'maxmemory'.",
    "BUSY Redis is busy running a script.",
    "MISCONF Redis is configured to save RDB snapshots",
    "EXECABORT Transaction discarded because of previous errors.",
    "NOSCRIPT No matching script. Please use EVAL.",
    "MOVED 3999 127.0.0.1:6381",
    "ASK 3999 127.0.0.1:6381",
    "TRYAGAIN Multiple keys request during rehashing of slot",
    "CLUSTERDOWN The cluster is down",
    "CROSSSLOT Keys in request don't hash to the same slot",
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
    "ERR",
    "",
]


@pytest.mark.parametrize("reply", REPLIES)
def test_error_replies_are_redis_pys_exceptions(reply: str) -> None:
    mine, theirs = reply_error(reply), BaseParser.parse_error(reply)
    assert type(mine) is type(theirs)
    assert mine.args == theirs.args
    assert mine.status_code == theirs.status_code


@pytest.mark.parametrize(
    "exc", [OSError(), OSError(111), OSError(111, "Connection refused"), ssl.SSLError(1, "bad")]
)
def test_connect_errors_read_as_redis_pys(exc: OSError) -> None:
    assert connect_error("h:1", exc) == format_error_message("h:1", exc)
