"""Signing keys in the browser: one's own PIN key, and the admin's view of the agency's keys."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ioffice.agencies.models import Agency, User
from ioffice.db_session import get_session
from ioffice.keys import service as keys
from ioffice.services import services
from ioffice.web.access import Op, operation
from ioffice.web.auth import current_actor

bp = Blueprint("keys", __name__)


@bp.route("/chu-ky-so", methods=["GET", "POST"])
@operation(Op.OWN_KEYS)
def mine() -> Any:
    db = get_session()
    actor = current_actor()
    error = None
    if request.method == "POST":
        try:
            keys.replace_pin_key(db, services().pki, actor.ctx, db.get(User, actor.user_id),
                                 db.get(Agency, actor.agency_id), request.form.get("pin", ""),
                                 request.form.get("confirm", ""))
        except keys.KeyError_ as exc:
            db.rollback()
            error = exc.message
        else:
            db.commit()
            flash("Đã tạo khóa ký số bảo vệ bằng mã PIN mới.", "success")
            return redirect(url_for("keys.mine"))
    return render_template("keys/mine.html", error=error,
                           pin_keys=keys.pin_keys(db, actor.agency_id, actor.user_id),
                           browser=keys.browser_certificate(db, actor.user_id, actor.agency_id)), \
        (400 if error else 200)


@bp.route("/quan-tri/chu-ky-so")
@operation(Op.ADMIN_KEYS)
def agency_keys() -> Any:
    db = get_session()
    agency_id = current_actor().agency_id
    return render_template("keys/agency.html", pin_keys=keys.pin_keys(db, agency_id),
                           seal=keys.agency_seal(db, agency_id), reasons=keys.REVOCATION_REASONS)


@bp.route("/quan-tri/chu-ky-so/<int:certificate_id>/thu-hoi", methods=["POST"])
@operation(Op.ADMIN_KEYS)
def revoke(certificate_id: int) -> Any:
    """Revoke one of the agency's certificates: the CRL and OCSP served say so at once."""
    db = get_session()
    actor = current_actor()
    try:
        seal = keys.revoke_in_agency(db, services().pki, actor.ctx, actor.agency_id,
                                     certificate_id, request.form.get("reason", ""))
    except keys.KeyError_ as exc:
        db.rollback()
        flash(exc.message, "error")
        return redirect(url_for("keys.agency_keys")), 303
    db.commit()
    flash("Đã thu hồi chứng thư số; danh sách thu hồi (CRL) và OCSP đã cập nhật."
          + (" Cơ quan đã có con dấu số mới." if seal is not None else ""), "success")
    return redirect(url_for("keys.agency_keys"))


@bp.route("/quan-tri/chu-ky-so/<int:certificate_id>/mo-khoa", methods=["POST"])
@operation(Op.ADMIN_KEYS)
def unlock(certificate_id: int) -> Any:
    db = get_session()
    actor = current_actor()
    row = keys.pin_key_in_agency(db, actor.agency_id, certificate_id)
    keys.unlock_pin_key(db, actor.ctx, row)
    db.commit()
    flash("Đã mở khóa; người ký có thể nhập lại mã PIN.", "success")
    return redirect(url_for("keys.agency_keys"))
