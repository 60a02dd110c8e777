"""The decision log as JSON Lines of LoggedDecision (`omnioffer export-decisions`).

Each line is one record of contracts/decision_log.py, oldest first, re-encoded through
the contract (so a line that does not decode as a LoggedDecision stops the export,
naming its entry id, instead of reaching a reader). `after` continues an earlier
export: only the entries after that entry id are written. The file appears complete or
not at all. The store's tombstones are honoured as `export-events` honours them: a
record of an erased customer dated at or before its erasure (one still in flight when
it was erased) is withheld.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec

from omnioffer.contracts.decision_log import LoggedDecision, decode_line, encode_line
from omnioffer.contracts.erasure import owner_digest
from omnioffer.errors import DataError
from omnioffer.store.base import FeatureStore

PAGE = 10_000


def export_decisions(
    store: FeatureStore, out: Path, *, after: str | None = None, page: int = PAGE
) -> tuple[int, str | None]:
    """Write the log to `out`; (records written, the last entry id or None). The store
    is closed afterwards, whatever happened."""
    return asyncio.run(_export(store, out, after, page))


async def _export(
    store: FeatureStore, out: Path, after: str | None, page: int
) -> tuple[int, str | None]:
    if page < 1:
        raise ValueError(f"page must be >= 1, got {page}")
    tmp = out.with_name(f".{out.name}.tmp")
    n, last = 0, after
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tombs = await store.tombstones()
        with tmp.open("wb") as f:
            while True:
                entries = await store.read_decisions(last, page)
                for entry_id, blob in entries:
                    try:
                        record = decode_line(blob)
                    except msgspec.DecodeError as exc:
                        raise DataError(f"decision log entry {entry_id}: {exc}") from exc
                    if not _withheld(record, tombs):
                        f.write(encode_line(record))
                        n += 1
                if entries:
                    last = entries[-1][0]
                if len(entries) < page:
                    break
        tmp.replace(out)
        return n, last
    finally:
        tmp.unlink(missing_ok=True)
        await store.close()


def _withheld(record: LoggedDecision, tombs: dict[str, float]) -> bool:
    if not tombs or not record.customer_id:
        return False
    erased_at = tombs.get(owner_digest(record.customer_id))
    return erased_at is not None and record.ts <= erased_at
