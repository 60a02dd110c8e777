"""TCP_NODELAY on every connection when uvicorn runs several workers.

With `workers > 1` uvicorn binds the listening socket itself with `proto` 0; the
workers receive it pickled, accepted sockets inherit that proto, and asyncio only
sets TCP_NODELAY on sockets whose proto is IPPROTO_TCP. Without it Nagle holds each
response body (written after its headers) until the client's delayed ACK: about
40 ms on every keep-alive request after the first (uvicorn issue #3149;
docs/benchmarks.md measured 52 ms against 8 ms for one decision). The patch rebinds
the listener's file descriptor as an IPPROTO_TCP socket; nothing else changes.
"""

from __future__ import annotations

import socket

_PATCHED = "_omnioffer_nodelay"


def patch_uvicorn_nodelay() -> None:
    """Make uvicorn's own listening socket report IPPROTO_TCP (idempotent)."""
    from uvicorn.config import Config

    if getattr(Config.bind_socket, _PATCHED, False):
        return
    original = Config.bind_socket

    def bind_socket(self: Config) -> socket.socket:
        return tcp_listener(original(self))

    setattr(bind_socket, _PATCHED, True)
    Config.bind_socket = bind_socket  # type: ignore[method-assign]


def tcp_listener(sock: socket.socket) -> socket.socket:
    """The same listening socket as an IPPROTO_TCP one (unix sockets are returned as-is)."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto != 0:
        return sock
    tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    tcp.set_inheritable(True)
    return tcp
