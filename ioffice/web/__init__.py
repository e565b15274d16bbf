"""Web layer: blueprints per capability, server-rendered Vietnamese templates."""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from ioffice.agencies.models import Role
from ioffice.errors import DomainError
from ioffice.incoming.models import receipt_flag_labels
from ioffice.storage import StorageError, StorageUnavailable
from ioffice.web import uploads
from ioffice.web.access import may
from ioffice.web.labels import history_label

csrf = CSRFProtect()

ERROR_TITLES = {
    400: "Yêu cầu không hợp lệ",
    403: "Không có quyền",
    404: "Không tìm thấy",
    405: "Thao tác không được phép",
    413: "Tệp quá lớn",
    422: "Dữ liệu không hợp lệ",
    429: "Thử lại sau",
    500: "Lỗi hệ thống",
    503: "Tạm thời không phục vụ được",
}
UNAVAILABLE = ("Hệ thống tạm thời không truy cập được kho lưu trữ hoặc cơ sở dữ liệu; thao tác "
               "chưa được thực hiện. Vui lòng thử lại sau ít phút; nếu vẫn lỗi, báo quản trị viên.")
INTERNAL = ("Đã xảy ra lỗi hệ thống; thao tác chưa được thực hiện. Lỗi đã được ghi lại để quản "
            "trị viên kiểm tra.")


def init_app(app: Flask) -> None:
    from ioffice.api.views import bp as api_bp
    from ioffice.web import (
        access,
        admin,
        auth,
        copies,
        dashboards,
        exchange,
        exchange_push,
        frame,
        health,
        home,
        incoming,
        inputs,
        keys,
        limits,
        notifications,
        outgoing,
        outgoing_flow,  # noqa: F401  (routes of the outgoing blueprint)
        pki_http,
        records,
        schedule,
        search,
        tsa,
    )

    csrf.init_app(app)
    auth.init_app(app)
    access.init_app(app)
    frame.init_app(app)
    inputs.init_app(app)  # before the blueprints: it bounds their <int:...> converters
    app.register_blueprint(auth.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(keys.bp)
    app.register_blueprint(incoming.bp)
    app.register_blueprint(outgoing.bp)
    app.register_blueprint(copies.bp)
    copies.init_app(app)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # bearer tokens, never cookies
    app.register_blueprint(search.bp)
    app.register_blueprint(exchange.bp)
    app.register_blueprint(dashboards.bp)
    app.register_blueprint(schedule.bp)
    app.register_blueprint(records.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(exchange_push.bp)
    notifications.init_app(app)
    csrf.exempt(exchange_push.bp)  # signed by the hub, never cookies
    app.register_blueprint(pki_http.bp)
    csrf.exempt(pki_http.bp)  # validators anywhere, no session: OCSP requests are POSTed
    if app.config.get("TSA_SERVE") in (True, 1, "1", "true", "yes", "on"):
        app.register_blueprint(tsa.bp)
        csrf.exempt(tsa.bp)  # a TSA client has no session: RFC 3161 over HTTP
    limits.init_app(app)
    _error_handlers(app)
    _filters(app)
    app.jinja_env.globals["Role"] = Role

    @app.route("/favicon.ico")
    def favicon():
        """Where browsers look for the icon without asking the page (no login: the icon of the
        login page too). Pages name it and the SVG one in their <head>."""
        return app.send_static_file("favicon.ico")

    @app.after_request
    def _security_headers(resp):
        for name, value in SECURITY_HEADERS.items():
            resp.headers.setdefault(name, value)
        return resp


# no page is ever framed (not even by the app itself), no script or style comes inline or from
# elsewhere, no plugin runs, and no <base> can redirect relative links
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


API_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 403: "forbidden", 400: "bad_request",
                   413: "too_large", 422: "invalid_input", 429: "too_many_requests",
                   500: "server_error", 503: "unavailable"}


def _error_page(status: int, message: str, *, bare: bool = False):
    """``bare``: the page needs neither the database nor the session (they may be what
    failed)."""
    if request.path.startswith("/api/"):  # routing errors never reach the API blueprint
        code = API_ERROR_CODES.get(status, "error")
        return jsonify({"error": {"code": code, "message": message, "fields": {}}}), status
    title = ERROR_TITLES.get(status, "Lỗi")
    template = "error_bare.html" if bare else "error.html"
    return render_template(template, title=title, message=message, status=status), status


def _error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_e: CSRFError):
        return _error_page(400, "Biểu mẫu đã hết hạn hoặc thiếu mã bảo vệ (CSRF). "
                                "Vui lòng tải lại trang rồi thử lại; dữ liệu chưa được lưu.")

    @app.errorhandler(DomainError)
    def _domain(e: DomainError):
        return _error_page(e.status_code, e.message)

    @app.errorhandler(413)
    def _too_large(_e: HTTPException):
        limit = app.config["MAX_UPLOAD_MB"]
        message = (f"Tệp tải lên vượt quá giới hạn {limit} MB nên chưa được nhận. Hãy chọn tệp "
                   "nhỏ hơn (ví dụ quét lại ở 200 dpi, đen trắng) rồi gửi lại.")
        again = _oversize_form()
        if again is not None:
            return again(uploads.oversize_fields(), message)
        return _error_page(413, message)

    @app.errorhandler(404)
    def _not_found(_e: HTTPException):
        return _error_page(404, "Trang hoặc văn bản bạn tìm không tồn tại, hoặc bạn không có "
                                "quyền xem.")

    @app.errorhandler(403)
    def _forbidden(_e: HTTPException):
        return _error_page(403, "Bạn không có quyền thực hiện thao tác này.")

    @app.errorhandler(429)
    def _too_many(e: HTTPException):
        return _error_page(429, e.description or "Quá nhiều yêu cầu. Vui lòng thử lại sau.")

    @app.errorhandler(405)
    def _method(_e: HTTPException):
        return _error_page(405, f"Không hỗ trợ phương thức {request.method} ở đây.")

    @app.errorhandler(400)
    def _bad_request(_e: HTTPException):
        return _error_page(400, "Yêu cầu có dữ liệu không hợp lệ; kiểm tra lại đường dẫn hoặc "
                                "biểu mẫu rồi thử lại.")

    @app.errorhandler(StorageError)
    def _storage(e: StorageError):
        if isinstance(e, StorageUnavailable):
            return _failure(503, UNAVAILABLE, e)
        return _failure(500, INTERNAL, e)  # a missing or corrupted blob: for the operator

    @app.errorhandler(OperationalError)
    def _database(e: OperationalError):
        return _failure(503, UNAVAILABLE, e)

    @app.errorhandler(500)
    def _internal(e: InternalServerError):
        return _failure(500, INTERNAL, e.original_exception or e)


def _oversize_form():
    """The view's own form for a request refused as too large (the body is refused before the
    view runs, even before the CSRF check): shown again with the error and the typed fields,
    to a user whose roles allow the view. None for any other request."""
    from ioffice.web import incoming, outgoing

    forms = {"incoming.register": incoming.register_oversize, "outgoing.new": outgoing.new_oversize,
             "outgoing.upload": outgoing.upload_oversize}
    again = forms.get(request.endpoint or "")
    view = current_app.view_functions.get(request.endpoint or "")
    if again is None or view is None or request.path.startswith("/api/"):
        return None
    op = getattr(view, "operation", None)
    if not current_user.is_authenticated or (op is not None and not may(op)):
        return None
    return functools.partial(again, **(request.view_args or {}))


def _failure(status: int, message: str, cause: BaseException):
    """A failure of the system, not of the request: logged with its cause, answered with a page
    that renders without the database or the session."""
    current_app.logger.error("%s %s failed (%s): %s", request.method, request.path,
                             type(cause).__name__, cause, exc_info=cause)
    session = g.get("db_session")
    if session is not None:
        try:
            session.rollback()
        except Exception:  # the database may be the very thing that failed
            current_app.logger.warning("rollback after the failure failed too", exc_info=True)
    return _error_page(status, message, bare=True)


def _filters(app: Flask) -> None:
    tz = ZoneInfo(app.config["TIMEZONE"])

    @app.template_filter("local")
    def _local(value: dt.datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
        """A moment in the agency's time zone (a naive value is UTC, as the database keeps it)."""
        if value is None:
            return ""
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(tz).strftime(fmt)

    app.add_template_filter(history_label, "history_label")

    @app.template_filter("vndate")
    def _vndate(value: dt.date | dt.datetime | None) -> str:
        """A date as dd/mm/yyyy (a datetime: its local date)."""
        if isinstance(value, dt.datetime):
            return _local(value, "%d/%m/%Y")
        return value.strftime("%d/%m/%Y") if value else ""

    @app.template_global("today_iso")
    def _today_iso() -> str:
        """Today in the agency's time zone, for the browser's past-deadline warning."""
        return dt.datetime.now(tz).date().isoformat()

    app.add_template_global(uploads.accepted_types, "upload_types")
    app.add_template_filter(receipt_flag_labels, "receipt_flags")
