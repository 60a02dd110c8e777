"""CLI helpers that talk to the feature store: versions, activate, export-events.

The store is the one named by --store or OMNIOFFER_STORE_URL; without either, the
embedded default file is used only if it already exists (so listing versions never
creates an empty store by accident).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TextIO

from omnioffer.store import DEFAULT_EMBEDDED_PATH, open_store
from omnioffer.store.base import FeatureStore, VersionInfo


def configured_store(url: str | None, *, must_exist: bool = False) -> FeatureStore | None:
    url = url or os.environ.get("OMNIOFFER_STORE_URL") or None
    if url is None and must_exist and not Path(DEFAULT_EMBEDDED_PATH).exists():
        return None
    return open_store(url)


def store_versions(store: FeatureStore) -> list[VersionInfo]:
    async def go() -> list[VersionInfo]:
        try:
            return await store.list_versions()
        finally:
            await store.close()

    return asyncio.run(go())


def print_store_versions(store: FeatureStore, out: TextIO = sys.stdout) -> None:
    versions = store_versions(store)
    if not versions:
        print("feature store: no materialized versions", file=out)
    for v in versions:
        mark = "*" if v.active else " "
        print(f"{mark} store {v.name}  {v.state}  {v.customers} customers", file=out)


def activate_in_store(store: FeatureStore, version: str) -> None:
    async def go() -> None:
        try:
            await store.activate(version)
        finally:
            await store.close()

    asyncio.run(go())
