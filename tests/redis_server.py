"""A private redis-server process for tests, restartable on the same port (outage tests),
and able to hang (SIGSTOP) and resume (SIGCONT) or die at once (SIGKILL)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

START_DEADLINE_S = 10.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


def require_redis_server() -> None:
    """Redis tests never skip silently: a missing server is a broken test setup."""
    if redis_server_binary() is None:
        pytest.fail(
            "redis-server is not installed: install it (apt-get install redis-server) "
            "or set REDIS_URL to a Redis the tests may use"
        )


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith((b"+PONG", b"-NOAUTH"))  # up, with a password
    except OSError:
        return False


class RedisServer:
    """redis-server without persistence in its own temp dir; start() waits for PING.

    `extra_args` go to redis-server as they are (e.g. "--requirepass", "pw"; or
    "--appendonly", "yes": the data then survives kill() + start(), same dir).
    """

    def __init__(self, port: int | None = None, extra_args: Sequence[str] = ()) -> None:
        self.port = port if port is not None else free_port()
        self.extra_args = list(extra_args)
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="oo-redis-"))

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = redis_server_binary()
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", str(self._dir), *self.extra_args]
        self._proc = subprocess.Popen(
            [binary, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_DEADLINE_S
        while not _answers_ping(self.port):
            if self._proc.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} exited at start")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server on port {self.port} not up after 10 s")
            time.sleep(0.01)  # polling interval, not synchronisation
        return self

    def _signal(self, sig: signal.Signals) -> None:
        if self._proc is None:
            raise RuntimeError(f"redis-server on port {self.port} is not running")
        os.kill(self._proc.pid, sig)

    def pause(self) -> None:
        """SIGSTOP: the server hangs; its kernel still accepts connections and bytes."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT: the server goes on, with whatever its sockets received meanwhile."""
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL (no shutdown save) and wait until the process is gone."""
        self._signal(signal.SIGKILL)
        assert self._proc is not None
        self._proc.wait(timeout=10)
        self._proc = None

    def stop(self) -> None:
        """Terminate and wait until the process is gone (its port is then closed)."""
        if self._proc is None:
            return
        os.kill(self._proc.pid, signal.SIGCONT)  # a paused server would never see SIGTERM
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)
        self._proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
