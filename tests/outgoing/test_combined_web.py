"""The leader's "Duyệt và ký" form and the batch signing page through the test client."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.demo import DEMO_PIN
from ioffice.keys import service as keys
from ioffice.keys.models import KeyHolder
from ioffice.keys.stores import DbAttemptStore
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus
from ioffice.storage import BlobStore
from signing import PinProtectedKey, Pki
from signing.demo import make_demo_pdf
from tests.conftest import csrf_token
from tests.outgoing.conftest import approve_all, new_draft
from tests.outgoing.test_combined import at_leader_step, other_agency_draft
from tests.signing import mdp_files
from tests.support.factories import actor

LEADER = "lanhdao.camau"


def failures(db: Session) -> int:
    leader = actor(db, LEADER)
    row = keys.personal_certificate(db, leader.user_id, leader.agency_id, KeyHolder.PIN)
    return DbAttemptStore(db).failures(PinProtectedKey.from_bytes(row.protected_key).key_id)


def status(db: Session, doc_id: int) -> OutgoingStatus:
    db.expire_all()
    return db.scalars(select(OutgoingDocument.status).where(OutgoingDocument.id == doc_id)).one()


def test_approve_and_sign_form_on_the_leaders_last_step(db: Session, blobs: BlobStore,
                                                        client: FlaskClient, login_as) -> None:
    doc = at_leader_step(db, new_draft(db, blobs))
    db.commit()
    login_as(LEADER)
    page = f"/van-ban-di/{doc.id}"
    assert 'id="approve-sign"' in client.get(page).get_data(as_text=True)
    wrong = client.post(f"{page}/duyet-va-ky", data={"csrf_token": csrf_token(client, page),
                                                     "pin": "000000"}, follow_redirects=True)
    assert "Chưa duyệt, chưa ký: Mã PIN không đúng. Còn 4 lần thử." in wrong.get_data(as_text=True)
    assert status(db, doc.id) is OutgoingStatus.IN_REVIEW and failures(db) == 1
    ok = client.post(f"{page}/duyet-va-ky", data={"csrf_token": csrf_token(client, page),
                                                  "pin": DEMO_PIN, "comment": "Đồng ý"},
                     follow_redirects=True)
    assert "Đã duyệt và ký số văn bản" in ok.get_data(as_text=True)
    assert status(db, doc.id) is OutgoingStatus.SIGNED and failures(db) == 0
    assert 'id="approve-sign"' not in ok.get_data(as_text=True)


def test_approve_and_sign_says_nothing_was_kept_when_signing_fails(
        db: Session, blobs: BlobStore, pki: Pki, client: FlaskClient, login_as) -> None:
    author = pki.issue_personal("Lê Văn Tác", "CHÁNH VĂN PHÒNG", "000.00.00.H12",
                                "Ủy ban nhân dân tỉnh Cà Mau", key_type="ec")
    doc = at_leader_step(db, new_draft(db, blobs, data=mdp_files.certify(make_demo_pdf(2), author, 1)))
    db.commit()
    login_as(LEADER)
    page = f"/van-ban-di/{doc.id}"
    resp = client.post(f"{page}/duyet-va-ky", data={"csrf_token": csrf_token(client, page),
                                                    "pin": DEMO_PIN}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "Chưa duyệt, chưa ký:" in html and "P=1" in html
    assert status(db, doc.id) is OutgoingStatus.IN_REVIEW
    assert 'id="approve-sign"' in html and 'id="review"' in html  # still the leader's step


def test_approve_and_sign_is_not_offered_before_the_last_step(db: Session, blobs: BlobStore,
                                                              client: FlaskClient, login_as) -> None:
    doc = new_draft(db, blobs)
    db.commit()
    login_as("truongphong.camau")
    assert 'id="approve-sign"' not in client.get(f"/van-ban-di/{doc.id}").get_data(as_text=True)


def test_batch_signing_page_signs_the_chosen_documents_with_one_pin(
        db: Session, blobs: BlobStore, client: FlaskClient, login_as) -> None:
    ready = [approve_all(db, new_draft(db, blobs, subject=f"Kế hoạch số {i}")) for i in range(3)]
    foreign = other_agency_draft(db, blobs)
    db.commit()
    login_as(LEADER)
    path = "/van-ban-di/cho-toi-ky"
    listing = client.get(path).get_data(as_text=True)
    assert all(f'name="document_ids" value="{d.id}"' in listing for d in ready)
    chosen = [str(ready[0].id), str(ready[1].id), str(foreign.id)]
    wrong = client.post(path, data={"csrf_token": csrf_token(client, path), "pin": "111111",
                                    "document_ids": chosen})
    assert wrong.status_code == 422
    assert "Chưa ký văn bản nào." in wrong.get_data(as_text=True) and failures(db) == 1
    assert all(status(db, d.id) is OutgoingStatus.APPROVED for d in ready)
    kept = wrong.get_data(as_text=True)  # the choice survives the error
    assert re.search(rf'value="{ready[2].id}" [^>]*aria-label="[^"]*"\s*>', kept)
    resp = client.post(path, data={"csrf_token": csrf_token(client, path), "pin": DEMO_PIN,
                                   "document_ids": chosen})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Kết quả ký: 2/3 văn bản đã ký" in html
    assert f'data-document="{foreign.id}" data-signed="no"' in html
    assert "Báo cáo của huyện U Minh" not in html  # nothing of another agency's document
    assert [status(db, d.id) for d in ready] == [OutgoingStatus.SIGNED, OutgoingStatus.SIGNED,
                                                 OutgoingStatus.APPROVED]
    assert f'name="document_ids" value="{ready[2].id}"' in html  # still waiting, still listed


def test_only_leaders_open_the_batch_signing_page(client: FlaskClient, login_as) -> None:
    login_as("chuyenvien.camau")
    assert client.get("/van-ban-di/cho-toi-ky").status_code == 403
