"""Administration of the agency tree in the browser: who may do it, the tree, and creating an
agency ready for work (its row, this year's registers, its seal certificate) or editing one.

Who: an admin (``Role.ADMIN``) acting for a level-1 body at the top of the deployment's tree
(an agency without a parent: the provincial People's Committee ``000.00.00.H12``, a ministry)
administers every agency whose identifier ends with that body's level-1 code (``*.H12``).
Creating a new top-level body (a new tree) stays with the deployment's operator (``flask agency
create``). See docs/agencies.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from sqlalchemy import column, exists, select, table
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.identifiers import AgencyIdentifier
from ioffice.agencies.models import Agency, Membership, Role
from ioffice.agencies.service import (
    AgencyError,
    AgencyInput,
    check_parent,
    clean_agency_input,
    create_agency,
    get_agency_by_code,
    parse_identifier,
)
from ioffice.audit import record
from ioffice.errors import Forbidden, NotFound
from ioffice.keys import service as keys
from ioffice.registers.models import RegisterKind
from ioffice.registers.numbering import get_or_create_register
from signing import Pki

AGENCY_UPDATE = "agencies:agency:update"

# Rows that make an identifier part of history: once one exists the code is final (it is the
# OrganId in every edXML package, in the hubs' directory and in document identifiers).
_USES_OF_THE_CODE = ("incoming_documents", "outgoing_documents", "exchange_outbox",
                     "exchange_inbox", "exchange_statuses")


@dataclass(frozen=True)
class TreeAdmin:
    """The scope of an actor allowed to administer agencies: one level-1 code."""

    actor: Actor
    level1: str

    def covers(self, code: str) -> bool:
        return code.endswith(f".{self.level1}")


def tree_admin(session: Session, actor: Actor) -> TreeAdmin:
    """The actor's power over the agency tree, or Forbidden (for GET as well as POST)."""
    agency = session.get(Agency, actor.agency_id)
    if agency is None or not actor.has(Role.ADMIN) or agency.parent_id is not None:
        raise Forbidden("Chỉ quản trị của cơ quan cấp cao nhất (ví dụ Ủy ban nhân dân tỉnh) "
                        "mới được thêm và sửa cơ quan, đơn vị trong hệ thống.")
    return TreeAdmin(actor, AgencyIdentifier.parse(agency.code).level1)


def may_administer_agencies(session: Session, actor: Actor) -> bool:
    try:
        tree_admin(session, actor)
    except Forbidden:
        return False
    return True


@dataclass
class TreeNode:
    agency: Agency
    children: list[TreeNode] = field(default_factory=list)


_LEVEL_ORDER = {"central": 0, "province": 1, "district": 2, "commune": 3}


def agency_tree(session: Session) -> list[TreeNode]:
    """Every agency of the deployment, as nested nodes: roots by level (central, province,
    district, commune) then identifier; children by identifier."""
    agencies = list(session.scalars(select(Agency)))
    nodes = {a.id: TreeNode(a) for a in agencies}
    roots: list[TreeNode] = []
    for a in sorted(agencies, key=lambda a: (_LEVEL_ORDER[a.level.value], _sort_key(a.code))):
        node = nodes[a.id]
        parent = nodes.get(a.parent_id) if a.parent_id is not None else None
        (parent.children if parent is not None else roots).append(node)
    return roots


def _sort_key(code: str) -> tuple[str, ...]:
    return tuple(reversed(code.split(".")))  # read right to left, as the identifier is


def parent_choices(session: Session, scope: TreeAdmin) -> list[Agency]:
    return sorted((a for a in session.scalars(select(Agency)) if scope.covers(a.code)),
                  key=lambda a: _sort_key(a.code))


def agency_in_scope(session: Session, scope: TreeAdmin, agency_id: int) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None or not scope.covers(agency.code):
        raise NotFound("Không tìm thấy cơ quan.")
    return agency


def _parent_in_scope(session: Session, scope: TreeAdmin, code: str | None) -> Agency:
    if not code:
        raise AgencyError("Chọn cơ quan cấp trên.")
    parent = get_agency_by_code(session, code)
    if parent is None or not scope.covers(parent.code):
        raise AgencyError(f"Không tìm thấy cơ quan cấp trên có mã {code} trong hệ thống "
                          "bạn quản trị.")
    return parent


def create(session: Session, scope: TreeAdmin, pki: Pki | None, data: AgencyInput,
           *, today: dt.date | None = None) -> Agency:
    """A new agency inside the admin's tree, ready for work like one from the demo loader: this
    year's registers and its seal certificate (needed to seal and to send through the axis)."""
    ident = parse_identifier(data.code)
    if not scope.covers(str(ident)):
        raise AgencyError(f"Mã định danh {ident} không thuộc hệ thống bạn quản trị: mã phải kết "
                          f"thúc bằng .{scope.level1}.")
    data = clean_agency_input(data)
    parent = _parent_in_scope(session, scope, data.parent_code)
    check_parent(ident, parent)
    agency = create_agency(session, scope.actor.ctx, replace(data, code=str(ident)))
    year = (today or dt.date.today()).year
    for kind in RegisterKind:
        get_or_create_register(session, agency.id, kind, year)
    if pki is not None:
        keys.ensure_agency_seal(session, pki, scope.actor.ctx, agency)
    return agency


def code_in_use(session: Session, agency: Agency) -> str | None:
    """Why the identifier of ``agency`` can no longer change, or None."""
    if session.scalar(select(exists().where(Agency.parent_id == agency.id))):
        return "đã có cơ quan cấp dưới"
    if session.scalar(select(exists().where(Membership.agency_id == agency.id))):
        return "đã có người dùng"
    for name in _USES_OF_THE_CODE:
        t = table(name, column("agency_id"))
        if session.scalar(select(exists().where(t.c.agency_id == agency.id))):
            return "đã có văn bản hoặc gói tin liên thông"
    return None


def update(session: Session, scope: TreeAdmin, pki: Pki | None, agency: Agency,
           data: AgencyInput) -> Agency:
    """Name, short name, contacts and parent may change; the identifier only while nothing
    refers to it (``code_in_use``), and then the seal certificate, which names it, is reissued."""
    ident = parse_identifier(data.code)
    data = clean_agency_input(data)
    before = _snapshot(agency)
    code_changed = str(ident) != agency.code
    if code_changed:
        if agency.parent_id is None:
            raise AgencyError("Không đổi được mã định danh của cơ quan cấp cao nhất.")
        reason = code_in_use(session, agency)
        if reason is not None:
            raise AgencyError(f"Không thể đổi mã định danh {agency.code}: cơ quan {reason}. "
                              "Mã định danh đã dùng trong văn bản và liên thông là cố định.")
        if not scope.covers(str(ident)):
            raise AgencyError(f"Mã định danh {ident} không thuộc hệ thống bạn quản trị: mã phải "
                              f"kết thúc bằng .{scope.level1}.")
        if get_agency_by_code(session, str(ident)):
            raise AgencyError(f"Mã định danh {ident} đã được dùng cho một cơ quan khác.")
    if agency.parent_id is None:
        if data.parent_code:
            raise AgencyError("Cơ quan cấp cao nhất của hệ thống không có cơ quan cấp trên.")
        parent = None
    else:
        parent = _parent_in_scope(session, scope, data.parent_code)
        check_parent(ident, parent)
    agency.code, agency.level, agency.parent = str(ident), ident.level, parent
    for name in ("name", "short_name", "address", "email", "phone", "fax", "website"):
        setattr(agency, name, getattr(data, name))
    session.flush()
    after = _snapshot(agency)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not changes:
        return agency
    record(session, scope.actor.ctx, AGENCY_UPDATE, subject_type="agency", subject_id=agency.id,
           details={"code": agency.code, "changes": changes}, agency_id=agency.id)
    if code_changed and pki is not None:
        _reissue_seal(session, scope, pki, agency)
    return agency


def _snapshot(agency: Agency) -> dict[str, str | None]:
    return {"code": agency.code, "name": agency.name, "short_name": agency.short_name,
            "parent": agency.parent.code if agency.parent else None, "address": agency.address,
            "email": agency.email, "phone": agency.phone, "fax": agency.fax,
            "website": agency.website}


def _reissue_seal(session: Session, scope: TreeAdmin, pki: Pki, agency: Agency) -> None:
    old = keys.agency_seal(session, agency.id)
    if old is not None:
        old.active = False
        session.flush()
    keys.ensure_agency_seal(session, pki, scope.actor.ctx, agency)
