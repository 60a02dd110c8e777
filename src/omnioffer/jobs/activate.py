"""Make a version current in the registry and served by the store, both or neither.

`omnioffer activate V --store S` touches two places, the registry's `current` pointer
and the store's active version. Everything that can be checked is checked first (the
version's checksums in the registry; in the store, that V is materialized and
ready), then the registry switches, then the store; if the store's switch still fails
(it went away between check and switch), the registry switch is undone, so the two
never name different versions because of this command.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from omnioffer.errors import OmniofferError
from omnioffer.registry import get_current, set_current, unset_current, verify_version
from omnioffer.store.base import FeatureStore, StoreError


class ActivationError(OmniofferError):
    """Activation failed; says what was switched back (exit code 1)."""


async def check_store_has(store: FeatureStore, version: str) -> None:
    """StoreError unless `version` is materialized in the store and ready to serve."""
    found = {v.name: v for v in await store.list_versions()}
    info = found.get(version)
    if info is None:
        ready = ", ".join(n for n, v in found.items() if v.state == "ready") or "none"
        raise StoreError(
            f"the feature store has no version {version} (materialized: {ready}); "
            f"run `omnioffer materialize --version {version}` first; nothing was changed"
        )
    if info.state != "ready":
        raise StoreError(
            f"version {version} is {info.state} in the feature store, not ready; "
            "re-run `omnioffer materialize`; nothing was changed"
        )


async def activate(models_dir: Path, version: str, store: FeatureStore | None) -> str | None:
    """Switch registry and store (when given) to `version`; returns the registry's
    previous current version. On any failure, both name what they named before."""
    await asyncio.to_thread(verify_version, models_dir, version)
    if store is not None:
        await check_store_has(store, version)
    previous = await asyncio.to_thread(get_current, models_dir)
    await asyncio.to_thread(set_current, models_dir, version, verify=False)
    if store is None:
        return previous
    try:
        await store.activate(version)
    except OmniofferError as exc:
        await asyncio.to_thread(_restore, models_dir, previous)
        raise ActivationError(
            f"the feature store did not switch to {version} ({exc}); the registry is "
            f"back on {previous or 'no current version'}, the store unchanged"
        ) from exc
    return previous


def _restore(models_dir: Path, previous: str | None) -> None:
    if previous is None:
        unset_current(models_dir)
    else:
        set_current(models_dir, previous, verify=False)
