"""Stuck work in the browser's pages (issue 16): the route shown before «Trình», «Rút lại»,
and the admin's /quan-tri/viec-bi-ket with its reassignments."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ioffice.agencies.models import User
from ioffice.incoming import handling
from ioffice.incoming.access import can_handle
from ioffice.incoming.handling import DistributionInput, Target
from ioffice.incoming.registration import today_vn
from ioffice.outgoing import review
from ioffice.outgoing.models import OutgoingStatus
from ioffice.storage import BlobStore
from tests.conftest import csrf_token
from tests.outgoing.conftest import new_draft
from tests.support.factories import actor, register, user_id


def _post(client: FlaskClient, path: str, data: dict, page: str):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def _leader_draft(db: Session, blobs: BlobStore):
    doc = new_draft(db, blobs)
    doc.created_by_id, doc.drafting_department_id = user_id(db, "lanhdao.camau"), None
    db.commit()
    return doc


def test_the_draft_page_shows_the_route_before_submitting(db: Session, blobs: BlobStore,
                                                          client: FlaskClient, login_as) -> None:
    doc = _leader_draft(db, blobs)
    login_as("lanhdao.camau")
    html = client.get(f"/van-ban-di/{doc.id}").get_data(as_text=True)
    route = html[html.index('id="route"'):html.index(">Trình duyệt</button>")]
    assert "sẽ bỏ qua (người soạn thảo không thuộc đơn vị nào)" in route
    assert "Văn phòng kiểm tra thể thức</strong>:\n      Trần Thị Ngọc Hân" in route
    assert "Ký ban hành</strong>:\n      Huỳnh Quốc Việt" in route


def test_the_route_warns_of_a_signer_who_left(db: Session, blobs: BlobStore, client: FlaskClient,
                                              login_as) -> None:
    doc = new_draft(db, blobs)
    db.get(User, user_id(db, "lanhdao.camau")).active = False
    db.commit()
    login_as("chuyenvien.camau")
    page = f"/van-ban-di/{doc.id}"
    html = client.get(page).get_data(as_text=True)
    assert "không còn hoạt động trong cơ quan" in html and "Chưa trình được" in html
    _post(client, f"{page}/trinh", {}, page)
    assert "Không trình được: Người ký được giao" in client.get(page).get_data(as_text=True)
    db.refresh(doc)
    assert doc.status is OutgoingStatus.DRAFT


def test_withdraw_through_the_page(db: Session, blobs: BlobStore, client: FlaskClient,
                                   login_as) -> None:
    doc = new_draft(db, blobs)
    db.commit()
    login_as("chuyenvien.camau")
    page = f"/van-ban-di/{doc.id}"
    _post(client, f"{page}/trinh", {}, page)
    assert 'id="withdraw"' in client.get(page).get_data(as_text=True)
    assert _post(client, f"{page}/rut-lai", {"comment": "Sửa số liệu"}, page).status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Đã rút lại dự thảo" in html and "rút lại dự thảo" in html  # message and history
    db.refresh(doc)
    assert doc.status is OutgoingStatus.DRAFT
    _post(client, f"{page}/trinh", {}, page)
    review.approve(db, actor(db, "truongphong.camau"), doc.id)
    db.commit()
    assert 'id="withdraw"' not in client.get(page).get_data(as_text=True)
    _post(client, f"{page}/rut-lai", {}, page)
    assert "Không rút lại được" in client.get(page).get_data(as_text=True)


def test_the_admin_reassigns_a_stuck_step_and_an_assignment(db: Session, blobs: BlobStore,
                                                            client: FlaskClient, login_as) -> None:
    doc = new_draft(db, blobs)
    review.submit(db, actor(db, "chuyenvien.camau"), doc.id)
    incoming = register(db, blobs, actor(db, "vanthu.camau"))
    [assignment] = handling.distribute(db, actor(db, "lanhdao.camau"), incoming.id,
                                       DistributionInput(lead=Target(
                                           "user", user_id(db, "chuyenvien.camau"),
                                           today_vn() + dt.timedelta(days=3))))
    for name in ("truongphong.camau", "chuyenvien.camau"):
        db.get(User, user_id(db, name)).active = False
    db.commit()
    login_as("vanthu.camau")
    html = client.get("/quan-tri/viec-bi-ket").get_data(as_text=True)
    assert f'data-document="{doc.id}"' in html and f'data-assignment="{assignment.id}"' in html
    assert "Việc bị kẹt" in client.get("/").get_data(as_text=True)  # in the menu

    step_url = f"/quan-tri/viec-bi-ket/van-ban-di/{doc.id}/buoc-duyet"
    refused = _post(client, step_url, {"user_id": "", "reason": "Trưởng phòng nghỉ hưu"},
                    "/quan-tri/viec-bi-ket")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Chưa chọn người nhận việc." in text
    assert 'value="Trưởng phòng nghỉ hưu"' in text  # what was typed is kept
    ok = _post(client, step_url, {"user_id": str(user_id(db, "vanthu.camau")),
                                  "reason": "Trưởng phòng nghỉ hưu"}, "/quan-tri/viec-bi-ket")
    assert ok.status_code == 302
    db.refresh(doc)
    assert doc.assigned_reviewer_id == user_id(db, "vanthu.camau")

    moved = _post(client, f"/quan-tri/viec-bi-ket/phan-cong/{assignment.id}",
                  {"user_id": str(user_id(db, "lanhdao.camau")), "reason": "Chuyên viên nghỉ"},
                  "/quan-tri/viec-bi-ket")
    assert moved.status_code == 302
    db.refresh(assignment)
    assert can_handle(actor(db, "lanhdao.camau"), assignment)
    html = client.get("/quan-tri/viec-bi-ket").get_data(as_text=True)
    assert f'data-document="{doc.id}"' not in html and f'data-assignment="{assignment.id}"' not in html


def test_only_the_admin_opens_the_stuck_work_page(client: FlaskClient, login_as) -> None:
    login_as("lanhdao.camau")
    assert client.get("/quan-tri/viec-bi-ket").status_code == 403
