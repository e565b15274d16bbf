"""Login, logout, agency switch, and the authorization helpers every view uses."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)

from ioffice.agencies import service as agencies
from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Agency, Membership, Role, User
from ioffice.audit import AuditContext, record
from ioffice.audit.tags import Tag
from ioffice.db_session import get_session
from ioffice.text import parse_int

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
F = TypeVar("F", bound=Callable[..., Any])


class SessionUser(UserMixin):
    """The logged-in user with the membership of the agency they are acting for."""

    def __init__(self, user: User, membership: Membership) -> None:
        self.user = user
        self.membership = membership

    def get_id(self) -> str:
        return str(self.user.id)

    @property
    def is_active(self) -> bool:
        return self.user.active

    @property
    def agency(self) -> Agency:
        return self.membership.agency

    @property
    def agency_id(self) -> int:
        return self.membership.agency_id

    @property
    def roles(self) -> frozenset[Role]:
        return self.membership.roles

    def has(self, *roles: Role) -> bool:
        return self.membership.has(*roles)


class PageRefreshedSession(SecureCookieSessionInterface):
    """The signed-cookie session, whose expiry slides on page loads only.

    Flask re-sends a permanent session's cookie on every response to slide its expiry, so a
    page's lazily loaded PDF previews answered with the session as it was when they were
    requested. One that landed while the browser followed a form's redirect overwrote the cookie
    carrying the form's message, and the clerk never saw "Đã phát hành văn bản." (seen in CI).
    A response whose request changed the session still sets it, whatever was requested.
    """

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        if session.modified:
            return True
        return (super().should_set_cookie(app, session)
                and request.headers.get("Sec-Fetch-Dest", "document") in ("document", "iframe"))


def init_app(app: Flask) -> None:
    app.session_interface = PageRefreshedSession()
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"


@login_manager.user_loader
def _load(user_id: str) -> SessionUser | None:
    db = get_session()
    user = db.get(User, int(user_id))
    if user is None or not user.active:
        return None
    agency_id = session.get("agency_id")
    membership = agencies.load_membership(db, user.id, agency_id) if agency_id else None
    if membership is None:
        if not user.memberships:
            return None
        membership = user.memberships[0]
        session["agency_id"] = membership.agency_id
    return SessionUser(user, membership)


def audit_context() -> AuditContext:
    """Who is acting, for the service layer (which records the audit events)."""
    if current_user.is_authenticated:
        return AuditContext(current_user.user.id, current_user.agency_id, _remote_addr())
    return AuditContext(None, None, _remote_addr())


def _remote_addr() -> str:
    return request.remote_addr or ""


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Allow the view only to users holding one of ``roles`` in the current agency."""

    def deco(view: F) -> F:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return deco


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home.index")


@bp.route("/dang-nhap", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        db = get_session()
        try:
            user = agencies.authenticate(
                db, audit_context(), username, password,
                max_failures=int(current_app.config["LOGIN_MAX_FAILURES"]),
                lock_minutes=int(current_app.config["LOGIN_LOCK_MINUTES"]))
        except (agencies.InvalidCredentials, agencies.AccountLocked) as exc:
            db.commit()  # keep the failure count and the audit event
            error = exc.message
            return render_template("auth/login.html", error=error, username=username), exc.status_code
        if not user.memberships:
            db.rollback()
            error = "Tài khoản chưa được gán vào cơ quan nào. Liên hệ quản trị hệ thống."
            return render_template("auth/login.html", error=error, username=username), 403
        db.commit()
        session.clear()
        session["agency_id"] = user.memberships[0].agency_id
        login_user(SessionUser(user, user.memberships[0]))
        session.permanent = True
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, username=username)


@bp.route("/dang-xuat", methods=["POST"])
@login_required
def logout() -> Any:
    db = get_session()
    record(db, audit_context(), Tag.AUTH_LOGOUT, subject_type="user", subject_id=current_user.user.id)
    db.commit()
    logout_user()
    session.clear()
    flash("Bạn đã đăng xuất.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/chuyen-co-quan", methods=["POST"])
@login_required
def switch_agency() -> Any:
    agency_id = parse_int(request.form.get("agency_id"))
    if agency_id is None:  # garbage or larger than any id: no such membership
        abort(400)
    db = get_session()
    membership = agencies.load_membership(db, current_user.user.id, agency_id)
    if membership is None:
        abort(404)
    session["agency_id"] = agency_id
    record(db, AuditContext(current_user.user.id, agency_id, _remote_addr()),
           Tag.AUTH_SWITCH_AGENCY, subject_type="user", subject_id=current_user.user.id)
    db.commit()
    flash(f"Đang làm việc tại: {membership.agency.name}", "info")
    return redirect(url_for("home.index"))


def current_actor() -> Actor:
    """The acting user for the service layer."""
    return Actor.of(current_user.membership, _remote_addr())
