"""/api/v1/records: retention through the functions of the page «Bảo quản, tiêu hủy»
(ioffice.records.retention): the dossiers whose retention has ended, the archive's proposal, the
leader's approval (the files deleted, the record kept) or refusal, legal holds on dossiers and
restored dossiers. Refusals: wrong role (403), another agency's ids (404), a token without the
scope (403 `insufficient_scope`), bad input (422; 400 with the service's message), a replayed
Idempotency-Key (the first answer, nothing created twice)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.incoming.registration import today_vn
from ioffice.records import package
from ioffice.records import service as records
from ioffice.records.models import Destruction, Dossier, DossierStatus, LegalHold
from ioffice.storage import BlobStore
from signing import TrustStore
from tests.api.conftest import bearer, outsider_token
from tests.api.test_outgoing import token
from tests.records.test_retention import expired_year
from tests.support.factories import actor, register

CLERK, LEADER, KEEPER, ARCHIVIST = ("vanthu.camau", "lanhdao.camau", "chuyenvien.camau",
                                    "luutru.camau")
YEAR = 2020
"""Dossiers closed in March 2020: the 5-year one (03.VP) has expired, the 20-year one and the
permanent one have not."""


def _count(db: Session, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_expired_proposed_approved_with_the_record(client: FlaskClient, db: Session,
                                                  blobs: BlobStore) -> None:
    year, short, doc, item = expired_year(db, blobs, YEAR)
    # a document filed in 03.VP alone: destroyed with it
    keeper = actor(db, KEEPER)
    only = register(db, blobs, actor(db, CLERK), subject="Công văn chỉ lưu trong hồ sơ 03.VP")
    records.reopen_dossier(db, keeper, short.id)
    records.add_document(db, keeper, short.id, "incoming", only.id)
    records.close_dossier(db, keeper, short.id, f"{YEAR}-03-01", "3", today_vn())
    db.commit()
    archive, leader = token(db, ARCHIVIST), token(db, LEADER)

    # the expired dossiers: the archive, the leaders and the clerks see them; not a specialist
    resp = client.get("/api/v1/records/retention/expired", headers=bearer(archive))
    assert resp.status_code == 200, resp.get_json()
    [expired] = [e for e in resp.get_json()["items"] if e["kind"] == "dossier"]
    assert expired["id"] == short.id and expired["symbol"] == "03.VP"
    assert expired["retention_end"] == f"{YEAR + 5}-03-01" and expired["hold"] is None
    assert client.get("/api/v1/records/retention/expired",
                      headers=bearer(token(db, CLERK))).status_code == 200
    resp = client.get("/api/v1/records/retention/expired", headers=bearer(token(db, KEEPER)))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    resp = client.get("/api/v1/records/retention/expired",
                      headers=bearer(token(db, ARCHIVIST, scopes=("write",))))
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "insufficient_scope"
    for bad in ("x", "2025-03-01:memo:1", "hôm-qua:dossier:1"):
        resp = client.get("/api/v1/records/retention/expired", query_string={"after": bad},
                          headers=bearer(archive))
        assert resp.status_code == 422 and "after" in resp.get_json()["error"]["fields"]

    # the proposal: the archive's, once per Idempotency-Key
    body = {"dossier_ids": [short.id], "reason": "Hội đồng xác định giá trị tài liệu: hết giá trị"}
    resp = client.post("/api/v1/records/destructions", json=body,
                       headers=bearer(archive) | {"Idempotency-Key": "de-nghi-1"})
    assert resp.status_code == 201, resp.get_json()
    proposal = resp.get_json()
    assert proposal["status"]["code"] == "proposed" and proposal["record"] == {}
    assert [(h["kind"], h["symbol"]) for h in proposal["holdings"]] == [("dossier", "03.VP")]
    count = _count(db, Destruction)
    again = client.post("/api/v1/records/destructions", json=body,
                        headers=bearer(archive) | {"Idempotency-Key": "de-nghi-1"})
    assert again.status_code == 201 and again.get_json()["id"] == proposal["id"]
    assert again.headers["Idempotent-Replayed"] == "true" and _count(db, Destruction) == count
    resp = client.post("/api/v1/records/destructions", json=body | {"reason": "Khác"},
                       headers=bearer(archive) | {"Idempotency-Key": "de-nghi-1"})
    assert resp.status_code == 409
    # the same dossier again, without the key: already proposed
    resp = client.post("/api/v1/records/destructions", json=body, headers=bearer(archive))
    assert resp.status_code == 400
    assert f"đề nghị tiêu hủy số {proposal['id']}" in resp.get_json()["error"]["message"]
    # wrong role, refused dossiers, bad input
    resp = client.post("/api/v1/records/destructions", json=body, headers=bearer(leader))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    refusals = {year.other.id: "chưa hết thời hạn bảo quản", year.dossier.id: "vĩnh viễn",
                987654321: "chỉ tiêu hủy được hồ sơ của cơ quan mình"}
    for dossier_id, words in refusals.items():
        resp = client.post("/api/v1/records/destructions",
                           json={"dossier_ids": [dossier_id], "reason": "Hết giá trị"},
                           headers=bearer(archive))
        assert resp.status_code == 400 and words in resp.get_json()["error"]["message"], (
            dossier_id, resp.get_json())
    resp = client.post("/api/v1/records/destructions", json={"reason": "Hết giá trị"},
                       headers=bearer(archive))
    assert resp.status_code == 400 and "ít nhất một hồ sơ" in resp.get_json()["error"]["message"]
    for bad in ({"dossier_ids": [short.id]}, {"dossier_ids": "03.VP", "reason": "x"},
                {**body, "note": "x"}):
        resp = client.post("/api/v1/records/destructions", json=bad, headers=bearer(archive))
        assert resp.status_code == 422, (bad, resp.get_json())

    # read and listed; another agency's id looks missing
    act = f"/api/v1/records/destructions/{proposal['id']}"
    assert client.get(act, headers=bearer(token(db, CLERK))).get_json()["id"] == proposal["id"]
    page = client.get("/api/v1/records/destructions", query_string={"limit": 1},
                      headers=bearer(archive)).get_json()
    assert [d["id"] for d in page["items"]] == [proposal["id"]]
    assert page["next_after"] == proposal["id"]
    assert client.get("/api/v1/records/destructions", query_string={"after": proposal["id"]},
                      headers=bearer(archive)).get_json() == {"items": [], "next_after": None}
    outsider = outsider_token(db)
    for method, path, json in (("GET", act, None),
                               ("POST", f"{act}/approve", {"decision": "QĐ 1"}),
                               ("POST", f"{act}/reject", {"reason": "Không"})):
        resp = client.open(path, method=method, json=json, headers=bearer(outsider))
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"

    # the leader decides: not the archive, not without `write`, not without the decision
    decision = {"decision": "Quyết định số 15/QĐ-UBND ngày 04/12/2026"}
    resp = client.post(f"{act}/approve", json=decision, headers=bearer(archive))
    assert resp.status_code == 403
    resp = client.post(f"{act}/approve", json=decision,
                       headers=bearer(token(db, LEADER, scopes=("read",))))
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "insufficient_scope"
    resp = client.post(f"{act}/approve", json={"decision": " "}, headers=bearer(leader))
    assert resp.status_code == 400 and "số, ngày của quyết định" in resp.get_json()["error"][
        "message"]
    assert client.post(f"{act}/approve", json={}, headers=bearer(leader)).status_code == 422
    own_sha = item.sha256
    resp = client.post(f"{act}/approve", json=decision, headers=bearer(leader))
    assert resp.status_code == 200, resp.get_json()
    done = resp.get_json()
    assert done["status"]["code"] == "destroyed" and done["decision"] == decision["decision"]
    assert done["files_deleted"] == 2
    assert done["record"]["deleted"] == sorted([own_sha, only.files[0].sha256])
    [entry] = done["record"]["dossiers"]
    assert entry["symbol"] == "03.VP" and [i["kind"] for i in entry["items"]] == [
        "incoming", "file", "note", "incoming"]
    db.expire_all()
    assert db.get(Dossier, short.id).status is DossierStatus.DESTROYED
    assert not blobs.exists(own_sha) and blobs.exists(doc.files[0].sha256)
    # the document filed in it alone is gone too: its file answers 410, naming the decision
    assert [(d["document_id"], d["destroyed"]) for d in done["record"]["documents"]] == sorted(
        [(doc.id, False), (only.id, True)])
    resp = client.get(f"/api/v1/documents/{only.id}/files/{only.files[0].id}",
                      headers=bearer(token(db, CLERK)))
    assert resp.status_code == 410 and resp.get_json()["error"]["code"] == "gone"
    assert decision["decision"] in resp.get_json()["error"]["message"]
    assert client.get(f"/api/v1/documents/{doc.id}/files/{doc.files[0].id}",
                      headers=bearer(token(db, CLERK))).status_code == 200
    # decided once
    resp = client.post(f"{act}/reject", json={"reason": "Không"}, headers=bearer(leader))
    assert resp.status_code == 400 and "không quyết định lại" in resp.get_json()["error"]["message"]
    # the destroyed dossier is no longer expired
    items = client.get("/api/v1/records/retention/expired", headers=bearer(archive)
                       ).get_json()["items"]
    assert short.id not in [e["id"] for e in items if e["kind"] == "dossier"]


def test_legal_holds_and_a_refused_proposal(client: FlaskClient, db: Session,
                                            blobs: BlobStore) -> None:
    year, short, _doc, _item = expired_year(db, blobs, YEAR)
    archive_actor = actor(db, ARCHIVIST)
    restored = package.import_package(db, blobs, TrustStore(roots=()), archive_actor,
                                      "goi.zip", package.export_package(
                                          db, blobs, actor(db, KEEPER), short.id))
    db.commit()
    archive, leader = token(db, ARCHIVIST), token(db, LEADER)
    # the restored dossier (5 years from March 2020) has expired too, after the dossier
    items = client.get("/api/v1/records/retention/expired", headers=bearer(archive)
                       ).get_json()["items"]
    assert [(e["kind"], e["id"]) for e in items] == [("dossier", short.id),
                                                     ("restored", restored.id)]
    first = client.get("/api/v1/records/retention/expired", query_string={"limit": 1},
                       headers=bearer(archive)).get_json()
    assert [e["id"] for e in first["items"]] == [short.id] and first["next_after"]
    rest = client.get("/api/v1/records/retention/expired",
                      query_string={"after": first["next_after"]},
                      headers=bearer(archive)).get_json()
    assert [(e["kind"], e["id"]) for e in rest["items"]] == [("restored", restored.id)]

    hold = f"/api/v1/records/dossiers/{short.id}/hold"
    reason = {"reason": "Công văn số 12/CQĐT của Cơ quan điều tra"}
    resp = client.post(hold, json=reason, headers=bearer(archive) | {"Idempotency-Key": "giu-1"})
    assert resp.status_code == 201, resp.get_json()
    held = resp.get_json()
    assert held["kind"] == "dossier" and held["dossier_id"] == short.id
    assert held["lifted_at"] is None
    count = _count(db, LegalHold)
    again = client.post(hold, json=reason, headers=bearer(archive) | {"Idempotency-Key": "giu-1"})
    assert again.get_json()["id"] == held["id"] and _count(db, LegalHold) == count
    resp = client.post(hold, json=reason, headers=bearer(archive))
    assert resp.status_code == 400 and "đang bị tạm giữ rồi" in resp.get_json()["error"]["message"]
    # seen on the dossier and in the expired list; a held dossier cannot be proposed
    dossier = client.get(f"/api/v1/records/dossiers/{short.id}", headers=bearer(leader)).get_json()
    assert dossier["hold"]["id"] == held["id"] and dossier["hold"]["reason"] == reason["reason"]
    items = client.get("/api/v1/records/retention/expired", headers=bearer(archive)
                       ).get_json()["items"]
    assert items[0]["hold"]["id"] == held["id"]
    resp = client.post("/api/v1/records/destructions",
                       json={"dossier_ids": [short.id], "reason": "Hết giá trị"},
                       headers=bearer(archive))
    assert resp.status_code == 400 and "tạm giữ" in resp.get_json()["error"]["message"]
    # who may: the archive and the leaders; bad input
    resp = client.post(f"/api/v1/records/dossiers/{short.id}/lift-hold", json=reason,
                       headers=bearer(token(db, CLERK)))
    assert resp.status_code == 403
    for bad, status in (({}, 422), ({"reason": "   "}, 400), ({"reason": 5}, 422)):
        resp = client.post(f"/api/v1/records/dossiers/{year.other.id}/hold", json=bad,
                           headers=bearer(archive))
        assert resp.status_code == status, (bad, resp.get_json())
    resp = client.post(f"/api/v1/records/dossiers/{short.id}/lift-hold",
                       json={"reason": "Vụ việc đã kết thúc"}, headers=bearer(leader))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["lifted_at"] is not None
    assert resp.get_json()["lift_reason"] == "Vụ việc đã kết thúc"
    resp = client.post(f"/api/v1/records/dossiers/{short.id}/lift-hold",
                       json={"reason": "Lần nữa"}, headers=bearer(leader))
    assert resp.status_code == 400 and "không bị tạm giữ" in resp.get_json()["error"]["message"]

    # proposed, then held after the proposal: the approval is refused, the leader rejects
    proposal = client.post("/api/v1/records/destructions",
                           json={"dossier_ids": [short.id], "package_ids": [restored.id],
                                 "reason": "Hết giá trị"}, headers=bearer(archive)).get_json()
    assert {h["kind"] for h in proposal["holdings"]} == {"dossier", "restored"}
    restored_hold = f"/api/v1/records/restored/{restored.id}/hold"
    resp = client.post(restored_hold, json=reason, headers=bearer(leader))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["kind"] == "restored" and resp.get_json()["dossier_id"] == restored.id
    act = f"/api/v1/records/destructions/{proposal['id']}"
    resp = client.post(f"{act}/approve", json={"decision": "QĐ 15/QĐ-UBND"},
                       headers=bearer(leader))
    assert resp.status_code == 400 and "tạm giữ" in resp.get_json()["error"]["message"]
    resp = client.post(f"{act}/reject", json={"reason": " "}, headers=bearer(leader))
    assert resp.status_code == 400
    resp = client.post(f"{act}/reject", json={"reason": "Còn giá trị tra cứu"},
                       headers=bearer(leader))
    assert resp.status_code == 200 and resp.get_json()["status"]["code"] == "rejected"
    assert resp.get_json()["decision"] == "Còn giá trị tra cứu"
    resp = client.get(f"/api/v1/records/restored/{restored.id}", headers=bearer(archive))
    assert resp.get_json()["hold"]["reason"] == reason["reason"]
    resp = client.post(f"/api/v1/records/restored/{restored.id}/lift-hold",
                       json={"reason": "Xong"}, headers=bearer(archive))
    assert resp.status_code == 200 and resp.get_json()["lifted_at"] is not None

    # another agency: every id looks missing
    outsider = outsider_token(db)
    for path in (hold, f"/api/v1/records/dossiers/{short.id}/lift-hold", restored_hold,
                 f"/api/v1/records/restored/{restored.id}/lift-hold"):
        resp = client.post(path, json=reason, headers=bearer(outsider))
        assert resp.status_code == 404, (path, resp.get_json())
