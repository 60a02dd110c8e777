"""The OpenAPI document states every rule the service enforces, so generated clients and
fuzzers agree with it.

Litestar builds the document from the routes (paths, operations, parameters, which
problem answers each route gives); `state_rules` then puts in, for every msgspec struct
a route takes or answers, the component schema of contracts/http_schema (msgspec's own,
exact, plus the cross-field and configured rules: channel enum, identity, event kinds,
timestamps) and, with a keys file, the two ways to present a key and the scope each
route needs. It runs once per app, before the
document is first served; the document is the same for every request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, get_args

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)

from omnioffer.api.auth import CONSENT, OPEN, PROBES, is_loopback, scope_of
from omnioffer.api.errors import PROBLEM_MEDIA_TYPE
from omnioffer.api.strict_body import CONSENT_PATH
from omnioffer.contracts.http_schema import REF_TEMPLATE, JsonSchema, component_schemas
from omnioffer.settings import Settings

SCHEMES = {
    "bearer": SecurityScheme(type="http", scheme="bearer",
                             description="Authorization: Bearer <key> (omnioffer keys create)"),
    "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header",
                             description="X-API-Key: <key> (omnioffer keys create)"),
}  # fmt: skip
METHODS = ("get", "put", "post", "delete", "patch")
LIVENESS = OPEN[0]  # /health/live: the one route that is never rate limited (api/app.py)
REFUSALS = {"400": "A parameter or body value of the wrong type, range or size (errors[].field).",
            "401": "No valid API key: Authorization: Bearer <key> or X-API-Key.",
            "403": "The key lacks the route's scope, or a channel the body names.",
            "429": "The key's (or address's) rate limit is spent; retry after Retry-After.",
            "431": "The request's header lines are larger than max_header_bytes."}  # fmt: skip

# JSON Schema keyword -> the field of litestar's Schema that holds it
_FIELDS = {f.metadata.get("alias", f.name): f.name for f in dataclasses.fields(Schema)}
_SUBSCHEMA = {"items", "not", "if", "then", "else", "contains", "propertyNames",
              "additionalProperties"}  # fmt: skip
_SUBSCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
_SUBSCHEMA_MAPS = {"properties", "patternProperties", "dependentSchemas"}


def state_rules(app: Litestar, settings: Settings) -> None:
    """Put the contract's schemas (and the key requirements) into the app's document."""
    openapi = app.openapi_schema
    schemas = component_schemas(settings.channels, route_structs(app))
    for name, schema in schemas.items():  # a body a handler reads itself keeps Litestar's
        openapi.components.schemas[name] = _schema(schema)
    _every_route(openapi)
    _consent_rules(openapi, settings.channels)
    if settings.keys_file is not None:
        _require_keys(openapi, open_probes=is_loopback(settings.host))


def _every_route(openapi: OpenAPI) -> None:
    """What the app's before-request checks answer on every route (api/app.py): 431, and
    429 but on /health/live; and 400 as a problem body (Litestar documents a 400 of its
    own shape on routes with parameters that list none)."""
    for path, operation in _operations(openapi):
        _refusals(operation, "431", *(() if path == LIVENESS else ("429",)))
        answer = (operation.responses or {}).get("400")
        if isinstance(answer, OpenAPIResponse) and PROBLEM_MEDIA_TYPE not in (answer.content or {}):
            _refusals(operation, "400", replace=True)


def _consent_rules(openapi: OpenAPI, channels: Sequence[str]) -> None:
    """The consent body's members are configured channels, and its customer no
    anonymous pseudo-id (decide/consent.py answers 422 otherwise)."""
    item = (openapi.paths or {}).get(CONSENT_PATH)
    operation = None if item is None else item.put
    if operation is None:
        return
    body = operation.request_body
    media = None if not isinstance(body, RequestBody) else body.content.get("application/json")
    if media is not None and isinstance(media.schema, Schema):
        media.schema.property_names = Schema(type=OpenAPIType.STRING, enum=list(channels))
    for parameter in operation.parameters or ():
        if isinstance(parameter, Parameter) and isinstance(parameter.schema, Schema):
            anonymous = "an anonymous pseudo-id: consent belongs to a customer id"
            parameter.schema.schema_not = Schema(pattern="^anon:", description=anonymous)


def _operations(openapi: OpenAPI) -> list[tuple[str, Operation]]:
    return [(path, op) for path, item in (openapi.paths or {}).items() for method in METHODS
            if (op := getattr(item, method)) is not None]  # fmt: skip


def route_structs(app: Litestar) -> list[type[msgspec.Struct]]:
    """The msgspec structs the documented routes take or answer (problems included)."""
    found: list[Any] = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not isinstance(handler, HTTPRouteHandler) or not handler.include_in_schema:
                continue
            if handler.parsed_data_field is not None:
                found.append(handler.parsed_data_field.annotation)
            answer = handler.parsed_fn_signature.return_type.annotation
            found += [answer, *get_args(answer)]  # Response[Readiness] answers a Readiness
            found += [spec.data_container for spec in (handler.responses or {}).values()]
    structs = {t for t in found if isinstance(t, type) and issubclass(t, msgspec.Struct)}
    return sorted(structs, key=lambda t: t.__name__)


def _require_keys(openapi: OpenAPI, *, open_probes: bool) -> None:
    openapi.components.security_schemes = dict(SCHEMES)
    for path, operation in _operations(openapi):
        scope = scope_of(path)
        if scope is not None:  # role names: the scope the key needs (OpenAPI 3.1)
            needs = ["admin", "events"] if scope == CONSENT else [scope]  # events: channels'
            operation.security = [{name: [s]} for s in needs for name in SCHEMES]
            _refusals(operation, "401", "403")
        elif path in PROBES and not open_probes:  # any valid key
            operation.security = [{name: []} for name in SCHEMES]
            _refusals(operation, "401")


def _refusals(operation: Operation, *statuses: str, replace: bool = False) -> None:
    """Problem answers of `operation` (kept when it lists them already, unless `replace`):
    a secured route's without the right key, whether its handler lists them or not."""
    problem = OpenAPIMediaType(schema=Reference(ref=REF_TEMPLATE.format(name="Problem")))
    responses = operation.responses if operation.responses is not None else {}
    for status in statuses:
        if replace or status not in responses:
            responses[status] = OpenAPIResponse(description=REFUSALS[status],
                                                content={PROBLEM_MEDIA_TYPE: problem})  # fmt: skip
    operation.responses = responses


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
