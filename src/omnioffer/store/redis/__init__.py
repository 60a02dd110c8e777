"""The Redis backend: RedisStore, its key layout, its Lua scripts, and the wire client
that carries a decision's two round trips."""

from __future__ import annotations

from omnioffer.store.redis.store import RedisStore

__all__ = ["RedisStore"]
