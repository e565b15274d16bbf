"""The API's route registry: each route declares its schemas; the wrapper does the rest.

A route is declared once with ``@api.route(...)``: the registry keeps what the OpenAPI document
needs (method, path, input and output schemas, possible errors), and the wrapper does for every
handler the same things in the same order: authenticate the bearer token, parse and validate the
input, run the handler (one service call) in one transaction, commit on success and roll back on
any error, and answer JSON, with domain errors as ``{"error": {...}}``. Before the handler it
also checks the token's scope (403 ``insufficient_scope``) and, on a creating POST sent with an
``Idempotency-Key``, answers a retry with the first answer (``ioffice.api.idempotency``).
"""

from __future__ import annotations

import functools
import hashlib
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from ioffice.agencies.actor import Actor
from ioffice.agencies.permissions import Op
from ioffice.api import idempotency, tokens
from ioffice.api.models import ApiToken
from ioffice.api.schemas import ErrorOut, summary_out
from ioffice.api.tokens import Scope
from ioffice.db_session import get_session
from ioffice.errors import DomainError
from ioffice.incoming.errors import AlreadySubmitted, DuplicateSuspected, InvalidInput
from ioffice.outgoing.errors import PersistedFailure

JSON = "application/json"
MULTIPART = "multipart/form-data"


@dataclass(frozen=True)
class Operation:
    """What the registry knows about one route; the OpenAPI document is built from these."""

    endpoint: str
    method: str
    rule: str
    summary: str
    description: str = ""
    tag: str = ""
    body: type[BaseModel] | None = None
    body_media: str = JSON
    files: str | None = None
    """Name of the multipart part holding the PDF files, for multipart bodies."""
    single_file: bool = False
    """One file (PDF or DOCX, a draft) in ``files`` rather than one or more PDFs."""
    file_media: str = ""
    """With ``single_file``: the one file's media type when it is not a draft's (a ZIP)."""
    file_text: str = ""
    """With ``file_media``: what the file part holds, for the document."""
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    response_media: str = JSON
    status: int = 200
    errors: tuple[int, ...] = ()
    auth: bool = True
    operation: Op | None = None
    """What the caller does, checked against the role table; None: any authenticated caller."""
    scope: Scope = Scope.READ
    """The token scope it needs: by default ``read`` for GET, ``write`` for POST."""
    idempotent: bool = False
    """A creating POST: honours ``Idempotency-Key`` (by default every POST answering 201)."""
    links: tuple[str, ...] = ()
    """Operations (their handler names) that take the answer's ``id`` as their path parameter:
    OpenAPI links, which clients and schemathesis' stateful tests follow (create -> read -> act)."""


@dataclass
class Call:
    """What a handler receives."""

    session: Session
    actor: Actor
    token: ApiToken | None = None
    body: Any = None
    query: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


class ApiError(Exception):
    """An HTTP-level refusal raised by the wrapper itself (unparseable body, wrong media type)."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


class ApiBlueprint:
    """A Flask blueprint plus the registry of its operations."""

    def __init__(self, name: str, import_name: str, url_prefix: str) -> None:
        self.bp = Blueprint(name, import_name, url_prefix=url_prefix)
        self.url_prefix = url_prefix
        self.operations: dict[str, Operation] = {}
        # Flask prefers an app handler for the exact code over a blueprint's handler for the
        # class, so the codes the app renders as HTML pages are claimed here one by one
        for code in (400, 403, 404, 405, 413, 500):
            self.bp.register_error_handler(code, _http_error)
        self.bp.register_error_handler(HTTPException, _http_error)
        self.bp.register_error_handler(DomainError, _domain_error_response)

    def route(self, method: str, rule: str, *, summary: str, operation: Op | None,
              **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
        """``operation`` is required: the role table's operation the route performs, or an
        explicit None for a route every authenticated caller may use."""
        if operation is not None and not isinstance(operation, Op):
            raise TypeError(f"API route {rule}: operation must be an Op or None")

        options.setdefault("scope", Scope.READ if method == "GET" else Scope.WRITE)
        options.setdefault("idempotent", method == "POST" and options.get("status") == 201)

        def decorator(handler: Callable[..., Any]) -> Callable[..., Response]:
            endpoint = handler.__name__
            op = Operation(endpoint=f"{self.bp.name}.{endpoint}", method=method, rule=rule,
                           summary=summary, description=(handler.__doc__ or "").strip(),
                           operation=operation, **options)
            if op.endpoint in self.operations:
                raise ValueError(f"duplicate API endpoint {op.endpoint}")
            self.operations[op.endpoint] = op

            @functools.wraps(handler)
            def view(**path_args: Any) -> Response:
                return _dispatch(op, handler, **path_args)

            self.bp.add_url_rule(rule, endpoint, view, methods=[method])
            return view

        return decorator

    def get(self, rule: str, **kw: Any):
        return self.route("GET", rule, **kw)

    def post(self, rule: str, **kw: Any):
        return self.route("POST", rule, **kw)


def _dispatch(op: Operation, handler: Callable[..., Any], **path_args: Any) -> Response:
    session = get_session()
    key = digest = None
    token: ApiToken | None = None
    try:
        token, actor = _authenticate(session) if op.auth else (None, None)
        if token is not None:
            tokens.require_scope(token, op.scope)
        if actor is not None and op.operation is not None:
            actor.check(op.operation)
        call = Call(session=session, actor=actor, token=token,  # type: ignore[arg-type]
                    query=_parse(op.query, _query_args()) if op.query else None)
        if op.body is not None:
            call.body = (_parse_multipart(op, call) if op.body_media == MULTIPART
                         else _parse(op.body, _json_body()))
        if op.idempotent and token is not None and idempotency.HEADER in request.headers:
            key = idempotency.check_key(request.headers[idempotency.HEADER])
            digest = idempotency.request_hash(op.method, request.path, _canonical_body(op, call))
            stored = idempotency.lookup(session, token.id, key, digest)
            if stored is not None:
                session.rollback()
                return _replayed(stored)
        result = handler(call, **path_args)
        response = result if isinstance(result, Response) else _json(result, op.status)
        if key is not None and token is not None and response.is_json and response.status_code < 300:
            idempotency.remember(session, token.id, key, digest or "", response.status_code,
                                 response.get_json())
        session.commit()
        return response
    except IntegrityError:
        session.rollback()
        if key is None or token is None:
            raise
        # the same key committed by a concurrent request a moment ago: answer as its retry
        try:
            stored = idempotency.lookup(session, token.id, key, digest or "")
        except DomainError as exc:
            session.rollback()
            return _domain_error_response(exc)
        if stored is None:
            raise
        session.rollback()
        return _replayed(stored)
    except ApiError as exc:
        session.rollback()
        return _error(exc.status, exc.code, exc.message, exc.fields)
    except PersistedFailure as exc:
        session.commit()  # a wrong PIN counted, a refused signature's session used up
        return _domain_error_response(exc)
    except DomainError as exc:
        session.rollback()
        return _domain_error_response(exc)
    except BaseException:
        session.rollback()
        raise


def _replayed(stored: idempotency.Stored) -> Response:
    resp = jsonify(stored.body)
    resp.status_code = stored.status
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def _canonical_body(op: Operation, call: Call) -> Any:
    """The request's content, whatever its encoding: a retry hashes alike, another body not."""
    if op.body is None:
        return None
    if op.body_media != MULTIPART:
        return request.get_json(silent=True)
    files = []
    for f in call.extra.get("files", ()):
        data = f.stream.read()
        f.stream.seek(0)
        files.append([f.filename or "", hashlib.sha256(data).hexdigest()])
    return {"fields": {k: request.form.getlist(k) for k in sorted(request.form)}, "files": files}


def _authenticate(session: Session) -> tuple[ApiToken, Actor]:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    try:
        token, membership = tokens.authenticate_token(
            session, secret.strip() if scheme.lower() == "bearer" else None)
    finally:
        if session.dirty:
            # last_used_at is kept even when the operation that follows is refused and rolled back
            session.commit()
    return token, Actor.of(membership, request.remote_addr or "")


def _query_args() -> dict[str, Any]:
    return {k: v for k, v in request.args.items() if v != ""}


def _json_body() -> Any:
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type",
                       "Thân yêu cầu phải là JSON (Content-Type: application/json).")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "invalid_json", "Thân yêu cầu không phải JSON hợp lệ.")
    return body


def _parse_multipart(op: Operation, call: Call) -> BaseModel:
    if request.mimetype != MULTIPART:
        raise ApiError(415, "unsupported_media_type",
                       "Gửi biểu mẫu dạng multipart/form-data gồm các trường thông tin và tệp PDF.")
    assert op.body is not None and op.files is not None
    # empty form fields mean "not given", as in an HTML form; a list field is its repeated parts
    fields: dict[str, Any] = {}
    for name in request.form:
        values = [v for v in request.form.getlist(name) if v != ""]
        if values:
            fields[name] = values if _is_list(op.body, name) else values[0]
    call.extra["files"] = request.files.getlist(op.files)
    return _parse(op.body, fields)


def _is_list(model: type[BaseModel], name: str) -> bool:
    info = model.model_fields.get(name)
    return info is not None and typing.get_origin(info.annotation) is list


def _parse(model: type[BaseModel], data: Any) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = _field_errors(exc)
        raise ApiError(422, "validation_error",
                       "Thông tin chưa hợp lệ: " + "; ".join(f"{k}: {v}" for k, v in fields.items()),
                       fields) from exc


MESSAGES = {
    "missing": "Bắt buộc phải có.",
    "extra_forbidden": "Trường này không được hỗ trợ.",
    "string_type": "Phải là chuỗi ký tự.",
    "string_too_long": "Quá dài (tối đa {max_length} ký tự).",
    "int_type": "Phải là số nguyên.",
    "int_parsing": "Phải là số nguyên.",
    "int_from_float": "Phải là số nguyên.",
    "bool_type": "Phải là true hoặc false.",
    "bool_parsing": "Phải là true hoặc false.",
    "date_type": "Phải là ngày dạng YYYY-MM-DD.",
    "date_parsing": "Phải là ngày dạng YYYY-MM-DD.",
    "date_from_datetime_parsing": "Phải là ngày dạng YYYY-MM-DD.",
    "date_from_datetime_inexact": "Phải là ngày dạng YYYY-MM-DD.",
    "greater_than_equal": "Phải lớn hơn hoặc bằng {ge}.",
    "less_than_equal": "Phải nhỏ hơn hoặc bằng {le}.",
    "too_long": "Quá nhiều phần tử (tối đa {max_length}).",
    "literal_error": "Giá trị không hợp lệ; chọn một trong: {expected}.",
    "enum": "Giá trị không hợp lệ; chọn một trong: {expected}.",
    "model_type": "Phải là một đối tượng JSON.",
    "model_attributes_type": "Phải là một đối tượng JSON.",
    "dict_type": "Phải là một đối tượng JSON.",
    "list_type": "Phải là một danh sách.",
    "unsafe_text": "Chuỗi {detail}",
    "int_too_large": "Số quá lớn.",
}


def _field_errors(exc: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        # unions (e.g. `TargetIn | None`) add the branch name to the location; drop it
        loc = [str(p) for p in err["loc"] if not (isinstance(p, str) and p[:1].isupper())]
        name = ".".join(loc) or "body"
        template = MESSAGES.get(err["type"], "Giá trị không hợp lệ.")
        try:
            message = template.format(**(err.get("ctx") or {}))
        except (KeyError, IndexError):
            message = template
        fields.setdefault(name, message)
    return fields


def _json(result: Any, status: int) -> Response:
    payload = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
    resp = jsonify(payload)
    resp.status_code = status
    return resp


CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
         410: "gone", 413: "too_large", 415: "unsupported_media_type", 422: "invalid_input",
         429: "too_many_requests"}


def _domain_error_response(exc: DomainError) -> Response:
    extra: dict[str, Any] = {}
    code = CODES.get(exc.status_code, "bad_request")
    if isinstance(exc, tokens.ExpiredToken):
        code = "token_expired"
    elif isinstance(exc, tokens.MissingScope):
        code = "insufficient_scope"
    elif isinstance(exc, idempotency.KeyReused):
        code = "idempotency_key_reused"
    elif isinstance(exc, AlreadySubmitted):
        code, extra["document"] = "already_submitted", summary_out(exc.document)
    elif isinstance(exc, DuplicateSuspected):
        code, extra["matches"] = "duplicate_suspected", [summary_out(d) for d in exc.matches]
    fields = exc.fields if isinstance(exc, InvalidInput) else getattr(exc, "fields", {})
    return _error(exc.status_code, code, exc.message, fields, **extra)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    messages = {404: "Không tìm thấy địa chỉ này trong API.",
                405: f"Không hỗ trợ phương thức {request.method} ở địa chỉ này.",
                413: "Tệp tải lên vượt quá giới hạn dung lượng cho phép.",
                500: "Lỗi hệ thống; thao tác chưa được thực hiện."}
    return _error(status, CODES.get(status, "http_error" if status != 500 else "server_error"),
                  messages.get(status, exc.description or "Yêu cầu không hợp lệ."))


def _error(status: int, code: str, message: str, fields: dict[str, str] | None = None,
           **extra: Any) -> Response:
    body = ErrorOut.model_validate({"error": {"code": code, "message": message,
                                              "fields": fields or {}, **extra}})
    resp = jsonify(body.model_dump(mode="json", exclude_none=True))
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="ioffice"'
    return resp
