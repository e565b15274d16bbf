from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ioffice.agencies import service
from ioffice.agencies.models import Agency, Department, Membership, Role, User
from ioffice.agencies.passwords import verify_password
from ioffice.audit import AuditContext
from ioffice.audit.models import AuditEvent
from ioffice.errors import NotFound

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")


def agency(db: Session, code: str) -> Agency:
    found = service.get_agency_by_code(db, code)
    assert found is not None
    return found


def test_create_agency_derives_level_and_parent(db: Session) -> None:
    created = service.create_agency(db, CTX, service.AgencyInput(
        code="000.00.23.H12", name="Ủy ban nhân dân huyện Đầm Dơi", short_name="ubnd",
        parent_code="000.00.00.H12"))
    assert created.level.value == "district"
    assert created.parent is not None and created.parent.code == "000.00.00.H12"
    assert created.short_name == "UBND"
    tags = db.scalars(select(AuditEvent.tag).where(AuditEvent.agency_id == created.id)).all()
    assert "agencies:agency:create" in tags


def test_malformed_identifier_is_refused(db: Session) -> None:
    with pytest.raises(service.AgencyError, match=r"LLL\.KK\.JJ\.Mnn"):
        service.create_agency(db, CTX, service.AgencyInput(code="12.34", name="X", short_name="X"))


def test_duplicate_identifier_and_unknown_parent_are_refused(db: Session) -> None:
    with pytest.raises(service.AgencyError, match="đã được dùng"):
        service.create_agency(db, CTX, service.AgencyInput(
            code="000.00.00.H12", name="Trùng", short_name="UBND"))
    with pytest.raises(service.AgencyError, match=r"000\.00\.00\.H99"):
        service.create_agency(db, CTX, service.AgencyInput(
            code="000.00.01.H99", name="Sở", short_name="SO", parent_code="000.00.00.H99"))


def test_duplicate_username_is_refused(db: Session) -> None:
    camau = agency(db, "000.00.00.H12")
    with pytest.raises(service.AgencyError, match="đã tồn tại"):
        service.create_user(db, CTX, agency_id=camau.id, username="VanThu.CaMau",
                            full_name="Người Khác", password="mat-khau-dai", roles=[Role.CLERK])


def test_password_is_stored_as_argon2id(db: Session) -> None:
    camau = agency(db, "000.00.00.H12")
    user = service.create_user(db, CTX, agency_id=camau.id, username="moi.camau",
                               full_name="Nguyễn Thị Mới", password="mat-khau-dai",
                               roles=[Role.SPECIALIST, Role.DEPARTMENT_HEAD])
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "mat-khau-dai")
    assert not verify_password(user.password_hash, "mat-khau-sai")
    assert user.memberships[0].roles == {Role.SPECIALIST, Role.DEPARTMENT_HEAD}


def test_department_of_another_agency_cannot_be_used(db: Session) -> None:
    camau, uminh = agency(db, "000.00.00.H12"), agency(db, "000.00.21.H12")
    foreign = db.scalars(select(Department).where(Department.agency_id == uminh.id)).first()
    assert foreign is not None
    with pytest.raises(NotFound):
        service.create_user(db, CTX, agency_id=camau.id, username="lan.camau",
                            full_name="Lê Thị Lan", password="mat-khau-dai",
                            roles=[Role.SPECIALIST], department_id=foreign.id)
    assert service.get_user_by_username(db, "lan.camau") is None


def test_database_refuses_a_membership_in_a_foreign_department(db: Session) -> None:
    """The composite foreign key holds even if a service forgets to check."""
    camau, uminh = agency(db, "000.00.00.H12"), agency(db, "000.00.21.H12")
    foreign = db.scalars(select(Department).where(Department.agency_id == uminh.id)).first()
    user = db.scalars(select(User).where(User.username == "chuyenvien.camau")).one()
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(Membership(user_id=user.id, agency_id=camau.id, department_id=foreign.id))
        db.flush()


def test_wrong_passwords_lock_the_account(db: Session) -> None:
    for attempt in range(4):
        with pytest.raises(service.InvalidCredentials):
            service.authenticate(db, CTX, "vanthu.camau", f"sai-{attempt}", max_failures=5,
                                 lock_minutes=15)
    with pytest.raises(service.InvalidCredentials):
        service.authenticate(db, CTX, "vanthu.camau", "sai-5", max_failures=5, lock_minutes=15)
    with pytest.raises(service.AccountLocked, match="tạm khóa"):
        service.authenticate(db, CTX, "vanthu.camau", "demo-test-pass", max_failures=5,
                             lock_minutes=15)


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(db: Session) -> None:
    with pytest.raises(service.InvalidCredentials) as unknown:
        service.authenticate(db, CTX, "khong.ton.tai", "x", max_failures=5, lock_minutes=15)
    with pytest.raises(service.InvalidCredentials) as wrong:
        service.authenticate(db, CTX, "vanthu.camau", "x", max_failures=5, lock_minutes=15)
    assert unknown.value.message == wrong.value.message


def test_the_application_hashes_at_argon2_cffis_full_cost_outside_the_tests() -> None:
    """The tests lower the cost in their own processes only (conftest's pytest_configure): a
    process that imports the app, as a server or a command does, hashes with 3 passes over 64 MiB
    in 4 lanes, and a hash at the tests' cost would be rehashed at the next login; it seals PIN
    keys at scrypt N = 2**15."""
    import subprocess
    import sys

    from ioffice.agencies.passwords import hash_password

    out = subprocess.run(
        [sys.executable, "-c", "from ioffice import create_app; create_app({'TESTING': True, "
         "'SECRET_KEY': 'x'}); from ioffice.agencies import passwords; "
         "h = passwords.hash_password('mat-khau-dai'); print(h); "
         f"print(passwords.needs_rehash({hash_password('mat-khau-dai')!r})); "
         "from signing import remote; print(remote._seal_n)"],
        capture_output=True, text=True, check=True, timeout=120)
    stored, rehash, scrypt_n = out.stdout.split()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), stored
    assert rehash == "True"
    assert scrypt_n == str(2**15)  # PIN keys too (signing.remote.use_test_cost)
    assert hash_password("mat-khau-dai").startswith("$argon2id$v=19$m=1024,t=1,p=1$")
