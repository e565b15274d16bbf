"""Login, logout, agency switch, and the authorization helpers every view uses."""

from __future__ import annotations

import time
from typing import Any

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
from sqlalchemy.orm import Session

from ioffice.agencies import service as agencies
from ioffice.agencies.actor import Actor
from ioffice.agencies.member_view import AgencyView, MembershipView, UserView, load_member, view_of
from ioffice.agencies.models import Membership, Role, User
from ioffice.agencies.passwords import MIN_LENGTH
from ioffice.agencies.permissions import Op
from ioffice.audit import AuditContext, record
from ioffice.audit.tags import Tag
from ioffice.db import utcnow
from ioffice.db_session import get_session
from ioffice.errors import DomainError, NotFound
from ioffice.text import parse_int
from ioffice.web import inputs

bp = Blueprint("auth", __name__)
login_manager = LoginManager()


class SessionUser(UserMixin):
    """The logged-in user with the membership of the agency they are acting for.

    Plain values (``member_view``), read in one statement per request: ``user`` and
    ``membership`` are not ORM objects; a view that changes the user loads it
    (``db.get(User, current_user.user.id)``)."""

    def __init__(self, user: UserView, membership: MembershipView) -> None:
        self.user = user
        self.membership = membership

    def get_id(self) -> str:
        return str(self.user.id)

    @property
    def is_active(self) -> bool:
        return self.user.active

    @property
    def agency(self) -> AgencyView:
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

    SLIDE_EVERY = 60
    """Seconds: the expiry slides at most once a minute (re-signing the cookie on every page
    was a share of each page's CPU; an 8-hour idle lifetime loses nothing to a minute)."""

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        if session.modified:
            return True
        if not (super().should_set_cookie(app, session)
                and request.headers.get("Sec-Fetch-Dest", "document") in ("document", "iframe")):
            return False
        minute = int(time.time()) // self.SLIDE_EVERY
        if session.get("_slid") == minute:
            return False
        session["_slid"] = minute
        return True


def init_app(app: Flask) -> None:
    app.session_interface = PageRefreshedSession()
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    app.before_request(_password_change_first)


# what a user with a temporary password may still reach (the API uses tokens, not sessions)
_BEFORE_PASSWORD_CHANGE = frozenset({"auth.change_password", "auth.logout", "auth.login",
                                     "static", "favicon"})


def _password_change_first() -> Any:
    """After an admin's password reset, every page leads to /doi-mat-khau until the user has
    chosen a password of their own."""
    if request.endpoint in _BEFORE_PASSWORD_CHANGE or request.path.startswith("/api/"):
        return None
    if current_user.is_authenticated and current_user.user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return None


@login_manager.user_loader
def _load(user_id: str) -> SessionUser | None:
    agency_id = session.get("agency_id")
    loaded = load_member(get_session(), int(user_id),
                         agency_id if isinstance(agency_id, int) else None)
    if loaded is None or not loaded[0].active or not _session_current(loaded[0]):
        session.clear()  # the browser gets an empty cookie in place of the dead one
        return None
    user, membership = loaded
    if membership is None:
        return None
    if membership.agency_id != agency_id:  # none yet, or no longer a member there
        session["agency_id"] = membership.agency_id
    return SessionUser(user, membership)


def _session_current(user: UserView) -> bool:
    """The session was opened in the user's current epoch (no logout, password change or
    deactivation since) and within the absolute lifetime."""
    started = session.get("login_at")
    if session.get("epoch") != user.session_epoch or not isinstance(started, int):
        return False
    return time.time() - started < int(current_app.config["SESSION_ABSOLUTE_LIFETIME"])


def _open_session(user: User, membership: Membership) -> None:
    """A fresh session for ``user``, bound to their current epoch, starting now."""
    session.clear()
    session["agency_id"] = membership.agency_id
    session["epoch"] = user.session_epoch
    session["login_at"] = int(time.time())
    login_user(SessionUser(*view_of(user, membership)))
    session.permanent = True


def audit_context() -> AuditContext:
    """Who is acting, for the service layer (which records the audit events)."""
    if current_user.is_authenticated:
        return AuditContext(current_user.user.id, current_user.agency_id, _remote_addr())
    return AuditContext(None, None, _remote_addr())


def _remote_addr() -> str:
    return request.remote_addr or ""


def _safe_next(target: str | None) -> str:
    return inputs.local_path(target, url_for("home.index"))


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
        _open_session(user, user.memberships[0])
        if user.must_change_password:  # the page says why
            return redirect(url_for("auth.change_password"))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, username=username)


@bp.route("/dang-xuat", methods=["POST"])
@login_required
def logout() -> Any:
    db = get_session()
    agencies.logout(db, audit_context(), _orm_user(db))
    db.commit()
    logout_user()
    session.clear()
    flash("Bạn đã đăng xuất.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/doi-mat-khau", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    """Change one's own password. Every other session of the user ends; this one goes on."""
    if request.method == "GET":
        return _password_page(None)
    forced = current_user.user.must_change_password
    db = get_session()
    user = _orm_user(db)
    membership = agencies.load_membership(db, user.id, current_user.agency_id)
    assert membership is not None  # this request's user was loaded with it
    try:
        agencies.change_password(db, audit_context(), user,
                                 current=request.form.get("current_password", ""),
                                 new=request.form.get("new_password", ""),
                                 repeat=request.form.get("repeat_password", ""))
    except agencies.PasswordChangeError as exc:
        db.rollback()
        return _password_page(exc.message), exc.status_code
    db.commit()
    _open_session(user, membership)
    flash("Đã đổi mật khẩu." if forced else
          "Đã đổi mật khẩu. Các phiên đăng nhập khác của bạn đã kết thúc.", "success")
    return redirect(url_for("home.index"))


def _password_page(error: str | None) -> str:
    return render_template("auth/change_password.html", error=error, min_length=MIN_LENGTH,
                           forced=current_user.user.must_change_password)


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


def _orm_user(db: Session) -> User:
    """The logged-in user as a mapped object, for a view that changes it."""
    user = db.get(User, current_user.user.id)
    assert user is not None  # this request's user was loaded a moment ago
    return user


def current_actor() -> Actor:
    """The acting user for the service layer."""
    return Actor.of(current_user.membership, _remote_addr())


@bp.route("/ma-truy-cap", methods=["GET", "POST"])
@login_required
def api_tokens() -> Any:
    """One's own API tokens in the agency one acts for: create (the secret is shown once, on
    the answer to the form), list, revoke."""
    from ioffice.api import tokens

    db = get_session()
    actor = current_actor()
    issued, error = None, None
    if request.method == "POST":
        try:
            issued = tokens.issue_own(
                db, actor, request.form.get("name", "")[:200],
                # the form lists the scopes (all unchecked is an error); a post without the
                # list (a script of before the scopes) gets the default read, write
                scopes=([v[:20] for v in request.form.getlist("scopes")[:8]]
                        if "scopes_shown" in request.form else tokens.DEFAULT_SCOPES),
                expires_at=tokens.parse_expiry(request.form.get("expires", "")[:20]))
        except DomainError as exc:
            db.rollback()
            error = exc.message
        else:
            db.commit()
    return render_template("auth/tokens.html", tokens=tokens.tokens_of(db, actor), issued=issued,
                           error=error, admin=False, scopes=list(tokens.Scope),
                           form=request.form if error else None,
                           may_admin=actor.may(Op.ADMIN_USERS), now=utcnow()), (422 if error else 200)


@bp.route("/ma-truy-cap/<int:token_id>/thu-hoi", methods=["POST"])
@login_required
def revoke_api_token(token_id: int) -> Any:
    return revoke_token(token_id, whole_agency=False, back="auth.api_tokens",
                        done="Đã thu hồi mã truy cập «{name}»: hệ thống dùng mã này không gọi "
                             "API được nữa.")


def revoke_token(token_id: int, *, whole_agency: bool, back: str, done: str) -> Any:
    """Revoke one token (one's own, or the admin's any in the agency) and go back to ``back``
    with ``done`` (``{name}``: the token's) or the refusal."""
    from ioffice.api import tokens

    db = get_session()
    try:
        token = tokens.revoke_by_id(db, current_actor(), token_id, whole_agency=whole_agency)
    except NotFound:
        db.rollback()
        raise
    except DomainError as exc:
        db.rollback()
        flash(exc.message, "error")
        return redirect(url_for(back))
    db.commit()
    flash(done.format(name=token.name), "success")
    return redirect(url_for(back))
