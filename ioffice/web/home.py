"""The home page: what each of the user's roles has to do."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ioffice.agencies.models import Membership, Role
from ioffice.db_session import get_session
from ioffice.exchange import requests as exchange_requests
from ioffice.incoming import overview, queries
from ioffice.incoming.registration import today_vn
from ioffice.outgoing import counts as outgoing_counts
from ioffice.web.access import operation
from ioffice.web.auth import current_actor

bp = Blueprint("home", __name__)

ROLE_PANELS: dict[Role, str] = {
    Role.CLERK: "Tiếp nhận, vào sổ văn bản đến; cấp số, ký số cơ quan và phát hành văn bản đi.",
    Role.LEADER: "Phân phối, giao xử lý văn bản đến; duyệt và ký số văn bản đi.",
    Role.DEPARTMENT_HEAD: "Giao việc trong phòng, duyệt nội dung dự thảo của phòng.",
    Role.SPECIALIST: "Xử lý văn bản được giao, soạn dự thảo văn bản trả lời.",
    Role.ADMIN: "Quản lý phòng ban và tài khoản người dùng của cơ quan.",
    Role.ARCHIVIST: "Nhận hồ sơ nộp lưu vào Lưu trữ cơ quan, ký biên bản giao nhận.",
}


@bp.route("/")
@operation(None)
def index() -> Any:
    memberships = list(get_session().scalars(
        select(Membership).where(Membership.user_id == current_user.user.id)
        .options(selectinload(Membership.agency))))
    panels = [(role, ROLE_PANELS[role]) for role in Role if role in current_user.roles]
    db = get_session()
    actor = current_actor()
    today = today_vn()
    counts = queries.counts(db, actor, today)
    return render_template("home/index.html", panels=panels, memberships=memberships,
                           counts=counts, out=outgoing_counts.counts(db, actor),
                           agency_overdue=overview.agency_overdue(db, actor, today),
                           requests=exchange_requests.pending(db, actor),
                           request_count=exchange_requests.count_pending(db, actor))
