"""Acting on an incoming document or one of its assignments needs the right to read the
document: whoever gets 404 on a confidential document's page gets 404 on every action on it,
on the pages and through the API, and nothing changes."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Role
from ioffice.audit.models import AuditEvent
from ioffice.documents.vocabulary import Confidentiality
from ioffice.errors import NotFound
from ioffice.incoming import handling, queries
from ioffice.incoming.models import Assignment, IncomingDocument
from ioffice.storage import BlobStore
from tests.api.conftest import bearer, issue_token
from tests.conftest import csrf_token
from tests.support.factories import actor, department, register

SUBJECT = "Về kế hoạch diễn tập khu vực phòng thủ (mật)"
SPECIALIST, HEAD = "chuyenvien.camau", "truongphong.camau"


def confidential(db: Session, blobs: BlobStore) -> tuple[IncomingDocument, Assignment]:
    """A confidential document assigned to the TTTT department: its head reads it, the
    department's chuyên viên (not assigned) does not."""
    clerk = actor(db, "vanthu.camau")
    doc = register(db, blobs, clerk, subject=SUBJECT, confidentiality=Confidentiality.CONFIDENTIAL)
    [lead] = handling.distribute(db, actor(db, "lanhdao.camau"), doc.id, handling.DistributionInput(
        lead=handling.Target("department", department(db, clerk, "TTTT").id)))
    db.commit()
    assert queries.can_read(db, actor(db, HEAD), doc)
    assert not queries.can_read(db, actor(db, SPECIALIST), doc)
    return doc, lead


def _state(db: Session, lead: Assignment) -> tuple:
    db.refresh(lead)
    return (lead.status, lead.progress_note, lead.deadline,
            db.scalar(select(func.count()).select_from(Assignment)),
            db.scalar(select(func.count()).select_from(AuditEvent)))


def test_pages_and_api_answer_404_to_whoever_cannot_read(
        db: Session, blobs: BlobStore, client: FlaskClient, login_as) -> None:
    doc, lead = confidential(db, blobs)
    login_as(SPECIALIST)
    token = csrf_token(client, "/van-ban-den/")
    api = bearer(issue_token(db, SPECIALIST))
    before = _state(db, lead)
    tried = 0
    for path in (f"/van-ban-den/{doc.id}", f"/van-ban-den/{doc.id}/tep/{doc.files[0].id}",
                 f"/van-ban-den/{doc.id}/tep/{doc.files[0].id}/trang-1.png"):
        resp = client.get(path)
        assert resp.status_code == 404 and SUBJECT not in resp.get_data(as_text=True), path
        tried += 1
    for action, data in (("tien-do", {"note": "Đang làm"}),
                         ("gia-han", {"new_deadline": "2030-01-01", "reason": "Cần thêm"}),
                         ("hoan-thanh", {"result": "Xong"}), ("tra-lai", {"reason": "Sai"})):
        resp = client.post(f"/van-ban-den/phan-cong/{lead.id}/{action}",
                           data={"csrf_token": token, **data})
        assert resp.status_code == 404, (action, resp.status_code)
        assert SUBJECT not in resp.get_data(as_text=True)
        tried += 1
    for method, path, body in (
            ("GET", f"/api/v1/documents/{doc.id}", None),
            ("GET", f"/api/v1/documents/{doc.id}/files/{doc.files[0].id}", None),
            ("POST", f"/api/v1/assignments/{lead.id}/progress", {"note": "Đang làm"}),
            ("POST", f"/api/v1/assignments/{lead.id}/finish", {"result": "Xong"}),
            ("POST", f"/api/v1/assignments/{lead.id}/return", {"reason": "Sai"}),
            ("POST", f"/api/v1/assignments/{lead.id}/extension-request",
             {"new_deadline": "2030-01-01", "reason": "Cần thêm"})):
        resp = client.open(path, method=method, json=body, headers=api)
        assert resp.status_code == 404, (path, resp.status_code)
        assert SUBJECT not in json.dumps(resp.get_json(), ensure_ascii=False)
        tried += 1
    assert _state(db, lead) == before
    print(f"\nincoming, unreadable confidential document: {tried} requests, all 404")


def test_service_actions_refuse_a_head_of_another_department(db: Session, blobs: BlobStore) -> None:
    """Passing on and deciding extensions load the assignment through the object rule too."""
    doc, lead = confidential(db, blobs)
    me = actor(db, SPECIALIST)
    other_head = Actor(user_id=me.user_id, agency_id=me.agency_id,
                       department_id=department(db, me, "SNV").id,
                       roles=frozenset({Role.DEPARTMENT_HEAD}))
    for act in (lambda: handling.pass_on(db, other_head, lead.id, me.user_id, None),
                lambda: handling.decide_extension(db, other_head, lead.id, True),
                lambda: handling.record_progress(db, other_head, lead.id, "x"),
                lambda: queries.read_document(db, other_head, doc.id)):
        try:
            act()
        except NotFound as exc:
            assert SUBJECT not in exc.message
        else:
            raise AssertionError("an unreadable document was acted on")


def test_a_reply_cannot_be_started_to_an_unreadable_document(
        db: Session, blobs: BlobStore, client: FlaskClient, login_as) -> None:
    """``/van-ban-di/moi?tra_loi=<id>`` filled the subject with the number of the document
    replied to; the service accepted it as ``reply_to_id`` on the same agency check alone."""
    from ioffice.outgoing.errors import InvalidInput
    from tests.outgoing.conftest import new_draft

    doc, _lead = confidential(db, blobs)
    login_as(SPECIALIST)
    html = client.get(f"/van-ban-di/moi?tra_loi={doc.id}").get_data(as_text=True)
    assert doc.number_notation not in html, html[html.find(doc.number_notation) - 300:][:400]
    try:
        new_draft(db, blobs, reply_to_id=doc.id)  # drafted by the chuyên viên
    except InvalidInput as exc:
        assert set(exc.fields) == {"reply_to_id"}
    else:
        raise AssertionError("a reply to an unreadable document was created")
