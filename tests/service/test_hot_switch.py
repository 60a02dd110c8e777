"""`omnioffer activate` switches a running multi-worker server to another model version
(and back) under load: no request fails, and once every worker has switched nobody is
served the old version again. Real processes: `omnioffer serve --workers 2` over an
embedded store file, and the `omnioffer activate` command."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from omnioffer.contracts.payloads import CATALOG, decode_catalog
from omnioffer.jobs.materialize import materialize
from omnioffer.registry import get_current
from omnioffer.store import open_store
from redis_server import free_port
from served_version import AS_OF_DAYS, iso

if TYPE_CHECKING:  # training is imported only when the fixture trains
    from training.train import TrainOutcome

OMNIOFFER = Path(sys.executable).with_name("omnioffer")
THREADS = 8
STREAK = 40  # consecutive answers from the new version that mean "every worker switched"
SWITCH_DEADLINE_S = 20.0
START_DEADLINE_S = 60.0


@dataclass(frozen=True)
class Versions:
    models: Path
    store_url: str
    v1: str
    v2: str
    now: float  # the replay clock: one day after v1's serving cutoff


@pytest.fixture(scope="module")
def versions(
    trained: tuple[Path, TrainOutcome], retail: Path, tmp_path_factory: pytest.TempPathFactory
) -> Versions:
    """Two versions in one registry (a copy: the session registry stays untouched),
    both materialised into one store file, the first one active."""
    from training.train import train

    root = tmp_path_factory.mktemp("hot-switch")
    models = root / "models"
    shutil.copytree(trained[0], models)
    v1 = get_current(models)
    assert v1 is not None
    v2 = train(retail / "data", models, progress=False, force=True).version
    assert v2 is not None and v2 != v1
    url = f"sqlite:///{root / 'store.sqlite'}"

    async def load() -> float:
        store = open_store(url)
        try:
            await materialize(store, models, v2, activate=False)
            await materialize(store, models, v1)  # activates v1
            blob = await store.get_global(v1, CATALOG)
            assert blob is not None
            return decode_catalog(blob).cutoff
        finally:
            await store.close()

    cutoff = asyncio.run(load())
    return Versions(models, url, v1, v2, cutoff + timedelta(days=AS_OF_DAYS).total_seconds())


def _log_tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while True:
        try:
            if httpx.get(f"{base}/health/ready", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        assert time.monotonic() < deadline, f"not ready after 60 s:\n{_log_tail(log)}"
        try:
            proc.wait(timeout=0.05)  # the polling interval, and a check that it still runs
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"`omnioffer serve` exited with {proc.returncode}:\n{_log_tail(log)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server (it stops its workers); kill its whole process group if stuck."""
    if proc.poll() is None:
        proc.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):  # its own session: the server and workers
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=15)


@dataclass(frozen=True)
class Server:
    base: str
    log: Path


@pytest.fixture
def server(versions: Versions, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIOFFER_")}
    env["OMNIOFFER_MODEL_POLL_S"] = "0.2"
    cmd = [str(OMNIOFFER), "serve", "--workers", "2", "--port", str(port),
           "--store", versions.store_url, "--models", str(versions.models),
           "--as-of", iso(versions.now)]  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, proc, log)
        yield Server(base, log)
    finally:
        _stop(proc)


@dataclass(frozen=True)
class Answer:
    sent: float  # time.monotonic() when the request was sent
    version: str | None  # None: the request failed
    failure: str | None = None


class Load:
    """Decision requests from several threads, one new connection per request (so the
    kernel spreads them over the workers), every answer recorded in completion order."""

    def __init__(self, base: str, threads: int = THREADS) -> None:
        self.base = base
        self.answers: list[Answer] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._target: str | None = None
        self._streak = 0  # consecutive answers from the target version
        self._since = float("inf")
        self._sent_since = 0  # answers to requests sent after `_since`
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(threads)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self, n: int) -> None:
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=self.base, timeout=10.0, limits=limits) as client:
            for j in itertools.count():
                if self._stop.is_set():
                    return
                body = {"customer_id": f"c{(n + THREADS * j) % 400:07d}",
                        "channel": ("web", "app")[j % 2], "k": 5}  # fmt: skip
                self._record(self._ask(client, body))

    @staticmethod
    def _ask(client: httpx.Client, body: Mapping[str, object]) -> Answer:
        sent = time.monotonic()
        try:
            r = client.post("/v1/decisions", json=body)
            if r.status_code != 200:
                return Answer(sent, None, f"{r.status_code}: {r.text[:300]}")
            version: str = r.json()["model_version"]
            return Answer(sent, version)
        except Exception as exc:  # a connection error or a broken body is a failure too
            return Answer(sent, None, repr(exc))

    def _record(self, answer: Answer) -> None:
        with self._cond:
            self.answers.append(answer)
            self._streak = self._streak + 1 if answer.version == self._target else 0
            self._sent_since += answer.sent > self._since
            self._cond.notify_all()

    def all_serve(self, version: str, log: Path) -> float:
        """Wait for STREAK consecutive answers from `version` (every worker switched),
        then for STREAK more requests sent after that; returns when it switched."""
        with self._cond:
            self._target, self._streak = version, 0
            done = self._cond.wait_for(lambda: self._streak >= STREAK, SWITCH_DEADLINE_S)
            assert done, f"workers not all on {version} after 20 s:\n{_log_tail(log)}"
            self._since, self._sent_since = time.monotonic(), 0
            more = self._cond.wait_for(lambda: self._sent_since >= STREAK, SWITCH_DEADLINE_S)
            assert more, f"the load stalled after switching to {version}:\n{_log_tail(log)}"
            return self._since


def _activate(version: str, v: Versions) -> None:
    cmd = [str(OMNIOFFER), "activate", version, "--models", str(v.models),
           "--store", v.store_url]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _sent_between(answers: list[Answer], start: float, end: float) -> set[str | None]:
    return {a.version for a in answers if start < a.sent < end}


def test_activate_switches_every_worker_under_load_and_rolls_back(
    server: Server, versions: Versions
) -> None:
    v = versions
    with Load(server.base) as load:
        load.all_serve(v.v1, server.log)
        _activate(v.v2, v)
        switched = load.all_serve(v.v2, server.log)
        rollback = time.monotonic()
        _activate(v.v1, v)
        rolled_back = load.all_serve(v.v1, server.log)
    answers = load.answers

    failures = [a.failure for a in answers if a.failure is not None]
    assert not failures, f"{len(failures)} of {len(answers)} failed: {failures[:5]}"
    assert {a.version for a in answers} == {v.v1, v.v2}
    # Requests sent once every worker has switched get the new version only (requests
    # already in flight may finish on the model they started with).
    assert _sent_between(answers, switched, rollback) == {v.v2}
    assert _sent_between(answers, rolled_back, float("inf")) == {v.v1}

    # /metrics aggregates both workers (multiprocess mode): every decision is counted
    # whichever worker answered, and the version they all serve now reports 1.
    scraped = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(httpx.get(f"{server.base}/metrics").text)
               for s in f.samples}  # fmt: skip
    decided = sum(n for (name, _), n in scraped.items() if name == "omnioffer_decisions_total")
    assert decided == len(answers)
    assert scraped[("omnioffer_model_info", (("version", v.v1),))] == 1.0
    served = [n for (name, _), n in scraped.items() if name == "omnioffer_offers_served_total"]
    assert sum(served) > 0, "the served offers are aggregated too"
