"""One Redis connection of `wire`: an asyncio Protocol feeding a hiredis Reader.

It carries one round trip at a time: the commands go out in one `transport.write`, and
one future gets all N replies once hiredis has parsed them (error replies included, as
redis-py's exception objects). A timeout, reset, end of stream, protocol error or reply
nobody asked for fails the round trip in flight and closes the connection, so a reply
left unread can never reach a later caller.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Mapping
from typing import Any, cast

import hiredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from omnioffer.store.redis.wire_replies import connect_error, reply_error

SERVER_CLOSED = "Connection closed by server."  # redis-py's words for it


class WireLink(asyncio.Protocol):
    """One connection: at most one round trip in flight, its replies parsed by hiredis."""

    def __init__(
        self, where: str, timeout: float | None, on_lost: Callable[[WireLink], None]
    ) -> None:
        """`timeout` bounds the wait for each reply. `on_lost(link)` is called when the
        link fails or closes, possibly twice: it must not mind."""
        self.where = where  # host:port, for messages
        self._timeout = timeout
        self._on_lost = on_lost
        self._loop = asyncio.get_running_loop()
        self._reader = hiredis.Reader(protocolError=InvalidResponse, replyError=reply_error)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[list[Any]] | None = None
        self._replies: list[Any] = []
        self._expected = 0
        self._deadline = 0.0  # of the round trip in flight: moved by every reply
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self.lost = False  # closed, or closing: never used again
        self._failure: Exception | None = None  # why, when it was not the end of stream
        self.closed: asyncio.Future[None] = self._loop.create_future()

    # --- asyncio.Protocol ------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        waiter, replies = self._waiter, self._replies
        if waiter is None:  # nothing asked (and `replies` may be a caller's by now)
            self._fail(self._unasked(data))
            return
        reader = self._reader
        reader.feed(data)
        before = len(replies)
        try:
            while (reply := reader.gets()) is not False:
                replies.append(reply)
        except (InvalidResponse, hiredis.HiredisError) as exc:  # the stream is garbage
            self._fail(exc)
            return
        count = len(replies)
        if count > self._expected:  # as redis-py's "Connection has data"
            self._fail(RedisConnectionError(f"Unexpected data from {self.where}"))
        elif count == self._expected:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(replies)
        elif count > before and self._timeout is not None:
            self._deadline = self._loop.time() + self._timeout  # each reply, as redis-py

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        where = self.where
        reason = f"Error while reading from {where} : {exc}" if exc else SERVER_CLOSED
        self._settle(RedisConnectionError(reason))
        self._on_lost(self)
        if not self.closed.done():
            self.closed.set_result(None)

    # --- used by the pool ------------------------------------------------------------
    def request(self, payload: bytes, count: int) -> asyncio.Future[list[Any]]:
        """Send `count` packed commands; the future gets their `count` replies."""
        if self.lost or self._transport is None:
            raise self._failure or RedisConnectionError(f"Connection to {self.where} is closed")
        waiter: asyncio.Future[list[Any]] = self._loop.create_future()
        self._waiter, self._expected, self._replies = waiter, count, []
        self._transport.write(payload)
        if self._timeout is not None:
            self._deadline = self._loop.time() + self._timeout
            if self._timer is None:
                self._arm()
        return waiter

    def set_keepalive(self, options: Mapping[int, int | bytes] | None) -> None:
        """TCP keepalive as redis-py sets it."""
        sock = None if self._transport is None else self._transport.get_extra_info("socket")
        if sock is None or options is None:
            return
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            for option, value in options.items():
                sock.setsockopt(socket.IPPROTO_TCP, option, value)
        except (OSError, TypeError) as exc:
            raise RedisConnectionError(connect_error(self.where, exc)) from exc

    def close(self) -> None:
        """Drop the connection now; a round trip in flight fails."""
        self._fail(RedisConnectionError("Connection closed by the client"))

    # --- internals -------------------------------------------------------------------
    def _arm(self) -> None:
        self._timer_at = self._deadline
        self._timer = self._loop.call_at(self._deadline, self._on_timer)

    def _on_timer(self) -> None:
        """A lazy timer: round trips only move the deadline; this re-arms or fires."""
        self._timer = None
        if self._waiter is None:
            return  # idle: the next round trip arms a new one
        if self._deadline > self._timer_at:
            self._arm()
        else:
            self._fail(RedisTimeoutError(f"Timeout reading from {self.where}"))

    def _settle(self, exc: Exception) -> None:
        """Fail the round trip in flight: with an error reply already read, if any (it
        came first: redis-py, reading in order, raised it), else with `exc`."""
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            read = (reply for reply in self._replies if isinstance(reply, RedisError))
            waiter.set_exception(next(read, exc))

    def _unasked(self, data: bytes) -> Exception:
        """Why data nobody asked for ends the connection: Redis's own error if it sent
        one unasked (max number of clients reached), else redis-py's words for it."""
        self._reader.feed(data)
        try:
            reply = self._reader.gets()
        except (InvalidResponse, hiredis.HiredisError) as exc:
            return exc
        if isinstance(reply, RedisError):
            return reply
        return RedisConnectionError(f"Unexpected data from {self.where}")

    def _fail(self, exc: Exception) -> None:
        self.lost = True
        self._failure = self._failure or exc
        self._settle(exc)
        self._on_lost(self)  # an idle one leaves the pool now, not a loop turn later
        if self._transport is not None:
            self._transport.abort()  # unread replies go with it; connection_lost follows
