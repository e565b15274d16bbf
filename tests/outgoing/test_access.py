"""Acting on an outgoing document needs the right to read it (issue 15: "Replace leaks what you
cannot read"). A colleague of the same agency who gets 404 on the page of a secret document gets
404 on every action on it too, nothing is created, and its subject never reaches them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.agencies import service as agencies
from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Role
from ioffice.audit import AuditContext
from ioffice.audit.models import AuditEvent
from ioffice.documents.vocabulary import Confidentiality
from ioffice.errors import Forbidden, NotFound
from ioffice.outgoing import dispatch, drafts, numbering, queries, review, signatures
from ioffice.outgoing.drafts import DraftInput, Upload
from ioffice.outgoing.models import OutgoingComment, OutgoingDocument, OutgoingStatus
from ioffice.storage import BlobStore
from signing import Pki, TrustStore
from tests.conftest import DEMO_PASSWORD, csrf_token
from tests.outgoing.conftest import CLERK, HEAD, LEADER, PIN, SPECIALIST, pdf_bytes
from tests.support.factories import actor, department, user_id

SUBJECT = "Phương án bảo vệ bí mật nhà nước năm 2027 (tối mật)"


def secret_draft(db: Session, blobs: BlobStore, drafter: str = HEAD) -> OutgoingDocument:
    """A secret draft of the TTTT department: its chuyên viên may not read it."""
    who = actor(db, drafter)
    return drafts.create_draft(db, blobs, who, DraftInput(
        doc_type="bao_cao", subject=SUBJECT, signer_id=user_id(db, LEADER),
        confidentiality=Confidentiality.SECRET, department_ids=(department(db, who, "KT").id,)),
        Upload("du-thao.pdf", pdf_bytes()))


def dispatched_secret(db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa) -> OutgoingDocument:
    doc = secret_draft(db, blobs)
    review.submit(db, actor(db, HEAD), doc.id)  # the head's own draft skips the head's step
    review.approve(db, actor(db, CLERK), doc.id)
    review.approve(db, actor(db, LEADER), doc.id)
    signatures.sign_with_pin(db, blobs, trust, actor(db, LEADER), doc.id, PIN)
    clerk = actor(db, CLERK)
    numbering.assign_number(db, clerk, doc.id)
    signatures.apply_agency_signature(db, blobs, pki, trust, clerk, doc.id, tsa=tsa)
    dispatch.dispatch(db, clerk, doc.id)
    assert doc.status is OutgoingStatus.DISPATCHED
    return doc


@pytest.fixture
def secret(db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa, pin_key) -> OutgoingDocument:
    return dispatched_secret(db, blobs, pki, trust, tsa)


def _counts(db: Session) -> tuple[int, int, int]:
    return (db.scalar(select(func.count()).select_from(OutgoingDocument)) or 0,
            db.scalar(select(func.count()).select_from(OutgoingComment)) or 0,
            db.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_replace_and_comment_answer_404_to_whoever_cannot_read(
        db: Session, client: FlaskClient, login_as, secret: OutgoingDocument) -> None:
    login_as(SPECIALIST)
    page = f"/van-ban-di/{secret.id}"
    assert client.get(page).status_code == 404
    token = csrf_token(client, "/van-ban-di/")
    before = _counts(db)
    for action, data in (("thay-the", {}), ("y-kien", {"body": "Xin ý kiến"}),
                         ("phien-ban", {}), ("trinh", {})):
        resp = client.post(f"{page}/{action}", data={"csrf_token": token, **data})
        assert resp.status_code == 404, (action, resp.status_code)
        assert SUBJECT not in resp.get_data(as_text=True)
    assert _counts(db) == before
    # the clerk's actions are refused by role first (403), naming no document either
    for action in ("duyet", "tra-lai", "thu-hoi", "cap-nhat", "cap-so", "ky-so-co-quan",
                   "phat-hanh", "ky-pin"):
        resp = client.post(f"{page}/{action}", data={"csrf_token": token, "reason": "x"})
        assert resp.status_code == 403, action
        assert SUBJECT not in resp.get_data(as_text=True)
    assert _counts(db) == before


def test_replace_still_works_for_whoever_may_read(
        db: Session, client: FlaskClient, login_as, secret: OutgoingDocument) -> None:
    login_as(HEAD)
    resp = client.post(f"/van-ban-di/{secret.id}/thay-the",
                       data={"csrf_token": csrf_token(client, f"/van-ban-di/{secret.id}")})
    assert resp.status_code == 302
    new = db.scalars(select(OutgoingDocument).where(OutgoingDocument.replaces_id == secret.id)).one()
    assert new.subject == SUBJECT and new.confidentiality is Confidentiality.SECRET


def _outsider(db: Session) -> Actor:
    """The TTTT chuyên viên holding every role but clerk and leader, sitting in another
    department (SNV): none of the roles reads a secret document of TTTT."""
    me = actor(db, SPECIALIST)
    return Actor(user_id=me.user_id, agency_id=me.agency_id,
                 department_id=department(db, me, "SNV").id,
                 roles=frozenset({Role.SPECIALIST, Role.DEPARTMENT_HEAD, Role.ADMIN}))


def _actions(db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa
             ) -> dict[str, Callable[[Actor, int], object]]:
    """Every service operation that takes an outgoing document."""
    return {
        "read": lambda a, i: queries.read_document(db, a, i),
        "upload_version": lambda a, i: drafts.upload_version(db, blobs, a, i, Upload("v.pdf", pdf_bytes())),
        "add_comment": lambda a, i: drafts.add_comment(db, a, i, "Ý kiến"),
        "submit": lambda a, i: review.submit(db, a, i),
        "approve": lambda a, i: review.approve(db, a, i),
        "send_back": lambda a, i: review.send_back(db, a, i, "Trả lại"),
        "place_stamp": lambda a, i: signatures.place_stamp(db, blobs, a, i, "1", place="duoi-phai"),
        "sign_with_pin": lambda a, i: signatures.sign_with_pin(db, blobs, trust, a, i, PIN),
        "prepare_browser": lambda a, i: signatures.prepare_browser_signature(db, blobs, pki, trust, a, i),
        "finish_browser": lambda a, i: signatures.finish_browser_signature(db, blobs, trust, a, i, "h", b"x"),
        "number": lambda a, i: numbering.assign_number(db, a, i),
        "seal": lambda a, i: signatures.apply_agency_signature(db, blobs, pki, trust, a, i, tsa=tsa),
        "dispatch": lambda a, i: dispatch.dispatch(db, a, i),
        "revoke": lambda a, i: dispatch.revoke(db, a, i, "Thu hồi"),
        "send_update": lambda a, i: dispatch.send_update(db, a, i, "Cập nhật"),
        "replace": lambda a, i: dispatch.start_replacement(db, a, i),
    }


def test_every_service_action_on_an_unreadable_document_is_refused(
        db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa, pin_key) -> None:
    """In the service layer, whatever page or API calls it: not found when the roles allow the
    operation, forbidden (by role, before the document is looked at) otherwise; nothing kept."""
    docs = [secret_draft(db, blobs), dispatched_secret(db, blobs, pki, trust, tsa)]
    outsider = _outsider(db)
    before = _counts(db)
    results: dict[str, set[str]] = {}
    for name, act in _actions(db, blobs, pki, trust, tsa).items():
        for doc in docs:
            with db.begin_nested() as nested:
                with pytest.raises((NotFound, Forbidden)) as caught:
                    act(outsider, doc.id)
                nested.rollback()
            assert SUBJECT not in caught.value.message
            results.setdefault(type(caught.value).__name__, set()).add(name)
    assert _counts(db) == before
    assert results["NotFound"] == {"read", "upload_version", "add_comment", "submit", "approve",
                                   "send_back", "replace", "place_stamp", "sign_with_pin",
                                   "prepare_browser", "finish_browser"}
    assert results["Forbidden"] == {"number", "seal", "dispatch", "revoke", "send_update"}
    print(f"\noutgoing service actions x unreadable documents: {len(_actions(db, blobs, pki, trust, tsa))}"
          f" x {len(docs)} refused; 404: {len(results['NotFound'])}, 403: {len(results['Forbidden'])}")


def test_a_reviewer_whose_turn_it_is_reads_the_secret_draft(
        db: Session, blobs: BlobStore, client: FlaskClient, login_as) -> None:
    """The office step may be taken by the head of the office (VP), who otherwise has no right
    to a secret draft of another department: while the step is theirs, they read and act."""
    clerk = actor(db, CLERK)
    agencies.create_user(db, AuditContext(None, clerk.agency_id, "test"), agency_id=clerk.agency_id,
                         username="chanhvanphong.camau", full_name="Chánh Văn phòng",
                         password=DEMO_PASSWORD, roles=[Role.DEPARTMENT_HEAD],
                         department_id=department(db, clerk, "VP").id)
    doc = secret_draft(db, blobs, drafter=SPECIALIST)
    review.submit(db, actor(db, SPECIALIST), doc.id)
    office_head = actor(db, "chanhvanphong.camau")
    assert not queries.can_read(db, office_head, doc)  # the department head's step comes first
    review.approve(db, actor(db, HEAD), doc.id)
    assert queries.can_read(db, office_head, doc)
    db.commit()
    login_as("chanhvanphong.camau")
    page = f"/van-ban-di/{doc.id}"
    assert SUBJECT in client.get(page).get_data(as_text=True)
    resp = client.post(f"{page}/duyet", data={"csrf_token": csrf_token(client, page)})
    assert resp.status_code == 302
    db.refresh(doc)
    assert doc.review_step == 2
    # having taken a step, they keep reading the document they approved
    assert client.get(page).status_code == 200
