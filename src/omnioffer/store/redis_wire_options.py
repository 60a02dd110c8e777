"""How `redis_wire` connects: exactly what redis-py would use for the same URL and options.

The settings are read off a connection redis-py's own pool would make (never connected),
so URL parsing, query options and defaults stay redis-py's. Anything `redis_wire` does
not implement (unix sockets, credential providers, decoded replies, custom connection
classes or connect callbacks) gives None, and the store keeps redis-py for that URL.
Two deliberate differences: RESP2 rather than redis-py 8's default RESP3 (see _hello),
and no health-check PING (redis_wire notices closed connections as they close).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

from redis.asyncio.connection import Connection, ConnectionPool, SSLConnection
from redis.exceptions import AuthenticationError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError

Arg = str | bytes | int
Command = tuple[Arg, ...]


@dataclass(frozen=True, slots=True)
class HelloStep:
    """One command of a new connection's greeting and how its reply is judged."""

    command: Command
    # What is raised when the reply is not OK. None: any reply will do, a ResponseError
    # included (CLIENT SETINFO, which servers before 7.2 do not know).
    not_ok: tuple[type[RedisError], str] | None


@dataclass(frozen=True, slots=True)
class WireOptions:
    """Where and how to connect; the timeouts and the limit are redis-py's meanings."""

    host: str
    port: int
    ssl: Callable[[], ssl.SSLContext] | None  # called at connect time, like redis-py
    connect_timeout: float | None
    read_timeout: float | None  # each reply, as redis-py's socket_timeout
    keepalive: Mapping[int, int | bytes] | None  # TCP keepalive options; None: off
    hello: tuple[HelloStep, ...]  # AUTH, CLIENT SETNAME/SETINFO, SELECT, in redis-py's order
    max_connections: int

    @property
    def where(self) -> str:
        """host:port, as in redis-py's messages (never a password)."""
        return f"{self.host}:{self.port}"


def wire_options(pool: ConnectionPool) -> WireOptions | None:
    """The settings of `pool`'s connections, or None when redis_wire cannot honour them."""
    conn = _plain_connection(pool)
    auth = None if conn is None else _auth(conn)
    if conn is None or auth is None:
        return None
    return WireOptions(
        host=conn.host,
        port=conn.port,
        ssl=conn.ssl_context.get if isinstance(conn, SSLConnection) else None,
        connect_timeout=conn.socket_connect_timeout,
        read_timeout=conn.socket_timeout,
        keepalive=_keepalive(conn),
        hello=_hello(conn, auth),
        max_connections=pool.max_connections,
    )


def _plain_connection(pool: ConnectionPool) -> Connection | None:
    """A connection as the pool makes them (never connected), if TCP or TLS and plain."""
    if pool.connection_class not in (Connection, SSLConnection):
        return None  # unix sockets, or a class of the caller's own
    try:
        conn = pool.make_connection()  # type: ignore[no-untyped-call]
    except Exception:  # options redis-py refuses: it still does, when it first connects
        return None
    if not isinstance(conn, Connection) or conn.encoder.decode_responses:
        return None  # the store expects bytes
    if conn.credential_provider is not None or conn.redis_connect_func is not None:
        return None
    return conn


def _auth(conn: Connection) -> tuple[str, ...] | None:
    """AUTH's arguments as redis-py sends them (none: no AUTH); None: leave it to redis-py."""
    user, password = conn.username, conn.password
    if user:
        return None if password is None else (user, password)  # AUTH <user> None fails
    return (password,) if password else ()


def _hello(conn: Connection, auth: tuple[str, ...]) -> tuple[HelloStep, ...]:
    """redis-py's on_connect for RESP2: replies to the store's commands are the same
    Python values under RESP2 and RESP3, and RESP2 has no push messages to skip."""
    steps: list[HelloStep] = []
    if auth:
        wrong = (AuthenticationError, "Invalid Username or Password")
        steps.append(HelloStep(("AUTH", *auth), wrong))
    if conn.client_name:
        name_error = (RedisConnectionError, "Error setting client name")
        steps.append(HelloStep(("CLIENT", "SETNAME", conn.client_name), name_error))
    info = getattr(conn, "driver_info", None)  # redis-py >= 7; older ones: no SETINFO
    name, version = (info.formatted_name, info.lib_version) if info else (None, None)
    if name:
        steps.append(HelloStep(("CLIENT", "SETINFO", "LIB-NAME", name), None))
    if isinstance(version, str) and version:
        steps.append(HelloStep(("CLIENT", "SETINFO", "LIB-VER", version), None))
    if conn.db:
        steps.append(HelloStep(("SELECT", conn.db), (RedisConnectionError, "Invalid Database")))
    return tuple(steps)


def _keepalive(conn: Connection) -> Mapping[int, int | bytes] | None:
    if not conn.socket_keepalive:
        return None
    options = conn.socket_keepalive_options  # a mapping once the connection is made
    return dict(cast(Mapping[int, int | bytes], options))
