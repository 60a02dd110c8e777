"""Pipelined RESP round trips over a small pool of connections of our own.

Why this exists: every decision makes two Redis round trips (fetch_customer, then
remember_decision), and under load redis-py's per-call bookkeeping (pool checkout behind
a deprecation wrapper, command packing, a timeout context and health check per reply,
event dispatch on release) cost more client CPU than the rest of the round trip. Here a
round trip is one `transport.write` of RESP bytes and one future that the protocol
resolves once hiredis has parsed all N replies.

A connection (`wire_link`) carries one round trip at a time. Any failure (refused
connect, timeout, reset, end of stream mid-reply, an error reply, a cancelled wait) drops
that connection, so a reply left unread can never reach another caller. Failures are
redis-py's public exception classes (`wire_replies`), which `errors.translate_errors` sorts
as before. Nothing is retried. There is no health-check PING: a connection the server
closes is seen by the event loop (connection_lost) and leaves the pool at once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, cast

import hiredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from omnioffer.store.redis.wire_link import WireLink
from omnioffer.store.redis.wire_options import Command, WireOptions
from omnioffer.store.redis.wire_replies import connect_error

_pack_command = cast(Callable[[Command], bytes], hiredis.pack_command)  # stub says 1-tuple


def pack(commands: Sequence[Command]) -> bytes:
    """RESP for several commands, sent in one write (hiredis' encoder, as redis-py's)."""
    try:
        return b"".join(map(_pack_command, commands))
    except TypeError as exc:  # redis-py refuses such arguments with DataError too
        raise DataError(f"invalid command argument: {exc}") from exc


class WirePool:
    """At most max_connections connections; callers queue when all of them are busy."""

    def __init__(self, options: WireOptions) -> None:
        self.options = options
        self._hello = pack([step.command for step in options.hello])
        self._idle: list[WireLink] = []
        self._links: set[WireLink] = set()  # open ones, idle or busy
        self._free = options.max_connections  # slots held by no connection
        self._waiters: deque[asyncio.Future[WireLink | None]] = deque()
        self._generation = 0  # bumped by close(): connects begun before it are dropped

    @property
    def connections(self) -> int:
        """Open connections, busy or idle (never above max_connections)."""
        return len(self._links)

    @property
    def idle(self) -> int:
        return len(self._idle)

    @property
    def queued(self) -> int:
        """Callers waiting for a connection."""
        return sum(not waiter.done() for waiter in self._waiters)

    async def round_trip(self, payload: bytes, count: int) -> list[Any]:
        """Send `count` commands packed by `pack`; their replies as redis-py returns them.

        The first error reply is raised as redis-py's exception for it.
        """
        if not count:
            return []
        idle = self._idle
        link = idle.pop() if idle else await self._acquire()
        waiter = None
        try:
            waiter = link.request(payload, count)
            replies = await waiter
        except BaseException:
            self._drop(link)
            if waiter is not None and waiter.done() and not waiter.cancelled():
                waiter.exception()  # retrieved: a cancel raced with the failure
            raise
        for reply in replies:
            if isinstance(reply, RedisError):  # hiredis hands error replies over as values
                self._drop(link)  # as redis-py did: a failover's READONLY must not stick
                raise reply
        self._release(link)
        return replies

    async def close(self) -> None:
        """Close every connection, busy or idle, and fail queued callers.

        Like redis-py's pool after aclose(), a later round trip connects again.
        """
        self._generation += 1
        waiters, self._waiters = self._waiters, deque()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(RedisConnectionError("Connection pool closed"))
        self._free += len(self._idle)  # busy ones come back through _drop
        self._idle = []
        links, self._links = list(self._links), set()
        for link in links:
            link.close()
        if links:
            await asyncio.gather(*(link.closed for link in links))

    def link_lost(self, link: WireLink) -> None:
        """A connection closed. An idle one leaves the pool here; a busy one in _drop."""
        if link in self._idle:  # a scan, on a lost connection only
            self._idle.remove(link)
            self._links.discard(link)
            self._free_slot()

    # --- slots -----------------------------------------------------------------------
    async def _acquire(self) -> WireLink:
        """A connection for one round trip: a new one while slots are free, else wait."""
        if self._free > 0:
            self._free -= 1
        else:
            link = await self._wait()
            if link is not None:
                return link  # an open one, handed over; else a slot, handed over
        try:
            return await self._open()
        except BaseException:
            self._free_slot()
            raise

    async def _wait(self) -> WireLink | None:
        """Queue for the next released connection, or freed slot (None)."""
        waiter: asyncio.Future[WireLink | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        timeout = self.options.connect_timeout
        try:
            try:
                async with asyncio.timeout(timeout):
                    return await waiter
            except TimeoutError:
                where = self.options.where
                raise RedisTimeoutError(f"No free connection to {where} in {timeout} s") from None
        except BaseException:
            self._pass_on(waiter)
            raise

    def _pass_on(self, waiter: asyncio.Future[WireLink | None]) -> None:
        """A waiter that gave up: whatever it was handed goes to the next one."""
        if not waiter.done():
            waiter.cancel()
        elif not waiter.cancelled() and waiter.exception() is None:
            link = waiter.result()
            if link is None:
                self._free_slot()
            else:
                self._release(link)

    def _release(self, link: WireLink) -> None:
        if link.lost:
            self._drop(link)
            return
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(link)
                return
        self._idle.append(link)

    def _drop(self, link: WireLink) -> None:
        """A busy connection leaves the pool, closed; its slot goes on."""
        link.close()
        self._links.discard(link)
        self._free_slot()

    def _free_slot(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1

    # --- connecting ------------------------------------------------------------------
    async def _open(self) -> WireLink:
        """Connect (TCP or TLS) and greet (AUTH, SELECT...) within redis-py's timeouts."""
        opts, generation = self.options, self._generation
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(opts.connect_timeout):
                context = None if opts.ssl is None else opts.ssl()
                _, link = await loop.create_connection(
                    lambda: WireLink(opts.where, opts.read_timeout, self.link_lost),
                    opts.host,
                    opts.port,
                    ssl=context,
                )
        except TimeoutError:
            raise RedisTimeoutError(f"Timeout connecting to {opts.where}") from None
        except OSError as exc:
            raise RedisConnectionError(connect_error(opts.where, exc)) from exc
        self._links.add(link)
        try:
            if generation != self._generation:
                raise RedisConnectionError("Connection pool closed")
            link.set_keepalive(opts.keepalive)
            await self._greet(link)
        except BaseException:
            self._links.discard(link)
            link.close()
            raise
        return link

    async def _greet(self, link: WireLink) -> None:
        """redis-py's on_connect, pipelined: errors are judged in the same order."""
        steps = self.options.hello
        if not steps:
            return
        replies = await link.request(self._hello, len(steps))
        for step, reply in zip(steps, replies, strict=True):
            if step.not_ok is None:
                if isinstance(reply, RedisError) and not isinstance(reply, ResponseError):
                    raise reply
            elif isinstance(reply, RedisError):
                raise reply
            elif reply != b"OK":
                kind, message = step.not_ok
                raise kind(message)
