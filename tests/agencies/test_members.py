"""An agency's admin administers its members (ioffice/agencies/members.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.agencies import members, service
from ioffice.agencies.members import MemberEdit
from ioffice.agencies.models import LoginThrottle, Role, User
from ioffice.agencies.passwords import verify_password
from ioffice.audit import AuditContext
from ioffice.audit.models import AuditEvent
from ioffice.db import utcnow
from ioffice.errors import Forbidden, NotFound
from tests.conftest import DEMO_PASSWORD
from tests.support.factories import actor, department, user_id

LIMITS = {"max_failures": 3, "lock_minutes": 15}


def events(db: Session, tag: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.tag == tag)))


def edit(db: Session, username: str, admin: str = "vanthu.camau", **changes: object) -> MemberEdit:
    m = members.member(db, actor(db, admin), user_id(db, username))
    values = {"full_name": m.user.full_name, "position_title": m.title,
              "department_id": m.department_id, "roles": m.roles, **changes}
    return MemberEdit(**values)  # type: ignore[arg-type]


def test_edit_name_title_department_roles_audited_with_old_and_new(db: Session) -> None:
    admin = actor(db, "vanthu.camau")
    uid = user_id(db, "chuyenvien.camau")
    snv = department(db, admin, "SNV")
    old = members.member(db, admin, uid)
    old_roles, old_dept = sorted(old.roles), old.department_id
    membership = members.update_member(db, admin, uid, edit(
        db, "chuyenvien.camau", full_name="Lý Minh Khôi (mới)", position_title="Phó Giám đốc Sở",
        department_id=snv.id, roles=frozenset({Role.DEPARTMENT_HEAD, Role.SPECIALIST})))
    assert membership.user.full_name == "Lý Minh Khôi (mới)"
    assert membership.title == "Phó Giám đốc Sở"
    assert membership.department_id == snv.id
    assert membership.roles == {Role.DEPARTMENT_HEAD, Role.SPECIALIST}
    [event] = events(db, "agencies:user:update")
    assert event.actor_id == admin.user_id and event.subject_id == str(uid)
    changes = event.details["changes"]
    assert changes["department_id"] == [old_dept, snv.id]
    assert changes["roles"] == [old_roles, ["department_head", "specialist"]]
    assert changes["position_title"][1] == "Phó Giám đốc Sở"
    # the post title of a person with one post is their own
    assert membership.user.position_title == "Phó Giám đốc Sở"


def test_the_title_of_one_post_among_two_stays_with_that_agency(db: Session) -> None:
    admin = actor(db, "vanthu.uminh")
    uid = user_id(db, "kiemnhiem.uminh")
    person = db.get(User, uid)
    assert len(person.memberships) == 2
    own_title = person.position_title
    members.update_member(db, admin, uid, edit(db, "kiemnhiem.uminh", "vanthu.uminh",
                                               position_title="Phó Trưởng phòng Nội vụ"))
    assert person.position_title == own_title
    assert service.post_title(db, person, admin.agency_id) == "Phó Trưởng phòng Nội vụ"


def test_nothing_changed_records_nothing(db: Session) -> None:
    admin = actor(db, "vanthu.camau")
    members.update_member(db, admin, user_id(db, "chuyenvien.camau"), edit(db, "chuyenvien.camau"))
    assert events(db, "agencies:user:update") == []


def test_every_refused_field_at_once(db: Session) -> None:
    admin = actor(db, "vanthu.camau")
    other_dept = department(db, actor(db, "vanthu.bnv"), "CCHC")
    with pytest.raises(members.InvalidMember) as exc:
        members.update_member(db, admin, user_id(db, "chuyenvien.camau"), edit(
            db, "chuyenvien.camau", full_name="  ", position_title="x" * 256,
            department_id=other_dept.id, roles=frozenset()))
    assert exc.value.errors == {
        "full_name": "Họ và tên không được để trống.",
        "position_title": "Chức vụ dài 256 ký tự, vượt quá 255 ký tự.",
        "department_id": "Phòng ban đã chọn không thuộc cơ quan này.",
        "roles": "Phải chọn ít nhất một vai trò."}


def test_an_admin_cannot_remove_their_own_admin_role(db: Session) -> None:
    admin = actor(db, "vanthu.camau")
    with pytest.raises(members.InvalidMember) as exc:
        members.update_member(db, admin, admin.user_id, edit(
            db, "vanthu.camau", roles=frozenset({Role.CLERK})))
    assert "không thể tự bỏ vai trò Quản trị" in exc.value.errors["roles"]
    assert Role.ADMIN in members.member(db, admin, admin.user_id).roles


def test_an_admin_cannot_deactivate_themselves(db: Session) -> None:
    admin = actor(db, "vanthu.camau")
    with pytest.raises(service.AgencyError, match="không thể tự ngừng kích hoạt"):
        members.deactivate(db, admin, admin.user_id)
    assert db.get(User, admin.user_id).active


def test_the_last_admin_is_never_taken_away(db: Session) -> None:
    """Another admin takes the first one's admin role, then cannot deactivate themselves; and
    once two admins are left, either may lose the role."""
    first = actor(db, "vanthu.camau")
    second_id = user_id(db, "lanhdao.camau")
    members.update_member(db, first, second_id, edit(
        db, "lanhdao.camau", roles=frozenset({Role.LEADER, Role.ADMIN})))
    second = actor(db, "lanhdao.camau")
    members.update_member(db, second, first.user_id, edit(
        db, "vanthu.camau", "lanhdao.camau", roles=frozenset({Role.CLERK})))
    with pytest.raises(service.AgencyError):
        members.deactivate(db, second, second.user_id)


def test_deactivate_ends_sessions_and_login_then_reactivate(db: Session) -> None:
    admin = actor(db, "vanthu.camau")
    uid = user_id(db, "chuyenvien.camau")
    person = db.get(User, uid)
    epoch = person.session_epoch
    members.deactivate(db, admin, uid)
    assert not person.active and person.session_epoch == epoch + 1
    with pytest.raises(service.InvalidCredentials):
        service.authenticate(db, admin.ctx, "chuyenvien.camau", DEMO_PASSWORD, **LIMITS)
    with pytest.raises(service.AgencyError, match="đã ngừng hoạt động"):
        members.deactivate(db, admin, uid)
    members.reactivate(db, admin, uid)
    assert person.active
    assert service.authenticate(db, admin.ctx, "chuyenvien.camau", DEMO_PASSWORD, **LIMITS) is person
    with pytest.raises(service.AgencyError, match="đang hoạt động"):
        members.reactivate(db, admin, uid)
    assert len(events(db, "agencies:user:deactivate")) == 1
    assert len(events(db, "agencies:user:reactivate")) == 1


def test_reset_password_generated_or_given_must_be_changed(db: Session) -> None:
    admin = actor(db, "vanthu.camau")
    uid = user_id(db, "chuyenvien.camau")
    person = db.get(User, uid)
    epoch = person.session_epoch
    generated = members.reset_password(db, admin, uid)
    assert len(generated) == 14 and verify_password(person.password_hash, generated)
    assert person.must_change_password and person.session_epoch == epoch + 1
    members.reset_password(db, admin, uid, "tam-thoi-2026")
    assert verify_password(person.password_hash, "tam-thoi-2026")
    [first, second] = events(db, "agencies:user:password-reset")
    assert first.details == {"username": "chuyenvien.camau", "generated": True}
    assert second.details == {"username": "chuyenvien.camau", "generated": False}
    assert generated not in str(first.details)
    service.change_password(db, admin.ctx, person, current="tam-thoi-2026",
                            new="mat-khau-cua-toi-2026", repeat="mat-khau-cua-toi-2026")
    assert not person.must_change_password


def test_reset_refuses_a_short_password_and_oneself(db: Session) -> None:
    admin = actor(db, "vanthu.camau")
    uid = user_id(db, "chuyenvien.camau")
    with pytest.raises(members.InvalidMember) as exc:
        members.reset_password(db, admin, uid, "ngan")
    assert exc.value.errors == {"password": "Mật khẩu phải có ít nhất 10 ký tự."}
    assert not db.get(User, uid).must_change_password
    with pytest.raises(service.AgencyError, match="Đổi mật khẩu"):
        members.reset_password(db, admin, admin.user_id)


def test_unlock_clears_the_login_lock(db: Session) -> None:
    admin = actor(db, "vanthu.camau")
    uid = user_id(db, "chuyenvien.camau")
    for _ in range(3):
        with pytest.raises(service.InvalidCredentials):
            service.authenticate(db, admin.ctx, "chuyenvien.camau", "sai-mat-khau", **LIMITS)
    person = db.get(User, uid)
    lock = members.login_lock(db, person)
    assert lock is not None and lock.failures == 3 and lock.locked(utcnow())
    assert members.unlock(db, admin, uid) == ["login"]
    assert members.login_lock(db, person) is None
    assert service.authenticate(db, admin.ctx, "chuyenvien.camau", DEMO_PASSWORD, **LIMITS) is person
    [event] = events(db, "agencies:user:unlock")
    assert event.details["cleared"] == ["login"] and event.details["login_failures"] == 3
    with pytest.raises(service.AgencyError, match="không bị khóa"):
        members.unlock(db, admin, uid)


def test_unlock_clears_a_locked_pin_key(db: Session) -> None:
    from ioffice.keys import service as keys
    from ioffice.keys.stores import DbAttemptStore
    from signing import PinProtectedKey

    admin = actor(db, "vanthu.camau")
    uid = user_id(db, "lanhdao.camau")
    [state] = keys.pin_keys(db, admin.agency_id, uid)
    key_id = PinProtectedKey.from_bytes(state.certificate.protected_key).key_id
    store = DbAttemptStore(db)
    for _ in range(state.max_attempts):
        store.record_failure(key_id)
    assert keys.pin_keys(db, admin.agency_id, uid)[0].locked
    assert members.unlock(db, admin, uid) == ["pin"]
    assert keys.pin_keys(db, admin.agency_id, uid)[0].failures == 0
    assert len(events(db, "keys:personal:unlock")) == 1


def test_a_reset_lifts_the_login_lock(db: Session) -> None:
    admin = actor(db, "vanthu.camau")
    for _ in range(3):
        with pytest.raises(service.InvalidCredentials):
            service.authenticate(db, admin.ctx, "chuyenvien.camau", "sai-mat-khau", **LIMITS)
    members.reset_password(db, admin, user_id(db, "chuyenvien.camau"), "tam-thoi-2026")
    assert db.scalar(select(func.count()).select_from(LoginThrottle).where(
        LoginThrottle.key == service.throttle_key("chuyenvien.camau"))) == 0


@pytest.mark.parametrize("operation", [
    lambda db, a, uid: members.member(db, a, uid),
    lambda db, a, uid: members.update_member(db, a, uid, MemberEdit("X", "", None,
                                                                    frozenset({Role.CLERK}))),
    lambda db, a, uid: members.deactivate(db, a, uid),
    lambda db, a, uid: members.reactivate(db, a, uid),
    lambda db, a, uid: members.reset_password(db, a, uid),
    lambda db, a, uid: members.unlock(db, a, uid),
])
def test_another_agencys_user_looks_missing(db: Session, operation) -> None:
    outsider = user_id(db, "chuyenvien.bnv")
    with pytest.raises(NotFound):
        operation(db, actor(db, "vanthu.camau"), outsider)
    assert db.get(User, outsider).active and not db.get(User, outsider).must_change_password


def test_only_an_admin(db: Session) -> None:
    with pytest.raises(Forbidden):
        members.deactivate(db, actor(db, "lanhdao.camau"), user_id(db, "chuyenvien.camau"))


def test_the_cli_deactivation_still_works(db: Session) -> None:
    service.deactivate_user(db, AuditContext(None, None, "cli"), "chuyenvien.camau")
    assert not db.get(User, user_id(db, "chuyenvien.camau")).active


