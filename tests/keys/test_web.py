from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.keys import service as keys
from ioffice.keys.models import KeyHolder, SigningCertificate
from ioffice.keys.stores import DbAttemptStore
from signing import PinProtectedKey
from tests.conftest import csrf_token, login
from tests.support.factories import actor


def _key_id(row: SigningCertificate) -> str:
    return PinProtectedKey.from_bytes(row.protected_key).key_id


def _leader_pin_key(db: Session, username: str = "lanhdao.camau") -> SigningCertificate:
    leader = actor(db, username)
    return keys.pin_keys(db, leader.agency_id, leader.user_id)[0].certificate


def test_admin_unlocks_a_key_locked_by_five_wrong_pins(client: FlaskClient, db: Session) -> None:
    row = _leader_pin_key(db)
    for _ in range(5):
        DbAttemptStore(db).record_failure(_key_id(row))
    login(client, "vanthu.camau")
    page = client.get("/quan-tri/chu-ky-so").get_data(as_text=True)
    assert "Huỳnh Quốc Việt" in page and "Đang bị khóa (5 lần sai)" in page
    resp = client.post(f"/quan-tri/chu-ky-so/{row.id}/mo-khoa",
                       data={"csrf_token": csrf_token(client, "/quan-tri/chu-ky-so")})
    assert resp.status_code == 302
    assert DbAttemptStore(db).failures(_key_id(row)) == 0


def test_only_an_admin_of_the_same_agency_unlocks(client: FlaskClient, db: Session) -> None:
    row = _leader_pin_key(db)
    for _ in range(5):
        DbAttemptStore(db).record_failure(_key_id(row))
    login(client, "lanhdao.camau")
    token = csrf_token(client, "/")
    assert client.post(f"/quan-tri/chu-ky-so/{row.id}/mo-khoa",
                       data={"csrf_token": token}).status_code == 403
    client.post("/dang-xuat", data={"csrf_token": token})
    login(client, "vanthu.uminh")  # admin of another agency
    assert client.post(f"/quan-tri/chu-ky-so/{row.id}/mo-khoa",
                       data={"csrf_token": csrf_token(client, "/")}).status_code == 404
    assert DbAttemptStore(db).failures(_key_id(row)) == 5


def test_a_person_sets_up_a_new_pin_key(client: FlaskClient, db: Session, pki) -> None:
    old = _leader_pin_key(db)
    login(client, "lanhdao.camau")
    token = csrf_token(client, "/chu-ky-so")
    bad = client.post("/chu-ky-so", data={"csrf_token": token, "pin": "246810", "confirm": "246811"})
    assert bad.status_code == 400 and "không khớp" in bad.get_data(as_text=True)
    short = client.post("/chu-ky-so", data={"csrf_token": token, "pin": "12", "confirm": "12"})
    assert short.status_code == 400 and "6 đến 12 chữ số" in short.get_data(as_text=True)
    ok = client.post("/chu-ky-so", data={"csrf_token": token, "pin": "246810", "confirm": "246810"})
    assert ok.status_code == 302
    active = db.scalars(select(SigningCertificate).where(
        SigningCertificate.user_id == old.user_id, SigningCertificate.holder == KeyHolder.PIN,
        SigningCertificate.active)).all()
    assert len(active) == 1 and active[0].id != old.id
    db.refresh(old)
    assert old.active is False
    credential = PinProtectedKey.from_bytes(active[0].protected_key).unlock("246810", DbAttemptStore(db))
    assert credential.serial == int(active[0].serial)
