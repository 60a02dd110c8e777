"""`omnioffer erase`: by id or by identifier, what it removed in one line, idempotent;
usage and an unreachable store are one-line errors with the right exit code."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from omnioffer.store import IdentityLink, StoredEvent
from omnioffer.store.sqlite import EmbeddedStore
from redis_server import free_port

RUN = [sys.executable, "-m", "omnioffer", "erase"]


def _erase(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUN, *args], capture_output=True, text=True, timeout=60, check=False)


def _store(path: Path) -> None:
    async def fill() -> None:
        store = EmbeddedStore(path)
        try:
            link = IdentityLink("email", "x@example.org", "anon:email:x@example.org")
            await store.ingest([StoredEvent("e1", "c7", b"one", link),
                                StoredEvent("e2", "c7", b"2"),
                                StoredEvent("a1", "anon:cookie:k9", b"anon")])  # fmt: skip
        finally:
            await store.close()

    asyncio.run(fill())


def test_erase_by_id_then_by_identifier(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    _store(path)
    url = f"sqlite:///{path}"
    done = _erase("c7", "--store", url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"erased c7 from the embedded store {path}: 2 events, 2 dedup, "
                           "2 log, 1 identities; 2 tombstone digests written\n")  # fmt: skip
    again = _erase("--store", url, "--id-type", "email", "--id-value", "x@example.org")
    assert again.returncode == 0, again.stderr  # unlinked now: its anonymous pseudo-id
    assert again.stdout.startswith("erased anon:email:x@example.org from the embedded store")
    assert "nothing was stored; 1 tombstone digests written" in again.stdout
    visitor = _erase("--id-type", "cookie", "--id-value", "k9", "--store", url)
    assert "erased anon:cookie:k9" in visitor.stdout and "1 events" in visitor.stdout


def test_erase_usage_errors_and_an_unreachable_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    for args in (("--store", url), ("c1", "--id-type", "cookie", "--id-value", "k", "--store", url),
                 ("--id-type", "cookie", "--store", url)):  # fmt: skip
        done = _erase(*args)
        assert done.returncode == 2 and done.stderr.startswith("omnioffer erase: error:"), args
        assert "Traceback" not in done.stderr
    down = _erase("c1", "--store", f"redis://127.0.0.1:{free_port()}/0")
    assert down.returncode == 1, down.stderr
    assert "run the same erase again" in down.stderr and "Traceback" not in down.stderr
