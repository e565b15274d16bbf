"""/api/v1/records/handovers: the keeper hands closed dossiers over to the archive and signs the
record with their PIN, the archive accepts (signs too) or returns it; through the functions of
the page «Nộp lưu» (ioffice.records.handover). Refusals: wrong role (403), not the keeper
(403), another agency's ids (404), a token without `sign` (403 `insufficient_scope`), bad input
(422 from the schema, 400 with the service's message), a wrong PIN (400, counted), a replayed
Idempotency-Key (the first answer, nothing created twice)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent
from ioffice.demo import DEMO_PIN
from ioffice.incoming.registration import today_vn
from ioffice.records import service as records
from ioffice.records.models import Dossier, DossierStatus, Handover
from ioffice.storage import BlobStore
from tests.api.conftest import bearer, outsider_token
from tests.api.test_outgoing import token
from tests.records.conftest import keeper_key, make_year, trust  # noqa: F401 (fixtures)
from tests.support.factories import actor

CLERK, LEADER, KEEPER, ARCHIVIST = ("vanthu.camau", "lanhdao.camau", "chuyenvien.camau",
                                    "luutru.camau")
SIGN = ("read", "write", "sign")


def _closed_year(db: Session, blobs: BlobStore):
    """This year's approved list: both dossiers of the specialist opened, given a file, closed."""
    year = make_year(db, today_vn().year)
    keeper, today = actor(db, KEEPER), today_vn()
    for d in (year.dossier, year.other):
        records.open_dossier(db, keeper, d.id, f"{today.year}-01-01", today)
        records.add_file(db, blobs, keeper, d.id, "Biên bản họp", "bien-ban.pdf",
                         b"%PDF-1.4 own file " + str(d.id).encode())
        records.close_dossier(db, keeper, d.id, today.isoformat(), "3", today)
    db.commit()
    return year


def _count(db: Session, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_handed_over_signed_by_both_sides_and_listed(client: FlaskClient, db: Session,
                                                    blobs: BlobStore, keeper_key) -> None:  # noqa: F811
    year = _closed_year(db, blobs)
    keeper = token(db, KEEPER, scopes=SIGN)
    body = {"dossier_ids": [year.dossier.id]}
    resp = client.post("/api/v1/records/handovers", json=body,
                       headers=bearer(keeper) | {"Idempotency-Key": "nop-luu-1"})
    assert resp.status_code == 201, resp.get_json()
    h = resp.get_json()
    assert h["status"]["code"] == "draft" and h["keeper_name"]
    assert [d["symbol"] for d in h["dossiers"]] == [year.dossier.symbol]
    assert h["dossiers"][0]["handover_id"] == h["id"]
    assert h["record_url"] == f"/api/v1/records/handovers/{h['id']}/record"
    # a retry answers the first hand-over and starts no second one
    count = _count(db, Handover)
    again = client.post("/api/v1/records/handovers", json=body,
                        headers=bearer(keeper) | {"Idempotency-Key": "nop-luu-1"})
    assert again.status_code == 201 and again.get_json()["id"] == h["id"]
    assert again.headers["Idempotent-Replayed"] == "true" and _count(db, Handover) == count
    resp = client.post("/api/v1/records/handovers", json={"dossier_ids": [year.other.id]},
                       headers=bearer(keeper) | {"Idempotency-Key": "nop-luu-1"})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "idempotency_key_reused"
    # the dossier is in this hand-over now: a second one refuses it, naming it
    resp = client.post("/api/v1/records/handovers", json=body, headers=bearer(keeper))
    assert resp.status_code == 400 and year.dossier.symbol in resp.get_json()["error"]["message"]

    act = f"/api/v1/records/handovers/{h['id']}"
    record = client.get(f"{act}/record", headers=bearer(keeper))
    assert record.status_code == 200 and record.mimetype == "application/pdf"
    assert record.data.startswith(b"%PDF") and b"/ByteRange" not in record.data

    # signing needs the `sign` scope, then the keeper's own PIN key
    resp = client.post(f"{act}/sign", json={"pin": DEMO_PIN}, headers=bearer(token(db, KEEPER)))
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "insufficient_scope"
    resp = client.post(f"{act}/sign", json={"pin": DEMO_PIN},
                       headers=bearer(token(db, CLERK, scopes=SIGN)))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    assert "người nộp lưu" in resp.get_json()["error"]["message"]
    failures = _count_events(db, "records:handover:keeper-wrong-pin")
    resp = client.post(f"{act}/sign", json={"pin": "000000"}, headers=bearer(keeper))
    assert resp.status_code == 400 and "PIN" in resp.get_json()["error"]["message"]
    # the wrong PIN stays counted (committed although refused)
    assert _count_events(db, "records:handover:keeper-wrong-pin") == failures + 1
    for bad in ({}, {"pin": 123456}, {"pin": DEMO_PIN, "extra": 1}):
        resp = client.post(f"{act}/sign", json=bad, headers=bearer(keeper))
        assert resp.status_code == 422, (bad, resp.get_json())
    resp = client.post(f"{act}/sign", json={"pin": DEMO_PIN}, headers=bearer(keeper))
    assert resp.status_code == 200, resp.get_json()
    signed = resp.get_json()
    assert signed["status"]["code"] == "submitted" and signed["keeper_certificate"]
    assert signed["dossiers"][0]["status"]["code"] == "submitted"
    resp = client.post(f"{act}/sign", json={"pin": DEMO_PIN}, headers=bearer(keeper))
    assert resp.status_code == 400 and "đã ký rồi" in resp.get_json()["error"]["message"]
    assert client.get(f"{act}/record", headers=bearer(keeper)).data.count(b"/ByteRange") == 1

    # only the archive accepts, with its own PIN key and the `sign` scope
    resp = client.post(f"{act}/accept", json={"pin": DEMO_PIN}, headers=bearer(keeper))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    archive = token(db, ARCHIVIST, scopes=SIGN)
    resp = client.post(f"{act}/accept", json={"pin": DEMO_PIN},
                       headers=bearer(token(db, ARCHIVIST)))
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "insufficient_scope"
    resp = client.post(f"{act}/accept", json={"pin": "111111"}, headers=bearer(archive))
    assert resp.status_code == 400 and "PIN" in resp.get_json()["error"]["message"]
    resp = client.post(f"{act}/accept", json={"pin": DEMO_PIN}, headers=bearer(archive))
    assert resp.status_code == 200, resp.get_json()
    done = resp.get_json()
    assert done["status"]["code"] == "accepted" and done["level"] == "B-LTA"
    assert done["archive_certificate"] and done["archivist_id"] is not None
    assert done["dossiers"][0]["status"]["code"] == "archived"
    db.expire_all()
    assert db.get(Dossier, year.dossier.id).status is DossierStatus.ARCHIVED
    # both signatures and the document timestamp, as the page's record
    assert client.get(f"{act}/record", headers=bearer(archive)).data.count(b"/ByteRange") == 3
    resp = client.post(f"{act}/return", json={"reason": "Thiếu"}, headers=bearer(archive))
    assert resp.status_code == 400 and "Lưu trữ đã nhận" in resp.get_json()["error"]["message"]

    # lists: the keeper's own, the archive all; paging by key
    page = client.get("/api/v1/records/handovers", query_string={"limit": 1},
                      headers=bearer(keeper)).get_json()
    assert [i["id"] for i in page["items"]] == [h["id"]] and page["next_after"] == h["id"]
    rest = client.get("/api/v1/records/handovers", query_string={"after": h["id"]},
                      headers=bearer(keeper)).get_json()
    assert all(i["id"] < h["id"] for i in rest["items"]) and rest["next_after"] is None
    assert h["id"] in [i["id"] for i in client.get("/api/v1/records/handovers",
                                                   headers=bearer(archive)).get_json()["items"]]
    # a department head, neither its keeper nor the archive, sees neither it nor its record
    head = token(db, "truongphong.camau")
    for path in (act, f"{act}/record"):
        assert client.get(path, headers=bearer(head)).status_code == 404
    assert client.get("/api/v1/records/handovers", headers=bearer(head)).get_json()["items"] == []
    resp = client.get("/api/v1/records/handovers", query_string={"after": "x"},
                      headers=bearer(keeper))
    assert resp.status_code == 422 and "after" in resp.get_json()["error"]["fields"]


def _count_events(db: Session, tag: str) -> int:
    return db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.tag == tag))


def test_returned_cancelled_and_refused(client: FlaskClient, db: Session, blobs: BlobStore,
                                        keeper_key) -> None:  # noqa: F811
    year = _closed_year(db, blobs)
    keeper = token(db, KEEPER, scopes=SIGN)
    archive = token(db, ARCHIVIST, scopes=SIGN)
    # wrong role: the archive does not hand over; a read-only token creates nothing
    resp = client.post("/api/v1/records/handovers", json={"dossier_ids": [year.dossier.id]},
                       headers=bearer(archive))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    resp = client.post("/api/v1/records/handovers", json={"dossier_ids": [year.dossier.id]},
                       headers=bearer(token(db, KEEPER, scopes=("read",))))
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "insufficient_scope"
    # bad input: none, not ids; a dossier of another keeper or agency; an open dossier
    for bad in ({}, {"dossier_ids": []}, {"dossier_ids": ["một"]}, {"dossier_ids": 5}):
        resp = client.post("/api/v1/records/handovers", json=bad, headers=bearer(keeper))
        assert resp.status_code == 422, (bad, resp.get_json())
        assert resp.get_json()["error"]["code"] == "validation_error"
    resp = client.post("/api/v1/records/handovers", json={"dossier_ids": [987654321]},
                       headers=bearer(keeper))
    assert resp.status_code == 400
    assert "chỉ nộp lưu được hồ sơ của mình" in resp.get_json()["error"]["message"]
    records.reopen_dossier(db, actor(db, KEEPER), year.other.id)
    db.commit()
    resp = client.post("/api/v1/records/handovers", json={"dossier_ids": [year.other.id]},
                       headers=bearer(keeper))
    assert resp.status_code == 400
    assert "chỉ nộp lưu được hồ sơ đã kết thúc" in resp.get_json()["error"]["message"]

    # cancelled before signing: the dossier is free again
    h = client.post("/api/v1/records/handovers", json={"dossier_ids": [year.dossier.id]},
                    headers=bearer(keeper)).get_json()
    act = f"/api/v1/records/handovers/{h['id']}"
    resp = client.post(f"{act}/cancel", headers=bearer(token(db, CLERK)))
    assert resp.status_code == 403
    resp = client.post(f"{act}/cancel", headers=bearer(keeper))
    assert resp.status_code == 200 and resp.get_json()["status"]["code"] == "returned"
    assert resp.get_json()["return_reason"] == "Bên giao hủy trước khi ký."
    db.expire_all()
    assert db.get(Dossier, year.dossier.id).handover_id is None

    # signed, then returned by the archive with a reason
    h = client.post("/api/v1/records/handovers", json={"dossier_ids": [year.dossier.id]},
                    headers=bearer(keeper)).get_json()
    act = f"/api/v1/records/handovers/{h['id']}"
    resp = client.post(f"{act}/return", json={"reason": "Chưa ký"}, headers=bearer(archive))
    assert resp.status_code == 400 and "bên giao đã ký" in resp.get_json()["error"]["message"]
    assert client.post(f"{act}/sign", json={"pin": DEMO_PIN},
                       headers=bearer(keeper)).status_code == 200
    resp = client.post(f"{act}/return", json={"reason": "   "}, headers=bearer(archive))
    assert resp.status_code == 400 and "lý do trả lại" in resp.get_json()["error"]["message"]
    assert client.post(f"{act}/return", json={}, headers=bearer(archive)).status_code == 422
    resp = client.post(f"{act}/return", json={"reason": "Thiếu biên bản họp"},
                       headers=bearer(keeper))
    assert resp.status_code == 403
    resp = client.post(f"{act}/return", json={"reason": "Thiếu biên bản họp"},
                       headers=bearer(archive))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"]["code"] == "returned"
    assert resp.get_json()["return_reason"] == "Thiếu biên bản họp"
    assert resp.get_json()["dossiers"] == []  # the dossiers left it: closed, the keeper's again
    db.expire_all()
    assert db.get(Dossier, year.dossier.id).status is DossierStatus.CLOSED

    # another agency's token: every hand-over id looks missing
    outsider = outsider_token(db)
    for method, path, body in (("GET", act, None), ("GET", f"{act}/record", None),
                               ("POST", f"{act}/cancel", None),
                               ("POST", f"{act}/return", {"reason": "x"})):
        resp = client.open(path, method=method, json=body, headers=bearer(outsider))
        assert resp.status_code == 404, (path, resp.get_json())
        assert resp.get_json()["error"]["code"] == "not_found"
    for action in ("sign", "accept"):
        resp = client.post(f"{act}/{action}", json={"pin": DEMO_PIN}, headers=bearer(outsider))
        assert resp.status_code == 404, resp.get_json()
    assert client.get("/api/v1/records/handovers", headers=bearer(outsider)
                      ).get_json()["items"] == []
