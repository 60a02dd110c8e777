"""How `wire` connects: its own reading of a redis:// or rediss:// URL, which means what
redis-py 8's `from_url` means by the same URL (a table of URLs in
tests/unit/store/redis/test_wire_options.py holds the two readings side by side).

A URL's query options override the caller's ClientOptions, as in redis-py. Anything the
wire client does not implement (unix sockets, decoded replies, other encodings, options
it does not know, values redis-py would refuse) gives None, and the store keeps redis-py
for that URL. Two deliberate differences from redis-py: RESP2 rather than redis-py 8's
default RESP3 (see _hello), and no health-check PING (the wire client notices closed
connections as they close).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from urllib.parse import parse_qs, unquote, urlparse

from redis.exceptions import AuthenticationError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError

from omnioffer.store.redis.wire_tls import TLS_QUERY, TlsContext, TlsOptions, tls_options, to_bool

Arg = str | bytes | int
Command = tuple[Arg, ...]

_UTF8 = ("utf-8", "utf8", "UTF-8", "UTF8")  # what hiredis encodes str arguments with

# The query options the wire client honours, parsed as redis-py parses them; the others
# it accepts change nothing it does (retries, read buffer size, RESP3 reply shapes).
_QUERY: Mapping[str, Callable[[str], object]] = {
    "db": int,
    "socket_timeout": float,
    "socket_connect_timeout": float,
    "socket_keepalive": to_bool,
    "max_connections": int,
    "protocol": int,
    "client_name": str,
    "username": str,
    "password": str,
    "lib_name": str,
    "lib_version": str,
    "encoding": str,
    "encoding_errors": str,
    "health_check_interval": int,
    "retry_on_timeout": to_bool,
    "socket_read_size": int,
    "legacy_responses": to_bool,
}


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """The caller's settings; a URL's query options override them. Defaults: redis-py 8's."""

    max_connections: int | None = None  # None or 0: 100
    socket_timeout: float | None = 5.0  # each reply; None: no limit
    socket_connect_timeout: float | None = 5.0  # None: socket_timeout
    client_info: bool = True  # CLIENT SETINFO LIB-NAME/LIB-VER, as redis-py sends them


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
    ssl: TlsContext | None  # called at connect time for the SSLContext, like redis-py
    connect_timeout: float | None
    read_timeout: float | None  # each reply, as redis-py's socket_timeout
    keepalive: Mapping[int, int | bytes] | None  # TCP keepalive options; None: off
    hello: tuple[HelloStep, ...]  # AUTH, CLIENT SETNAME/SETINFO, SELECT, in redis-py's order
    max_connections: int

    @property
    def where(self) -> str:
        """host:port, as in redis-py's messages (never a password)."""
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A URL read the way redis-py reads it, before the wire client judges it."""

    host: str
    port: int
    db: int
    query: Mapping[str, object]  # the options of _QUERY present in the URL, parsed
    tls: TlsOptions | None  # rediss:// only


def wire_options(url: str, base: ClientOptions | None = None) -> WireOptions | None:
    """How to connect for `url`, or None when the wire client cannot honour it."""
    base = base or ClientOptions()
    try:
        parsed = _parse(url)
    except ValueError:  # what redis-py refuses too
        return None
    if parsed is None or not _plain(parsed.query):
        return None
    q = parsed.query
    auth = _auth(_str(q, "username"), _str(q, "password"))
    limit = q.get("max_connections", base.max_connections)
    if auth is None or (isinstance(limit, int) and limit < 0):
        return None
    read_timeout = _float(q.get("socket_timeout", base.socket_timeout))
    connect_timeout = _float(q.get("socket_connect_timeout", base.socket_connect_timeout))
    return WireOptions(
        host=parsed.host,
        port=parsed.port,
        ssl=None if parsed.tls is None else TlsContext(parsed.tls),
        connect_timeout=read_timeout if connect_timeout is None else connect_timeout,
        read_timeout=read_timeout,
        keepalive=default_keepalive() if q.get("socket_keepalive", True) else None,
        hello=_hello(auth, _str(q, "client_name"), parsed.db, _lib_info(q, base)),
        max_connections=limit if isinstance(limit, int) and limit else 100,
    )


def _parse(url: str) -> _Parsed | None:
    """redis-py's parse_url for redis:// and rediss://; None for any other scheme, for a
    query option the wire client does not know, or TLS options redis-py would refuse
    when it first connects. ValueError where redis-py's from_url raises one."""
    parts = urlparse(url)
    if parts.scheme not in ("redis", "rediss"):
        return None  # unix:// (or nonsense, which redis-py refuses itself)
    query: dict[str, object] = {}
    tls_query: dict[str, str] = {}
    for name, values in parse_qs(parts.query).items():
        value = values[0]  # parse_qs has percent-decoded it already
        if name in TLS_QUERY:
            tls_query[name] = value
        elif name in _QUERY:
            try:
                query[name] = _QUERY[name](value)
            except (TypeError, ValueError):
                raise ValueError(f"Invalid value for '{name}' in connection URL.") from None
        else:
            return None
    if parts.username:
        query["username"] = unquote(parts.username)
    if parts.password:
        query["password"] = unquote(parts.password)
    tls = tls_options(tls_query) if parts.scheme == "rediss" else None
    if tls_query and tls is None:
        return None  # plain connections refuse ssl_* options; or an unknown ssl_cert_reqs
    db = query.get("db")
    if db is None and parts.path:
        try:
            db = int(unquote(parts.path).replace("/", ""))
        except ValueError:
            db = 0
    host = unquote(parts.hostname) if parts.hostname else "localhost"
    return _Parsed(host, parts.port or 6379, db if isinstance(db, int) else 0, query, tls)


def _plain(query: Mapping[str, object]) -> bool:
    """Bytes replies, UTF-8 arguments and RESP 2 or 3: what the wire client speaks."""
    if query.get("encoding", "utf-8") not in _UTF8:
        return False
    if query.get("encoding_errors", "strict") != "strict":
        return False
    protocol = query.get("protocol")
    return protocol is None or protocol in (2, 3)


def _str(query: Mapping[str, object], name: str) -> str | None:
    value = query.get(name)
    return value if isinstance(value, str) else None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _auth(user: str | None, password: str | None) -> tuple[str, ...] | None:
    """AUTH's arguments as redis-py sends them (none: no AUTH); None: leave it to redis-py."""
    if user:
        return None if password is None else (user, password)  # AUTH <user> None fails
    return (password,) if password else ()


def _lib_info(query: Mapping[str, object], base: ClientOptions) -> tuple[str | None, str | None]:
    """CLIENT SETINFO's LIB-NAME and LIB-VER: redis-py's own, or the URL's lib_name and
    lib_version (a lib_name alone gets redis-py's version, as in redis-py)."""
    if not base.client_info:
        return None, None
    name, version = _str(query, "lib_name"), _str(query, "lib_version")
    return name or "redis-py", version or redis_py_version()


def redis_py_version() -> str:
    """The installed redis-py's version, as redis-py reports it to the server."""
    try:
        return metadata.version("redis")
    except metadata.PackageNotFoundError:
        return "99.99.99"


def _hello(
    auth: tuple[str, ...], client_name: str | None, db: int, lib: tuple[str | None, str | None]
) -> tuple[HelloStep, ...]:
    """redis-py's on_connect for RESP2: replies to the store's commands are the same
    Python values under RESP2 and RESP3, and RESP2 has no push messages to skip."""
    steps: list[HelloStep] = []
    if auth:
        wrong = (AuthenticationError, "Invalid Username or Password")
        steps.append(HelloStep(("AUTH", *auth), wrong))
    if client_name:
        name_error = (RedisConnectionError, "Error setting client name")
        steps.append(HelloStep(("CLIENT", "SETNAME", client_name), name_error))
    name, version = lib
    if name:
        steps.append(HelloStep(("CLIENT", "SETINFO", "LIB-NAME", name), None))
    if version:
        steps.append(HelloStep(("CLIENT", "SETINFO", "LIB-VER", version), None))
    if db:
        steps.append(HelloStep(("SELECT", db), (RedisConnectionError, "Invalid Database")))
    return tuple(steps)


def default_keepalive() -> dict[int, int | bytes]:
    """redis-py 8's TCP keepalive options: idle 30 s, probes every 5 s, 3 of them (those
    this platform has)."""
    options: dict[int, int | bytes] = {}
    idle = getattr(socket, "TCP_KEEPIDLE", None)
    if idle is None:
        idle = getattr(socket, "TCP_KEEPALIVE", None)
    for option, value in ((idle, 30), (getattr(socket, "TCP_KEEPINTVL", None), 5),
                          (getattr(socket, "TCP_KEEPCNT", None), 3)):  # fmt: skip
        if option is not None:
            options[option] = value
    return options
