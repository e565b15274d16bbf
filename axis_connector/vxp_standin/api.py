"""The operations at ``<base URL>/<operation>``, answered as the VXP spec says.

Every answer is JSON ``{"status": "OK"|"FAIL", "ErrorCode", "ErrorDesc", ...}`` (``downloadEdoc``
answers the raw package when it succeeds), also for a body over the cap, an unknown path or a
handler that crashed: the SDK reads only the JSON.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from axis_connector.hub.db import utcnow

from . import services
from .errors import VxpError
from .wire import Caller, check_hash_file, check_request

__all__ = ["OPERATIONS", "bp", "init_app"]

bp = Blueprint("vxp_standin", __name__)

Handler = Callable[[Session, Caller, bytes], "dict[str, Any] | Response"]


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    handler: Handler


def _standin():
    return current_app.extensions["vxp_standin"]


def _ok(**fields: Any) -> dict[str, Any]:
    return {"status": "OK", "ErrorCode": "0", "ErrorDesc": "", **fields}


def _fail(error: VxpError) -> Response:
    response = jsonify(status="FAIL", ErrorCode=error.code, ErrorDesc=error.message)
    response.status_code = error.http_status
    return response


# ---------------------------------------------------------------- handlers


def _send_edoc(session: Session, caller: Caller, body: bytes) -> dict[str, Any]:
    check_hash_file(caller, body)
    return _ok(DocId=services.send_edoc(session, _standin().settings, caller, body))


def _get_received_edoc_list(session: Session, caller: Caller, body: bytes) -> dict[str, Any]:
    return _ok(data=services.received_list(session, caller))


def _get_edoc(session: Session, caller: Caller, body: bytes) -> dict[str, Any]:
    delivery = services.delivery_for(session, caller)
    package = services.delivered_package(delivery, _standin().settings, utcnow())
    return _ok(data=base64.b64encode(package).decode("ascii"))


def _download_edoc(session: Session, caller: Caller, body: bytes) -> Response:
    delivery = services.delivery_for(session, caller)
    package = services.delivered_package(delivery, _standin().settings, utcnow())
    return Response(package, mimetype="application/octet-stream")


def _update_status(session: Session, caller: Caller, body: bytes) -> dict[str, Any]:
    services.acknowledge(session, caller)
    return _ok()


def _get_sent_edoc_list(session: Session, caller: Caller, body: bytes) -> dict[str, Any]:
    return _ok(data=services.sent_list(session, caller))


def _count(default_type: str) -> Handler:
    def handler(session: Session, caller: Caller, body: bytes) -> dict[str, Any]:
        return _ok(count=services.count_received(session, caller, default_type))

    return handler


def _get_agencies_list(session: Session, caller: Caller, body: bytes) -> dict[str, Any]:
    return _ok(data=services.agencies_list(session))


def _get_agencies_list_qd20(session: Session, caller: Caller, body: bytes) -> dict[str, Any]:
    return _ok(data=services.agencies_list_qd20(session, caller.get("level")))


def _get_synchronize_unit(session: Session, caller: Caller, body: bytes) -> dict[str, Any]:
    return _ok(data=services.synchronize_unit(session))


def _register_agency(session: Session, caller: Caller, body: bytes) -> dict[str, Any]:
    payload = _json_object(body)
    agency = services.register_agency(session, caller, payload)
    return _ok(id=agency.id, code=agency.code)


def _delete_agency(session: Session, caller: Caller, body: bytes) -> dict[str, Any]:
    services.delete_agency(session, caller, caller.get("AgencyCode"))
    return _ok()


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body.decode("utf-8")) if body.strip() else None
    except (UnicodeDecodeError, ValueError):
        payload = None
    if not isinstance(payload, dict):
        raise VxpError("BAD_PARAMETER", "thân yêu cầu phải là một đối tượng JSON (UTF-8)")
    return payload


OPERATIONS: dict[str, Operation] = {
    "sendEdoc": Operation("POST", _send_edoc),
    "getReceivedEdocList": Operation("POST", _get_received_edoc_list),
    "getEdoc": Operation("POST", _get_edoc),
    "downloadEdoc": Operation("GET", _download_edoc),
    "updateStatus": Operation("POST", _update_status),
    "getSentEdocList": Operation("POST", _get_sent_edoc_list),
    "countReceiveEdoc": Operation("POST", _count("edoc")),
    "countReceiveStatus": Operation("POST", _count("status")),
    "getAgenciesList": Operation("POST", _get_agencies_list),
    "getAgenciesListQD20": Operation("POST", _get_agencies_list_qd20),
    "getSynchronizeUnit": Operation("POST", _get_synchronize_unit),
    "registerAgency": Operation("POST", _register_agency),
    "deleteAgency": Operation("POST", _delete_agency),
}


# ---------------------------------------------------------------- dispatch


def _body(limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise VxpError("TOO_LARGE", f"thân yêu cầu {request.content_length} byte vượt giới hạn {limit} byte")
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        body = None
    if body is None or len(body) > limit:
        raise VxpError("TOO_LARGE", f"thân yêu cầu vượt giới hạn {limit} byte")
    return body


@bp.route("/<operation>", methods=["GET", "POST"], provide_automatic_options=False)
def dispatch(operation: str) -> Any:
    standin = _standin()
    found = OPERATIONS.get(operation)
    if found is None:
        raise VxpError("UNKNOWN_OPERATION", f"trục không có thao tác {operation!r}")
    if request.method != found.method:
        raise VxpError("METHOD_NOT_ALLOWED", f"{operation} dùng phương thức {found.method}")
    body = _body(standin.settings.max_body_bytes)
    settings = standin.settings
    caller = check_request(request.headers, settings.secrets, now=utcnow(), max_skew=settings.max_skew,
                           utc_offset=settings.utc_offset)
    standin.ensure_seeded()
    with standin.db.session() as session:
        try:
            result = found.handler(session, caller, body)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return result if isinstance(result, Response) else jsonify(result)


def _vxp_error(error: VxpError) -> Response:
    return _fail(error)


def _http_error(error: HTTPException) -> Response:
    if isinstance(error, RequestEntityTooLarge):
        return _fail(VxpError("TOO_LARGE", "thân yêu cầu vượt giới hạn kích thước"))
    if error.code == 404:
        return _fail(VxpError("UNKNOWN_OPERATION", f"trục không có đường dẫn {request.path!r}"))
    if error.code == 405:
        return _fail(VxpError("METHOD_NOT_ALLOWED", f"phương thức {request.method} không được dùng ở đây"))
    failure = _fail(VxpError("BAD_PARAMETER", f"yêu cầu không hợp lệ: {error.description}"))
    failure.status_code = error.code or 400
    return failure


def _unexpected(error: Exception) -> Response:
    current_app.logger.exception("VXP stand-in: unexpected error in %s", request.path)
    return _fail(VxpError("INTERNAL", f"lỗi nội bộ của trục: {type(error).__name__}"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_error_handler(VxpError, _vxp_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
