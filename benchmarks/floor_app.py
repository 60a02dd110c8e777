"""The floor for bench_serve.py: a bare Litestar app whose one route does one Redis GET.

    .venv/bin/python benchmarks/floor_app.py --port 8001 --redis redis://127.0.0.1:6390/0 \\
        --key 'oo:2:m:VERSION:{c:%ID%}:f'

GET /floor/{id} reads the key --key names with %ID% replaced by the id (bench_serve.py
passes a customer's batch-record key, so the floor reads the same values a decision
does) and answers {"id": ..., "bytes": <value length or -1>}. Served like `omnioffer
serve`: uvicorn, app factory, the same number of worker processes, uvloop/httptools
only when installed, a redis.asyncio client per worker with a bounded pool.

Served through `omnioffer.server.run_uvicorn`, exactly as `omnioffer serve` is
(TCP_NODELAY patch, uvloop/httptools when installed).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec
import redis.asyncio as aioredis
from litestar import Litestar, get
from litestar.datastructures import State

from omnioffer.server import run_uvicorn

URL_ENV, KEY_ENV = "FLOOR_REDIS_URL", "FLOOR_KEY"


class Floor(msgspec.Struct):
    id: str
    bytes: int


@get("/floor/{customer_id:str}")
async def floor(customer_id: str, state: State) -> Floor:
    value = await state.redis.get(state.key.replace("%ID%", customer_id))
    return Floor(id=customer_id, bytes=-1 if value is None else len(value))


def create_app() -> Litestar:
    """uvicorn factory: settings from the environment, as `omnioffer serve` workers do."""
    url, key = os.environ[URL_ENV], os.environ[KEY_ENV]

    @asynccontextmanager
    async def client(app: Litestar) -> AsyncIterator[None]:
        # Same pool bound and timeouts as the service's RedisStore.
        app.state.redis = aioredis.Redis.from_url(
            url, max_connections=64, socket_timeout=0.25, socket_connect_timeout=0.25
        )
        try:
            yield
        finally:
            await app.state.redis.aclose()

    return Litestar(route_handlers=[floor], lifespan=[client], state=State({"key": key}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis", required=True, help="redis://host:port/db")
    parser.add_argument("--key", required=True, help="key template with %%ID%%")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    os.environ[URL_ENV], os.environ[KEY_ENV] = args.redis, args.key  # workers inherit them
    run_uvicorn("floor_app:create_app", app_dir=str(Path(__file__).resolve().parent),
                host=args.host, port=args.port, workers=args.workers,
                log_level=args.log_level)  # fmt: skip


if __name__ == "__main__":
    main()
