"""The administration area of /api/v1: the agency admin's users and API tokens, and one's own
tokens. Same services and rules as the pages /quan-tri/nguoi-dung and «Mã truy cập API»."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency, Membership, Role, User
from ioffice.agencies.passwords import verify_password
from ioffice.api import tokens
from ioffice.api.models import ApiToken
from ioffice.audit.models import AuditEvent
from ioffice.db import utcnow
from ioffice.keys import service as keys
from ioffice.keys.models import KeyHolder
from ioffice.keys.stores import DbAttemptStore
from signing import PinProtectedKey, WrongPin
from tests.api.conftest import CAMAU, CTX, bearer, department_id, user_id
from tests.conftest import login

ADMIN = "vanthu.camau"  # clerk and admin of Cà Mau
UMINH = "000.00.21.H12"
NEW = {"username": "moi.camau", "full_name": "Nguyễn Văn Mới", "password": "mat-khau-moi-1",
       "roles": ["specialist"]}


def _token(db: Session, username: str, scopes=tuple(tokens.Scope), agency: str = CAMAU,
           expires_at: dt.datetime | None = None) -> str:
    user = db.scalars(select(User).where(User.username == username)).one()
    agency_id = db.scalars(select(Agency.id).where(Agency.code == agency)).one()
    secret = tokens.issue(db, CTX, user=user, agency_id=agency_id, name="quản trị",
                          scopes=list(scopes), expires_at=expires_at).secret
    db.commit()
    return secret


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    return bearer(_token(db, ADMIN))


def _error(resp) -> dict:
    body = resp.get_json()
    assert set(body) == {"error"}, body
    return body["error"]


def _tags(db: Session, tag: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.tag == tag)))


# ----------------------------------------------------------------------------- users


def test_create_read_update_and_list_a_user(client: FlaskClient, db: Session, admin) -> None:
    kt = department_id(db, "KT")
    resp = client.post("/api/v1/admin/users", json={**NEW, "department_id": kt,
                                                    "position_title": "Chuyên viên"},
                       headers=admin)
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    assert created["username"] == "moi.camau" and created["department_id"] == kt
    assert [r["code"] for r in created["roles"]] == ["specialist"]
    assert created["roles"][0]["label"] == "Chuyên viên" and created["active"]
    user = db.get(User, created["id"])
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, NEW["password"])
    assert _tags(db, "agencies:user:create")[-1].subject_id == str(user.id)

    got = client.get(f"/api/v1/admin/users/{user.id}", headers=admin).get_json()
    assert got.pop("lock") is None  # nothing locked: what `unlock` would clear
    assert got == created
    resp = client.post(f"/api/v1/admin/users/{user.id}/update", headers=admin, json={
        "full_name": "Nguyễn Văn Mới Sửa", "position_title": "Trưởng phòng",
        "department_id": None, "roles": ["department_head", "specialist"]})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["full_name"] == "Nguyễn Văn Mới Sửa" and body["department_id"] is None
    assert {r["code"] for r in body["roles"]} == {"department_head", "specialist"}
    event = _tags(db, "agencies:user:update")[-1]
    assert set(event.details["changes"]) == {"full_name", "position_title", "department_id",
                                             "roles"}

    # the whole agency, page by page (by username), and nobody of another agency
    seen, after = [], None
    while True:
        page = client.get("/api/v1/admin/users", headers=admin,
                          query_string={"limit": 3, **({"after": after} if after else {})}
                          ).get_json()
        seen += [u["username"] for u in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert {"moi.camau", "vanthu.camau", "chuyenvien.camau"} <= set(seen)
    assert not any(u.endswith(".uminh") for u in seen)


def test_creating_is_idempotent_by_key(client: FlaskClient, db: Session, admin) -> None:
    headers = {**admin, "Idempotency-Key": "tao-nguoi-dung-1"}
    first = client.post("/api/v1/admin/users", json=NEW, headers=headers)
    again = client.post("/api/v1/admin/users", json=NEW, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert len(db.scalars(select(User).where(User.username == "moi.camau")).all()) == 1


@pytest.mark.parametrize(("body", "status", "field", "message"), [
    ({"password": "ngan"}, 422, "password", "Mật khẩu phải có ít nhất 10 ký tự."),
    ({"username": "Tên Có Dấu"}, 422, "username", "Tên đăng nhập chỉ gồm chữ thường"),
    ({"roles": []}, 422, "roles", "Phải chọn ít nhất một vai trò."),
    ({"full_name": "  "}, 422, "full_name", "Họ và tên không được để trống."),
    ({"roles": ["superadmin"]}, 422, "roles.0", "Giá trị không hợp lệ"),
    ({"username": "chuyenvien.uminh"}, 409, None, "Tên đăng nhập 'chuyenvien.uminh' đã tồn tại."),
])
def test_bad_new_users_are_refused(client: FlaskClient, db: Session, admin, body: dict,
                                   status: int, field: str | None, message: str) -> None:
    resp = client.post("/api/v1/admin/users", json={**NEW, **body}, headers=admin)
    assert resp.status_code == status, resp.get_json()
    err = _error(resp)
    if field is None:
        assert err["code"] == "conflict" and err["message"] == message
    else:
        assert err["code"] in ("invalid_input", "validation_error")
        assert err["fields"][field].startswith(message), err
    assert db.scalars(select(User).where(User.username == "moi.camau")).first() is None


def test_a_department_of_another_agency_is_refused(client: FlaskClient, db: Session,
                                                   admin) -> None:
    other = department_id(db, "VP", UMINH)
    resp = client.post("/api/v1/admin/users", json={**NEW, "department_id": other}, headers=admin)
    assert resp.status_code == 422
    assert _error(resp)["fields"] == {"department_id": "Phòng ban đã chọn không thuộc cơ quan này."}


def test_deactivate_reactivate_and_reset_a_password(client: FlaskClient, db: Session,
                                                    admin) -> None:
    target = user_id(db, "chuyenvien.camau")
    victim = _token(db, "chuyenvien.camau")
    resp = client.post(f"/api/v1/admin/users/{target}/deactivate", headers=admin)
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    assert client.get("/api/v1/me", headers=bearer(victim)).status_code == 401
    again = client.post(f"/api/v1/admin/users/{target}/deactivate", headers=admin)
    assert again.status_code == 400 and "đã ngừng hoạt động" in _error(again)["message"]
    resp = client.post(f"/api/v1/admin/users/{target}/reactivate", headers=admin)
    assert resp.status_code == 200 and resp.get_json()["active"] is True
    assert client.get("/api/v1/me", headers=bearer(victim)).status_code == 200

    resp = client.post(f"/api/v1/admin/users/{target}/reset-password", json={}, headers=admin)
    assert resp.status_code == 200
    body = resp.get_json()
    assert len(body["password"]) == 14 and body["user"]["must_change_password"] is True
    db.expire_all()
    assert verify_password(db.get(User, target).password_hash, body["password"])
    event = _tags(db, "agencies:user:password-reset")[-1]
    assert body["password"] not in str(event.details)
    weak = client.post(f"/api/v1/admin/users/{target}/reset-password", json={"password": "ngan"},
                       headers=admin)
    assert weak.status_code == 422
    assert _error(weak)["fields"] == {"password": "Mật khẩu phải có ít nhất 10 ký tự."}
    assert [e.tag for e in db.scalars(select(AuditEvent).where(
        AuditEvent.subject_id == str(target), AuditEvent.tag.like("agencies:user:%"))
        .order_by(AuditEvent.id))][-3:] == [
        "agencies:user:deactivate", "agencies:user:reactivate", "agencies:user:password-reset"]


def test_the_agency_keeps_its_last_admin(client: FlaskClient, db: Session, admin) -> None:
    me = user_id(db, ADMIN)
    own = client.post(f"/api/v1/admin/users/{me}/update", headers=admin, json={
        "full_name": "Văn thư", "roles": ["clerk"]})
    assert own.status_code == 422 and "tự bỏ vai trò Quản trị" in _error(own)["fields"]["roles"]
    assert client.post(f"/api/v1/admin/users/{me}/deactivate", headers=admin).status_code == 400
    assert client.post(f"/api/v1/admin/users/{me}/reset-password", json={},
                       headers=admin).status_code == 400
    # a second admin may not take the first one's admin role while it is the only one left
    second = client.post("/api/v1/admin/users", headers=admin,
                         json={**NEW, "roles": ["admin"]}).get_json()["id"]
    other = bearer(_token(db, "moi.camau"))
    client.post(f"/api/v1/admin/users/{second}/deactivate", headers=admin)
    resp = client.post(f"/api/v1/admin/users/{me}/update", headers=other, json={
        "full_name": "Văn thư", "roles": ["clerk"]})
    assert resp.status_code == 401  # the deactivated admin's token stops working
    client.post(f"/api/v1/admin/users/{second}/reactivate", headers=admin)
    resp = client.post(f"/api/v1/admin/users/{me}/update", headers=other, json={
        "full_name": "Văn thư", "roles": ["clerk"]})
    assert resp.status_code == 200  # two active admins: one may lose the role
    back = client.post(f"/api/v1/admin/users/{second}/deactivate", headers=other)
    assert back.status_code == 400
    assert _error(back)["message"] == "Bạn không thể tự ngừng kích hoạt tài khoản của mình."
    last = client.post(f"/api/v1/admin/users/{second}/update", headers=other, json={
        "full_name": "Nguyễn Văn Mới", "roles": ["specialist"]})
    assert last.status_code == 422  # the last admin cannot drop their own role either


def test_another_agencys_user_looks_missing(client: FlaskClient, db: Session, admin) -> None:
    stranger = user_id(db, "chuyenvien.uminh")
    for method, path, body in [
            ("GET", "", None), ("POST", "/update", {"full_name": "X", "roles": ["clerk"]}),
            ("POST", "/deactivate", None), ("POST", "/reactivate", None),
            ("POST", "/reset-password", {}), ("POST", "/tokens", {"name": "x"})]:
        resp = client.open(f"/api/v1/admin/users/{stranger}{path}", method=method, json=body,
                           headers=admin)
        assert resp.status_code == 404 and _error(resp)["code"] == "not_found", (path, resp.json)
    assert db.get(User, stranger).active


def test_admin_operations_need_the_admin_scope_and_the_admin_role(
        client: FlaskClient, db: Session) -> None:
    no_admin_scope = bearer(_token(db, ADMIN, scopes=("read", "write")))
    for method, path in [("GET", "/api/v1/admin/users"), ("GET", "/api/v1/admin/tokens"),
                         ("POST", "/api/v1/admin/users")]:
        resp = client.open(path, method=method, json=NEW, headers=no_admin_scope)
        assert resp.status_code == 403, path
        err = _error(resp)
        assert err["code"] == "insufficient_scope" and "«admin»" in err["message"]
    # a specialist's token given the admin scope by the operator: the role still refuses
    specialist = bearer(_token(db, "chuyenvien.camau"))
    resp = client.get("/api/v1/admin/users", headers=specialist)
    assert resp.status_code == 403 and _error(resp)["code"] == "forbidden"


# ----------------------------------------------------------------------------- tokens


def test_issue_list_and_revoke_ones_own_token(client: FlaskClient, db: Session) -> None:
    mine = bearer(_token(db, "chuyenvien.camau", scopes=("read", "write")))
    resp = client.post("/api/v1/tokens", json={"name": "Ứng dụng di động", "expires": "30d"},
                       headers=mine)
    assert resp.status_code == 201, resp.get_json()
    issued = resp.get_json()
    assert issued["secret"].startswith("iof_") and issued["scopes"] == ["read", "write"]
    assert issued["state"] == "active" and issued["username"] == "chuyenvien.camau"
    row = db.get(ApiToken, issued["id"])
    assert row.token_hash == tokens.hash_token(issued["secret"])
    assert issued["secret"] not in str(db.scalars(select(AuditEvent.details).where(
        AuditEvent.tag == "api:token:create")).all())
    new = bearer(issued["secret"])
    assert client.get("/api/v1/me", headers=new).get_json()["username"] == "chuyenvien.camau"
    listed = client.get("/api/v1/tokens", headers=new).get_json()
    assert listed["items"][0]["id"] == issued["id"]
    assert "secret" not in listed["items"][0]
    assert {t["username"] for t in listed["items"]} == {"chuyenvien.camau"}
    resp = client.post(f"/api/v1/tokens/{issued['id']}/revoke", headers=mine)
    assert resp.status_code == 200 and resp.get_json()["state"] == "revoked"
    assert client.get("/api/v1/me", headers=new).status_code == 401
    assert _tags(db, "api:token:revoke")[-1].subject_id == str(issued["id"])
    again = client.post(f"/api/v1/tokens/{issued['id']}/revoke", headers=mine)
    assert again.status_code == 400 and "đã bị thu hồi" in _error(again)["message"]
    # another user's token of the same agency looks missing on one's own list
    other = db.scalars(select(ApiToken).where(
        ApiToken.token_hash == tokens.hash_token(_token(db, ADMIN)))).one()
    assert client.post(f"/api/v1/tokens/{other.id}/revoke", headers=mine).status_code == 404
    assert db.get(ApiToken, other.id).revoked_at is None


@pytest.mark.parametrize(("scopes", "body", "field", "message"), [
    (("read", "write"), {"scopes": ["read", "sign"]}, "scopes",
     "Mã truy cập đang dùng không có phạm vi sign"),
    (("read", "write"), {"expires": "731d"}, "expires", "Mã truy cập có hạn dùng tối đa 730 ngày"),
    (("read", "write"), {"expires": "2001-01-01"}, "expires", "Ngày hết hạn của mã truy cập phải"),
    (("read", "write"), {"expires": "mai"}, "expires", "Hạn dùng «mai» không hợp lệ"),
    (("read", "write"), {"name": " "}, "name", "Phải đặt tên cho mã truy cập"),
    (("read", "write"), {"scopes": ["everything"]}, "scopes.0", "Giá trị không hợp lệ"),
])
def test_a_token_never_issues_a_wider_token(client: FlaskClient, db: Session, scopes,
                                            body: dict, field: str, message: str) -> None:
    mine = bearer(_token(db, ADMIN, scopes=scopes))
    before = db.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()).limit(1))
    resp = client.post("/api/v1/tokens", json={"name": "con", **body}, headers=mine)
    assert resp.status_code == 422, resp.get_json()
    assert _error(resp)["fields"][field].startswith(message), _error(resp)
    assert db.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()).limit(1)) == before


def test_a_token_never_outlives_the_token_issuing_it(client: FlaskClient, db: Session) -> None:
    ends = utcnow() + dt.timedelta(days=10)
    mine = bearer(_token(db, ADMIN, scopes=("read", "write"), expires_at=ends))
    for expires in (None, "30d"):
        resp = client.post("/api/v1/tokens", json={"name": "con", "expires": expires},
                           headers=mine)
        assert resp.status_code == 422
        assert "không thể dùng lâu hơn mã đang dùng" in _error(resp)["fields"]["expires"]
    ok = client.post("/api/v1/tokens", json={"name": "con", "expires": "5d"}, headers=mine)
    assert ok.status_code == 201


def test_the_admin_scope_only_by_and_for_an_agency_admin(client: FlaskClient, db: Session,
                                                         admin) -> None:
    specialist = bearer(_token(db, "chuyenvien.camau"))  # every scope, given by the operator
    resp = client.post("/api/v1/tokens", json={"name": "x", "scopes": ["read", "admin"]},
                       headers=specialist)
    assert resp.status_code == 403 and _error(resp)["code"] == "forbidden"
    target = user_id(db, "chuyenvien.camau")
    resp = client.post(f"/api/v1/admin/users/{target}/tokens", headers=admin,
                       json={"name": "x", "scopes": ["admin"]})
    assert resp.status_code == 422
    assert "không thể nhận mã có phạm vi «admin»" in _error(resp)["fields"]["scopes"]
    resp = client.post(f"/api/v1/admin/users/{target}/tokens", headers=admin,
                       json={"name": "Hệ thống báo cáo", "scopes": ["read"], "expires": "90d"})
    assert resp.status_code == 201
    issued = resp.get_json()
    assert issued["user_id"] == target and issued["scopes"] == ["read"]
    assert client.get("/api/v1/me", headers=bearer(issued["secret"])
                      ).get_json()["roles"] == ["specialist"]
    mine = client.post("/api/v1/tokens", json={"name": "y", "scopes": ["read", "admin"]},
                       headers=admin)
    assert mine.status_code == 201 and mine.get_json()["scopes"] == ["read", "admin"]


def test_the_admin_lists_and_revokes_the_agencys_tokens(client: FlaskClient, db: Session,
                                                        admin) -> None:
    theirs = _token(db, "chuyenvien.camau")
    elsewhere = _token(db, "vanthu.uminh", agency=UMINH)
    ids, after = [], None
    while True:
        page = client.get("/api/v1/admin/tokens", headers=admin,
                          query_string={"limit": 2, **({"after": after} if after else {})}
                          ).get_json()
        ids += [t["id"] for t in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert ids == sorted(ids, reverse=True)
    rows = {t.id: t for t in db.scalars(select(ApiToken).where(ApiToken.id.in_(ids)))}
    camau = db.scalars(select(Agency.id).where(Agency.code == CAMAU)).one()
    assert {t.agency_id for t in rows.values()} == {camau}
    victim = db.scalars(select(ApiToken).where(
        ApiToken.token_hash == tokens.hash_token(theirs))).one()
    assert victim.id in ids
    resp = client.post(f"/api/v1/admin/tokens/{victim.id}/revoke", headers=admin)
    assert resp.status_code == 200 and resp.get_json()["state"] == "revoked"
    assert client.get("/api/v1/me", headers=bearer(theirs)).status_code == 401
    stranger = db.scalars(select(ApiToken).where(
        ApiToken.token_hash == tokens.hash_token(elsewhere))).one()
    assert client.post(f"/api/v1/admin/tokens/{stranger.id}/revoke",
                       headers=admin).status_code == 404
    assert client.get("/api/v1/me", headers=bearer(elsewhere)).status_code == 200
    bad = client.get("/api/v1/admin/tokens?after=abc", headers=admin)
    assert bad.status_code == 422 and "after" in _error(bad)["fields"]


def test_the_web_page_creates_users_through_the_same_service(db: Session) -> None:
    from ioffice.agencies import members
    from tests.support.factories import actor

    with pytest.raises(members.InvalidMember) as exc:
        members.create_member(db, actor(db, ADMIN), members.NewMember(
            username="x", full_name="", password="ngan", roles=frozenset()))
    assert set(exc.value.fields) == {"username", "full_name", "password", "roles"}
    with pytest.raises(Exception, match="Quản trị người dùng"):
        members.create_member(db, actor(db, "chuyenvien.camau"), members.NewMember(
            username="moi.camau", full_name="Mới", password="mat-khau-moi-1",
            roles=frozenset({Role.SPECIALIST})))


def test_the_document_declares_the_admin_scope_and_role(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    admin_ops = [(path, op) for path, item in doc["paths"].items()
                 if path.startswith("/api/v1/admin/") for op in item.values()]
    users_ops = [(path, op) for path, op in admin_ops if path != "/api/v1/admin/audit"]
    assert len(users_ops) == 11 and len(admin_ops) == 12  # and the audit log (api-more)
    for path, op in admin_ops:
        assert op["x-scope"] == "admin" and op["security"] == [{"bearerAuth": ["admin"]}], path
        assert op["x-roles"] == ["admin"], path
        assert {"401", "403"} <= set(op["responses"]), path
    assert all(op["x-operation"] == "admin.users" for _path, op in users_ops)
    create = doc["paths"]["/api/v1/admin/users"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}
    assert set(create["responses"]["201"]["links"]) == {
        "get_user", "update_user", "deactivate_user", "reactivate_user", "reset_user_password",
        "issue_user_token"}
    issue = doc["paths"]["/api/v1/tokens"]["post"]
    assert issue["x-scope"] == "write" and "Idempotency-Key" not in {
        p["name"] for p in issue.get("parameters", [])}
    assert doc["paths"]["/api/v1/tokens"]["get"]["x-scope"] == "read"


# ----------------------------------------------------------------------------- unlock


def test_unlock_a_locked_user(app, client: FlaskClient, db: Session, admin) -> None:
    """As the button «Mở khóa»: the refused logins counted against the name and the wrong PINs
    on the user's keys are cleared, audited; nothing locked answers 400."""
    target = "lanhdao.camau"
    uid = user_id(db, target)
    for _ in range(5):
        login(app.test_client(), target, "sai-mat-khau")
    assert login(app.test_client(), target).status_code == 429
    agency_id = db.scalars(select(Membership.agency_id).where(Membership.user_id == uid)).first()
    cert = keys.personal_certificate(db, uid, agency_id, KeyHolder.PIN)
    with pytest.raises(WrongPin):
        PinProtectedKey.from_bytes(cert.protected_key).unlock("000000", DbAttemptStore(db))
    db.commit()
    resp = client.get(f"/api/v1/admin/users/{uid}", headers=admin)
    lock = resp.get_json()["lock"]
    assert lock["login_failures"] == 5 and lock["login_locked_until"] is not None
    assert lock["pin_failures"] == 1
    # the admin scope and the admin role are both needed; another agency's admin gets 404
    resp = client.post(f"/api/v1/admin/users/{uid}/unlock",
                       headers=bearer(_token(db, ADMIN, scopes=("read", "write"))))
    assert resp.status_code == 403 and _error(resp)["code"] == "insufficient_scope"
    resp = client.post(f"/api/v1/admin/users/{uid}/unlock",
                       headers=bearer(_token(db, "lanhdao.camau")))
    assert resp.status_code == 403 and _error(resp)["code"] == "forbidden"
    resp = client.post(f"/api/v1/admin/users/{uid}/unlock",
                       headers=bearer(_token(db, "vanthu.uminh", agency=UMINH)))
    assert resp.status_code == 404 and _error(resp)["code"] == "not_found"
    resp = client.post("/api/v1/admin/users/987654321/unlock", headers=admin)
    assert resp.status_code == 404
    resp = client.post(f"/api/v1/admin/users/{uid}/unlock", headers=admin)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["unlocked"] == ["login", "pin"] and body["user"]["lock"] is None
    assert login(app.test_client(), target).status_code == 302
    [event] = _tags(db, "agencies:user:unlock")
    assert event.details["cleared"] == ["login", "pin"] and event.details["login_failures"] == 5
    resp = client.post(f"/api/v1/admin/users/{uid}/unlock", headers=admin)
    assert resp.status_code == 400 and "không bị khóa" in _error(resp)["message"]
