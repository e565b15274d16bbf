"""Demo data: Cà Mau province with two districts, four communes and two ministries.

Idempotent: agencies, departments and users that exist are left as they are.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies import service
from ioffice.agencies.models import Agency, Department, Role
from ioffice.audit import AuditContext
from ioffice.keys import service as keys
from ioffice.registers.models import RegisterKind
from ioffice.registers.numbering import get_or_create_register
from signing import Pki

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="demo")


@dataclass(frozen=True)
class DemoPerson:
    role: Role
    full_name: str
    position: str
    department: str | None  # short name


@dataclass(frozen=True)
class DemoAgency:
    slug: str
    code: str
    name: str
    short_name: str
    parent: str | None
    address: str
    departments: tuple[tuple[str, str], ...]
    people: tuple[DemoPerson, ...]


def _people(leader: tuple[str, str], head: tuple[str, str, str], clerk: str, specialist: tuple[str, str]
            ) -> tuple[DemoPerson, ...]:
    return (
        DemoPerson(Role.CLERK, clerk, "Văn thư", "VP"),
        DemoPerson(Role.LEADER, leader[0], leader[1], None),
        DemoPerson(Role.DEPARTMENT_HEAD, head[0], head[1], head[2]),
        DemoPerson(Role.SPECIALIST, specialist[0], "Chuyên viên", specialist[1]),
    )


AGENCIES: tuple[DemoAgency, ...] = (
    DemoAgency("vpcp", "000.00.00.G22", "Văn phòng Chính phủ", "VPCP", None,
               "16 Lê Hồng Phong, Ba Đình, Hà Nội",
               (("VP", "Văn phòng"), ("HC", "Vụ Hành chính"), ("KSTT", "Cục Kiểm soát thủ tục hành chính")),
               _people(("Nguyễn Văn Thành", "Phó Chủ nhiệm"),
                       ("Đỗ Thị Hương", "Vụ trưởng Vụ Hành chính", "HC"),
                       "Phạm Thu Trang", ("Vũ Quang Huy", "HC"))),
    DemoAgency("bnv", "000.00.00.G09", "Bộ Nội vụ", "BNV", None,
               "8 Tôn Thất Thuyết, Cầu Giấy, Hà Nội",
               (("VP", "Văn phòng Bộ"), ("CCHC", "Vụ Cải cách hành chính"),
                ("CQĐP", "Vụ Chính quyền địa phương")),
               _people(("Trần Anh Tuấn", "Thứ trưởng"),
                       ("Lê Minh Đức", "Vụ trưởng Vụ Cải cách hành chính", "CCHC"),
                       "Hoàng Thị Lan", ("Ngô Thị Thảo", "CCHC"))),
    DemoAgency("camau", "000.00.00.H12", "Ủy ban nhân dân tỉnh Cà Mau", "UBND", None,
               "02 Hùng Vương, Phường 5, TP. Cà Mau",
               (("VP", "Văn phòng Ủy ban nhân dân tỉnh"), ("TTTT", "Sở Thông tin và Truyền thông"),
                ("SNV", "Sở Nội vụ"), ("KT", "Phòng Kinh tế - Ngành")),
               _people(("Huỳnh Quốc Việt", "Chủ tịch Ủy ban nhân dân tỉnh"),
                       ("Nguyễn Hoàng Phúc", "Giám đốc Sở Thông tin và Truyền thông", "TTTT"),
                       "Trần Thị Ngọc Hân", ("Lý Minh Khôi", "TTTT"))),
    DemoAgency("uminh", "000.00.21.H12", "Ủy ban nhân dân huyện U Minh", "UBND", "000.00.00.H12",
               "Khóm 2, thị trấn U Minh, huyện U Minh, tỉnh Cà Mau",
               (("VP", "Văn phòng HĐND và UBND huyện"), ("NV", "Phòng Nội vụ"),
                ("TCKH", "Phòng Tài chính - Kế hoạch")),
               _people(("Dương Văn Sử", "Chủ tịch Ủy ban nhân dân huyện"),
                       ("Tô Thị Bích", "Trưởng phòng Nội vụ", "NV"),
                       "Quách Thị Mỹ", ("Lâm Thành Đạt", "NV"))),
    DemoAgency("tranvanthoi", "000.00.22.H12", "Ủy ban nhân dân huyện Trần Văn Thời", "UBND",
               "000.00.00.H12", "Khóm 9, thị trấn Trần Văn Thời, tỉnh Cà Mau",
               (("VP", "Văn phòng HĐND và UBND huyện"), ("NV", "Phòng Nội vụ"),
                ("TCKH", "Phòng Tài chính - Kế hoạch")),
               _people(("Nguyễn Chí Thiện", "Chủ tịch Ủy ban nhân dân huyện"),
                       ("Châu Thị Kiều", "Trưởng phòng Nội vụ", "NV"),
                       "Đặng Thị Diễm", ("Phan Văn Lực", "NV"))),
    DemoAgency("khanhan", "000.01.21.H12", "Ủy ban nhân dân xã Khánh An", "UBND", "000.00.21.H12",
               "Ấp 2, xã Khánh An, huyện U Minh, tỉnh Cà Mau",
               (("VP", "Văn phòng - Thống kê"), ("TP", "Tư pháp - Hộ tịch")),
               _people(("Trương Văn Ếch", "Chủ tịch Ủy ban nhân dân xã"),
                       ("Mai Thị Út", "Công chức Văn phòng - Thống kê", "VP"),
                       "Huỳnh Thị Thu", ("Lê Hữu Nghĩa", "TP"))),
    DemoAgency("khanhlam", "000.02.21.H12", "Ủy ban nhân dân xã Khánh Lâm", "UBND", "000.00.21.H12",
               "Ấp 5, xã Khánh Lâm, huyện U Minh, tỉnh Cà Mau",
               (("VP", "Văn phòng - Thống kê"), ("TP", "Tư pháp - Hộ tịch")),
               _people(("Võ Thành Được", "Chủ tịch Ủy ban nhân dân xã"),
                       ("Kim Thị Sương", "Công chức Văn phòng - Thống kê", "VP"),
                       "Tạ Thị Xuân", ("Cao Minh Trí", "TP"))),
    DemoAgency("khanhbinh", "000.01.22.H12", "Ủy ban nhân dân xã Khánh Bình", "UBND", "000.00.22.H12",
               "Ấp Cơi Năm, xã Khánh Bình, huyện Trần Văn Thời, tỉnh Cà Mau",
               (("VP", "Văn phòng - Thống kê"), ("TP", "Tư pháp - Hộ tịch")),
               _people(("Lưu Hoàng Nam", "Chủ tịch Ủy ban nhân dân xã"),
                       ("Bùi Thị Hằng", "Công chức Văn phòng - Thống kê", "VP"),
                       "Triệu Thị Nhung", ("Hà Văn Tỷ", "TP"))),
    DemoAgency("tranhoi", "000.02.22.H12", "Ủy ban nhân dân xã Trần Hợi", "UBND", "000.00.22.H12",
               "Ấp 7, xã Trần Hợi, huyện Trần Văn Thời, tỉnh Cà Mau",
               (("VP", "Văn phòng - Thống kê"), ("TP", "Tư pháp - Hộ tịch")),
               _people(("Diệp Văn Hòa", "Chủ tịch Ủy ban nhân dân xã"),
                       ("Giang Thị Lụa", "Công chức Văn phòng - Thống kê", "VP"),
                       "La Thị Phượng", ("Thạch Văn Dũng", "TP"))),
)

USERNAME_PREFIX = {Role.CLERK: "vanthu", Role.LEADER: "lanhdao",
                   Role.DEPARTMENT_HEAD: "truongphong", Role.SPECIALIST: "chuyenvien"}
# a person who holds posts in two agencies (kiêm nhiệm), to show the agency switch
CONCURRENT = ("kiemnhiem.uminh", "Lê Văn Kiên", "Phó Chủ tịch UBND huyện U Minh", ("uminh", "khanhan"))
# the agency's archive (Lưu trữ cơ quan) receives the dossiers handed over (docs/records.md)
ARCHIVISTS = {"camau": ("luutru.camau", "Đoàn Thị Lưu", "Viên chức lưu trữ")}
CONCURRENT_SECOND_POST = "Chủ tịch UBND xã Khánh An (kiêm nhiệm)"


@dataclass
class DemoResult:
    password: str
    agencies_created: int = 0
    users_created: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # username, name, where


def demo_password(instance_path: str, given: str | None) -> str:
    if given:
        return given
    path = Path(instance_path) / "demo_password"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    pw = "demo-" + secrets.token_urlsafe(6)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(pw)
    return pw


def load(session: Session, *, password: str | None, instance_path: str,
         pki: Pki | None = None) -> DemoResult:
    result = DemoResult(password=demo_password(instance_path, password))
    year = dt.datetime.now(dt.UTC).year
    by_slug: dict[str, int] = {}
    for spec in AGENCIES:
        agency = service.get_agency_by_code(session, spec.code)
        if agency is None:
            agency = service.create_agency(session, CTX, service.AgencyInput(
                code=spec.code, name=spec.name, short_name=spec.short_name, parent_code=spec.parent,
                address=spec.address, email=f"vanthu@{spec.slug}.gov.vn",
                website=f"https://{spec.slug}.gov.vn"))
            result.agencies_created += 1
        by_slug[spec.slug] = agency.id
        depts = {d.short_name: d.id for d in service.list_departments(session, agency.id)}
        for short, name in spec.departments:
            if short not in depts:
                depts[short] = service.create_department(session, CTX, agency.id, name, short).id
        for kind in RegisterKind:
            get_or_create_register(session, agency.id, kind, year)
        if pki is not None:
            keys.ensure_agency_seal(session, pki, CTX, agency)
        for person in spec.people:
            username = f"{USERNAME_PREFIX[person.role]}.{spec.slug}"
            roles = [person.role, Role.ADMIN] if person.role == Role.CLERK else [person.role]
            if service.get_user_by_username(session, username) is None:
                service.create_user(session, CTX, agency_id=agency.id, username=username,
                                    full_name=person.full_name, password=result.password,
                                    roles=roles, department_id=depts.get(person.department or ""),
                                    position_title=person.position)
                result.users_created += 1
            if pki is not None and person.role == Role.LEADER:
                _demo_pin_key(session, pki, username, agency)
            result.logins.append((username, person.full_name, f"{person.role.label} – {spec.name}"))
        if spec.slug in ARCHIVISTS:
            _load_archivist(session, result, spec, agency, depts.get("VP"), pki)
    _load_concurrent(session, result, by_slug)
    return result


def _load_archivist(session: Session, result: DemoResult, spec: DemoAgency, agency: Agency,
                    department_id: int | None, pki: Pki | None) -> None:
    username, full_name, position = ARCHIVISTS[spec.slug]
    if service.get_user_by_username(session, username) is None:
        service.create_user(session, CTX, agency_id=agency.id, username=username,
                            full_name=full_name, password=result.password,
                            roles=[Role.ARCHIVIST], department_id=department_id,
                            position_title=position)
        result.users_created += 1
    if pki is not None:  # signs the hand-over records with the PIN too
        _demo_pin_key(session, pki, username, agency)
    result.logins.append((username, full_name, f"{Role.ARCHIVIST.label} – {spec.name}"))


def _load_concurrent(session: Session, result: DemoResult, by_slug: dict[str, int]) -> None:
    username, full_name, position, (first, second) = CONCURRENT
    user = service.get_user_by_username(session, username)
    if user is None:
        user = service.create_user(session, CTX, agency_id=by_slug[first], username=username,
                                   full_name=full_name, password=result.password,
                                   roles=[Role.LEADER], position_title=position)
        result.users_created += 1
    if not any(m.agency_id == by_slug[second] for m in user.memberships):
        vp = session.scalar(select(Department.id).where(Department.agency_id == by_slug[second],
                                                        Department.short_name == "VP"))
        service.grant_membership(session, CTX, user=user, agency_id=by_slug[second],
                                 roles=[Role.LEADER], department_id=vp,
                                 position_title=CONCURRENT_SECOND_POST)
    result.logins.append((username, full_name, "Lãnh đạo – huyện U Minh và xã Khánh An"))


DEMO_PIN = "123456"
"""The PIN of every demo leader's remote-signing key (demo data only)."""


def _demo_pin_key(session: Session, pki: Pki, username: str, agency: Agency) -> None:
    from ioffice.keys.models import KeyHolder

    user = service.get_user_by_username(session, username)
    if user is None or keys.personal_certificate(session, user.id, agency.id, KeyHolder.PIN):
        return
    keys.issue_pin_key(session, pki, CTX, user, agency, DEMO_PIN, key_type="ec")


def logins_text(result: DemoResult) -> str:
    lines = [f"Tài khoản mẫu (mật khẩu chung: {result.password}; "
             f"mã PIN ký số của lãnh đạo: {DEMO_PIN}):"]
    lines += [f"  {u:<26} {name:<24} {where}" for u, name, where in result.logins]
    return "\n".join(lines)
