"""The OpenAPI document states every rule the service enforces, so generated clients and
fuzzers agree with it.

Litestar builds the document from the routes (paths, operations, parameters, which
problem answers each route gives); `state_rules` then puts in the component schemas of
contracts/http_schema (msgspec's own, exact, plus the cross-field and configured
rules: channel enum, identity, event kinds, timestamps) and, with a keys file, the two
ways to present a key and the scope each route needs. It runs once per app, before the
document is first served; the document is the same for every request.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from litestar.openapi.spec import OpenAPI, Operation, Reference, Schema, SecurityScheme

from omnioffer.api.auth import PROBES, is_loopback, scope_of
from omnioffer.api.controllers import Liveness
from omnioffer.api.errors import Problem
from omnioffer.contracts.http_schema import JsonSchema, component_schemas
from omnioffer.settings import Settings

SCHEMES = {
    "bearer": SecurityScheme(type="http", scheme="bearer",
                             description="Authorization: Bearer <key> (omnioffer keys create)"),
    "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header",
                             description="X-API-Key: <key> (omnioffer keys create)"),
}  # fmt: skip
METHODS = ("get", "put", "post", "delete", "patch")

# JSON Schema keyword -> the field of litestar's Schema that holds it
_FIELDS = {f.metadata.get("alias", f.name): f.name for f in dataclasses.fields(Schema)}
_SUBSCHEMA = {"items", "not", "if", "then", "else", "contains", "propertyNames",
              "additionalProperties"}  # fmt: skip
_SUBSCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
_SUBSCHEMA_MAPS = {"properties", "patternProperties", "dependentSchemas"}


def state_rules(openapi: OpenAPI, settings: Settings) -> None:
    """Put the contract's schemas (and the key requirements) into Litestar's document."""
    schemas = component_schemas(settings.channels, extra=(Problem, Liveness))
    if missing := sorted(set(openapi.components.schemas) - set(schemas)):  # a route's new struct
        raise RuntimeError(f"add {', '.join(missing)} to contracts/http_schema.STRUCTS")
    openapi.components.schemas = {name: _schema(schema) for name, schema in schemas.items()}
    if settings.keys_file is not None:
        _require_keys(openapi, open_probes=is_loopback(settings.host))


def _require_keys(openapi: OpenAPI, *, open_probes: bool) -> None:
    openapi.components.security_schemes = dict(SCHEMES)
    for path, item in (openapi.paths or {}).items():
        for method in METHODS:
            operation: Operation | None = getattr(item, method)
            if operation is None:
                continue
            scope = scope_of(path)
            if scope is not None:  # role names: the scope the key needs (OpenAPI 3.1)
                operation.security = [{name: [scope]} for name in SCHEMES]
            elif path in PROBES and not open_probes:  # any valid key
                operation.security = [{name: []} for name in SCHEMES]


def to_spec(schema: JsonSchema) -> Schema | Reference:
    """A JSON Schema (as a dict) as litestar's spec objects, which serialise it back as is."""
    if "$ref" in schema:
        return Reference(ref=schema["$ref"])
    return _schema(schema)


def _schema(schema: JsonSchema) -> Schema:
    return Schema(**{_FIELDS[key]: _convert(key, value) for key, value in schema.items()})


def _convert(key: str, value: Any) -> Any:
    if key in _SUBSCHEMA and isinstance(value, dict):
        return to_spec(value)
    if key in _SUBSCHEMA_LISTS:
        return [to_spec(v) for v in value]
    if key in _SUBSCHEMA_MAPS:
        return {name: to_spec(v) for name, v in value.items()}
    return value
