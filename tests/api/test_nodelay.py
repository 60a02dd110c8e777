"""The listener patch gives accepted connections TCP_NODELAY (uvicorn issue #3149)."""

from __future__ import annotations

import asyncio
import socket

from uvicorn.config import Config

from omnioffer.api.nodelay import patch_uvicorn_nodelay, tcp_listener


async def _accepted_nodelay(listener: socket.socket) -> int:
    """TCP_NODELAY of the server side of one connection accepted by asyncio."""
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def on_connect(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(on_connect, sock=listener)
    async with server:
        host, port = listener.getsockname()[:2]
        _, writer = await asyncio.open_connection(host, port)
        value = await asyncio.wait_for(seen, timeout=5)
        writer.close()
    return value


def _proto0_listener() -> socket.socket:
    """A listener as uvicorn's supervisor binds it for several workers: proto 0."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_a_proto0_listener_leaves_nagle_on_which_is_the_bug() -> None:
    assert asyncio.run(_accepted_nodelay(_proto0_listener())) == 0


def test_the_rebound_listener_gives_connections_tcp_nodelay() -> None:
    listener = tcp_listener(_proto0_listener())
    assert listener.proto == socket.IPPROTO_TCP
    assert asyncio.run(_accepted_nodelay(listener)) != 0


def test_uvicorn_binds_an_ipproto_tcp_listener_once_patched_and_patching_twice_is_harmless() -> (
    None
):
    patch_uvicorn_nodelay()
    first = Config.bind_socket
    patch_uvicorn_nodelay()
    assert Config.bind_socket is first
    sock = Config(app="omnioffer.service:app_from_env", host="127.0.0.1", port=0).bind_socket()
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert asyncio.run(_accepted_nodelay(sock)) != 0
    finally:
        sock.close()
