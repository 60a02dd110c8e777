"""The served OpenAPI document is whole: every reference resolves, and every msgspec
struct a route takes or answers is described by msgspec's own schema (with the rules of
contracts/http_schema), not Litestar's approximation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
from litestar import Litestar
from litestar.testing import TestClient

from omnioffer.api import openapi
from omnioffer.contracts import http
from omnioffer.contracts.http_schema import REF_TEMPLATE


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_reference_of_the_document_resolves(client: TestClient[Litestar]) -> None:
    document = client.get("/schema/openapi.json").json()
    names = set(document["components"]["schemas"])
    refs = set(_refs(document))
    assert refs, "the document references its components"
    assert {r.removeprefix("#/components/schemas/") for r in refs} <= names
    yaml = client.get("/schema/openapi.yaml")
    assert yaml.status_code == 200 and "additionalProperties: false" in yaml.text


def test_every_struct_a_route_takes_or_answers_is_msgspecs_own(
    app: Litestar, client: TestClient[Litestar]
) -> None:
    schemas = client.get("/schema/openapi.json").json()["components"]["schemas"]
    structs = openapi.route_structs(app)
    assert {s.__name__ for s in structs} >= {"DecisionRequest", "EventsRequest", "Problem"}
    _, expected = msgspec.json.schema_components(structs, ref_template=REF_TEMPLATE)
    for name in expected:
        cls = getattr(http, name, None)
        if isinstance(cls, type) and issubclass(cls, http.Body):  # refuses unknown fields
            assert schemas[name]["additionalProperties"] is False, name
        assert set(schemas[name]["properties"]) == set(expected[name]["properties"]), name
