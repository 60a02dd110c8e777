"""Shared by the benchmark scripts: run an `omnioffer` command in a child process
and read the children's peak RSS."""

from __future__ import annotations

import resource
import subprocess
import sys
import time


def run_omnioffer(*args: str) -> float:
    """Run `omnioffer -q ARGS...` in a fresh process; return its wall time in seconds."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "omnioffer", "-q", *args], check=True)
    return time.perf_counter() - start


def children_peak_rss_gib() -> float:
    """Largest resident set of any child so far (ru_maxrss is a running maximum)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / (1024 * 1024)
