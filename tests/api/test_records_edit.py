"""/api/v1 changes of the file list (ioffice/api/records_edit_views.py): a draft's heading and
dossier edited, an empty heading removed, a dossier added to the approved list; the same
refusals as the pages (400 with the message), roles (403) and another agency (404)."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent
from ioffice.records import retention
from ioffice.storage import BlobStore
from tests.api.conftest import bearer
from tests.api.test_outgoing import token
from tests.records.conftest import ARCHIVIST, CLERK, KEEPER, LEADER, TODAY, make_year
from tests.records.test_retention import expired_year
from tests.support.factories import actor, user_id


def _events(db: Session, tag: str) -> int:
    return db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.tag == tag))


def test_a_draft_list_edited_over_the_api(client: FlaskClient, db: Session) -> None:
    year = make_year(db, TODAY.year, approve=False)
    db.commit()
    flist = year.file_list
    vp = next(h for h in flist.headings if h.code == "VP")
    top = next(h for h in flist.headings if h.code == "TCCB")
    base, clerk = f"/api/v1/records/file-lists/{flist.id}", bearer(token(db, CLERK))
    resp = client.post(f"{base}/headings/{vp.id}/edit", headers=clerk,
                       json={"title": "Văn phòng Ủy ban", "code": "VPUB", "order": 1})
    assert resp.status_code == 200, resp.get_json()
    labels = [row["label"] for row in resp.get_json()["rows"] if row["kind"] != "dossier"]
    assert labels == ["I. VĂN PHÒNG ỦY BAN", "II. TỔ CHỨC, CÁN BỘ", "1. Tuyển dụng"]
    body = {"heading_id": vp.id, "number": 4, "title": "Sổ công văn", "retention": "10",
            "keeper_id": user_id(db, KEEPER)}
    resp = client.post(f"{base}/dossiers/{year.other.id}/edit", headers=clerk, json=body)
    assert resp.status_code == 200, resp.get_json()
    assert (resp.get_json()["symbol"], resp.get_json()["retention"]) == ("04.VPUB", "10 năm")
    resp = client.post(f"{base}/dossiers/{year.other.id}/edit", headers=clerk,
                       json={**body, "heading_id": top.id, "number": 1})
    assert resp.status_code == 400
    assert "«01.TCCB» đã có trong danh mục năm" in resp.get_json()["error"]["message"]
    resp = client.post(f"{base}/headings/{vp.id}/remove", headers=clerk)
    assert resp.status_code == 400
    assert "còn 1 hồ sơ (04.VPUB)" in resp.get_json()["error"]["message"]
    resp = client.post(f"{base}/headings/{top.id}/edit", headers=clerk,
                       json={"title": "X", "order": 0})
    assert resp.status_code == 422
    # the keeper may not; another agency's clerk gets 404
    resp = client.post(f"{base}/headings/{vp.id}/remove", headers=bearer(token(db, KEEPER)))
    assert resp.status_code == 403
    resp = client.post(f"{base}/headings/{vp.id}/remove",
                       headers=bearer(token(db, "vanthu.bnv", agency="000.00.00.G09")))
    assert resp.status_code == 404
    assert _events(db, "records:heading:edit") == 1 and _events(db, "records:dossier:edit") == 1


def test_an_addition_to_the_approved_list_over_the_api(client: FlaskClient, db: Session) -> None:
    year = make_year(db, TODAY.year)
    db.commit()
    vp = next(h for h in year.file_list.headings if h.code == "VP")
    path = f"/api/v1/records/file-lists/{year.file_list.id}/additions"
    keeper = actor(db, KEEPER)
    body = {"heading_id": vp.id, "number": 3, "title": "Hồ sơ hội nghị tổng kết",
            "retention": "vinh-vien", "keeper_id": keeper.user_id, "start": f"{TODAY.year}-02-01"}
    headers = {**bearer(token(db, KEEPER)), "Idempotency-Key": "bo-sung-03"}
    resp = client.post(path, headers=headers, json=body)
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    assert (out["symbol"], out["status"]["code"], out["start_date"]) == (
        "03.VP", "open", f"{TODAY.year}-02-01")
    assert out["added_at"] is not None
    again = client.post(path, headers=headers, json=body)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    resp = client.post(path, headers=bearer(token(db, KEEPER)), json=body)
    assert resp.status_code == 400
    assert "«03.VP» đã có trong danh mục" in resp.get_json()["error"]["message"]
    listed = client.get("/api/v1/records/file-list", query_string={"year": TODAY.year},
                        headers=bearer(token(db, LEADER))).get_json()
    added = [r["dossier"] for r in listed["rows"] if r["dossier"] and r["dossier"]["added_at"]]
    assert [d["symbol"] for d in added] == ["03.VP"]
    resp = client.post(path, headers=bearer(token(db, KEEPER)),
                       json={**body, "number": 4, "keeper_id": user_id(db, CLERK)})
    assert resp.status_code == 400
    assert "chỉ bổ sung được hồ sơ do chính mình lập" in resp.get_json()["error"]["message"]
    assert _events(db, "records:dossier:add") == 1


def test_the_destruction_forms_over_the_api(client: FlaskClient, db: Session,
                                            blobs: BlobStore) -> None:
    _year, short, _doc, _item = expired_year(db, blobs)
    later = dt.date(2032, 1, 1)
    row = retention.propose(db, actor(db, ARCHIVIST), [short.id], "Hết giá trị", later)
    db.commit()
    path = f"/api/v1/records/destructions/{row.id}/forms"
    resp = client.get(path, headers=bearer(token(db, LEADER)))
    assert resp.status_code == 400 and "chưa được quyết định" in resp.get_json()["error"]["message"]
    retention.approve(db, actor(db, LEADER), row.id, "Quyết định số 5/QĐ-UBND", later)
    db.commit()
    resp = client.get(path, headers=bearer(token(db, ARCHIVIST)))
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    assert resp.headers["Content-Type"].startswith("application/pdf")
    assert client.get(path, headers=bearer(token(db, KEEPER))).status_code == 403
