"""JSON/HTTP endpoints named after the real axis operations: ``POST /api/<operation>``.

Each handler authenticates the calling system (HMAC, see ``axis_connector.client.signing``),
reads an explicit JSON input, calls one service function inside one transaction and renders
the result.  After commit it pushes notifications (if any system asked for them).
"""

from __future__ import annotations

import binascii
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import ClientDisconnected, HTTPException, RequestEntityTooLarge

from axis_connector.client.signing import (
    NONCE_HEADER,
    SYSTEM_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)
from axis_connector.client.wire import (
    BLOBS_MEDIA_TYPE,
    Blob,
    WireError,
    b64decode,
    dumps_binary,
    dumps_with_blobs,
    loads_binary,
)

from . import services
from .directory import SystemEntry
from .models import Agency, Delivery, Message, MessageType
from .services import HubError

__all__ = ["bp", "init_app"]

bp = Blueprint("axis_api", __name__, url_prefix="/api")


def _hub():
    return current_app.extensions["axis_hub"]


def _authenticate(session: Session) -> SystemEntry:
    headers = request.headers
    system_id = headers.get(SYSTEM_HEADER, "")
    system = _hub().settings.directory.get(session).systems.get(system_id) if system_id else None
    if system is None:
        raise HubError("unknown_system", f"hệ thống {system_id!r} chưa kết nối với trục", 401)
    body = _body()
    # the full path as the client sent it, mount prefix included (script_root)
    path = request.script_root + request.path
    if not verify_signature(system.secret, request.method, path, headers, body):
        raise HubError("bad_signature", "chữ ký yêu cầu (X-Axis-Signature) không đúng", 401)
    try:
        timestamp = int(headers.get(TIMESTAMP_HEADER, ""))
    except ValueError:
        raise HubError("stale_request", "X-Axis-Timestamp phải là số giây Unix", 401) from None
    # The nonce is inserted in the operation's own transaction: one commit per request. Its
    # primary key still makes it single-use across processes (a concurrent second use waits
    # for the first transaction, then fails); a failing operation burns it in :func:`_burn`.
    services.check_nonce(session, _hub().settings, system.id, headers.get(NONCE_HEADER, ""), timestamp)
    g.axis_nonce = (system.id, headers.get(NONCE_HEADER, ""), timestamp)
    return system


def _burn(nonce: tuple[str, str, int]) -> None:
    """The operation failed and its transaction (nonce included) rolled back: record the nonce
    on its own so the same signed request cannot be tried again."""
    with _hub().db.session() as session:
        try:
            services.check_nonce(session, _hub().settings, *nonce)
            session.commit()
        except HubError:  # used meanwhile by a concurrent request, or stale by now: burnt already
            session.rollback()


def operation(name: str, *, max_body: int | None = None) -> Callable[[Callable[..., Any]], Callable[[], Any]]:
    """Register ``POST /api/<name>``: authenticate, run in one transaction, answer JSON.
    ``max_body``: a larger request limit than one package's (batches of packages)."""

    def decorator(func: Callable[..., Any]) -> Callable[[], Any]:
        def view() -> Any:
            if max_body is not None:
                request.max_content_length = max(max_body, current_app.config["MAX_CONTENT_LENGTH"])
            with _hub().db.session() as session:
                caller = _authenticate(session)
                try:
                    payload = _json()
                    result = func(session, caller, payload)
                    session.commit()
                except BaseException:
                    session.rollback()
                    nonce = g.pop("axis_nonce", None)
                    if nonce is not None:
                        try:
                            _burn(nonce)
                        except Exception:  # the database is failing: report the first error
                            current_app.logger.exception("could not record a failed request's nonce")
                    after_rollback = g.pop("after_rollback", None)
                    if after_rollback is not None:
                        try:
                            after_rollback()
                        except Exception:
                            current_app.logger.exception("could not record a refused request")
                    raise
            after = g.pop("after_commit", None)
            if after is not None:
                after()
            if BLOBS_MEDIA_TYPE in request.headers.get("Accept", ""):  # packages as raw bytes
                body, mimetype = dumps_binary(result)  # plain JSON when it holds none
                return current_app.response_class(body, mimetype=mimetype)
            # packages (Blob) are spliced in as base64: json would scan each of their characters
            return current_app.response_class(dumps_with_blobs(result), mimetype="application/json")

        bp.add_url_rule(f"/{name}", name, view, methods=["POST"])
        return func

    return decorator


def _body() -> bytes:
    """The request body, read once (then kept for the request). With a Content-Length, straight
    from the server's input in reads as large as what is left (gunicorn hands the whole body
    over in one read): werkzeug's ``request.stream`` first zero-fills a buffer of that size,
    copies into it and copies it again into bytes, and ``get_data`` reads 64 KiB steps that
    made gunicorn copy its buffer each time. A body over the request's limit is refused before
    any of it is read (413 ``too_large``), one that ends early as werkzeug refuses it (400).
    Without a length (chunked), werkzeug's stream. (gunicorn marks every request's input as
    terminated, ``wsgi.input_terminated``; that says nothing against reading a Content-Length
    body exactly, and taking it as a reason to use werkzeug's stream kept every request of
    the bench on werkzeug's copies: ~10 % of the hub's CPU.)"""
    body = g.get("axis_body")
    if body is None:
        length = request.content_length  # None for a chunked body (werkzeug ignores the header then)
        if length is None:
            body = request.stream.read()
        else:
            limit = request.max_content_length
            if limit is not None and length > limit:
                raise RequestEntityTooLarge()
            body = _read_exactly(request.environ["wsgi.input"], length)
        g.axis_body = body
    return body


def _read_exactly(stream: Any, length: int) -> bytes:
    parts: list[bytes] = []
    remaining = length
    while remaining > 0:
        try:
            part = stream.read(remaining)
        except (OSError, ValueError):
            part = b""
        if not part:
            raise ClientDisconnected()
        parts.append(part)
        remaining -= len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _json() -> dict[str, Any]:
    if request.mimetype == BLOBS_MEDIA_TYPE:
        try:
            data = loads_binary(_body())
        except WireError as exc:
            raise HubError("invalid_request", f"thân yêu cầu dạng {BLOBS_MEDIA_TYPE} sai: {exc}") from None
        if not isinstance(data, dict):
            raise HubError("invalid_request", "thân yêu cầu phải là một đối tượng JSON")
        return data
    data: Any = {}
    if request.content_length:
        try:
            data = json.loads(_body()) if request.is_json else None
        except ValueError:  # not JSON, or not UTF-8
            data = None
    if not isinstance(data, dict):
        raise HubError("invalid_request", "thân yêu cầu phải là một đối tượng JSON")
    return data


def _str(payload: dict[str, Any], key: str, *, required: bool = True, default: str = "") -> str:
    value = payload.get(key, default)
    if value is None and not required:
        return default
    if not isinstance(value, str) or (required and not value):
        kind = "chuỗi không rỗng" if required else "chuỗi"
        raise HubError("invalid_request", f"trường {key!r} phải là {kind}")
    return value


def _str_list(payload: dict[str, Any], key: str) -> list[str] | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise HubError("invalid_request", f"trường {key!r} phải là danh sách chuỗi")
    return value


def _messagetype(value: Any, *, optional: bool = False) -> MessageType | None:
    if value is None and optional:
        return None
    try:
        return MessageType(value)
    except ValueError:
        raise HubError("invalid_request", "messagetype phải là 'edoc' hoặc 'status'") from None


def _limit(payload: dict[str, Any]) -> int:
    value = payload.get("limit", 100)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
        raise HubError("invalid_request", "limit phải là số nguyên từ 1 đến 1000")
    return value


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _message_summary(message: Message) -> dict[str, Any]:
    return {
        "message_id": message.id,
        "from": message.sender_organ_id,
        "document_id": message.document_id,
        "messagetype": message.messagetype.value,
        "status_code": message.status_code,
        "created_at": _iso(message.created_at),
        "content_length": message.content_length,
        "content_sha256": message.content_sha256,
    }


def _delivery(delivery: Delivery) -> dict[str, Any]:
    return {"organ_id": delivery.recipient_organ_id, "state": delivery.state.value,
            "reason": delivery.reason, "updated_at": _iso(delivery.updated_at)}


def _agency(agency: Agency) -> dict[str, Any]:
    return {"organ_id": agency.organ_id, "name": agency.name, "parent_id": agency.parent_id,
            "level": agency.level, "email": agency.email, "telephone": agency.telephone,
            "address": agency.address, "certificate_pem": agency.certificate_pem,
            "system_id": agency.system_id}


def _package(payload: dict[str, Any]) -> bytes:
    value = payload.get("package")
    if isinstance(value, bytes):  # sent as raw bytes (wire.py's binary form)
        if not value:
            raise HubError("invalid_request", "trường 'package' phải là gói tin edXML, không rỗng")
        return value
    try:
        # strict: only the base64 alphabet and correct padding (what b64decode(validate=True)
        # checks, without its regular expression over the whole package)
        return b64decode(_str(payload, "package"), strict=True)
    except (binascii.Error, ValueError):
        raise HubError("invalid_request", "trường 'package' phải là gói tin edXML mã hóa base64") from None


def _send_one(session: Session, caller: SystemEntry, payload: dict[str, Any]) -> services.SendResult:
    messagetype = _messagetype(payload.get("messagetype", "edoc"))
    data = _package(payload)
    return services.send_edoc(session, _hub().settings, caller, data, messagetype, _str_list(payload, "to"))


def _push_after_commit(notify: list[int], forward: bool = False) -> None:
    if notify or forward:
        hub = _hub()
        g.after_commit = lambda: hub.push_after_commit(notify, forward=forward)


@operation("sendEdoc")
def send_edoc(session: Session, caller: SystemEntry, payload: dict[str, Any]) -> dict[str, Any]:
    result = _send_one(session, caller, payload)
    _push_after_commit(list(result.notify), result.forward)
    return {"message_id": result.message_id, "duplicate": result.duplicate}


MAX_BATCH_BODY = 48 * 1024 * 1024
"""A ``sendEdocs`` request may carry several packages (each still within the package limit)."""


@operation("sendEdocs", max_body=MAX_BATCH_BODY)
def send_edocs(session: Session, caller: SystemEntry, payload: dict[str, Any]) -> dict[str, Any]:
    """Several ``sendEdoc`` in one request and one transaction: ``items`` in the order given,
    each ``message_id`` + ``duplicate``, or an ``error`` for that package alone (nothing of it
    stored: every check comes before the first write)."""
    results: list[dict[str, Any]] = []
    notify: list[int] = []
    forward = False
    for item in _batch(payload, "items"):
        if not isinstance(item, dict):
            raise HubError("invalid_request", "trường 'items' phải là danh sách đối tượng")
        try:
            result = _send_one(session, caller, item)
        except HubError as exc:
            results.append({"error": exc.as_dict(), "status": exc.status})
            continue
        notify += result.notify
        forward = forward or result.forward
        results.append({"message_id": result.message_id, "duplicate": result.duplicate})
    _push_after_commit(notify, forward)
    return {"items": results}


@operation("getReceivedEdocList")
def get_received_edoc_list(session: Session, caller: SystemEntry, payload: dict[str, Any]) -> dict[str, Any]:
    messagetype = _messagetype(payload.get("messagetype"), optional=True)
    items = services.received_list(session, caller, messagetype, _limit(payload))
    return {"items": [{**_message_summary(i.message), "to": list(i.to)} for i in items]}


@operation("getEdoc")
def get_edoc(session: Session, caller: SystemEntry, payload: dict[str, Any]) -> dict[str, Any]:
    message = services.get_edoc(session, caller, _str(payload, "message_id"))
    return {**_message_summary(message), "package": Blob(message.package)}


@operation("updateStatus")
def update_status(session: Session, caller: SystemEntry, payload: dict[str, Any]) -> dict[str, Any]:
    message_id = _str(payload, "message_id")
    deliveries = services.update_status(
        session, _hub().settings, caller, message_id, _str(payload, "status"),
        _str(payload, "reason", required=False), _str_list(payload, "organ_ids"))
    return {"message_id": message_id, "recipients": [_delivery(d) for d in deliveries]}


MAX_BATCH = 100


def _batch(payload: dict[str, Any], key: str) -> list[Any]:
    value = payload.get(key)
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_BATCH:
        raise HubError("invalid_request", f"trường {key!r} phải là danh sách 1 đến {MAX_BATCH} phần tử")
    return value


@operation("getEdocs")
def get_edocs(session: Session, caller: SystemEntry, payload: dict[str, Any]) -> dict[str, Any]:
    """Several ``getEdoc`` in one request: ``items`` in the order asked, each the package or an
    ``error`` (as ``getEdoc`` would have answered it)."""
    ids = _batch(payload, "message_ids")
    if not all(isinstance(i, str) and i for i in ids):
        raise HubError("invalid_request", "trường 'message_ids' phải là danh sách chuỗi")
    items: list[dict[str, Any]] = []
    for message_id, found in zip(ids, services.get_edocs(session, caller, ids), strict=True):
        if isinstance(found, HubError):
            items.append({"message_id": message_id, "error": found.as_dict()})
        else:
            items.append({**_message_summary(found), "package": Blob(found.package)})
    return {"items": items}


@operation("updateStatuses")
def update_statuses(session: Session, caller: SystemEntry, payload: dict[str, Any]) -> dict[str, Any]:
    """Several ``updateStatus`` in one request and one transaction: ``items`` in the order
    given, each the recipients' states or an ``error`` (that item changed nothing)."""
    updates = _batch(payload, "updates")
    if not all(isinstance(u, dict) for u in updates):
        raise HubError("invalid_request", "trường 'updates' phải là danh sách đối tượng")
    ids: list[str] = []
    read: list[services.StatusInput | HubError] = []
    for update in updates:
        ids.append(_str(update, "message_id"))
        try:
            organ_ids = _str_list(update, "organ_ids")
            read.append(services.StatusInput(ids[-1], _str(update, "status"),
                                             _str(update, "reason", required=False),
                                             tuple(organ_ids) if organ_ids else None))
        except HubError as exc:  # this item only, as updateStatus would have answered it
            read.append(exc)
    valid = [i for i in read if isinstance(i, services.StatusInput)]
    done = iter(services.update_statuses(session, _hub().settings, caller, valid))
    results = [i if isinstance(i, HubError) else next(done) for i in read]
    return {"items": [{"message_id": m, "error": r.as_dict()} if isinstance(r, HubError)
                      else {"message_id": m, "recipients": [_delivery(d) for d in r]}
                      for m, r in zip(ids, results, strict=True)]}


@operation("getSentEdocList")
def get_sent_edoc_list(session: Session, caller: SystemEntry, payload: dict[str, Any]) -> dict[str, Any]:
    since = None
    if payload.get("since") is not None:
        try:
            since = dt.datetime.fromisoformat(_str(payload, "since").replace("Z", "+00:00"))
        except ValueError:
            raise HubError("invalid_request", "since phải là thời điểm ISO 8601") from None
        if since.tzinfo is None:
            raise HubError("invalid_request", "since phải có múi giờ")
    document_id = payload.get("document_id")
    if document_id is not None and not isinstance(document_id, str):
        raise HubError("invalid_request", "document_id phải là chuỗi")
    messages = services.sent_list(session, caller, since=since, document_id=document_id,
                                  limit=_limit(payload))
    return {"items": [{**_message_summary(m), "recipients": [_delivery(d) for d in m.deliveries]}
                      for m in messages]}


@operation("getAgenciesList")
def get_agencies_list(session: Session, caller: SystemEntry, payload: dict[str, Any]) -> dict[str, Any]:
    return {"items": [_agency(a) for a in services.agency_list(session)]}


@operation("registerAgency")
def register_agency(session: Session, caller: SystemEntry, payload: dict[str, Any]) -> dict[str, Any]:
    data = services.AgencyInput(
        organ_id=_str(payload, "organ_id"),
        name=_str(payload, "name"),
        parent_id=_str(payload, "parent_id", required=False) or None,
        level=_str(payload, "level", required=False),
        email=_str(payload, "email", required=False),
        telephone=_str(payload, "telephone", required=False),
        address=_str(payload, "address", required=False),
        certificate_pem=_str(payload, "certificate_pem", required=False) or None,
        system_id=_str(payload, "system_id", required=False) or None,
    )
    try:
        return _agency(services.register_agency(session, _hub().settings, caller, data))
    except HubError as exc:
        if exc.code in services.GUARD_CODES:  # logged once the refused transaction rolled back
            g.after_rollback = lambda error=exc: _record_refusal(caller, data, error)
        raise


def _record_refusal(caller: SystemEntry, data: services.AgencyInput, error: HubError) -> None:
    with _hub().db.session() as session:
        services.record_refusal(session, caller, data, error)
        session.commit()
    current_app.logger.warning("registerAgency %s by %s refused: %s", data.organ_id, caller.id, error.code)


@operation("registerCallback")
def register_callback(session: Session, caller: SystemEntry, payload: dict[str, Any]) -> dict[str, Any]:
    url = payload.get("url")
    if url is not None and not isinstance(url, str):
        raise HubError("invalid_request", "url phải là chuỗi hoặc null")
    stored = services.set_callback(session, _hub().settings, caller, url)
    return {"system_id": caller.id, "callback_url": stored}


def _hub_error(exc: HubError) -> Any:
    return jsonify({"error": exc.as_dict()}), exc.status


def _http_error(exc: HTTPException) -> Any:
    if isinstance(exc, RequestEntityTooLarge):
        limit = current_app.config["MAX_PACKAGE_BYTES"]
        return _hub_error(HubError("too_large", f"yêu cầu vượt giới hạn gói tin {limit} byte của trục", 413))
    return jsonify({"error": {"code": "http_error", "message": exc.description}}), exc.code or 500


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
"""On every hub answer: it serves JSON only, never pages, scripts or frames."""


def _security_headers(response: Any) -> Any:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.after_request(_security_headers)
    app.register_error_handler(HubError, _hub_error)
    app.register_error_handler(HTTPException, _http_error)

    @app.get("/")
    def index() -> Any:
        settings = _hub().settings
        return jsonify({"name": settings.name, "organ_id": settings.organ_id,
                        "operations": sorted(r.rule for r in app.url_map.iter_rules()
                                             if r.rule.startswith("/api/"))})
