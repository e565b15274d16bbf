"""/api/v1/records/packages and /records/restored: the archive imports an electronic dossier
package (ZIP) through the function of the page «Nhập gói hồ sơ» (ioffice.records.package), and
the restored dossier is read, its files downloaded byte for byte. Refusals: a second import, a
package changed after export (the page's precise message, 400 in the one error shape), not a
ZIP, no file; wrong role (403), a token without `write` (403 `insufficient_scope`), another
agency's ids (404), a destroyed dossier's file (410); a replayed Idempotency-Key (the first
answer, nothing imported twice)."""

from __future__ import annotations

import io
import zipfile

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.incoming.registration import today_vn
from ioffice.records import package, retention
from ioffice.records.models import ImportedPackage
from ioffice.storage import BlobStore
from tests.api.conftest import bearer, outsider_token
from tests.api.test_outgoing import token
from tests.records.test_retention import expired_year
from tests.support.factories import actor

CLERK, LEADER, KEEPER, ARCHIVIST = ("vanthu.camau", "lanhdao.camau", "chuyenvien.camau",
                                    "luutru.camau")
IMPORT = "/api/v1/records/packages"


def _upload(client: FlaskClient, secret: str, data: bytes, name: str = "goi.zip",
            key: str | None = None):
    headers = bearer(secret) | ({"Idempotency-Key": key} if key else {})
    return client.post(IMPORT, data={"file": (io.BytesIO(data), name)}, headers=headers,
                       content_type="multipart/form-data")


def _tampered(data: bytes) -> tuple[bytes, str]:
    """The package with one byte of one document file changed (the manifest kept)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    target = next(n for n in src.namelist()
                  if n.startswith("van-ban/") and not n.endswith("dac-ta.xml"))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == target:
                content = content[:-1] + bytes([content[-1] ^ 1])
            dst.writestr(info, content)
    return out.getvalue(), target


def test_imported_once_read_and_downloaded(client: FlaskClient, db: Session,
                                           blobs: BlobStore) -> None:
    _year, short, _doc, item = expired_year(db, blobs, 2020)
    data = package.export_package(db, blobs, actor(db, KEEPER), short.id)
    db.commit()
    archive = token(db, ARCHIVIST)
    resp = _upload(client, archive, data, key="goi-1")
    assert resp.status_code == 201, resp.get_json()
    restored = resp.get_json()
    assert restored["symbol"] == "03.VP" and restored["year"] == 2020
    assert restored["retention"] == "5 năm" and restored["destroyed"] is False
    assert restored["documents"] == len(restored["items"]) >= 2 and restored["filename"] == "goi.zip"
    # a retry with the key answers the first import; without it the same dossier is refused
    count = db.scalar(select(func.count()).select_from(ImportedPackage))
    again = _upload(client, archive, data, key="goi-1")
    assert again.status_code == 201 and again.get_json()["id"] == restored["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.scalar(select(func.count()).select_from(ImportedPackage)) == count
    resp = _upload(client, archive, data + b"", name="goi-khac.zip", key="goi-1")
    assert resp.status_code == 409
    resp = _upload(client, archive, data)
    assert resp.status_code == 400, resp.get_json()
    error = resp.get_json()["error"]
    assert error["code"] == "bad_request" and error["fields"] == {}
    assert error["message"].startswith("Hồ sơ 03.VP năm 2020 của cơ quan ")
    assert error["message"].endswith("không nhập lại cùng một hồ sơ.")

    # read by the archive and the leaders, byte for byte; not by a specialist
    act = f"/api/v1/records/restored/{restored['id']}"
    for who in (archive, token(db, LEADER)):
        got = client.get(act, headers=bearer(who))
        assert got.status_code == 200 and got.get_json()["id"] == restored["id"]
    files = [f for d in restored["items"] for f in d["files"]]
    own = next(f for f in files if f["sha256"] == item.sha256)
    resp = client.get(own["url"], headers=bearer(archive))
    assert resp.status_code == 200 and resp.data == b"own file of 03.VP"
    assert "bang.xlsx" in resp.headers["Content-Disposition"]
    keeper = token(db, KEEPER)
    assert client.get(act, headers=bearer(keeper)).status_code == 404
    assert client.get("/api/v1/records/restored", headers=bearer(keeper)).get_json()["items"] == []
    page = client.get("/api/v1/records/restored", query_string={"limit": 1},
                      headers=bearer(archive)).get_json()
    assert [p["id"] for p in page["items"]] == [restored["id"]]
    assert page["next_after"] == restored["id"]
    assert client.get("/api/v1/records/restored", query_string={"after": restored["id"]},
                      headers=bearer(archive)).get_json()["items"] == []
    for bad in (f"{act}/documents/99/files/1", f"{act}/documents/1/files/0"):
        assert client.get(bad, headers=bearer(archive)).status_code == 404
    outsider = outsider_token(db)
    for path in (act, own["url"]):
        resp = client.get(path, headers=bearer(outsider))
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"

    # destroyed with its retention ended: its files answer 410, naming the decision
    proposal = retention.propose(db, actor(db, ARCHIVIST), [], "Hết giá trị", today_vn(),
                                 package_ids=[restored["id"]])
    retention.approve(db, actor(db, LEADER), proposal.id, "Quyết định số 20/QĐ-UBND",
                      today_vn())
    db.commit()
    resp = client.get(own["url"], headers=bearer(archive))
    assert resp.status_code == 410 and resp.get_json()["error"]["code"] == "gone"
    assert "Quyết định số 20/QĐ-UBND" in resp.get_json()["error"]["message"]
    got = client.get(act, headers=bearer(archive)).get_json()
    assert got["destroyed"] is True and "Quyết định số 20/QĐ-UBND" in got["destroyed_message"]


def test_refused_packages_and_callers(client: FlaskClient, db: Session, blobs: BlobStore) -> None:
    _year, short, _doc, _item = expired_year(db, blobs, 2020)
    data = package.export_package(db, blobs, actor(db, KEEPER), short.id)
    db.commit()
    archive = token(db, ARCHIVIST)
    changed, path = _tampered(data)
    resp = _upload(client, archive, changed)
    assert resp.status_code == 400
    assert resp.get_json() == {"error": {
        "code": "bad_request", "fields": {},
        "message": f"Gói hồ sơ không hợp lệ, chưa được nhập: tệp «{path}» đã bị thay đổi: mã "
                   "SHA-256 không khớp bảng kê."}}
    resp = _upload(client, archive, b"PK not really a zip", name="goi.zip")
    assert resp.status_code == 400
    assert resp.get_json()["error"]["message"] == ("Gói hồ sơ không hợp lệ, chưa được nhập: tệp "
                                                   "không phải tệp ZIP.")
    resp = client.post(IMPORT, data={}, headers=bearer(archive),
                       content_type="multipart/form-data")
    assert resp.status_code == 400
    assert resp.get_json()["error"]["message"] == "Hãy chọn tệp gói hồ sơ (.zip)."
    resp = client.post(IMPORT, json={"file": "goi.zip"}, headers=bearer(archive))
    assert resp.status_code == 415
    resp = client.post(IMPORT, data={"file": [(io.BytesIO(data), "a.zip"),
                                              (io.BytesIO(data), "b.zip")]},
                       headers=bearer(archive), content_type="multipart/form-data")
    assert resp.status_code == 422 and "file" in resp.get_json()["error"]["fields"]
    resp = client.post(IMPORT, data={"note": "x", "file": (io.BytesIO(data), "a.zip")},
                       headers=bearer(archive), content_type="multipart/form-data")
    assert resp.status_code == 422 and "note" in resp.get_json()["error"]["fields"]
    # only the archive imports, with `write`
    for who, code in ((token(db, CLERK), "forbidden"), (token(db, LEADER), "forbidden"),
                      (token(db, ARCHIVIST, scopes=("read",)), "insufficient_scope")):
        resp = _upload(client, who, data)
        assert resp.status_code == 403 and resp.get_json()["error"]["code"] == code
    assert db.scalar(select(func.count()).select_from(ImportedPackage)) == 0
    # the untouched package still imports
    assert _upload(client, archive, data).status_code == 201
