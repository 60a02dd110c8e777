"""The store gate: once a read has found the store unavailable, one request at a time asks
it again (the probe) and every other read serves the fallback at once instead of
waiting `store_timeout_s` too.

A hung store (a stopped process: connections open, nothing answers) costs every read
its full timeout; without the gate, throughput under a hang falls to in-flight
requests / timeout. The first answer from the store, to the probe or to any read
already in flight, opens the gate again, so the model is back within one store round
trip of the store answering (at most `store_timeout_s` after it resumes).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from omnioffer.store.base import StoreUnavailable


class StoreGate:
    """Whether a read should ask the store; `down` until the store answers a read again."""

    def __init__(self) -> None:
        self.down = False
        self._probing = False
        self.skipped = 0  # reads that served the fallback without asking (for tests)

    def closed(self) -> bool:
        """True: serve the fallback without asking (the store is down, a probe is out)."""
        if self.down and self._probing:
            self.skipped += 1
            return True
        return False

    @contextmanager
    def asking(self) -> Iterator[None]:
        """Around one read of the store: StoreUnavailable or a timeout marks it down, an
        answer marks it up (other errors say nothing about the store); a read made
        while it is down is the probe."""
        probe = self.down
        if probe:
            self._probing = True
        try:
            yield
        except (StoreUnavailable, TimeoutError):
            self.down = True
            raise
        else:
            self.down = False
        finally:
            if probe:
                self._probing = False
