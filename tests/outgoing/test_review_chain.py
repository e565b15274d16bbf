from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ioffice.outgoing import review
from ioffice.outgoing.models import OutgoingStatus, ReviewStepKind
from ioffice.storage import BlobStore
from tests.conftest import csrf_token, login
from tests.outgoing.conftest import LEADER, SPECIALIST, new_draft
from tests.support.factories import actor


def _post(client: FlaskClient, **steps: str):
    token = csrf_token(client, "/quan-tri/quy-trinh-duyet")
    return client.post("/quan-tri/quy-trinh-duyet", data={"csrf_token": token, **steps})


def test_admin_shortens_the_chain_and_drafts_follow_it(client: FlaskClient, db: Session,
                                                       blobs: BlobStore) -> None:
    login(client, "vanthu.camau")
    page = client.get("/quan-tri/quy-trinh-duyet").get_data(as_text=True)
    assert "Trưởng đơn vị soạn thảo duyệt nội dung" in page
    assert _post(client, step1="office", step2="leader").status_code == 302
    clerk = actor(db, "vanthu.camau")
    assert review.chain(db, clerk.agency_id) == (ReviewStepKind.OFFICE, ReviewStepKind.LEADER)
    doc = new_draft(db, blobs)
    review.submit(db, actor(db, SPECIALIST), doc.id)
    assert review.current_step(db, doc) is ReviewStepKind.OFFICE
    review.approve(db, clerk, doc.id, "Đúng thể thức.")
    review.approve(db, actor(db, LEADER), doc.id)
    assert doc.status is OutgoingStatus.APPROVED


def test_an_empty_or_repeated_chain_is_refused(client: FlaskClient, db: Session) -> None:
    login(client, "vanthu.camau")
    empty = _post(client)
    assert empty.status_code == 400 and "ít nhất một bước" in empty.get_data(as_text=True)
    repeated = _post(client, step1="leader", step2="leader")
    assert repeated.status_code == 400 and "chỉ xuất hiện một lần" in repeated.get_data(as_text=True)
    unknown = _post(client, step1="giam_doc")
    assert unknown.status_code == 400
    assert len(review.chain(db, actor(db, "vanthu.camau").agency_id)) == 3  # unchanged default


def test_only_an_admin_changes_the_chain(client: FlaskClient) -> None:
    login(client, "lanhdao.camau")
    token = csrf_token(client, "/")
    resp = client.post("/quan-tri/quy-trinh-duyet", data={"csrf_token": token, "step1": "leader"})
    assert resp.status_code == 403
