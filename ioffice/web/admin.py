"""Administration of the current agency: departments and users (admin role only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from ioffice.agencies import members
from ioffice.agencies import service as agencies
from ioffice.agencies.models import Role
from ioffice.db import utcnow
from ioffice.db_session import get_session
from ioffice.errors import NotFound
from ioffice.keys import service as keys
from ioffice.text import parse_int
from ioffice.web.access import Op, operation
from ioffice.web.auth import audit_context, current_actor, current_user
from ioffice.web.forms import Kept

bp = Blueprint("admin", __name__, url_prefix="/quan-tri")


@bp.route("/phong-ban", methods=["GET", "POST"])
@operation(Op.ADMIN_DEPARTMENTS)
def departments() -> Any:
    db = get_session()
    error = None
    form = request.form
    if request.method == "POST":
        try:
            dept = agencies.create_department(db, audit_context(), current_user.agency_id,
                                              form.get("name", ""), form.get("short_name", ""))
        except agencies.AgencyError as exc:
            db.rollback()
            error = exc.message
        else:
            db.commit()
            flash(f"Đã thêm phòng ban {dept.name}.", "success")
            return redirect(url_for("admin.departments"))
    return render_template("admin/departments.html", error=error, form=form,
                           departments=agencies.list_departments(db, current_user.agency_id)), \
        (400 if error else 200)


@bp.route("/nguoi-dung", methods=["GET", "POST"])
@operation(Op.ADMIN_USERS)
def users() -> Any:
    db = get_session()
    error = None
    form = request.form
    if request.method == "POST":
        try:
            dept_raw = form.get("department_id") or None
            user = members.create_member(db, current_actor(), members.NewMember(
                username=form.get("username", ""), full_name=form.get("full_name", ""),
                password=form.get("password", ""), position_title=form.get("position_title", ""),
                roles=frozenset(Role(r) for r in form.getlist("roles")
                                if r in Role._value2member_map_),
                department_id=int(dept_raw) if dept_raw and dept_raw.isdigit() else None)).user
        except agencies.AgencyError as exc:
            db.rollback()
            error = exc.message
        else:
            db.commit()
            flash(f"Đã tạo tài khoản {user.username}.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/users.html", error=error, form=form, roles=list(Role),
                           departments=agencies.list_departments(db, current_user.agency_id),
                           members=agencies.list_members(db, current_user.agency_id)), \
        (400 if error else 200)


def _member_edit(form: Any) -> members.MemberEdit:
    raw = form.get("department_id")
    return members.MemberEdit(
        full_name=form.get("full_name", ""), position_title=form.get("position_title", ""),
        # a value that is no id names no department of the agency: refused as such
        department_id=(parse_int(raw) or 0) if raw else None,
        roles=frozenset(Role(r) for r in form.getlist("roles") if r in Role._value2member_map_))


def _member_page(user_id: int, kept: Any = None, status: int = 200, *,
                 new_password: str | None = None) -> Any:
    """A member's page: the edit form (``kept``: a refused form of the page, shown again with
    what was typed), the account's state and its actions."""
    db = get_session()
    actor = current_actor()
    membership = members.member(db, actor, user_id)
    user = membership.user
    kept = kept or Kept.none()
    values = kept.of("edit")
    if values is None:
        values = MultiDict([("full_name", user.full_name), ("position_title", membership.title),
                            ("department_id", str(membership.department_id or "")),
                            *(("roles", r.value) for r in sorted(membership.roles))])
    resp = render_template(
        "admin/user_edit.html", membership=membership, user=user, kept=kept, values=values,
        roles=list(Role), departments=agencies.list_departments(db, actor.agency_id),
        lock=members.login_lock(db, user), now=utcnow(), new_password=new_password,
        pin_keys=keys.pin_keys(db, actor.agency_id, user.id),
        other_agencies=[m.agency for m in user.memberships if m.agency_id != actor.agency_id],
        is_self=user.id == actor.user_id)
    headers = {"Cache-Control": "no-store"} if new_password else {}
    return resp, status, headers


@bp.route("/nguoi-dung/<int:user_id>", methods=["GET", "POST"])
@operation(Op.ADMIN_USERS)
def user_edit(user_id: int) -> Any:
    if request.method == "GET":
        return _member_page(user_id)
    db = get_session()
    try:
        membership = members.update_member(db, current_actor(), user_id, _member_edit(request.form))
    except members.InvalidMember as exc:
        db.rollback()
        return _member_page(user_id, Kept("edit", request.form, exc.errors), 422)
    except NotFound:
        db.rollback()
        raise
    except agencies.AgencyError as exc:
        db.rollback()
        return _member_page(user_id, Kept("edit", request.form, {"form": exc.message}), 422)
    db.commit()
    flash(f"Đã lưu thông tin {membership.user.full_name}; vai trò và phòng ban có hiệu lực "
          "ngay từ thao tác tiếp theo của người dùng.", "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


def _member_action(user_id: int, action: Any) -> Any:
    """One of the account's actions (a POST with nothing to type; ``action`` returns the
    message): done and back to the page, or the page with the refusal."""
    db = get_session()
    try:
        message = action(db, current_actor(), user_id)
    except NotFound:
        db.rollback()
        raise
    except agencies.AgencyError as exc:
        db.rollback()
        return _member_page(user_id, Kept("action", request.form, {"action": exc.message}), 422)
    db.commit()
    flash(message, "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.route("/nguoi-dung/<int:user_id>/ngung-kich-hoat", methods=["POST"])
@operation(Op.ADMIN_USERS)
def user_deactivate(user_id: int) -> Any:
    return _member_action(user_id, lambda db, actor, uid: (
        f"Đã ngừng kích hoạt tài khoản {members.deactivate(db, actor, uid).username}; mọi phiên "
        "đăng nhập của tài khoản đã kết thúc."))


@bp.route("/nguoi-dung/<int:user_id>/kich-hoat", methods=["POST"])
@operation(Op.ADMIN_USERS)
def user_reactivate(user_id: int) -> Any:
    return _member_action(user_id, lambda db, actor, uid: (
        f"Đã kích hoạt lại tài khoản {members.reactivate(db, actor, uid).username}."))


UNLOCKED = {"login": "đăng nhập (đếm số lần nhập sai mật khẩu)", "pin": "khóa ký số PIN"}


@bp.route("/nguoi-dung/<int:user_id>/mo-khoa", methods=["POST"])
@operation(Op.ADMIN_USERS)
def user_unlock(user_id: int) -> Any:
    return _member_action(user_id, lambda db, actor, uid: "Đã mở khóa " + " và ".join(
        UNLOCKED[c] for c in members.unlock(db, actor, uid)) + ".")


@bp.route("/nguoi-dung/<int:user_id>/dat-lai-mat-khau", methods=["POST"])
@operation(Op.ADMIN_USERS)
def user_reset_password(user_id: int) -> Any:
    """The temporary password is shown on this answer only (never in a flash message: the
    session cookie is signed, not encrypted)."""
    db = get_session()
    try:
        password = members.reset_password(db, current_actor(), user_id,
                                          request.form.get("password", ""))
    except NotFound:
        db.rollback()
        raise
    except members.InvalidMember as exc:
        db.rollback()
        return _member_page(user_id, Kept("reset", request.form, exc.errors), 422)
    except agencies.AgencyError as exc:
        db.rollback()
        return _member_page(user_id, Kept("reset", request.form, {"password": exc.message}), 422)
    db.commit()
    return _member_page(user_id, new_password=password)


@bp.route("/quy-trinh-duyet", methods=["GET", "POST"])
@operation(Op.ADMIN_REVIEW_CHAIN)
def review_chain() -> Any:
    """The agency's review chain for outgoing drafts: the steps, in order."""
    from ioffice.outgoing import review
    from ioffice.outgoing.errors import InvalidInput
    from ioffice.outgoing.models import ReviewStepKind

    db = get_session()
    actor = current_actor()
    error = None
    steps = None
    if request.method == "POST":
        chosen = [request.form.get(f"step{i}", "") for i in range(1, len(ReviewStepKind) + 1)]
        try:
            steps = [ReviewStepKind(value) for value in chosen if value]
        except ValueError:
            steps = []
        try:
            review.set_chain(db, actor, steps)
        except InvalidInput as exc:
            db.rollback()
            error = exc.message
        else:
            db.commit()
            flash("Đã lưu quy trình duyệt dự thảo; áp dụng cho các dự thảo trình từ nay.", "success")
            return redirect(url_for("admin.review_chain"))
    saved = review.chain(db, actor.agency_id)
    # after a refusal the choices stay as they were made, not as they were saved
    return render_template("admin/review_chain.html", error=error, kinds=list(ReviewStepKind),
                           saved=saved, steps=steps if error and steps is not None else saved
                           ), (400 if error else 200)


# --- the agency tree (deployment-wide power, see ioffice/agencies/provisioning.py) ---

def _tree_admin():
    from ioffice.agencies import provisioning

    return provisioning.tree_admin(get_session(), current_actor())


def _pki_or_none():
    from ioffice.services import services

    try:
        return services().pki
    except RuntimeError:  # no PKI yet (`flask pki init`): the agency is created without a seal
        return None


def _register_on_axis(code: str) -> None:
    """Make a new or changed agency known to its hub now; if the hub cannot be reached, the
    exchange worker registers it within ``DIRECTORY_REFRESH_SECONDS`` (10 min)."""
    from axis_connector.client import AxisError, AxisUnavailable
    from ioffice.exchange import exchange
    from ioffice.exchange.worker import register_agencies

    rt = exchange(current_app)
    if not any(hub.serves(code) for hub in rt.hubs):
        return  # no exchange configured for it
    refused: dict[str, str] = {}
    try:
        if register_agencies(rt, {code}, refused):
            flash("Đã cập nhật cơ quan vào danh bạ trục liên thông.", "success")
    except (AxisError, AxisUnavailable) as exc:
        current_app.logger.warning("registering %s on the axis failed: %s", code, exc)
        flash("Chưa cập nhật được cơ quan vào danh bạ trục liên thông (trục không trả lời); "
              "hệ thống sẽ tự thử lại trong vòng 10 phút.", "error")
    if code in refused:
        flash(f"Trục liên thông từ chối đăng ký cơ quan: {refused[code]}", "error")


def _first_admin(db, agency, form):
    """The new agency's first administrator, when the form names one (same transaction: a
    refused account creates no agency). With it the agency's own admin can then create its
    departments and users on its pages."""
    username = form.get("admin_username", "").strip()
    if not (username or form.get("admin_full_name", "").strip() or form.get("admin_password")):
        return None
    if not username:
        raise agencies.AgencyError("Nhập tên đăng nhập cho tài khoản quản trị đầu tiên (hoặc để "
                                   "trống cả ba ô của tài khoản).")
    return agencies.create_user(db, audit_context(), agency_id=agency.id, username=username,
                                full_name=form.get("admin_full_name", ""),
                                password=form.get("admin_password", ""), roles=[Role.ADMIN])


@bp.route("/co-quan", methods=["GET", "POST"])
@operation(Op.ADMIN_AGENCIES)
def agencies_index() -> Any:
    from ioffice.agencies import provisioning
    from ioffice.web.forms import agency_input

    db = get_session()
    scope = _tree_admin()  # 403 on GET and POST alike
    error = None
    form = request.form
    if request.method == "POST":
        pki = _pki_or_none()
        try:
            agency = provisioning.create(db, scope, pki, agency_input(form))
            first_admin = _first_admin(db, agency, form)
        except agencies.AgencyError as exc:
            db.rollback()
            error = exc.message
        else:
            db.commit()
            flash(f"Đã thêm {agency.name} ({agency.code}, cấp {agency.level.label.lower()}).",
                  "success")
            if first_admin is not None:
                flash(f"Đã tạo tài khoản quản trị {first_admin.username} cho cơ quan mới.", "success")
            if pki is None:
                flash("Chưa có hạ tầng ký số (flask pki init) nên cơ quan chưa có chứng thư "
                      "con dấu số.", "error")
            else:
                _register_on_axis(agency.code)
            return redirect(url_for("admin.agencies_index"))
    return render_template("admin/agencies.html", error=error, form=form, scope=scope,
                           tree=provisioning.agency_tree(db),
                           parents=provisioning.parent_choices(db, scope)), \
        (400 if error else 200)


@bp.route("/co-quan/<int:agency_id>", methods=["GET", "POST"])
@operation(Op.ADMIN_AGENCIES)
def agency_edit(agency_id: int) -> Any:
    from ioffice.agencies import provisioning
    from ioffice.web.forms import agency_input

    db = get_session()
    scope = _tree_admin()
    agency = provisioning.agency_in_scope(db, scope, agency_id)
    error = None
    if request.method == "POST":
        form = request.form
        try:
            provisioning.update(db, scope, _pki_or_none(), agency, agency_input(form))
        except agencies.AgencyError as exc:
            db.rollback()
            error = exc.message
        else:
            db.commit()
            flash(f"Đã lưu thông tin {agency.name}.", "success")
            _register_on_axis(agency.code)
            return redirect(url_for("admin.agencies_index"))
    else:
        form = {"code": agency.code, "name": agency.name, "short_name": agency.short_name,
                "parent_code": agency.parent.code if agency.parent else "",
                "address": agency.address, "email": agency.email, "phone": agency.phone,
                "fax": agency.fax, "website": agency.website}
    return render_template("admin/agency_edit.html", error=error, form=form, agency=agency,
                           code_locked=provisioning.code_in_use(db, agency),
                           parents=[p for p in provisioning.parent_choices(db, scope)
                                    if p.id != agency.id]), \
        (400 if error else 200)


# --- work nobody can do (docs/outgoing.md "Stuck work", docs/incoming.md) ---

def _stuck_page(error: tuple[str, int, str] | None = None) -> Any:
    """The agency's stuck work; ``error``: (kind, id, message) of a refused reassignment, shown
    next to its item with what was typed."""
    from ioffice.incoming import stuck as incoming_stuck
    from ioffice.ocr import service as ocr_service
    from ioffice.outgoing import stuck as outgoing_stuck

    db = get_session()
    actor = current_actor()
    outgoing = outgoing_stuck.stuck_documents(db, actor)
    return render_template(
        "admin/stuck.html", outgoing=outgoing,
        outgoing_people={(i.document.id, i.signer): outgoing_stuck.candidates(db, actor, i)
                         for i in outgoing},
        assignments=incoming_stuck.stuck_assignments(db, actor),
        incoming=incoming_stuck.stuck_documents(db, actor),
        members=agencies.active_holders(db, actor.agency_id, tuple(Role)),
        ocr_note=ocr_service.unavailable_note(),
        ocr_failed=ocr_service.failed_jobs(db, actor.agency_id),
        error=error, form=request.form), (422 if error else 200)


@bp.route("/viec-bi-ket")
@operation(Op.ADMIN_STUCK_WORK)
def stuck() -> Any:
    return _stuck_page()


def _reassign(kind: str, ident: int, action: Any, success: str) -> Any:
    from ioffice.errors import DomainError, NotFound
    from ioffice.web import forms

    db = get_session()
    try:
        action(forms.integer(request.form, "user_id", forms.FormErrors(), "Người nhận việc"),
               forms.text(request.form, "reason"))
    except NotFound:
        db.rollback()
        raise
    except DomainError as exc:
        db.rollback()
        return _stuck_page((kind, ident, exc.message))
    db.commit()
    flash(success, "success")
    return redirect(url_for("admin.stuck"))


@bp.route("/viec-bi-ket/van-ban-di/<int:document_id>/buoc-duyet", methods=["POST"])
@operation(Op.ADMIN_STUCK_WORK)
def stuck_reassign_step(document_id: int) -> Any:
    from ioffice.outgoing import stuck as outgoing_stuck

    return _reassign("step", document_id, lambda user_id, reason: outgoing_stuck.reassign_step(
        get_session(), current_actor(), document_id, user_id, reason),
        "Đã giao bước duyệt cho người được chọn.")


@bp.route("/viec-bi-ket/van-ban-di/<int:document_id>/nguoi-ky", methods=["POST"])
@operation(Op.ADMIN_STUCK_WORK)
def stuck_change_signer(document_id: int) -> Any:
    from ioffice.outgoing import stuck as outgoing_stuck

    return _reassign("signer", document_id, lambda user_id, reason: outgoing_stuck.change_signer(
        get_session(), current_actor(), document_id, user_id, reason), "Đã đổi người ký.")


@bp.route("/viec-bi-ket/phan-cong/<int:assignment_id>", methods=["POST"])
@operation(Op.ADMIN_STUCK_WORK)
def stuck_reassign_assignment(assignment_id: int) -> Any:
    from ioffice.incoming import stuck as incoming_stuck

    return _reassign("assignment", assignment_id, lambda user_id, reason: incoming_stuck.reassign(
        get_session(), current_actor(), assignment_id, user_id, reason),
        "Đã chuyển việc cho người được chọn.")


def _audit_filters() -> tuple[Any, dict[str, str]]:
    """The log's filters from the query string, and the Vietnamese error of each bad one."""
    from ioffice.audit import viewer
    from ioffice.web.forms import parse_date

    args, errors = request.args, {}
    user_id = parse_int(args.get("nguoi"))
    if args.get("nguoi") and user_id is None:
        errors["nguoi"] = "Người thực hiện không hợp lệ."
    subject_type, _, subject_id = (args.get("doi_tuong") or "").partition(":")
    if subject_type and not viewer.valid_subject(subject_type, subject_id):
        errors["doi_tuong"] = f"Đối tượng «{args.get('doi_tuong')}» không hợp lệ."
        subject_type = subject_id = ""
    dates = {}
    for name, label in (("tu_ngay", "Từ ngày"), ("den_ngay", "Đến ngày")):
        raw = (args.get(name) or "").strip()
        dates[name] = parse_date(raw) if raw else None
        if raw and dates[name] is None:
            errors[name] = (f"{label} «{raw}» không phải là ngày hợp lệ: nhập theo dạng "
                            "ngày/tháng/năm, ví dụ 05/12/2026.")
    if dates["tu_ngay"] and dates["den_ngay"] and dates["tu_ngay"] > dates["den_ngay"]:
        errors["den_ngay"] = "«Đến ngày» phải sau «Từ ngày»."
    area = (args.get("hanh_dong") or "").strip()[:80]
    return viewer.Filters(user_id=user_id, subject_type=subject_type, subject_id=subject_id,
                          area=area, since=dates["tu_ngay"], until=dates["den_ngay"]), errors


@bp.route("/nhat-ky")
@operation(Op.ADMIN_AUDIT)
def audit_log() -> Any:
    from ioffice.audit import viewer
    from ioffice.web.labels import history_label

    db = get_session()
    actor = current_actor()
    filters, errors = _audit_filters()
    rows, next_key = ([], None) if errors else viewer.page(
        db, actor, filters, before_id=parse_int(request.args.get("truoc")))
    return render_template("admin/audit_log.html", rows=rows, next_key=next_key,
                           filters=filters, errors=errors, people=viewer.people(db, actor),
                           areas=viewer.AREAS, subjects=viewer.SUBJECTS, label=history_label,
                           system=viewer.SYSTEM), (422 if errors else 200)


@bp.route("/nhat-ky.xlsx")
@operation(Op.ADMIN_AUDIT)
def audit_export() -> Any:
    import io

    from flask import send_file

    from ioffice.audit import viewer
    from ioffice.documents.xlsx import register_workbook
    from ioffice.web.labels import history_label

    db = get_session()
    actor = current_actor()
    filters, errors = _audit_filters()
    if errors:
        return redirect(url_for("admin.audit_log", **request.args))
    rows = [(r.occurred_at.astimezone(viewer.VN).strftime("%d/%m/%Y %H:%M:%S"),
             r.actor_name or "Hệ thống", history_label(r.tag), r.tag,
             f"{viewer.SUBJECTS.get(r.subject_type, r.subject_type)} {r.subject_id}".strip(),
             r.remote_addr, r.id)
            for r in viewer.export_rows(db, actor, filters)]
    db.commit()  # the export's own event
    data = register_workbook(
        agency_name=current_user.agency.name, title="NHẬT KÝ HOẠT ĐỘNG", sheet_title="Nhật ký",
        columns=[("Thời gian", 20), ("Người thực hiện", 26), ("Hoạt động", 40), ("Mã", 30),
                 ("Đối tượng", 20), ("Địa chỉ", 16), ("Số sự kiện", 12)], rows=rows)
    return send_file(io.BytesIO(data), as_attachment=True, download_name="nhat-ky-hoat-dong.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/ma-truy-cap")
@operation(Op.ADMIN_USERS)
def api_tokens() -> Any:
    """Every API token of the agency, with its holder: the admin revokes any of them."""
    from ioffice.api import tokens
    from ioffice.db import utcnow

    return render_template("auth/tokens.html", admin=True, issued=None, error=None,
                           tokens=tokens.tokens_of(get_session(), current_actor(),
                                                   whole_agency=True), now=utcnow())


@bp.route("/ma-truy-cap/<int:token_id>/thu-hoi", methods=["POST"])
@operation(Op.ADMIN_USERS)
def revoke_api_token(token_id: int) -> Any:
    from ioffice.web.auth import revoke_token

    return revoke_token(token_id, whole_agency=True, back="admin.api_tokens",
                        done="Đã thu hồi mã truy cập «{name}».")


# --- trust anchors (deployment-wide, like the agency tree: see ioffice/trust) ---

def _trust_changed() -> None:
    """This process looks at the anchors again at once (the others within
    TRUST_RECHECK_SECONDS)."""
    from ioffice.exchange.runtime import exchange
    from ioffice.services import services

    services().trust_source.invalidate()
    runtime = current_app.extensions.get("ioffice.exchange")
    if runtime is not None:
        exchange(current_app).forget_trust()


@bp.route("/chung-thu-tin-cay", methods=["GET", "POST"])
@operation(Op.ADMIN_TRUST_ANCHORS)
def trust_anchors() -> Any:
    from ioffice.services import services
    from ioffice.trust import service as trust

    db = get_session()
    _tree_admin()  # deployment-wide: the top-level agency's admin only (403 otherwise)
    error = None
    if request.method == "POST":
        upload = request.files.get("certificate")
        if upload is None or not upload.filename:
            error = "Hãy chọn tệp chứng thư (.crt, .cer, .pem, .der) để nhập."
        else:
            data = upload.stream.read(trust.MAX_FILE_BYTES + 1)
            try:
                result = trust.import_certificates(db, audit_context(), data,
                                                   filename=upload.filename)
            except trust.TrustAnchorError as exc:
                db.rollback()
                error = exc.message
            else:
                db.commit()
                _trust_changed()
                flash(result.message, "success" if result.added else "warning")
                return redirect(url_for("admin.trust_anchors"))
    return render_template("admin/trust_anchors.html", error=error, now=utcnow(),
                           anchors=trust.list_anchors(db),
                           simulated=services().trust_source.simulated), (400 if error else 200)


@bp.route("/chung-thu-tin-cay/go", methods=["POST"])
@operation(Op.ADMIN_TRUST_ANCHORS)
def trust_anchor_remove() -> Any:
    """The anchor's id in the form, not the path: an anchor is the deployment's, not an
    agency's (the per-agency 404 probe of tests/access does not apply to it)."""
    from ioffice.trust import service as trust

    db = get_session()
    _tree_admin()
    anchor_id = parse_int(request.form.get("anchor_id"))
    if anchor_id is None:
        raise NotFound("Không có chứng thư này trong danh sách tin cậy (có thể đã được gỡ).")
    row = trust.remove(db, audit_context(), anchor_id)  # NotFound: 404 page
    db.commit()
    _trust_changed()
    flash(f"Đã gỡ chứng thư «{row.subject}» khỏi danh sách tin cậy: chữ ký do nó (và các tổ "
          "chức nó cấp) cấp chứng thư không còn được tin cậy.", "success")
    return redirect(url_for("admin.trust_anchors"))
