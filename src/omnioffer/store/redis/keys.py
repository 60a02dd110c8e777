"""The one versioned Redis key layout; every key the Redis backend touches is built here.

Bump KEY_LAYOUT_VERSION when a key's meaning or encoding changes, so an old and a
new deployment never read each other's data by accident.

A customer's keys share the Redis Cluster hash tag "{c:<id>}" (always the first
"{...}" in the key), so one customer's batch row and events live in one slot and
can be read in one pipeline. That is why ids must not contain braces: every id and
version name goes through `store.checks` on its way into a key.

`CUSTOMER_KEYS` lists every unversioned per-customer key by family
(store/families.FAMILIES); with `customer_batch` (the "batch" family) that is all
erasure has to find of a customer, and a new per-customer key is added there.

Layout 2 (from 1): dedup markers, decision records, log and decision-log entries are indexed per
customer (one sorted set, one sorted set, one list), identifiers have a reverse index,
and the live consent overlay and the tombstones are new. A layout-1 store is not read:
materialize into a clean database (the old `oo:1:*` keys can then be deleted).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from omnioffer.store.base import VersionInfo, VersionState
from omnioffer.store.checks import check_id, check_id_type, check_version

KEY_LAYOUT_VERSION = 2
PREFIX = f"oo:{KEY_LAYOUT_VERSION}:"


def active() -> str:
    """Name of the active model version (a string)."""
    return f"{PREFIX}active"


def versions() -> str:
    """Hash: version name -> JSON {"state", "customers", "info", "created"}."""
    return f"{PREFIX}versions"


def version_value(state: str, customers: int, info: Mapping[str, str], created: float) -> str:
    """One versions-hash value (part of the layout: changing it bumps the version)."""
    doc = {"state": state, "customers": customers, "info": dict(info), "created": created}
    return json.dumps(doc, sort_keys=True)


def parse_version_value(
    name: str, doc: Mapping[str, Any], active: str | None, live_count: bytes | int | None
) -> VersionInfo:
    """A decoded versions-hash value; `live_count` is the running count while loading."""
    state: VersionState = "ready" if doc.get("state") == "ready" else "loading"
    count = int(doc.get("customers", 0)) if state == "ready" else int(live_count or 0)
    info = {str(k): str(v) for k, v in dict(doc.get("info", {})).items()}
    return VersionInfo(name, state, count, name == active, info)


def version_pattern(version: str) -> str:
    """SCAN MATCH pattern covering every key of a version's batch data."""
    return f"{PREFIX}m:{check_version(version)}:*"


def version_state(version: str) -> str:
    """Hash with the running "customers" count while a version loads (dropped with it)."""
    return f"{PREFIX}m:{check_version(version)}:state"


def global_blob(version: str, name: str) -> str:
    """One global blob of a version (vocabularies, item factors, ...)."""
    return f"{PREFIX}m:{check_version(version)}:g:{check_id(name, 'global name')}"


def customer_batch(version: str, customer_id: str) -> str:
    """A customer's batch features under a version."""
    cid = check_id(customer_id, "customer id")
    return f"{PREFIX}m:{check_version(version)}:{{c:{cid}}}:f"


def _tagged(customer_id: str, suffix: str) -> str:
    """A per-customer key: under the customer's hash tag, so it shares their slot."""
    return f"{PREFIX}{{c:{check_id(customer_id, 'customer id')}}}:{suffix}"


def customer_events(customer_id: str) -> str:
    """List of a customer's real-time event payloads, oldest first."""
    return _tagged(customer_id, "ev")


def identity(id_type: str, id_value: str) -> str:
    """String: the customer id an identifier is linked to."""
    return f"{PREFIX}id:{check_id_type(id_type)}:{check_id(id_value, 'identifier value')}"


def identity_member(id_type: str, id_value: str) -> str:
    """An identifier as a member of customer_identities ("type:value"; types have no ':')."""
    return f"{check_id_type(id_type)}:{check_id(id_value, 'identifier value')}"


def customer_identities(customer_id: str) -> str:
    """Set of identity_member: the identifiers linked to the customer (reverse index)."""
    return _tagged(customer_id, "ids")


def customer_seen(customer_id: str) -> str:
    """Sorted set event id -> expiry (epoch s): the idempotency markers of the customer's
    events (event ids are scoped per customer); the key expires with its newest marker."""
    return _tagged(customer_id, "seen")


def log() -> str:
    """Stream: the durable event log (fields c=customer id, p=payload)."""
    return f"{PREFIX}log"


def customer_log(customer_id: str) -> str:
    """List of the customer's log entry ids, oldest first (pruned of trimmed ones)."""
    return _tagged(customer_id, "log")


def customer_consent(customer_id: str) -> str:
    """Hash channel -> "1" | "0": the live consent overlay (never expires)."""
    return _tagged(customer_id, "consent")


def customer_decisions(customer_id: str) -> str:
    """Sorted set decision id -> expiry (epoch s): the customer's decision records."""
    return _tagged(customer_id, "dids")


def tombstones() -> str:
    """Hash digest -> erased_at (epoch s): one per erased id (contracts/erasure.py)."""
    return f"{PREFIX}erased"


def customer_last_decision(customer_id: str) -> str:
    """The payload of the customer's latest served decision (expires)."""
    return _tagged(customer_id, "ld")


def decision(decision_id: str) -> str:
    """Hash {c: customer id, p: payload} of a served decision (expires)."""
    return f"{PREFIX}d:{check_id(decision_id, 'decision id')}"


def counters(offer_id: str) -> str:
    """Hash field -> integer count of one offer (impressions, clicks, ...)."""
    return f"{PREFIX}ctr:{check_id(offer_id, 'offer id')}"


def decision_log() -> str:
    """Stream: the decision log (fields c=customer id or "", p=LoggedDecision JSON)."""
    return f"{PREFIX}dlog"


def customer_first_touch(customer_id: str) -> str:
    """The customer's sticky first-touch experiment record (no TTL; erasure deletes it)."""
    return _tagged(customer_id, "ft")


def experiments() -> str:
    """Hash {sum: checksum, blob: JSON} of the stored experiment definitions."""
    return f"{PREFIX}experiments"


def customer_decision_log(customer_id: str) -> str:
    """List of the customer's decision-log entry ids, oldest first (for erasure)."""
    return _tagged(customer_id, "dlog")


# Every unversioned key of one customer (or anonymous pseudo-id), by family; the
# "batch" family is customer_batch under each version. Erasure deletes all of them.
CUSTOMER_KEYS: Mapping[str, Callable[[str], str]] = {
    "events": customer_events,
    "dedup": customer_seen,
    "last_decision": customer_last_decision,
    "decisions": customer_decisions,
    "consent": customer_consent,
    "log": customer_log,
    "first_touch": customer_first_touch,
    "decision_log": customer_decision_log,
    "identities": customer_identities,
}
