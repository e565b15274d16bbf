"""/api/v1/openapi.json: generated, complete, and every reference resolves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ioffice.api import openapi
from ioffice.api.views import api

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    return resp.get_json()


def _api_rules(app: Flask) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                found.append((openapi._PARAM.sub(r"{\g<name>}", rule.rule), method.lower()))
    return found


def test_is_openapi_31_served_without_a_token(document: dict) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["paths"]["/api/v1/openapi.json"]["get"]["security"] == []


def test_every_registered_route_is_documented(app: Flask, document: dict) -> None:
    rules = _api_rules(app)
    assert len(rules) >= 20
    for path, method in rules:
        assert method in document["paths"].get(path, {}), f"{method.upper()} {path} undocumented"
    documented = {(p, m) for p, ops in document["paths"].items() for m in ops if m in HTTP_METHODS}
    assert documented == set(rules)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(document: dict, ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_every_reference_resolves(document: dict) -> None:
    refs = set(_refs(document))
    assert "#/components/schemas/DocumentOut" in refs
    for ref in refs:
        target = _resolve(document, ref)
        assert isinstance(target, dict) and target, ref


def test_operations_are_complete(document: dict) -> None:
    ids = []
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            ids.append(op["operationId"])
            assert op["summary"]
            assert any(code.startswith("2") for code in op["responses"]), (method, path)
            params = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert params == {seg[1:-1] for seg in path.split("/") if seg.startswith("{")}
            if op.get("security") != []:
                assert "401" in op["responses"]
            for resp in op["responses"].values():
                assert resp["description"]
    assert len(ids) == len(set(ids))


def test_schemas_come_from_the_code(document: dict) -> None:
    register = document["paths"]["/api/v1/documents"]["post"]
    multipart = register["requestBody"]["content"]["multipart/form-data"]["schema"]
    # the form model's schema with the files part added (an allOf with the model, which forbids
    # other properties, could match nothing: schemathesis found it unsatisfiable)
    form = multipart
    assert {"issuer_name", "number", "document_date", "doc_type", "subject", "files"} <= set(
        form["required"])
    assert form["additionalProperties"] is False
    assert "quyet_dinh" in form["properties"]["doc_type"]["enum"]
    assert form["properties"]["files"]["items"]["contentMediaType"] == "application/pdf"
    assert set(register["responses"]) >= {"201", "401", "403", "409", "413", "422"}
    to_handle = document["paths"]["/api/v1/queues/to-handle"]["get"]
    which = next(p for p in to_handle["parameters"] if p["name"] == "which")
    assert which["schema"]["enum"] == ["all", "overdue", "due_soon"]
    download = document["paths"]["/api/v1/documents/{document_id}/files/{file_id}"]["get"]
    assert "application/pdf" in download["responses"]["200"]["content"]


def test_scopes_idempotency_and_links_are_documented(document: dict) -> None:
    paths = document["paths"]
    sign = paths["/api/v1/outgoing/{outgoing_id}/sign-pin"]["post"]
    assert sign["x-scope"] == "sign" and sign["security"] == [{"bearerAuth": ["sign"]}]
    assert paths["/api/v1/outgoing"]["get"]["x-scope"] == "read"
    assert paths["/api/v1/outgoing/{outgoing_id}/submit"]["post"]["x-scope"] == "write"
    draft = paths["/api/v1/outgoing"]["post"]
    key = next(p for p in draft["parameters"] if p["name"] == "Idempotency-Key")
    assert key["in"] == "header" and "409" in draft["responses"]
    assert not any(p["name"] == "Idempotency-Key"
                   for p in paths["/api/v1/outgoing/{outgoing_id}/submit"]["post"]["parameters"])
    links = draft["responses"]["201"]["links"]
    assert links["get_outgoing"] == {
        "operationId": "get_outgoing", "parameters": {"outgoing_id": "$response.body#/id"},
        "description": links["get_outgoing"]["description"]}
    # every operation with a token can answer 401 and 403 in the one error shape
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path, methods in paths.items():
        for method, op in methods.items():
            if op.get("security") == []:
                continue
            for status in ("401", "403"):
                assert op["responses"][status]["content"]["application/json"]["schema"] == error, (
                    method, path, status)


def test_a_route_outside_the_registry_fails_generation(app: Flask) -> None:
    app.add_url_rule("/api/v1/rogue", "api_v1.rogue", lambda: "")
    with app.app_context(), pytest.raises(LookupError, match="/api/v1/rogue"):
        openapi.build(app, api)


def test_unknown_api_path_and_wrong_method_answer_json(client) -> None:
    missing = client.get("/api/v1/khong-co")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    wrong = client.delete("/api/v1/openapi.json")
    assert wrong.status_code == 405 and wrong.json["error"]["code"] == "method_not_allowed"
