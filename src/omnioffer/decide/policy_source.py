"""The live policy: the `[policy]` table of the settings file, re-read without a restart.

Every worker process keeps its own PolicySource and re-reads the file at most every
`poll_s` seconds (on the request path, like the model holder), so an edit reaches all
workers with no signal to deliver to each; `reload()` (the admin route) applies it
now and reports. A file whose policy is invalid is refused, logged once, and the
policy in force keeps serving until the file is fixed. Without a settings file the
policy is the one the service started with.
"""

from __future__ import annotations

import contextlib
import logging
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

from omnioffer.decide.policy import Policy, load_policy
from omnioffer.errors import PolicyRefusedError, UsageError

log = logging.getLogger("omnioffer.serve")


class PolicySource:
    def __init__(
        self,
        initial: Policy,
        path: Path | None = None,
        *,
        poll_s: float = 0.5,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path, self._poll, self._monotonic = path, poll_s, monotonic
        self._policy = initial
        self._refused: str | None = None  # why the file as last read was refused
        self._seen: bytes | None = _read(path) if path is not None else None  # as started
        self._checked = monotonic()

    def current(self) -> Policy:
        """The policy in force, after picking up a changed file if it is time to look."""
        if self.path is not None and self._monotonic() - self._checked >= self._poll:
            with contextlib.suppress(UsageError):  # refused and logged by reload():
                self.reload()  # the old policy keeps serving
        return self._policy

    def reload(self) -> Policy:
        """Re-read the file now. UsageError (naming file and key) if it is unreadable or
        its policy invalid; the policy in force is then unchanged."""
        if self.path is None:
            raise PolicyRefusedError("the service was started without a settings file (--config)")
        self._checked = self._monotonic()
        text = _read(self.path)
        if text != self._seen:  # parse (and log a refusal) once per version of the file
            self._seen, self._refused = text, None
            try:
                policy = _parse(self.path, text)
            except UsageError as exc:
                self._refused = str(exc)
                log.error("policy refused, keeping the one in force: %s", exc)
            else:
                if policy != self._policy:
                    log.info("policy reloaded from %s", self.path)
                self._policy = policy
        if self._refused is not None:
            raise PolicyRefusedError(self._refused)
        return self._policy


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _parse(path: Path, text: bytes | None) -> Policy:
    if text is None:
        raise UsageError(f"cannot read the settings file {path}")
    try:
        raw = tomllib.loads(text.decode()).get("policy", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"settings file {path} is not valid TOML: {exc}") from exc
    if not isinstance(raw, dict):
        raise UsageError(f"[policy] in {path} must be a table")
    try:
        return load_policy(raw)
    except UsageError as exc:
        raise UsageError(f"{exc} in {path}") from exc
