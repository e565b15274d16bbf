"""What waits for the user: the home page's counters (one per kind of work, each linking to its
list), revoke/replace requests in words, and the clerk's incoming page opening on its queue."""

from __future__ import annotations

import datetime as dt
import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency
from ioffice.exchange.models import ExchangeInbox, InboxState
from ioffice.incoming import handling
from ioffice.incoming.models import DocumentStatus, IncomingDocument, Source
from ioffice.incoming.registration import today_vn
from ioffice.outgoing import review
from ioffice.outgoing.models import OutgoingStatus
from ioffice.storage import BlobStore
from tests.conftest import csrf_token
from tests.outgoing.conftest import CLERK, HEAD, LEADER, SPECIALIST, approve_all, new_draft
from tests.support.factories import actor, department, register

CAMAU = "000.00.00.H12"


def count(html: str, name: str) -> int | None:
    found = re.search(rf'data-count="{name}"><strong>(\d+)</strong>', html)
    return int(found.group(1)) if found else None


def home(client: FlaskClient, login_as, username: str) -> str:
    if client.get("/").status_code == 200:  # someone is logged in
        client.post("/dang-xuat", data={"csrf_token": csrf_token(client, "/")})
    login_as(username)
    return client.get("/").get_data(as_text=True)


def test_home_counts_the_outgoing_work_of_each_role(db: Session, blobs: BlobStore, client,
                                                    login_as) -> None:
    before = {u: home(client, login_as, u) for u in (SPECIALIST, HEAD, CLERK, LEADER)}
    new_draft(db, blobs)                                   # the specialist's unsubmitted draft
    at_head = new_draft(db, blobs)
    review.submit(db, actor(db, SPECIALIST), at_head.id)   # the department head's step
    approve_all(db, new_draft(db, blobs))                  # the leader signs
    db.commit()
    after = {u: home(client, login_as, u) for u in (SPECIALIST, HEAD, CLERK, LEADER)}

    def delta(user: str, name: str) -> int:
        return count(after[user], name) - count(before[user], name)

    assert delta(SPECIALIST, "drafts") == 1
    assert delta(HEAD, "to_review") == 1
    assert delta(LEADER, "to_sign") == 1 and delta(LEADER, "to_review") == 0
    assert delta(CLERK, "to_review") == 0
    assert count(after[SPECIALIST], "to_sign") is None  # no counter for work a role never does
    assert count(after[SPECIALIST], "to_number") is None
    assert 'href="/van-ban-di/cho-toi-ky"' in after[LEADER]


def test_home_counts_the_clerk_steps(db: Session, blobs: BlobStore, client, login_as) -> None:
    before = home(client, login_as, CLERK)
    doc = approve_all(db, new_draft(db, blobs))
    doc.status = OutgoingStatus.SIGNED  # as after the leader's signature
    second = approve_all(db, new_draft(db, blobs))
    second.status = OutgoingStatus.SEALED
    db.commit()
    after = home(client, login_as, CLERK)
    assert count(after, "to_number") - count(before, "to_number") == 1
    assert count(after, "to_seal") == count(before, "to_seal")
    assert count(after, "to_dispatch") - count(before, "to_dispatch") == 1


def test_leader_sees_agency_wide_overdue_and_the_specialist_does_not(
        db: Session, blobs: BlobStore, client, login_as) -> None:
    before = home(client, login_as, LEADER)
    clerk, leader = actor(db, CLERK), actor(db, LEADER)
    doc = register(db, blobs, clerk)
    [assignment] = handling.distribute(db, leader, doc.id, handling.DistributionInput(
        lead=handling.Target("department", department(db, clerk, "TTTT").id)))
    assignment.deadline = today_vn() - dt.timedelta(days=2)
    db.commit()
    after = home(client, login_as, LEADER)
    assert count(after, "agency_overdue") - count(before, "agency_overdue") == 1
    assert 'href="/van-ban-den/theo-doi?qua_han=1"' in after
    assert count(home(client, login_as, SPECIALIST), "agency_overdue") is None


def _received(db: Session, number: str, status=DocumentStatus.REGISTERED) -> IncomingDocument:
    agency_id = db.scalars(select(Agency.id).where(Agency.code == CAMAU)).one()
    doc = IncomingDocument(agency_id=agency_id, status=status, source=Source.AXIS,
                           issuer_name="Bộ Nội vụ", issuer_code="000.00.00.G09", number=number,
                           notation="BNV-VP", number_notation=f"{number}/BNV-VP",
                           document_date=dt.date(2026, 11, 20), doc_type="cong_van",
                           subject="Về việc tổ chức hội nghị",
                           document_identifier=f"000.00.00.G09,2026/11/20,{number}/BNV-VP")
    db.add(doc)
    db.flush()
    return doc


def _request(db: Session, target: IncomingDocument | None, business_type: str, reason: str,
             identifier: str = "") -> ExchangeInbox:
    row = ExchangeInbox(hub="test", message_id=f"m-{business_type}-{reason[:8]}",
                        recipient_organ_id=CAMAU, agency_id=target.agency_id if target else
                        db.scalars(select(Agency.id).where(Agency.code == CAMAU)).one(),
                        messagetype="edoc", sender_organ_id="000.00.00.G09",
                        sender_name="Bộ Nội vụ", business_type=business_type, reason=reason,
                        response_for=target.document_identifier if target else identifier,
                        document_identifier=identifier or "000.00.00.G09,2026/12/01,99/BNV-VP",
                        target_document_id=target.id if target else None,
                        state=InboxState.AWAITING_DECISION)
    db.add(row)
    db.flush()
    return row


def test_revoke_and_replace_requests_read_in_words_on_home_document_and_exchange_pages(
        db: Session, client: FlaskClient, login_as) -> None:
    copy = _received(db, "812")
    _request(db, copy, "revoke", "Ban hành nhầm đối tượng")
    _request(db, None, "replace", "Sửa số liệu", identifier="000.00.00.G09,2026/11/25,77/BNV-VP")
    db.commit()
    revoke_text = ("Bộ Nội vụ đề nghị thu hồi văn bản số 812/BNV-VP ngày 20/11/2026: "
                   "Ban hành nhầm đối tượng")
    replace_text = "Bộ Nội vụ đề nghị thay thế văn bản số 77/BNV-VP ngày 25/11/2026"
    page = home(client, login_as, CLERK)
    assert revoke_text in page and replace_text in page
    assert count(page, "requests") >= 2
    document = client.get(f"/van-ban-den/{copy.id}").get_data(as_text=True)
    assert revoke_text in document and "chờ văn thư quyết định" in document
    exchange = client.get("/lien-thong/").get_data(as_text=True)
    assert revoke_text in exchange and "Đồng ý thu hồi" in exchange
    for html in (page, document, exchange):
        assert "(15)" not in html and "(16)" not in html
        assert "000.00.00.G09,2026/11/20" not in html  # no raw DocumentId
    assert revoke_text not in home(client, login_as, SPECIALIST)


def test_the_clerks_incoming_page_opens_on_the_documents_to_register(
        db: Session, client: FlaskClient, login_as) -> None:
    login_as(CLERK)
    waiting = db.scalars(select(IncomingDocument).where(
        IncomingDocument.status == DocumentStatus.AWAITING_REGISTRATION)).all()
    for doc in waiting:  # start with an empty queue
        doc.status = DocumentStatus.REJECTED
    db.commit()
    assert 'aria-current="page">Cần xử lý' in client.get("/van-ban-den/").get_data(as_text=True)
    _received(db, "901", DocumentStatus.AWAITING_REGISTRATION)
    db.commit()
    html = client.get("/van-ban-den/").get_data(as_text=True)
    assert 'aria-current="page">Chờ vào sổ' in html and "901/BNV-VP" in html
    asked = client.get("/van-ban-den/?tab=can-xu-ly").get_data(as_text=True)
    assert 'aria-current="page">Cần xử lý' in asked  # a tab asked for is kept
