"""The service side of sessions: epochs, password changes, deactivation, login throttles."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.agencies import service
from ioffice.agencies.models import Agency, LoginThrottle, Role, User
from ioffice.agencies.passwords import MIN_LENGTH, password_problem, verify_password
from ioffice.audit import AuditContext
from ioffice.audit.models import AuditEvent
from ioffice.errors import NotFound
from tests.conftest import DEMO_PASSWORD

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")
LIMITS = {"max_failures": 3, "lock_minutes": 15}


def user(db: Session, username: str) -> User:
    found = service.get_user_by_username(db, username)
    assert found is not None
    return found


def agency_id(db: Session, code: str) -> int:
    return db.scalars(select(Agency.id).where(Agency.code == code)).one()


def events(db: Session, tag: str) -> int:
    return db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.tag == tag))


def test_logout_moves_the_epoch_and_is_audited(db: Session) -> None:
    u = user(db, "vanthu.camau")
    before = u.session_epoch
    service.logout(db, CTX, u)
    db.flush()
    assert u.session_epoch == before + 1
    assert events(db, "auth:session:logout") == 1


def test_change_password(db: Session) -> None:
    u = user(db, "vanthu.camau")
    before = u.session_epoch
    service.change_password(db, CTX, u, current=DEMO_PASSWORD, new="mat-khau-moi-2026",
                            repeat="mat-khau-moi-2026")
    assert verify_password(u.password_hash, "mat-khau-moi-2026")
    assert not verify_password(u.password_hash, DEMO_PASSWORD)
    assert u.session_epoch == before + 1
    assert events(db, "auth:password:change") == 1


@pytest.mark.parametrize(("current", "new", "repeat", "message"), [
    ("sai", "mat-khau-moi-2026", "mat-khau-moi-2026", "Mật khẩu hiện tại không đúng."),
    (DEMO_PASSWORD, "mat-khau-moi-2026", "mat-khau-moi-2025", "nhập lại không khớp"),
    (DEMO_PASSWORD, "123456789", "123456789", f"ít nhất {MIN_LENGTH} ký tự"),
    (DEMO_PASSWORD, " " * 12, " " * 12, "chỉ gồm dấu cách"),
    (DEMO_PASSWORD, DEMO_PASSWORD, DEMO_PASSWORD, "phải khác mật khẩu hiện tại"),
])
def test_change_password_refusals(db: Session, current: str, new: str, repeat: str,
                                  message: str) -> None:
    u = user(db, "vanthu.camau")
    before = (u.password_hash, u.session_epoch)
    with pytest.raises(service.PasswordChangeError, match=message):
        service.change_password(db, CTX, u, current=current, new=new, repeat=repeat)
    assert (u.password_hash, u.session_epoch) == before


def test_password_rule() -> None:
    assert MIN_LENGTH == 10
    assert password_problem("123456789") == "Mật khẩu phải có ít nhất 10 ký tự."
    assert password_problem("1234567890") is None


def test_new_users_need_ten_characters(db: Session) -> None:
    with pytest.raises(service.AgencyError, match="ít nhất 10 ký tự"):
        service.create_user(db, CTX, agency_id=agency_id(db, "000.00.00.H12"),
                            username="ngan.matkhau", full_name="Mật Khẩu Ngắn",
                            password="tam-ky-tu", roles=[Role.SPECIALIST])


def test_deactivate_member_of_own_agency(db: Session) -> None:
    camau = agency_id(db, "000.00.00.H12")
    u = user(db, "chuyenvien.camau")
    before = u.session_epoch
    service.deactivate_member(db, AuditContext(None, camau, "test"), camau, u.id)
    assert not u.active and u.session_epoch == before + 1
    event = db.scalars(select(AuditEvent).where(AuditEvent.tag == "agencies:user:deactivate")).one()
    assert event.agency_id == camau and event.subject_id == str(u.id)


def test_another_agencys_user_looks_missing(db: Session) -> None:
    district = agency_id(db, "000.00.21.H12")
    u = user(db, "chuyenvien.camau")
    with pytest.raises(NotFound):
        service.deactivate_member(db, AuditContext(None, district, "test"), district, u.id)
    assert u.active


def test_deactivate_user_by_name(db: Session) -> None:
    assert not service.deactivate_user(db, CTX, " LanhDao.CaMau ").active
    with pytest.raises(NotFound, match=r"khong\.co\.ai"):
        service.deactivate_user(db, CTX, "khong.co.ai")


def test_unknown_name_is_counted_and_locked_like_a_real_one(db: Session) -> None:
    for name in ("khong.co.ai", "vanthu.camau"):
        for _ in range(3):
            with pytest.raises(service.InvalidCredentials):
                service.authenticate(db, CTX, name, "sai-mat-khau", **LIMITS)
        with pytest.raises(service.AccountLocked):
            service.authenticate(db, CTX, name, DEMO_PASSWORD, **LIMITS)
    keys = set(db.scalars(select(LoginThrottle.key)))
    assert {service.throttle_key("khong.co.ai"), service.throttle_key("vanthu.camau")} <= keys
    # audited: the known name on its user, the unknown one under its hash (never the name)
    unknown = db.scalars(select(AuditEvent).where(AuditEvent.subject_type == "login_name")).all()
    assert len(unknown) == 4 and all("khong" not in (e.subject_id + str(e.details)) for e in unknown)


def test_success_clears_the_count(db: Session) -> None:
    for _ in range(2):
        with pytest.raises(service.InvalidCredentials):
            service.authenticate(db, CTX, "vanthu.camau", "sai-mat-khau", **LIMITS)
    assert service.authenticate(db, CTX, "vanthu.camau", DEMO_PASSWORD, **LIMITS).username \
        == "vanthu.camau"
    db.flush()
    assert db.get(LoginThrottle, service.throttle_key("vanthu.camau")) is None
    with pytest.raises(service.InvalidCredentials):  # 1 of 3 again, not 3 of 3
        service.authenticate(db, CTX, "vanthu.camau", "sai-mat-khau", **LIMITS)
    assert service.authenticate(db, CTX, "vanthu.camau", DEMO_PASSWORD, **LIMITS)


def test_a_deactivated_user_gets_the_wrong_password_answer(db: Session) -> None:
    service.deactivate_user(db, CTX, "vanthu.camau")
    with pytest.raises(service.InvalidCredentials, match="Tên đăng nhập hoặc mật khẩu không đúng"):
        service.authenticate(db, CTX, "vanthu.camau", DEMO_PASSWORD, **LIMITS)
