"""Per-stage timings and a progress bar over the stages of a long job."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from tqdm import tqdm

log = logging.getLogger("omnioffer.train")


class StageTimer:
    """`with timer.stage("fit"):` logs and records how long each stage took."""

    def __init__(self, names: Sequence[str], *, progress: bool = True, desc: str = "train") -> None:
        self.timings: dict[str, float] = {}
        self._bar = tqdm(
            total=len(names), desc=desc, unit="stage", disable=not progress, leave=False
        )

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self._bar.set_postfix_str(name)
        start = time.perf_counter()
        try:
            yield
        finally:
            took = time.perf_counter() - start
            self.timings[name] = round(took, 3)
            self._bar.update(1)
            log.info("stage %s took %.1f s", name, took)

    def close(self) -> None:
        self._bar.close()
