"""Copies in the browser's requests: the request on a document's page, the clerk's copy, the
links both ways, and the refused forms (422, typed values kept)."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.copies.models import CopyStatus, DocumentCopy
from ioffice.storage import BlobStore
from tests.conftest import csrf_token, login
from tests.support.factories import actor, register, user_id

CLERK, LEADER = "vanthu.camau", "lanhdao.camau"


def post_request(client: FlaskClient, incoming_id: int, **fields: str):
    data = {"csrf_token": csrf_token(client, f"/van-ban-den/{incoming_id}"), "kind": "sao_y",
            "submission_id": uuid.uuid4().hex, "recipients": "Sở Nội vụ\nSở Tài chính"}
    data.update(fields)
    return client.post(f"/ban-sao/van-ban-den/{incoming_id}", data=data)


def test_leader_decides_clerk_makes_and_pages_link(app, client: FlaskClient, db: Session,
                                                   blobs: BlobStore) -> None:
    incoming = register(db, blobs, actor(db, CLERK))
    db.commit()
    login(client, LEADER)
    page = client.get(f"/van-ban-den/{incoming.id}").get_data(as_text=True)
    assert 'id="copies"' in page and "Quyết định sao văn bản" in page
    resp = post_request(client, incoming.id)
    assert resp.status_code == 303
    copy_url = resp.headers["Location"]
    page = client.get(copy_url).get_data(as_text=True)
    assert "Chờ văn thư thực hiện" in page and "Thực hiện bản sao" not in page
    client.get("/dang-xuat")
    clerk = app.test_client()
    login(clerk, CLERK)
    resp = clerk.post(copy_url + "/thuc-hien", data={"csrf_token": csrf_token(clerk, copy_url)})
    assert resp.status_code == 303
    page = clerk.get(copy_url).get_data(as_text=True)
    copy = db.scalars(select(DocumentCopy).where(DocumentCopy.incoming_id == incoming.id)).one()
    db.refresh(copy)
    assert copy.status is CopyStatus.MADE
    assert copy.number_notation in page and f'href="/van-ban-den/{incoming.id}"' in page
    pdf = clerk.get(copy_url + "/tep.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert clerk.get(copy_url + "/trang-1.png").status_code == 200
    original = clerk.get(f"/van-ban-den/{incoming.id}").get_data(as_text=True)
    assert f'href="{copy_url}"' in original and copy.number_notation in original
    register_page = clerk.get("/ban-sao/").get_data(as_text=True)
    assert copy.number_notation in register_page


def test_refused_request_keeps_the_form(client: FlaskClient, db: Session,
                                        blobs: BlobStore) -> None:
    incoming = register(db, blobs, actor(db, CLERK))
    db.commit()
    login(client, CLERK)
    resp = post_request(client, incoming.id, recipients="Sở Xây dựng")
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "Chưa có quyết định sao của lãnh đạo" in page and "Sở Xây dựng" in page
    resp = post_request(client, incoming.id, kind="trich_sao", pages="9",
                        decided_by_id=str(user_id(db, LEADER)))
    assert resp.status_code == 422
    assert "Trích sao: trang 9 nằm ngoài văn bản" in resp.get_data(as_text=True)


def test_double_click_makes_one_request(client: FlaskClient, db: Session,
                                        blobs: BlobStore) -> None:
    incoming = register(db, blobs, actor(db, CLERK))
    db.commit()
    login(client, LEADER)
    submission = uuid.uuid4().hex
    first = post_request(client, incoming.id, submission_id=submission)
    second = post_request(client, incoming.id, submission_id=submission)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(db.scalars(select(DocumentCopy).where(
        DocumentCopy.incoming_id == incoming.id)).all()) == 1


def test_another_agencys_document_and_copy(client: FlaskClient, db: Session,
                                           blobs: BlobStore) -> None:
    other = register(db, blobs, actor(db, "vanthu.bnv"))
    db.commit()
    login(client, LEADER)
    assert post_request(client, other.id).status_code == 404
    mine = register(db, blobs, actor(db, CLERK))
    db.commit()
    copy_url = post_request(client, mine.id).headers["Location"]
    outsider = client.application.test_client()
    login(outsider, "lanhdao.bnv")
    assert outsider.get(copy_url).status_code == 404


def test_the_clerk_chooses_the_deciding_leader_the_leader_decides_as_themself(
        app, client: FlaskClient, db: Session, blobs: BlobStore) -> None:
    """The leaders are read for the clerk's form only (copies.panel); the leader's form has no
    choice of leader."""
    incoming = register(db, blobs, actor(db, CLERK))
    db.commit()
    login(client, CLERK)
    page = client.get(f"/van-ban-den/{incoming.id}").get_data(as_text=True)
    leader = f'<option value="{user_id(db, LEADER)}"'
    assert 'name="decided_by_id"' in page and leader in page
    boss = app.test_client()
    login(boss, LEADER)
    page = boss.get(f"/van-ban-den/{incoming.id}").get_data(as_text=True)
    assert "Quyết định sao văn bản" in page and 'name="decided_by_id"' not in page
