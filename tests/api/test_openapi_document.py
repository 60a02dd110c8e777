"""The served OpenAPI document is whole: every reference resolves to a component of
contracts/http_schema, and a route whose struct that module does not know stops the app
at creation instead of serving a document with a dangling reference."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from omnioffer.api import openapi
from omnioffer.api.app import create_app
from omnioffer.settings import Settings


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


def test_a_struct_the_contract_schemas_lack_stops_the_app(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, fake: Any
) -> None:
    real = openapi.component_schemas

    def without_similar(channels: Any, extra: Any = ()) -> dict[str, Any]:
        return {k: v for k, v in real(channels, extra).items() if k != "SimilarResponse"}

    monkeypatch.setattr(openapi, "component_schemas", without_similar)
    with pytest.raises(RuntimeError, match="add SimilarResponse to contracts/http_schema"):
        create_app(settings, decider=fake)
