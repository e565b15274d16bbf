"""The agency admin's view of the audit log: filter by person, document, action and period,
page by key, export to XLSX. Only the admin's own agency's events; the export is itself
audited."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Membership, User
from ioffice.agencies.permissions import Op
from ioffice.audit.models import AuditEvent
from ioffice.audit.service import record

PAGE_SIZE = 50
EXPORT_LIMIT = 50_000
VN = ZoneInfo("Asia/Ho_Chi_Minh")
SYSTEM = 0
"""The person filter's value for events with no user (the system, the exchange, the console)."""

# the first part of a tag: what part of the product acted
AREAS = {
    "auth": "Đăng nhập, mật khẩu",
    "agencies": "Quản trị cơ quan, người dùng",
    "incoming": "Văn bản đến",
    "outgoing": "Văn bản đi",
    "keys": "Khóa, chứng thư số",
    "exchange": "Liên thông",
    "search": "Tìm kiếm",
    "registers": "Sổ văn bản",
    "audit": "Nhật ký",
}
SUBJECTS = {"incoming": "Văn bản đến", "outgoing": "Văn bản đi", "user": "Người dùng",
            "certificate": "Chứng thư số", "api_token": "Mã truy cập API",
            "register": "Sổ văn bản", "assignment": "Phân công"}
_SUBJECT_TYPE = re.compile(r"[a-z_]{1,40}")
_SUBJECT_ID = re.compile(r"[A-Za-z0-9._,/-]{0,120}")


def valid_subject(subject_type: str, subject_id: str) -> bool:
    """What the object filter accepts: a type as the log writes them (``incoming``,
    ``certificate``...) and an id of letters, digits and ``._,/-`` (ids, serials, years)."""
    return bool(_SUBJECT_TYPE.fullmatch(subject_type) and _SUBJECT_ID.fullmatch(subject_id))


@dataclass(frozen=True)
class Filters:
    user_id: int | None = None  # SYSTEM: events without a user
    subject_type: str = ""
    subject_id: str = ""
    area: str = ""  # a key of AREAS, or a whole tag
    since: dt.date | None = None  # days in Vietnam's time, both ends included
    until: dt.date | None = None

    def query_args(self) -> dict[str, str]:
        """The filters as the page's query string (for the next page and the export)."""
        args = {"nguoi": "" if self.user_id is None else str(self.user_id),
                "doi_tuong": f"{self.subject_type}:{self.subject_id}" if self.subject_type else "",
                "hanh_dong": self.area,
                "tu_ngay": self.since.strftime("%d/%m/%Y") if self.since else "",
                "den_ngay": self.until.strftime("%d/%m/%Y") if self.until else ""}
        return {k: v for k, v in args.items() if v}


@dataclass(frozen=True)
class Row:
    id: int
    occurred_at: dt.datetime
    actor_name: str
    tag: str
    subject_type: str
    subject_id: str
    remote_addr: str
    details: dict


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), VN).astimezone(dt.UTC)


def _statement(actor: Actor, filters: Filters) -> Select:
    stmt = (select(AuditEvent.id, AuditEvent.occurred_at, User.full_name, AuditEvent.tag,
                   AuditEvent.subject_type, AuditEvent.subject_id, AuditEvent.remote_addr,
                   AuditEvent.details)
            .outerjoin(User, User.id == AuditEvent.actor_id)
            .where(AuditEvent.agency_id == actor.agency_id))
    if filters.user_id == SYSTEM:
        stmt = stmt.where(AuditEvent.actor_id.is_(None))
    elif filters.user_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == filters.user_id)
    if filters.subject_type:
        stmt = stmt.where(AuditEvent.subject_type == filters.subject_type)
        if filters.subject_id:
            stmt = stmt.where(AuditEvent.subject_id == filters.subject_id)
    if filters.area in AREAS:
        stmt = stmt.where(AuditEvent.tag.startswith(f"{filters.area}:", autoescape=True))
    elif filters.area:
        stmt = stmt.where(AuditEvent.tag == filters.area)
    if filters.since:
        stmt = stmt.where(AuditEvent.occurred_at >= _day_start(filters.since))
    if filters.until:
        stmt = stmt.where(AuditEvent.occurred_at < _day_start(filters.until + dt.timedelta(days=1)))
    return stmt


def page(session: Session, actor: Actor, filters: Filters, *, before_id: int | None = None
         ) -> tuple[list[Row], int | None]:
    """Newest first, ``PAGE_SIZE`` rows before ``before_id``; and the key of the next page."""
    actor.check(Op.ADMIN_AUDIT)
    stmt = _statement(actor, filters)
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    rows = [Row(*r) for r in session.execute(stmt.order_by(AuditEvent.id.desc())
                                            .limit(PAGE_SIZE + 1))]
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (rows[-1].id if more else None)


def export_rows(session: Session, actor: Actor, filters: Filters) -> Iterator[Row]:
    """Every matching event, oldest first, up to ``EXPORT_LIMIT``; the export is audited."""
    actor.check(Op.ADMIN_AUDIT)
    record(session, actor.ctx, "audit:log:export", subject_type="audit",
           details={"filters": filters.query_args()})
    stmt = _statement(actor, filters).order_by(AuditEvent.id).limit(EXPORT_LIMIT)
    for r in session.execute(stmt.execution_options(yield_per=1000)):
        yield Row(*r)


def people(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """Who may be chosen in the person filter: the agency's members, by name."""
    actor.check(Op.ADMIN_AUDIT)
    return [(uid, name) for uid, name in session.execute(
        select(User.id, User.full_name).join(Membership, Membership.user_id == User.id)
        .where(Membership.agency_id == actor.agency_id).order_by(User.full_name))]

