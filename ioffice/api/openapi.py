"""The OpenAPI 3.1 document, generated from the app's URL map, the route registry and the
pydantic schemas. Nothing here is written by hand per route: a new route shows up by itself,
and a route added to the blueprint without going through the registry makes generation fail.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ioffice.agencies.permissions import RULES
from ioffice.api.routing import JSON, MULTIPART, ApiBlueprint, Operation
from ioffice.api.schemas import ErrorOut

REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"<(?:(?P<conv>[a-zA-Z_]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_CONVERTER_SCHEMAS = {"int": {"type": "integer"}, "float": {"type": "number"},
                      "uuid": {"type": "string", "format": "uuid"}}
ERROR_TEXT = {
    400: "Unreadable request (e.g. invalid JSON) or a state that forbids the operation.",
    401: "`unauthorized`: missing, invalid or revoked token, or inactive user; `token_expired`: "
         "the token is past its expiry.",
    403: "`insufficient_scope`: the token lacks the scope (`x-scope`); `forbidden`: the acting "
         "membership lacks the role (`x-roles`) or is not the person of this step.",
    404: "No such record in the acting agency (another agency's ids look the same).",
    409: "`idempotency_key_reused`: the `Idempotency-Key` was used with another request; "
         "`conflict`: the record's state forbids the operation; `already_submitted`, "
         "`duplicate_suspected` on registration.",
    410: "`gone`: the file was destroyed with its dossier (the message names the decision).",
    413: "Upload over the configured size limit.",
    415: "Wrong Content-Type.",
    422: "Invalid input; `fields` maps each field to a Vietnamese message.",
}


def build(app: Flask, api: ApiBlueprint, *, title: str = "iOffice API", version: str = "1") -> dict:
    ops = _operations(app, api)
    refs, defs = _schemas(ops)
    paths: dict[str, dict[str, Any]] = {}
    by_name = {op.endpoint.split(".", 1)[1]: op for _, op in ops}
    for path, op in ops:
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, path, refs, defs, by_name)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version,
                 "description": "JSON API of iOffice (incoming and outgoing documents). Every "
                                "error has one shape (`ErrorOut`): a `code` for programs, a "
                                "Vietnamese `message` for the end user and `fields` (field -> "
                                "message). See docs/api.md."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": defs,
                       "securitySchemes": {"bearerAuth": {
                           "type": "http", "scheme": "bearer",
                           "description": "`flask token create --scope read --scope write "
                                          "--expires 90d`, or the page «Mã truy cập API». "
                                          "Scopes: read, write, sign, admin."}}},
        "security": [{"bearerAuth": []}],
    }


def _operations(app: Flask, api: ApiBlueprint) -> list[tuple[str, Operation]]:
    """Every URL rule of the blueprint, each matched to its registered operation."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] != api.bp.name:
            continue
        op = api.operations.get(rule.endpoint)
        if op is None:
            raise LookupError(f"{rule.rule} ({rule.endpoint}) is not in the API route registry")
        found.append((_PARAM.sub(r"{\g<name>}", rule.rule), op))
    return sorted(found, key=lambda pair: pair[0])


def _schemas(ops: list[tuple[str, Operation]]) -> tuple[dict, dict]:
    inputs = {m for _, op in ops for m in (op.body, op.query) if m is not None}
    outputs = {op.response for _, op in ops if op.response is not None} | {ErrorOut}
    models: list[tuple[type[BaseModel], Any]] = (
        [(m, "validation") for m in sorted(inputs, key=lambda m: m.__name__)]
        + [(m, "serialization") for m in sorted(outputs, key=lambda m: m.__name__)])
    refs, top = models_json_schema(models, ref_template=REF)
    return refs, top.get("$defs", {})


def _ref_target(ref: dict, defs: dict) -> dict:
    return defs[ref["$ref"].rsplit("/", 1)[-1]]


def _operation(op: Operation, path: str, refs: dict, defs: dict,
               by_name: dict[str, Operation]) -> dict:
    out: dict[str, Any] = {
        "operationId": op.endpoint.split(".", 1)[1],
        "summary": op.summary,
        "tags": [op.tag] if op.tag else [],
        "parameters": _path_params(op) + (_query_params(refs[(op.query, "validation")], defs)
                                          if op.query else []) + _idempotency_param(op),
        "responses": _responses(op, refs),
    }
    if op.links:
        out["responses"][str(op.status)]["links"] = _links(op, by_name)
    if op.description:
        out["description"] = op.description
    if op.operation is not None:  # the role table's rule (docs/roles.md)
        out["x-operation"] = op.operation.value
        out["x-roles"] = sorted(r.value for r in RULES[op.operation])
    if op.auth:
        out["x-scope"] = op.scope.value
        out["security"] = [{"bearerAuth": [op.scope.value]}]
    else:
        out["security"] = []
    if op.body is not None:
        out["requestBody"] = {"required": True,
                              "content": {op.body_media: _body_schema(op, refs, defs)}}
    return out


def _links(op: Operation, by_name: dict[str, Operation]) -> dict:
    links = {}
    for name in op.links:
        target = by_name.get(name)
        if target is None:
            raise LookupError(f"{op.endpoint} links to {name}, which is not an API operation")
        params = [m["name"] for m in _PARAM.finditer(target.rule)]
        if len(params) != 1:
            raise ValueError(f"{op.endpoint} links to {name}, which has not one path parameter")
        links[name] = {"operationId": name, "parameters": {params[0]: "$response.body#/id"},
                       "description": f"The `id` of the answer is `{params[0]}` of {name}."}
    return links


def _idempotency_param(op: Operation) -> list[dict]:
    if not op.idempotent:
        return []
    return [{"name": "Idempotency-Key", "in": "header", "required": False,
             "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                        "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$"},
             "description": "A key of the client's (e.g. a UUID) for this request: a retry with "
                            "the same key and body answers the first response again "
                            "(`Idempotent-Replayed: true`) and creates nothing; the same key "
                            "with another body answers 409 `idempotency_key_reused`."}]


def _path_params(op: Operation) -> list[dict]:
    return [{"name": m["name"], "in": "path", "required": True,
             "schema": _CONVERTER_SCHEMAS.get(m["conv"] or "", {"type": "string"})}
            for m in _PARAM.finditer(op.rule)]


def _query_params(ref: dict, defs: dict) -> list[dict]:
    model = _ref_target(ref, defs)
    required = set(model.get("required", []))
    params = []
    for name, schema in model["properties"].items():
        param = {"name": name, "in": "query", "required": name in required, "schema": schema}
        if "description" in schema:
            param["description"] = schema["description"]
        params.append(param)
    return params


def _body_schema(op: Operation, refs: dict, defs: dict) -> dict:
    schema = refs[(op.body, "validation")]
    if op.body_media != MULTIPART:
        return {"schema": schema}
    if op.single_file and op.file_media:
        media = op.file_media
        part = {"type": "string", "contentMediaType": "application/octet-stream",
                "description": op.file_text}
    elif op.single_file:
        media = ("application/pdf, "
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        part = {"type": "string", "contentMediaType": "application/octet-stream",
                "description": "The draft: one PDF, or a DOCX the server converts to PDF."}
    else:
        media = "application/pdf"
        part = {"type": "array", "minItems": 1,
                "items": {"type": "string", "contentMediaType": "application/pdf"},
                "description": "The document's PDF file(s), one part per file, in order."}
    # the form model's own schema with the file part added (not an allOf: the model forbids
    # properties it does not name, so an allOf with another object could match nothing)
    form = dict(_ref_target(schema, defs))
    form["properties"] = {**form.get("properties", {}), op.files: part}
    form["required"] = [*form.get("required", []), op.files]
    return {"schema": form, "encoding": {op.files: {"contentType": media}}}


def _responses(op: Operation, refs: dict) -> dict:
    responses: dict[str, Any] = {}
    if op.response is not None:
        responses[str(op.status)] = {"description": "OK", "content": {
            op.response_media: {"schema": refs[(op.response, "serialization")]}}}
    elif op.response_media != JSON:  # a download: PDF, XLSX, ZIP
        responses[str(op.status)] = {"description": "The file", "content": {
            op.response_media: {"schema": {"type": "string",
                                           "contentMediaType": op.response_media}}}}
    else:
        responses[str(op.status)] = {"description": "OK",
                                     "content": {op.response_media: {"schema": {"type": "object"}}}}
    error_ref = refs[(ErrorOut, "serialization")]
    codes = (set(op.errors) | ({401, 403} if op.auth else set())
             | ({422} if op.body or op.query else set())
             | ({400, 415} if op.body else set()) | ({409, 422} if op.idempotent else set()))
    for code in sorted(codes):
        responses[str(code)] = {"description": ERROR_TEXT.get(code, "Error"),
                                "content": {"application/json": {"schema": error_ref}}}
    return responses
