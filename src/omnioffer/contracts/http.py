"""Request and response bodies of the HTTP API (public contract: change only on purpose).

msgspec validates types, ranges and sizes while decoding, so a bad body is refused
with the JSON path of the first offending field before any handler runs.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec

from omnioffer.contracts.experiments import Experiment, Exposure, Holdout

# Braces are refused in ids (they would break the store's Redis Cluster hash tags), and
# ':' and white space in names (identifier types and channels are key separators).
# Patterns mean the same to msgspec (Python `re`, which validates) and to JSON Schema
# (ECMA-262, which clients and fuzzers read): white space is spelled out as the union of
# both engines' `\s`, and `(?!\n)` stops Python's `$` from accepting a trailing newline.
WHITE_SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
ID_PATTERN = r"^[^{}]+$"
NAME_PATTERN = rf"^[^{{}}:{WHITE_SPACE}]+$(?!\n)"
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=ID_PATTERN)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NAME_PATTERN)]
Score = float

# Event timestamps: epoch seconds in [EARLIEST_TS, LATEST_TS] (1970 .. 2100), or an
# ISO 8601 string of this grammar: YYYY-MM-DD, optionally [T or space]HH:MM[:SS[.f]]
# (1-9 digits) and a zone (Z, +HH, +HHMM, +HH:MM; none = UTC), a real calendar date of
# 1970..2099. It is a regular expression so the OpenAPI document can state it exactly
# ([0-9], not \d: Python's \d also matches other scripts' digits, ECMA's does not).
EARLIEST_TS, LATEST_TS = 0.0, 4_102_444_800.0
_YEAR = r"(?:19[7-9][0-9]|20[0-9][0-9])"
_LEAP_YEAR = r"(?:197[26]|198[048]|199[26]|20[02468][048]|20[13579][26])"
_MONTH_DAY = (
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"  # every month has 1..28
    r"|(?:0[13-9]|1[0-2])-(?:29|30)"  # all but February have 29 and 30
    r"|(?:0[13578]|1[02])-31)"
)
_TIME = r"[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,9})?)?"
_ZONE = r"(?:Z|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)"
ISO_TIMESTAMP = rf"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)(?:{_TIME}{_ZONE}?)?"

EventType = Literal[
    "view",
    "add_to_cart",
    "purchase",
    "return",
    "offer_impression",
    "offer_click",
    "offer_redeem",
    "offer_dismiss",
]
Outcome = Literal["impression", "click", "redeem", "dismiss"]

MAX_EVENTS_PER_BATCH = 1_000


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Every request body: unknown fields are an error, not silently ignored."""


class Who(Body, kw_only=True):
    """A customer, by id or by one of their identifiers (cookie, email hash, card...)."""

    customer_id: Id | None = None
    id_type: Name | None = None
    id_value: Id | None = None


class DecisionContext(Body, kw_only=True):
    device: Name | None = None
    store_id: Id | None = None
    cart: Annotated[list[Id], msgspec.Meta(max_length=100)] = []


class DecisionRequest(Who, kw_only=True):
    channel: Name
    k: Annotated[int, msgspec.Meta(ge=1, le=50)] = 5
    placement: Name | None = None
    context: DecisionContext | None = None
    dry_run: bool = False  # a preview: nothing stored, nothing counted
    explain: Annotated[list[Id], msgspec.Meta(max_length=50)] = []  # offers to answer for


class OfferOut(msgspec.Struct, kw_only=True):
    offer_id: str
    title: str
    rank: int
    propensity: float
    value: float
    priority: float
    reasons: list[str]


class OfferVerdict(msgspec.Struct, kw_only=True, omit_defaults=True):
    """For an offer the request named in `explain`: served at `rank`, or the stage and
    rule that kept it out."""

    offer_id: str
    served: bool
    rank: int | None = None
    stage: str | None = None  # catalog, eligibility, contact, budget, arbitration, diversity
    code: str | None = None
    reason: str | None = None


class DecisionResponse(msgspec.Struct, kw_only=True, omit_defaults=True):
    decision_id: str
    customer_id: str | None
    channel: str
    model_version: str | None
    offers: list[OfferOut]
    fallback: str | None
    dry_run: bool = False  # only in a preview's answer (true): not recorded, not counted
    explained: list[OfferVerdict] = []  # one per offer the request named in `explain`
    empty_reasons: dict[str, int] = {}  # no offers: how many offers each rule removed
    experiments: list[Exposure]  # the experiments it ran under ([] none): always present
    holdout: bool = False  # only when true: the customer is in the universal holdout


class RecommendationRequest(Who, kw_only=True):
    channel: Name
    k: Annotated[int, msgspec.Meta(ge=1, le=100)] = 10
    exclude: Annotated[list[Id], msgspec.Meta(max_length=1_000)] = []


class ItemOut(msgspec.Struct, kw_only=True):
    item_id: str
    score: float
    reasons: list[str]


class RecommendationResponse(msgspec.Struct, kw_only=True):
    customer_id: str | None
    model_version: str | None
    items: list[ItemOut]
    fallback: str | None
    experiments: list[Exposure] = []
    holdout: bool = False


class SimilarResponse(msgspec.Struct, kw_only=True):
    item_id: str
    model_version: str | None
    items: list[ItemOut]


class EventIn(Who, kw_only=True):
    """One data-contract v1 event (timestamps: ISO 8601, naive = UTC, or epoch seconds)."""

    timestamp: str | float
    event_type: EventType
    channel: Name
    item_id: Id | None = None
    offer_id: Id | None = None
    quantity: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1
    revenue: float | None = None
    event_id: Id | None = None
    session_id: Id | None = None


class EventsRequest(Body, kw_only=True):
    events: Annotated[list[EventIn], msgspec.Meta(min_length=1, max_length=MAX_EVENTS_PER_BATCH)]


class EventsResponse(msgspec.Struct, kw_only=True):
    accepted: int
    duplicates: int


class FeedbackRequest(Body, kw_only=True):
    decision_id: Id
    offer_id: Id
    outcome: Outcome
    channel: Name


class FeedbackResponse(msgspec.Struct, kw_only=True):
    accepted: bool
    duplicate: bool


class PolicyReloaded(msgspec.Struct, kw_only=True):
    source: str  # the settings file read
    policy: dict[str, Any]  # every [policy] key, defaults included, now in force


class Readiness(msgspec.Struct, kw_only=True):
    ready: bool
    store: str  # "ok" or why not
    model_version: str | None


# PUT /v1/customers/{customer_id}/consent: channel -> granted, for configured channels
ConsentRequest = Annotated[dict[Name, bool], msgspec.Meta(min_length=1, max_length=64)]
_MEMBER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def member_path(name: str, at: str = "$") -> str:
    """The JSON path of an object's member: `$.email`, or `$["call center"]`."""
    return f"{at}.{name}" if _MEMBER.match(name) else f"{at}[{msgspec.json.encode(name).decode()}]"


class ConsentResponse(msgspec.Struct, kw_only=True):
    customer_id: str
    consent: dict[str, bool]  # the whole live overlay now (every channel ever set live)


class ErasureResponse(msgspec.Struct, kw_only=True):
    customer_id: str
    erased: bool  # whether anything was stored for the customer
    removed: dict[str, int]  # per family (store/families.FAMILIES): items removed
    tombstones: int  # digests written (the customer's and each identifier's)
    detail: str


class ExperimentsOut(msgspec.Struct, kw_only=True):
    """`GET /v1/experiments`: every definition and the set's version (its checksum)."""

    checksum: str
    experiments: list[Experiment]


class ExperimentOut(msgspec.Struct, kw_only=True):
    """One experiment and the version of the set it is in (`If-Match` for a write)."""

    checksum: str
    experiment: Experiment


class HoldoutOut(msgspec.Struct, kw_only=True):
    checksum: str
    holdout: Holdout
