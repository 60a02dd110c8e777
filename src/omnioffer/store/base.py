"""The one async FeatureStore protocol every backend honours (Redis, embedded SQLite).

The store is deliberately domain-light: batch features and real-time events are
opaque bytes the decision service encodes; the store owns keys, versions,
idempotency, identity links, the durable event log and atomicity.

Two kinds of data live side by side:
- versioned batch data, written by `materialize` under a model version and served
  only once that version is activated (atomically; older versions stay until
  dropped);
- unversioned real-time state (events per customer, identity links, decisions,
  offer counters, the event log, the live consent overlay), which survives model
  switches.

Everything kept per customer belongs to one of `store/families.FAMILIES`, which
`erase_customer` removes whole; an erasure leaves a tombstone (contracts/erasure.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from omnioffer.errors import OmniofferError

VersionState = Literal["loading", "ready"]


SERVED = "served"  # the counter of decisions that served an offer (count_served)


class StoreError(OmniofferError):
    """The store was used wrongly (unknown version, dropping the active one)."""


class StoreUnavailable(OmniofferError):  # noqa: N818 - public name, kept
    """The backend cannot be reached or did not answer in time; callers degrade."""


class NothingMaterialized(StoreUnavailable):
    """The store answers but holds no active version: retrying will not help, running
    `omnioffer materialize` (or serving the store that holds one) will."""


@dataclass(frozen=True, slots=True)
class IdentityLink:
    """Bind (id_type, id_value) to the event's customer; move `anonymous_id`'s events over."""

    id_type: str
    id_value: str
    anonymous_id: str


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One ingested event, already resolved to a customer (or an anonymous pseudo-id)."""

    event_id: str
    customer_id: str
    payload: bytes
    link: IdentityLink | None = None
    counter: tuple[str, str] | None = None  # (offer_id, field) to increment by one


@dataclass(frozen=True, slots=True)
class IngestResult:
    accepted: tuple[str, ...]  # event ids recorded now, in input order
    duplicates: tuple[str, ...]  # event ids seen before (or twice in this batch)


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """What one decision reads for a customer, in one round trip."""

    batch: bytes | None  # the version's batch features, None when the customer is unknown
    events: list[bytes] = field(default_factory=list)  # real-time payloads, oldest first
    last_decision: bytes | None = None  # payload of the latest remember_decision
    consent: dict[str, bool] = field(default_factory=dict)  # the live overlay (set_consent)
    first_touch: bytes | None = None  # the customer's sticky experiment record, if any


@dataclass(frozen=True, slots=True)
class Erasure:
    """What erase_customer removed: a count per family (store/families.FAMILIES order) of
    the customer's items (events, markers, log entries, links, rows...), and how many
    tombstone digests it wrote."""

    removed: dict[str, int]
    tombstones: int

    @property
    def anything(self) -> bool:
        return any(self.removed.values())


@dataclass(frozen=True, slots=True)
class VersionInfo:
    name: str
    state: VersionState
    customers: int
    active: bool
    info: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoreLimits:
    """Retention of real-time state (every backend applies the same limits)."""

    max_events_per_customer: int = 500
    events_ttl_s: int = 90 * 86_400
    dedup_ttl_s: int = 7 * 86_400
    decision_ttl_s: int = 2 * 86_400


@dataclass(frozen=True, slots=True)
class StoreOptions:
    """How `open_store` opens a backend; the embedded store ignores the Redis-only ones."""

    limits: StoreLimits | None = None  # None: StoreLimits()
    # Redis only: the socket and connect timeout in seconds (None: RedisStore's, 0.25 s)
    timeout_s: float | None = None
    # Redis only: keep about this many newest event-log entries (None: all, until trimmed)
    log_max_len: int | None = None
    # Redis only: the password, when the URL has none (store/password.py)
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    """What one served decision writes: the feedback link (when the customer is known),
    its decision-log row, and the customer's first-touch record (when new)."""

    decision_id: str
    customer_id: str | None  # None: an unidentified request, only logged
    payload: bytes | None = None  # remember_decision's payload (None: not remembered)
    logged: bytes | None = None  # LoggedDecision JSON (None: not logged)
    first_touch: bytes | None = None  # keep_first_touch's record (None: none new)


@runtime_checkable
class FeatureStore(Protocol):
    """Every method raises StoreUnavailable when the backend is unreachable or times out."""

    limits: StoreLimits

    async def ping(self) -> None: ...

    async def close(self) -> None: ...

    # --- versions (batch data) -------------------------------------------------
    async def begin_version(self, version: str) -> None:
        """Start (or restart) loading `version`; its state becomes "loading".

        Restarting clears what an interrupted load left. StoreError for the active one.
        """

    async def put_globals(self, version: str, blobs: Mapping[str, bytes]) -> None:
        """Global blobs of a version; like put_customers, StoreError unless it is loading."""

    async def put_customers(self, version: str, rows: Sequence[tuple[str, bytes]]) -> None:
        """Batch features per customer id; called in chunks of a few thousand.

        StoreError unless the version is "loading"; rewriting an id replaces its row.
        """

    async def finish_version(self, version: str, info: Mapping[str, str]) -> None:
        """Mark the version "ready" (activatable) with its customer count and info.

        The count is of distinct customer ids; StoreError unless the version is loading.
        """

    async def activate(self, version: str) -> None:
        """Atomically make `version` the active one; StoreError unless it is ready."""

    async def active_version(self) -> str | None: ...

    async def list_versions(self) -> list[VersionInfo]:
        """Oldest begin_version first; a loading version reports the rows written so far."""

    async def drop_version(self, version: str) -> None:
        """Delete a version's batch data; StoreError for the active or an unknown one."""

    async def get_global(self, version: str, name: str) -> bytes | None: ...

    # --- per request -----------------------------------------------------------
    async def fetch_customer(self, version: str, customer_id: str) -> CustomerRecord:
        """Batch features and real-time events of one customer in one round trip."""

    async def resolve(self, id_type: str, id_value: str) -> str | None:
        """The customer an identifier is linked to (batch identities or real-time links)."""

    async def put_identities(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """Batch identity links (id_type, id_value, customer_id); unversioned."""

    # --- real-time writes ------------------------------------------------------
    async def ingest(self, events: Sequence[StoredEvent]) -> IngestResult:
        """Record new events atomically: all of the batch or none of it.

        For each event whose id was not seen for its customer within limits.dedup_ttl_s
        (event ids are scoped per customer: the same id for two customers is two
        events; a link carries the anonymous id's markers over with its events): append the
        payload to the customer's real-time list (newest last, capped, TTL
        refreshed), append (customer_id, payload) to the durable event log, apply
        its identity link (moving the anonymous id's real-time events to the
        customer, oldest first) and its counter.

        The link is applied before the event's own payload is appended, so the
        customer's list reads: own older events, the anonymous ones, this event.
        StoreError (before anything is written) for ids with braces or empty ids.
        """

    async def read_log(self, after: str | None, limit: int) -> list[tuple[str, str, bytes]]:
        """Up to `limit` log entries (entry id, customer_id, payload) after `after`, in order.

        Entry ids are opaque, backend-specific strings: pass the last one back as `after`.
        """

    async def trim_log(self, through: str) -> int:
        """Delete the log entries up to and including entry id `through` (one that
        read_log returned); how many went. Entries added after it stay. StoreError for
        an id that is not one of this backend's."""

    async def offer_counters(self, offer_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Counters per requested offer id (field -> count); {} for an offer never counted."""

    async def count_served(self, offer_ids: Sequence[str]) -> None:
        """Add 1 to each offer's "served" counter (offer_counters reads it): one more
        decision served it. Shared by every worker, for the per-offer budgets."""

    async def remember_decision(self, decision_id: str, customer_id: str, payload: bytes) -> None:
        """Keep a served decision for limits.decision_ttl_s, so feedback can find it; it
        is also the customer's last decision, which fetch_customer returns."""

    async def recall_decision(self, decision_id: str) -> tuple[str, bytes] | None: ...

    # --- the decision log and experiments (per-customer data: store/families.py) ----
    async def log_decisions(self, records: Sequence[tuple[str, bytes]]) -> None:
        """Append (customer_id or "", LoggedDecision JSON) rows to the decision log, in order.

        The decision log is its own stream/table beside the event log (never trimmed by
        trim_log); StoreError (before anything is written) for a customer id with braces.
        """

    async def read_decisions(self, after: str | None, limit: int) -> list[tuple[str, bytes]]:
        """Up to `limit` decision-log entries (entry id, JSON) after entry id `after`,
        oldest first. Entry ids are opaque and backend-specific, like read_log's."""

    async def record_decision(self, decision: RecordedDecision) -> None:
        """remember_decision, log_decisions and keep_first_touch of one served decision
        in one round trip (one transaction on the embedded store)."""

    async def keep_first_touch(self, customer_id: str, record: bytes) -> bool:
        """Store the customer's sticky first-touch record unless one exists (then the
        existing one stays); True when this one was stored. fetch_customer returns it.
        An identity link moves the anonymous id's record to the customer if the
        customer has none (ingest)."""

    async def get_experiments(self) -> tuple[str, bytes] | None:
        """The stored experiment definitions: (checksum, JSON blob); None when none."""

    async def experiments_checksum(self) -> str | None:
        """Only the checksum of the stored definitions (what a poll reads)."""

    async def put_experiments(self, checksum: str, blob: bytes, expected: str | None) -> bool:
        """Replace the definitions atomically. With `expected` (a checksum, or "" for
        "none stored yet"), only if the stored checksum is that one; False otherwise."""

    # --- privacy -----------------------------------------------------------------
    async def set_consent(
        self, customer_id: str, consent: Mapping[str, bool], payload: bytes
    ) -> dict[str, bool]:
        """Overlay `consent` (channel -> granted) on the customer's live consent and
        append (customer_id, payload) to the event log, atomically; the whole overlay
        after the change. The overlay never expires (only erasure removes it)."""

    async def erase_customer(self, customer_id: str, erased_at: float) -> Erasure:
        """Remove every family of the customer (a customer id or an anonymous pseudo-id)
        and of the anonymous ids of its identifiers, and write its tombstones: the
        customer's digest and each identifier's, at `erased_at` (a later erasure of the
        same id moves it forward).

        Idempotent, and retryable to completion: a call that fails part way (StoreUnavailable)
        leaves what it has not removed yet findable, so calling again finishes it. The
        tombstones are written first.
        """

    async def tombstones(self) -> dict[str, float]:
        """Every tombstone: digest -> erased_at (epoch seconds)."""
