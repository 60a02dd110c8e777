"""The embedded backend: EmbeddedStore, one SQLite file with its schema, event steps and
expiry (no server to run; the default store)."""

from __future__ import annotations

from omnioffer.store.sqlite.store import SCHEMA_VERSION, EmbeddedStore

__all__ = ["SCHEMA_VERSION", "EmbeddedStore"]
