"""Shared by the benchmark scripts: run an `omnioffer` command in a child process
and read the children's peak RSS."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def checkout_env(checkout: Path | None) -> dict[str, str] | None:
    """The environment that runs another checkout's code (its src/ and training/ first on
    the path) with this venv's libraries; None: this checkout."""
    if checkout is None:
        return None
    root = checkout.resolve()
    return {**os.environ, "PYTHONPATH": f"{root / 'src'}{os.pathsep}{root}"}


def run_omnioffer(*args: str, env: dict[str, str] | None = None) -> float:
    """Run `omnioffer -q ARGS...` in a fresh process; return its wall time in seconds.

    With another checkout's `env`, the process starts in that checkout too: `python -m`
    puts the working directory first on the path, where this one's training/ would win."""
    cwd = None if env is None else env["PYTHONPATH"].rpartition(os.pathsep)[2]
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "omnioffer", "-q", *args], check=True, env=env, cwd=cwd)
    return time.perf_counter() - start


def children_peak_rss_gib() -> float:
    """Largest resident set of any child so far (ru_maxrss is a running maximum)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / (1024 * 1024)
