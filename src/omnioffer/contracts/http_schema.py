"""The JSON Schema of the HTTP bodies, as the OpenAPI document states it.

msgspec derives each struct's schema from contracts/http.py itself (types, lengths,
patterns, list and integer bounds, `additionalProperties: false` where unknown fields
are refused), so the document cannot drift from what the service decodes. Added here
are the rules msgspec cannot see, which the decision stages enforce (with a 422): the
configured channels, "customer_id, or id_type + id_value", not an `anon:` pseudo-id,
an item event's item_id and an offer event's offer_id, and the timestamp grammar and
range. Rules that depend on the moment or the stored data (a timestamp ahead of the
service clock, an unknown decision, an offer that was not in it) cannot be stated in a
schema; docs/api.md lists them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from omnioffer.contracts import http
from omnioffer.contracts.schema import ITEM_EVENT_TYPES, OFFER_EVENT_TYPES

REF_TEMPLATE = "#/components/schemas/{name}"
JsonSchema = dict[str, Any]

_STRING = {"type": "string"}
IDENTITY_RULE = "customer_id, or id_type + id_value (both or neither)"
KIND_RULE = "item events (view, add_to_cart, purchase, return) need item_id; offer events offer_id"


def component_schemas(
    channels: Sequence[str], types: Iterable[type[msgspec.Struct]]
) -> dict[str, JsonSchema]:
    """The component schema of every struct in `types` and of those they nest (by struct
    name), with the rules."""
    _, components = msgspec.json.schema_components(tuple(types), ref_template=REF_TEMPLATE)
    for name, schema in components.items():
        cls = getattr(http, name, None)  # every request body (and what it nests) is there
        if isinstance(cls, type) and issubclass(cls, http.Body):
            _request_rules(cls, schema, channels)
    return components


def _request_rules(cls: type[http.Body], schema: JsonSchema, channels: Sequence[str]) -> None:
    properties: dict[str, JsonSchema] = schema["properties"]
    rules: list[JsonSchema] = []
    if "channel" in properties:
        properties["channel"]["enum"] = list(channels)
    if issubclass(cls, http.Who):
        _string_branch(properties["customer_id"])["not"] = {
            "pattern": "^anon:",
            "description": "an anonymous pseudo-id: name the visitor by id_type + id_value",
        }
        rules.append(identity_rule())
    if cls is http.EventIn:
        rules.append(kind_rule())
        properties["timestamp"] = timestamp_schema()
    if rules:
        schema["allOf"] = rules


def identity_rule() -> JsonSchema:
    """customer_id alone, or the identifier pair (with or without customer_id); null is
    absent. The branches exclude each other (anyOf only spares generators a check)."""
    pair = {"required": ["id_type", "id_value"],
            "properties": {"id_type": _STRING, "id_value": _STRING}}  # fmt: skip
    alone = {"required": ["customer_id"],
             "properties": {"customer_id": _STRING, "id_type": {"type": "null"},
                            "id_value": {"type": "null"}}}  # fmt: skip
    return {"description": IDENTITY_RULE, "anyOf": [alone, pair]}


def kind_rule() -> JsonSchema:
    return {
        "description": KIND_RULE,
        "anyOf": [
            {"required": ["item_id"], "properties": {
                "event_type": {"enum": list(ITEM_EVENT_TYPES)}, "item_id": _STRING}},
            {"required": ["offer_id"], "properties": {
                "event_type": {"enum": list(OFFER_EVENT_TYPES)}, "offer_id": _STRING}},
        ],
    }  # fmt: skip


def timestamp_schema() -> JsonSchema:
    return {
        "description": "epoch seconds, or ISO 8601 (no zone = UTC), 1970..2100; at most "
        "max_clock_skew_s after the service clock (a 422 otherwise)",
        "anyOf": [
            {"type": "string", "pattern": f"^{http.ISO_TIMESTAMP}$(?!\\n)"},
            {"type": "number", "minimum": http.EARLIEST_TS, "maximum": http.LATEST_TS},
        ],
    }


def _string_branch(schema: JsonSchema) -> JsonSchema:
    """The string schema of an optional field (`anyOf: [string, null]`)."""
    branches: list[JsonSchema] = schema.get("anyOf", [schema])
    return next(b for b in branches if b.get("type") == "string")
