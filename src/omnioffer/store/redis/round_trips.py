"""The per-decision round trips of RedisStore: on the wire client when it takes the URL,
else on a pooled redis-py connection (unix sockets, decoded replies, wire=False)."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

import redis.asyncio as aioredis

from omnioffer.store.redis.wire import WirePool, pack
from omnioffer.store.redis.wire_options import Command, WireOptions


class RoundTrips:
    """Several commands in one write and one read on one pooled connection: what a
    non-transactional pipeline does, without its per-call bookkeeping (a decision makes
    two of these). Any failure, a cancelled wait included, drops the connection, so a
    reply left unread can never reach its next user."""

    def __init__(self, client: aioredis.Redis, wire: WireOptions | None) -> None:
        self._client = client
        self.wire_pool = None if wire is None else WirePool(wire)

    def __call__(self, *commands: Command) -> Awaitable[list[Any]]:
        if self.wire_pool is not None:
            return self.wire_pool.round_trip(pack(commands), len(commands))
        return self._redis_py(commands)

    async def close(self) -> None:
        if self.wire_pool is not None:
            await self.wire_pool.close()

    async def _redis_py(self, commands: Sequence[Command]) -> list[Any]:
        pool = self._client.connection_pool
        conn = await pool.get_connection()  # type: ignore[no-untyped-call]
        done = False
        try:
            await conn.send_packed_command(conn.pack_commands(commands))
            replies = [await conn.read_response() for _ in commands]
            done = True
            return replies
        finally:
            if not done:
                await conn.disconnect()
            await pool.release(conn)
