"""Web layer: blueprints per capability, server-rendered Vietnamese templates."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from ioffice.agencies.models import Role
from ioffice.errors import DomainError
from ioffice.web.labels import history_label

csrf = CSRFProtect()

ERROR_TITLES = {
    400: "Yêu cầu không hợp lệ",
    403: "Không có quyền",
    404: "Không tìm thấy",
    405: "Thao tác không được phép",
    413: "Tệp quá lớn",
    429: "Thử lại sau",
    500: "Lỗi hệ thống",
}


def init_app(app: Flask) -> None:
    from ioffice.api.views import bp as api_bp
    from ioffice.web import access, admin, auth, exchange, home, incoming, keys, limits, outgoing, search

    csrf.init_app(app)
    auth.init_app(app)
    access.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(keys.bp)
    app.register_blueprint(incoming.bp)
    app.register_blueprint(outgoing.bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # bearer tokens, never cookies
    app.register_blueprint(search.bp)
    app.register_blueprint(exchange.bp)
    limits.init_app(app)
    _error_handlers(app)
    _filters(app)
    app.jinja_env.globals["Role"] = Role

    @app.after_request
    def _security_headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
            "script-src 'self'; frame-ancestors 'self'; form-action 'self'")
        return resp


API_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 403: "forbidden", 400: "bad_request",
                   413: "too_large", 429: "too_many_requests"}


def _error_page(status: int, message: str):
    if request.path.startswith("/api/"):  # routing errors never reach the API blueprint
        code = API_ERROR_CODES.get(status, "error")
        return jsonify({"error": {"code": code, "message": message, "fields": {}}}), status
    title = ERROR_TITLES.get(status, "Lỗi")
    return render_template("error.html", title=title, message=message, status=status), status


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
        return _error_page(413, f"Tệp tải lên vượt quá giới hạn {limit} MB.")

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


def _filters(app: Flask) -> None:
    tz = ZoneInfo(app.config["TIMEZONE"])

    @app.template_filter("local")
    def _local(value: dt.datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
        if value is None:
            return ""
        return value.astimezone(tz).strftime(fmt)

    app.add_template_filter(history_label, "history_label")

    @app.template_filter("vndate")
    def _vndate(value: dt.date | None) -> str:
        return value.strftime("%d/%m/%Y") if value else ""
