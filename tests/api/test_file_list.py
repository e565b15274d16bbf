"""/api/v1/records/file-lists: the year's file list through the functions of the page «Danh mục
hồ sơ» (ioffice.records.service): started empty or copied from last year, its headings and
subheadings, a planned dossier taken out, the leader's approval, the XLSX and PDF of form II;
and a dossier's notes, files and reopening. Refusals: wrong role (403), another agency's ids
(404), a token without the scope (403 `insufficient_scope`), bad input (422; 400 with the
service's message), a replayed Idempotency-Key (the first answer, nothing created twice)."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.incoming.registration import today_vn
from ioffice.records import service as records
from ioffice.records.models import FileList, FileListHeading
from ioffice.storage import BlobStore
from tests.api.conftest import bearer, outsider_token
from tests.api.test_outgoing import token
from tests.records.conftest import make_year
from tests.support.factories import actor, user_id

CLERK, LEADER, KEEPER, ARCHIVIST = ("vanthu.camau", "lanhdao.camau", "chuyenvien.camau",
                                    "luutru.camau")
LISTS = "/api/v1/records/file-lists"


def _count(db: Session, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_a_list_started_headed_planned_and_approved(client: FlaskClient, db: Session) -> None:
    year = today_vn().year
    clerk = token(db, CLERK)
    resp = client.post(LISTS, json={"year": year}, headers=bearer(clerk) | {"Idempotency-Key":
                                                                              "dm-1"})
    assert resp.status_code == 201, resp.get_json()
    flist = resp.get_json()
    assert flist["year"] == year and flist["status"]["code"] == "draft"
    assert flist["headings"] == [] and flist["rows"] == []
    count = _count(db, FileList)
    again = client.post(LISTS, json={"year": year}, headers=bearer(clerk) | {"Idempotency-Key":
                                                                               "dm-1"})
    assert again.get_json()["id"] == flist["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert _count(db, FileList) == count
    resp = client.post(LISTS, json={"year": year}, headers=bearer(clerk))
    assert resp.status_code == 400 and f"đã có danh mục hồ sơ năm {year}" in resp.get_json()[
        "error"]["message"]
    resp = client.post(LISTS, json={"year": 1999}, headers=bearer(clerk))
    assert resp.status_code == 400 and "Năm «1999» không hợp lệ" in resp.get_json()["error"][
        "message"]
    for bad in ({}, {"year": "năm nay"}, {"year": year, "copy_previous": "có"}):
        assert client.post(LISTS, json=bad, headers=bearer(clerk)).status_code == 422, bad
    resp = client.post(LISTS, json={"year": year - 3, "copy_previous": True},
                       headers=bearer(clerk))
    assert resp.status_code == 400 and f"Chưa có danh mục hồ sơ năm {year - 4}" in resp.get_json(
        )["error"]["message"]
    for who, code in ((token(db, KEEPER), "forbidden"),
                      (token(db, CLERK, scopes=("read",)), "insufficient_scope")):
        resp = client.post(LISTS, json={"year": year - 1}, headers=bearer(who))
        assert resp.status_code == 403 and resp.get_json()["error"]["code"] == code

    # headings: a heading with its abbreviation, a subheading under it
    act = f"{LISTS}/{flist['id']}"
    resp = client.post(f"{act}/headings", json={"title": "Tổ chức, cán bộ", "code": "tccb"},
                       headers=bearer(clerk) | {"Idempotency-Key": "dm-1-tccb"})
    assert resp.status_code == 201, resp.get_json()
    top = resp.get_json()
    assert top["code"] == "TCCB" and top["parent_id"] is None
    count = _count(db, FileListHeading)
    again = client.post(f"{act}/headings", json={"title": "Tổ chức, cán bộ", "code": "tccb"},
                        headers=bearer(clerk) | {"Idempotency-Key": "dm-1-tccb"})
    assert again.get_json()["id"] == top["id"] and _count(db, FileListHeading) == count
    resp = client.post(f"{act}/headings", json={"title": "Tuyển dụng", "parent_id": top["id"],
                                                "code": "BO"}, headers=bearer(clerk))
    assert resp.status_code == 201 and resp.get_json()["parent_id"] == top["id"]
    assert resp.get_json()["code"] == ""
    refusals = ((({"title": "Khác", "code": "TCCB"}), "đã có đề mục lớn viết tắt «TCCB»"),
                ({"title": "Khác", "code": "T C"}, "chỉ gồm chữ in hoa và chữ số"),
                ({"title": "Khác", "parent_id": 987654321}, "không có trong danh mục này"),
                ({"title": "  ", "code": "VP"}, "Hãy nhập tên đề mục"))
    for body, words in refusals:
        resp = client.post(f"{act}/headings", json=body, headers=bearer(clerk))
        assert resp.status_code == 400 and words in resp.get_json()["error"]["message"], body
    for bad in ({"code": "VP"}, {"title": "Văn phòng", "parent_id": "một"}):
        assert client.post(f"{act}/headings", json=bad, headers=bearer(clerk)).status_code == 422
    assert client.post(f"{act}/headings", json={"title": "Văn phòng", "code": "VP"},
                       headers=bearer(token(db, LEADER))).status_code == 403

    # approval: the leader's, of a list with a dossier
    leader = token(db, LEADER)
    resp = client.post(f"{act}/approve", json={"decision": "QĐ 1"}, headers=bearer(leader))
    assert resp.status_code == 400 and "chưa có hồ sơ nào" in resp.get_json()["error"]["message"]
    plan = {"heading_id": top["id"], "number": 1, "title": "Hồ sơ tuyển dụng", "retention": "10",
            "keeper_id": user_id(db, KEEPER)}
    one = client.post(f"{act}/dossiers", json=plan, headers=bearer(clerk)).get_json()
    two = client.post(f"{act}/dossiers", json=plan | {"number": 2},
                      headers=bearer(clerk)).get_json()
    resp = client.post(f"{act}/dossiers/{two['id']}/remove", headers=bearer(clerk))
    assert resp.status_code == 200, resp.get_json()
    assert [r["dossier"]["id"] for r in resp.get_json()["rows"] if r["dossier"]] == [one["id"]]
    assert client.post(f"{act}/dossiers/{two['id']}/remove",
                       headers=bearer(clerk)).status_code == 404
    assert client.post(f"{act}/approve", json={}, headers=bearer(clerk)).status_code == 403
    resp = client.post(f"{act}/approve", json={"decision": "Quyết định số 12/QĐ-UBND"},
                       headers=bearer(leader))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"]["code"] == "approved"
    assert resp.get_json()["decision"] == "Quyết định số 12/QĐ-UBND"
    for path, body in ((f"{act}/approve", {}), (f"{act}/headings", {"title": "X", "code": "X"}),
                       (f"{act}/dossiers/{one['id']}/remove", None)):
        resp = client.post(path, json=body, headers=bearer(leader if "approve" in path
                                                            else clerk))
        assert resp.status_code == 400 and "đã được phê duyệt" in resp.get_json()["error"][
            "message"], path
    assert client.get(act, headers=bearer(token(db, KEEPER))).get_json()["id"] == flist["id"]

    # form II as XLSX (and PDF); another agency sees none of it
    resp = client.get(f"{act}/xlsx", headers=bearer(clerk))
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    cells = [c for row in load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True)
             for c in row if c]
    assert f"DANH MỤC HỒ SƠ NĂM {year} (Kèm theo Quyết định số 12/QĐ-UBND)" in cells
    assert "01.TCCB" in cells
    resp = client.get(f"{act}/pdf", headers=bearer(clerk))
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    outsider = outsider_token(db)
    for method, path, body in (("GET", act, None), ("GET", f"{act}/xlsx", None),
                               ("POST", f"{act}/headings", {"title": "X", "code": "X"}),
                               ("POST", f"{act}/approve", {}),
                               ("POST", f"{act}/dossiers/{one['id']}/remove", None)):
        resp = client.open(path, method=method, json=body, headers=bearer(outsider))
        assert resp.status_code == 404, (path, resp.get_json())


def test_copied_from_last_year(client: FlaskClient, db: Session) -> None:
    year = today_vn().year
    make_year(db, year)
    db.commit()
    resp = client.post(LISTS, json={"year": year + 1, "copy_previous": True},
                       headers=bearer(token(db, CLERK)))
    assert resp.status_code == 201, resp.get_json()
    copied = resp.get_json()
    assert copied["status"]["code"] == "draft" and copied["decision"] == ""
    assert {h["code"] for h in copied["headings"] if h["parent_id"] is None} == {"TCCB", "VP"}
    assert sorted(r["dossier"]["symbol"] for r in copied["rows"] if r["dossier"]) == [
        "01.TCCB", "02.TCCB"]
    assert all(r["dossier"]["status"]["code"] == "planned" for r in copied["rows"]
               if r["dossier"])


def test_notes_files_and_reopening(client: FlaskClient, db: Session, blobs: BlobStore) -> None:
    plan = make_year(db, today_vn().year)
    records.open_dossier(db, actor(db, KEEPER), plan.dossier.id, today_vn().isoformat(),
                         today_vn())
    db.commit()
    keeper = token(db, KEEPER)
    act = f"/api/v1/records/dossiers/{plan.dossier.id}"
    resp = client.post(f"{act}/notes", json={"text": "Còn chờ biên bản họp."},
                       headers=bearer(keeper) | {"Idempotency-Key": "note-1"})
    assert resp.status_code == 201, resp.get_json()
    assert [i["title"] for i in resp.get_json()["items"]] == ["Còn chờ biên bản họp."]
    again = client.post(f"{act}/notes", json={"text": "Còn chờ biên bản họp."},
                        headers=bearer(keeper) | {"Idempotency-Key": "note-1"})
    assert len(again.get_json()["items"]) == 1
    resp = client.post(f"{act}/notes", json={"text": " "}, headers=bearer(keeper))
    assert resp.status_code == 400 and "ghi chú" in resp.get_json()["error"]["message"]
    resp = client.post(f"{act}/files", data={"title": "Ảnh buổi thi tuyển",
                                             "file": (io.BytesIO(b"JPEGDATA"), "anh.jpg")},
                       headers=bearer(keeper), content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    [added] = [i for i in resp.get_json()["items"] if i["file_url"]]
    assert added["title"] == "Ảnh buổi thi tuyển"
    got = client.get(added["file_url"], headers=bearer(token(db, CLERK)))
    assert got.status_code == 200 and got.data == b"JPEGDATA"
    resp = client.post(f"{act}/files", data={"title": "Rỗng", "file": (io.BytesIO(b""), "a.txt")},
                       headers=bearer(keeper), content_type="multipart/form-data")
    assert resp.status_code == 400 and "tệp đã chọn rỗng" in resp.get_json()["error"]["message"]
    # only the keeper; another agency sees nothing
    for path, body in ((f"{act}/notes", {"text": "x"}), (f"{act}/reopen", None)):
        assert client.post(path, json=body, headers=bearer(token(db, CLERK))).status_code == 403
    outsider = outsider_token(db)
    assert client.get(added["file_url"], headers=bearer(outsider)).status_code == 404
    assert client.post(f"{act}/notes", json={"text": "x"},
                       headers=bearer(outsider)).status_code == 404
    # reopened once closed
    resp = client.post(f"{act}/reopen", headers=bearer(keeper))
    assert resp.status_code == 400 and "«Đã kết thúc»" in resp.get_json()["error"]["message"]
    client.post(f"{act}/close", json={"end": today_vn().isoformat(), "pages": 2},
                headers=bearer(keeper))
    resp = client.post(f"{act}/reopen", headers=bearer(keeper))
    assert resp.status_code == 200 and resp.get_json()["status"]["code"] == "open"
    assert resp.get_json()["end_date"] is None


def test_dossiers_found_by_symbol_or_title(client: FlaskClient, db: Session) -> None:
    make_year(db, today_vn().year)
    db.commit()
    found = client.get("/api/v1/records/search", query_string={"q": "TUYEN dung cong chuc"},
                       headers=bearer(token(db, KEEPER))).get_json()
    assert [d["symbol"] for d in found["dossiers"]] == ["01.TCCB"] and found["restored"] == []
    # who neither keeps it nor reads every dossier finds nothing; nor does another agency
    for who in (token(db, "truongphong.camau"), outsider_token(db)):
        resp = client.get("/api/v1/records/search", query_string={"q": "tuyển dụng"},
                          headers=bearer(who))
        assert resp.status_code == 200 and resp.get_json()["dossiers"] == []
    for bad in ({}, {"q": ""}, {"q": "x", "limit": 0}):
        resp = client.get("/api/v1/records/search", query_string=bad,
                          headers=bearer(token(db, KEEPER)))
        assert resp.status_code == 422, bad
    resp = client.get("/api/v1/records/search", query_string={"q": "x"},
                      headers=bearer(token(db, KEEPER, scopes=("write",))))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "insufficient_scope"
