"""The administrator's page (/quan-tri/chung-thu-tin-cay) and the `trust` commands: who may
use them, import, list, remove, bad input shown in Vietnamese, CSRF, audit."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent
from ioffice.trust import service as trust
from ioffice.trust.models import TrustAnchor
from tests.conftest import csrf_token
from tests.support.foreign_ca import ForeignCa, _name, make_cert, pem

PAGE = "/quan-tri/chung-thu-tin-cay"


def _count(db: Session) -> int:
    return db.scalar(select(func.count(TrustAnchor.id)))


def _upload(client: FlaskClient, data: bytes, name: str = "root.pem"):
    return client.post(PAGE, data={"csrf_token": csrf_token(client, PAGE),
                                   "certificate": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_the_province_admin_imports_sees_and_removes_a_root(
        login_as, db: Session, foreign_ca: ForeignCa) -> None:
    client = login_as("vanthu.camau")
    home = client.get("/").get_data(as_text=True)
    assert f'href="{PAGE}"' in home  # in the menu
    page = client.get(PAGE).get_data(as_text=True)
    assert "Chưa nhập chứng thư nào." in page and "IOFFICE_SIMULATED_CA" in page

    resp = _upload(client, pem(foreign_ca.root, foreign_ca.intermediate))
    assert resp.status_code == 302
    page = client.get(PAGE).get_data(as_text=True)
    assert "Đã nhập 2 chứng thư" in page
    fp = trust.fingerprint(foreign_ca.root)
    row = re.search(rf'<tr data-fingerprint="{fp}">(.*?)</tr>', page, re.S).group(1)
    assert "CN=Foreign Root CA G2" in row and "Gốc" in row
    vn = ZoneInfo("Asia/Ho_Chi_Minh")
    for moment in (foreign_ca.root.not_valid_before_utc, foreign_ca.root.not_valid_after_utc):
        assert f"{moment.astimezone(vn):%d/%m/%Y %H:%M}" in row
    assert fp in row
    assert "Đã hết hạn" not in row
    assert "Trung gian" in page
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.tag == trust.IMPORTED,
                                                  AuditEvent.details["fingerprint"].as_string() == fp))
    assert event.actor_id is not None

    anchor = db.scalars(select(TrustAnchor).where(TrustAnchor.fingerprint == fp)).one()
    resp = client.post(f"{PAGE}/go", data={"csrf_token": csrf_token(client, PAGE),
                                           "anchor_id": str(anchor.id)})
    assert resp.status_code == 302
    page = client.get(PAGE).get_data(as_text=True)
    assert "Đã gỡ chứng thư «CN=Foreign Root CA G2" in page
    assert f'data-fingerprint="{fp}"' not in page
    db.expire_all()
    assert _count(db) == 1


@pytest.mark.parametrize("data, message", [
    (b"hello", "Tệp không phải chứng thư số"),
    (b"-----BEGIN CERTIFICATE-----\nQUJD\n", "không có dòng -----END-----"),
])
def test_bad_files_are_refused_with_the_reason(login_as, db: Session, data: bytes,
                                               message: str) -> None:
    client = login_as("vanthu.camau")
    resp = _upload(client, data)
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    assert _count(db) == 0


def test_a_leaf_a_duplicate_and_a_huge_file(login_as, db: Session, foreign_ca: ForeignCa) -> None:
    client = login_as("vanthu.camau")
    resp = _upload(client, pem(foreign_ca.leaf), "nguoi-ky.crt")
    assert resp.status_code == 400 and "người dùng cuối" in resp.get_data(as_text=True)
    assert _upload(client, pem(foreign_ca.root)).status_code == 302
    again = _upload(client, pem(foreign_ca.root))
    assert again.status_code == 302
    assert "đã có trong danh sách từ trước, không nhập lại" in client.get(PAGE).get_data(as_text=True)
    assert _count(db) == 1
    huge = _upload(client, b"A" * (trust.MAX_FILE_BYTES + 10), "lon.pem")
    assert huge.status_code == 400 and "Tệp quá lớn" in huge.get_data(as_text=True)
    none = client.post(PAGE, data={"csrf_token": csrf_token(client, PAGE)},
                       content_type="multipart/form-data")
    assert none.status_code == 400 and "Hãy chọn tệp chứng thư" in none.get_data(as_text=True)


def test_an_anchor_that_expired_since_import_is_marked(login_as, db: Session) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    cert = make_cert(_name("Soon Expired Root"), key, _name("Soon Expired Root"), key, ca=True)
    trust.import_certificates(db, trust_ctx(), pem(cert))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    db.execute(TrustAnchor.__table__.update().values(not_after=later - dt.timedelta(days=2)))
    client = login_as("vanthu.camau")
    page = client.get(PAGE).get_data(as_text=True)
    assert "Đã hết hạn" in page


def trust_ctx():
    from ioffice.audit import AuditContext

    return AuditContext(actor_id=None, agency_id=None, remote_addr="test")


@pytest.mark.parametrize("username", ["vanthu.uminh", "lanhdao.camau", "chuyenvien.camau"])
def test_only_the_top_level_admin_may(login_as, db: Session, username: str,
                                      foreign_ca: ForeignCa) -> None:
    client = login_as(username)
    assert client.get(PAGE).status_code == 403
    assert _upload(client, pem(foreign_ca.root)).status_code == 403
    row = trust.import_certificates(db, trust_ctx(), pem(foreign_ca.root)).added[0]
    db.flush()
    gone = client.post(f"{PAGE}/go", data={"csrf_token": csrf_token(client, "/"),
                                           "anchor_id": str(row.id)})
    assert gone.status_code == 403 and _count(db) == 1
    assert f'href="{PAGE}"' not in client.get("/").get_data(as_text=True)
    db.expire_all()
    assert _count(db) == 1


def test_removal_needs_the_csrf_token_and_an_existing_row(login_as, db: Session,
                                                          foreign_ca: ForeignCa) -> None:
    client = login_as("vanthu.camau")
    row = trust.import_certificates(db, trust_ctx(), pem(foreign_ca.root)).added[0]
    db.flush()
    assert client.post(f"{PAGE}/go", data={"anchor_id": str(row.id)}).status_code == 400  # CSRF
    assert _count(db) == 1
    for bad in (str(row.id + 1000), "abc", ""):
        missing = client.post(f"{PAGE}/go", data={"csrf_token": csrf_token(client, PAGE),
                                                  "anchor_id": bad})
        assert missing.status_code == 404
        assert "Không có chứng thư này" in missing.get_data(as_text=True)
    assert _count(db) == 1


def test_the_commands_import_list_and_remove(app: Flask, db: Session, tmp_path: Path,
                                             foreign_ca: ForeignCa) -> None:
    from cryptography.hazmat.primitives import serialization

    runner = app.test_cli_runner()
    bundle = tmp_path / "vn-roots.pem"
    bundle.write_bytes(pem(foreign_ca.root, foreign_ca.intermediate))
    done = runner.invoke(args=["trust", "import", str(bundle)])
    assert done.exit_code == 0, done.output
    assert "Đã nhập 2 chứng thư" in done.output
    listing = runner.invoke(args=["trust", "list"])
    assert "gốc" in listing.output and "trung gian" in listing.output
    fp = trust.fingerprint(foreign_ca.root)
    assert fp in listing.output

    der_file = tmp_path / "root.cer"
    der_file.write_bytes(foreign_ca.root.public_bytes(serialization.Encoding.DER))
    again = runner.invoke(args=["trust", "import", str(der_file)])
    assert again.exit_code == 0 and "không nhập lại" in again.output

    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(pem(foreign_ca.leaf))
    refused = runner.invoke(args=["trust", "import", str(leaf)])
    assert refused.exit_code == 1 and "người dùng cuối" in refused.output

    gone = runner.invoke(args=["trust", "remove", fp[:16]])
    assert gone.exit_code == 0 and fp in gone.output
    unknown = runner.invoke(args=["trust", "remove", fp[:16]])
    assert unknown.exit_code == 1 and "Không tìm thấy đúng một chứng thư" in unknown.output
    events = db.scalars(select(AuditEvent).where(
        AuditEvent.tag.in_([trust.IMPORTED, trust.REMOVED]))).all()
    assert sorted(e.tag for e in events) == [trust.IMPORTED, trust.IMPORTED, trust.REMOVED]
    assert all(e.remote_addr == "cli" for e in events)
