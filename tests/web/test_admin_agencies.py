"""The agency tree page (/quan-tri/co-quan): who may use it, creating, editing, bad input."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.agencies import service
from ioffice.agencies.models import Agency, Role
from ioffice.audit import AuditContext
from ioffice.audit.models import AuditEvent
from ioffice.keys.service import agency_seal
from ioffice.registers.models import Register
from tests.conftest import csrf_token, login

PAGE = "/quan-tri/co-quan"
COMMUNE = {"code": "000.03.21.H12", "name": "Ủy ban nhân dân xã Khánh Hội", "short_name": "ubnd",
           "parent_code": "000.00.21.H12", "address": "Ấp 1, xã Khánh Hội, huyện U Minh",
           "email": "vanthu@khanhhoi.gov.vn", "phone": "0290 3 123 456", "fax": "",
           "website": ""}


def _count(db: Session) -> int:
    return db.scalar(select(func.count(Agency.id)))


def _post(client: FlaskClient, path: str = PAGE, **overrides: str):
    data = {**COMMUNE, **overrides, "csrf_token": csrf_token(client, PAGE)}
    return client.post(path, data=data)


def _refused(client: FlaskClient, db: Session, message: str, **fields: str) -> str:
    """Post the creation form with ``fields``: refused (400) with ``message``, no agency added.
    Returns the page."""
    before = _count(db)
    resp = _post(client, **fields)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert message in page
    db.expire_all()
    assert _count(db) == before
    return page


@pytest.fixture
def admin(client: FlaskClient) -> FlaskClient:
    assert login(client, "vanthu.camau").status_code == 302  # admin of 000.00.00.H12
    return client


def test_province_admin_creates_a_commune_under_a_district(admin: FlaskClient, db: Session) -> None:
    page = admin.get(PAGE).get_data(as_text=True)
    assert "Cây cơ quan theo cấp" in page and "Thêm cơ quan, đơn vị" in page
    resp = _post(admin)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    created = service.get_agency_by_code(db, "000.03.21.H12")
    assert created is not None
    assert created.level.value == "commune" and created.short_name == "UBND"
    assert created.parent is not None and created.parent.code == "000.00.21.H12"
    assert created.email == "vanthu@khanhhoi.gov.vn"
    # what the demo loader gives an agency: this year's registers and a seal certificate
    assert db.scalar(select(func.count(Register.id)).where(Register.agency_id == created.id)) >= 2
    assert agency_seal(db, created.id) is not None
    event = db.scalars(select(AuditEvent).where(AuditEvent.agency_id == created.id,
                                                AuditEvent.tag == "agencies:agency:create")).one()
    assert event.actor_id is not None and event.details["code"] == "000.03.21.H12"
    tree = admin.get(PAGE).get_data(as_text=True)
    assert "Đã thêm Ủy ban nhân dân xã Khánh Hội (000.03.21.H12, cấp xã)." in tree
    # nested under U Minh in the tree
    uminh = tree.index('data-code="000.00.21.H12"')
    assert uminh < tree.index('data-code="000.03.21.H12"') < tree.index('data-code="000.00.22.H12"')


def test_the_new_agency_can_have_users_who_log_in(admin: FlaskClient, db: Session,
                                                  client: FlaskClient) -> None:
    assert _post(admin).status_code == 302
    created = service.get_agency_by_code(db, "000.03.21.H12")
    service.create_user(db, AuditContext(None, None, "test"), agency_id=created.id,
                        username="vanthu.khanhhoi", full_name="Lê Thị Hội",
                        password="mat-khau-dai", roles=[Role.CLERK, Role.ADMIN])
    db.commit()
    admin.post("/dang-xuat", data={"csrf_token": csrf_token(admin, "/")})
    assert login(client, "vanthu.khanhhoi", "mat-khau-dai").status_code == 302
    assert "Ủy ban nhân dân xã Khánh Hội" in client.get("/").get_data(as_text=True)
    # an admin of a commune does not hold the power over the tree
    assert client.get(PAGE).status_code == 403


@pytest.mark.parametrize(("overrides", "message"), [
    ({"code": "03.21.H12"}, "Mã định danh &#39;03.21.H12&#39; không hợp lệ: phải có dạng LLL.KK.JJ.Mnn"),
    ({"code": "000.01.21.H12"}, "Mã định danh 000.01.21.H12 đã được dùng cho một cơ quan khác."),
    ({"parent_code": "000.00.99.H12"},
     "Không tìm thấy cơ quan cấp trên có mã 000.00.99.H12 trong hệ thống bạn quản trị."),
    ({"parent_code": "000.00.22.H12"},
     "không thể là cơ quan cấp trên của 000.03.21.H12 (cấp xã); theo mã định danh, "
     "cơ quan cấp trên phải là 000.00.21.H12."),
    ({"parent_code": "000.01.21.H12"}, "Ủy ban nhân dân xã Khánh An (000.01.21.H12, cấp xã) "
                                       "không thể là cơ quan cấp trên"),
    ({"parent_code": ""}, "Chọn cơ quan cấp trên."),
    ({"name": "   "}, "Tên cơ quan không được để trống."),
    ({"name": "Ủ" * 256}, "Tên cơ quan dài 256 ký tự, vượt quá giới hạn 255 ký tự."),
    ({"phone": "0" * 51}, "Điện thoại dài 51 ký tự, vượt quá giới hạn 50 ký tự."),
    ({"email": "khong-phai-thu"}, "Thư điện tử &#39;khong-phai-thu&#39; không hợp lệ"),
    ({"short_name": "UB ND"}, "Tên viết tắt &#39;UB ND&#39; không hợp lệ"),
    ({"code": "000.00.05.G09", "parent_code": "000.00.00.G09"},
     "Mã định danh 000.00.05.G09 không thuộc hệ thống bạn quản trị: mã phải kết thúc bằng .H12."),
])
def test_bad_input_is_refused_in_vietnamese_and_kept(admin: FlaskClient, db: Session,
                                                     overrides: dict[str, str], message: str) -> None:
    body = _refused(admin, db, message, **overrides)
    # nothing the clerk typed is lost
    address = overrides.get("address", COMMUNE["address"])
    assert f'value="{address}"' in body
    assert f'value="{overrides.get("code", COMMUNE["code"])}"' in body
    parent = overrides.get("parent_code", COMMUNE["parent_code"])
    if parent.endswith(".H12") and service.get_agency_by_code(db, parent):
        assert f'value="{parent}" selected' in body


@pytest.mark.parametrize("username", ["lanhdao.camau", "chuyenvien.camau", "vanthu.uminh"])
def test_others_get_403_on_get_and_post(client: FlaskClient, db: Session, username: str) -> None:
    """Leaders and specialists of the province, and admins of agencies lower in the tree."""
    assert login(client, username).status_code == 302
    assert client.get(PAGE).status_code == 403
    uminh = service.get_agency_by_code(db, "000.00.21.H12")
    assert client.get(f"{PAGE}/{uminh.id}").status_code == 403
    token = csrf_token(client, "/")
    before = _count(db)
    assert client.post(PAGE, data={**COMMUNE, "csrf_token": token}).status_code == 403
    assert client.post(f"{PAGE}/{uminh.id}", data={**COMMUNE, "name": "X",
                                                    "csrf_token": token}).status_code == 403
    assert _count(db) == before
    assert "Cơ quan</a>" not in client.get("/").get_data(as_text=True)


def test_anonymous_is_sent_to_login(client: FlaskClient) -> None:
    resp = client.get(PAGE)
    assert resp.status_code == 302 and resp.location.startswith("/dang-nhap")


def test_post_without_csrf_token_is_refused(admin: FlaskClient, db: Session) -> None:
    before = _count(db)
    resp = admin.post(PAGE, data=COMMUNE)
    assert resp.status_code == 400 and "CSRF" in resp.get_data(as_text=True)
    assert _count(db) == before


def test_ministry_admin_cannot_edit_the_province_tree(client: FlaskClient, db: Session) -> None:
    assert login(client, "vanthu.bnv").status_code == 302  # admin of 000.00.00.G09, a root too
    page = client.get(PAGE)
    assert page.status_code == 200
    uminh = service.get_agency_by_code(db, "000.00.21.H12")
    assert client.get(f"{PAGE}/{uminh.id}").status_code == 404
    resp = _post(client)
    assert resp.status_code == 400 and "không thuộc hệ thống bạn quản trị" in resp.get_data(as_text=True)


def test_admin_edits_name_contacts_and_parent_with_an_audit_event(admin: FlaskClient,
                                                                  db: Session) -> None:
    assert _post(admin, code="000.00.23.H12", parent_code="000.00.00.H12",
                 name="Sở Nội vụ tỉnh Cà Mau", short_name="SNV").status_code == 302
    sonv = service.get_agency_by_code(db, "000.00.23.H12")
    edit = f"{PAGE}/{sonv.id}"
    page = admin.get(edit).get_data(as_text=True)
    assert 'value="Sở Nội vụ tỉnh Cà Mau"' in page
    resp = admin.post(edit, data={"csrf_token": csrf_token(admin, edit), "code": sonv.code,
                                  "parent_code": "000.00.00.H12", "name": "Sở Nội vụ",
                                  "short_name": "SNV", "phone": "0290 3 111 222"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    db.refresh(sonv)
    assert sonv.name == "Sở Nội vụ" and sonv.phone == "0290 3 111 222"
    event = db.scalars(select(AuditEvent).where(AuditEvent.agency_id == sonv.id,
                                                AuditEvent.tag == "agencies:agency:update")).one()
    assert event.details["changes"]["name"] == ["Sở Nội vụ tỉnh Cà Mau", "Sở Nội vụ"]
    # a commune cannot be moved under a department: the department is not above it in the code
    khanhan = service.get_agency_by_code(db, "000.01.21.H12")
    bad = admin.post(f"{PAGE}/{khanhan.id}", data={
        "csrf_token": csrf_token(admin, edit), "code": khanhan.code, "parent_code": sonv.code,
        "name": khanhan.name, "short_name": "UBND"})
    assert bad.status_code == 400
    assert "không thể là cơ quan cấp trên" in bad.get_data(as_text=True)


def test_identifier_is_final_once_the_agency_is_in_use(admin: FlaskClient, db: Session) -> None:
    # Khánh An has users in the demo: its code cannot change
    khanhan = service.get_agency_by_code(db, "000.01.21.H12")
    edit = f"{PAGE}/{khanhan.id}"
    assert "Không đổi được: cơ quan đã có người dùng" in admin.get(edit).get_data(as_text=True)
    resp = admin.post(edit, data={"csrf_token": csrf_token(admin, edit), "code": "000.09.21.H12",
                                  "parent_code": "000.00.21.H12", "name": khanhan.name,
                                  "short_name": "UBND"})
    assert resp.status_code == 400
    assert "Không thể đổi mã định danh 000.01.21.H12: cơ quan đã có người dùng." in \
        resp.get_data(as_text=True)
    db.refresh(khanhan)
    assert khanhan.code == "000.01.21.H12"


def test_a_fresh_agencys_mistyped_identifier_can_be_corrected(admin: FlaskClient,
                                                              db: Session) -> None:
    assert _post(admin, code="000.04.21.H12").status_code == 302
    created = service.get_agency_by_code(db, "000.04.21.H12")
    old_seal = agency_seal(db, created.id).serial
    edit = f"{PAGE}/{created.id}"
    resp = admin.post(edit, data={**COMMUNE, "csrf_token": csrf_token(admin, edit)})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    db.refresh(created)
    assert created.code == "000.03.21.H12"
    new_seal = agency_seal(db, created.id)
    assert new_seal.serial != old_seal and "000.03.21.H12" in new_seal.subject


def test_a_first_administrator_can_be_created_with_the_agency(admin: FlaskClient, db: Session,
                                                              app) -> None:
    resp = _post(admin, admin_username="quantri.khanhhoi", admin_full_name="Lê Thị Hoa",
                 admin_password="mat-khau-dau-tien")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert "Đã tạo tài khoản quản trị quantri.khanhhoi cho cơ quan mới." in \
        admin.get(PAGE).get_data(as_text=True)
    created = service.get_agency_by_code(db, "000.03.21.H12")
    user = service.get_user_by_username(db, "quantri.khanhhoi")
    assert user is not None and user.full_name == "Lê Thị Hoa"
    [membership] = user.memberships
    assert membership.agency_id == created.id and Role.ADMIN in membership.roles

    newcomer = app.test_client()  # the commune's own administrator takes over from here
    assert login(newcomer, "quantri.khanhhoi", "mat-khau-dau-tien").status_code == 302
    departments = newcomer.get("/quan-tri/phong-ban")
    assert departments.status_code == 200 and "Ủy ban nhân dân xã Khánh Hội" in \
        departments.get_data(as_text=True)
    assert newcomer.get(PAGE).status_code == 403


@pytest.mark.parametrize(("fields", "message"), [
    ({"admin_username": "vanthu.camau", "admin_full_name": "Trùng tên", "admin_password": "mat-khau-dai"},
     "Tên đăng nhập &#39;vanthu.camau&#39; đã tồn tại."),
    ({"admin_full_name": "Chỉ có họ tên"}, "Nhập tên đăng nhập cho tài khoản quản trị đầu tiên"),
    ({"admin_username": "quantri.khanhhoi", "admin_full_name": "Lê Thị Hoa", "admin_password": "ngan"},
     "Mật khẩu phải có ít nhất"),
])
def test_a_refused_first_administrator_creates_no_agency(admin: FlaskClient, db: Session,
                                                         fields: dict[str, str], message: str) -> None:
    page = _refused(admin, db, message, **fields)
    assert 'value="Ủy ban nhân dân xã Khánh Hội"' in page  # what was typed is kept
    assert service.get_agency_by_code(db, "000.03.21.H12") is None
