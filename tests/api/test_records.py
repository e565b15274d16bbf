"""/api/v1 registers, notifications and records: each through the same service as its web page,
and the refusals: wrong role (403), token without the scope (403 `insufficient_scope`),
another agency's ids (404), bad periods and bad input (422), and the records' own refusals
with their messages (another agency's document, a document twice, closing an empty dossier)."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent
from ioffice.incoming.registration import today_vn
from ioffice.notifications import Kind, notify
from ioffice.outgoing import numbering
from ioffice.records import service as records
from ioffice.records.models import Dossier
from ioffice.storage import BlobStore
from tests.api.conftest import bearer
from tests.api.test_outgoing import token
from tests.outgoing.conftest import pin_key, signed_doc, trust  # noqa: F401 (fixtures)
from tests.records.conftest import make_year
from tests.support.factories import actor, register, user_id

CLERK, LEADER, SPECIALIST, HEAD = ("vanthu.camau", "lanhdao.camau", "chuyenvien.camau",
                                   "truongphong.camau")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _events(db: Session, tag: str) -> int:
    return db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.tag == tag))


# ----------------------------------------------------------------------------- registers


def test_the_incoming_register_exports_as_xlsx(client: FlaskClient, db: Session,
                                               blobs: BlobStore) -> None:
    doc = register(db, blobs, actor(db, CLERK))
    db.commit()
    year = today_vn().year
    resp = client.get("/api/v1/register/export", query_string={"year": year},
                      headers=bearer(token(db, CLERK)))
    assert resp.status_code == 200, resp.get_json()
    assert resp.mimetype == XLSX
    assert f"so-van-ban-den-{year}.xlsx" in resp.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(resp.data)).active
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert doc.incoming_number in cells
    assert _events(db, "incoming:register:export") == 1
    # a month of the year only, and periods that are none
    resp = client.get("/api/v1/register/export", query_string={"year": year, "month": 2},
                      headers=bearer(token(db, CLERK)))
    assert resp.status_code == 200 and f"{year}-02.xlsx" in resp.headers["Content-Disposition"]
    for bad in ({"year": year, "month": 13}, {"year": "năm nay"}, {"month": 1},
                {"year": year, "month": 0}):
        resp = client.get("/api/v1/register/export", query_string=bad,
                          headers=bearer(token(db, CLERK)))
        assert resp.status_code == 422, (bad, resp.get_json())
        assert resp.get_json()["error"]["code"] == "validation_error"


def test_the_registers_refuse_other_roles_and_tokens_without_read(client: FlaskClient,
                                                                  db: Session) -> None:
    year = today_vn().year
    for path in ("/api/v1/register/export", "/api/v1/register/outgoing",
                 "/api/v1/register/outgoing/export"):
        resp = client.get(path, query_string={"year": year}, headers=bearer(token(db, SPECIALIST)))
        assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
        resp = client.get(path, query_string={"year": year},
                          headers=bearer(token(db, CLERK, scopes=("write",))))
        assert resp.status_code == 403
        assert resp.get_json()["error"]["code"] == "insufficient_scope"


def test_the_outgoing_register_pages_by_number_and_exports(
        client: FlaskClient, db: Session, signed_doc) -> None:  # noqa: F811
    numbering.assign_number(db, actor(db, CLERK), signed_doc.id)
    db.commit()
    year = signed_doc.promulgation_date.year
    leader = token(db, LEADER)
    resp = client.get("/api/v1/register/outgoing", query_string={"year": year, "limit": 1},
                      headers=bearer(leader))
    assert resp.status_code == 200, resp.get_json()
    page = resp.get_json()
    [entry] = page["items"]
    assert entry["id"] == signed_doc.id and entry["number_notation"] == signed_doc.number_notation
    assert entry["recipients"] and entry["signer_name"]
    assert page["next_after_number"] == entry["number"]
    rest = client.get("/api/v1/register/outgoing",
                      query_string={"year": year, "after_number": entry["number"]},
                      headers=bearer(leader)).get_json()
    assert rest == {"items": [], "next_after_number": None}
    # the confidential book is another one; another year is empty
    for q in ({"year": year, "confidential": "true"}, {"year": year - 1}):
        assert client.get("/api/v1/register/outgoing", query_string=q,
                          headers=bearer(leader)).get_json()["items"] == []
    resp = client.get("/api/v1/register/outgoing/export", query_string={"year": year},
                      headers=bearer(token(db, CLERK)))
    assert resp.status_code == 200 and resp.mimetype == XLSX
    sheet = load_workbook(io.BytesIO(resp.data)).active
    assert signed_doc.number_notation in [c for row in sheet.iter_rows(values_only=True)
                                          for c in row]
    assert _events(db, "outgoing:register:export") == 1
    # another agency's register is its own (empty here)
    outsider = token(db, "vanthu.uminh", agency="000.00.21.H12")
    assert client.get("/api/v1/register/outgoing", query_string={"year": year},
                      headers=bearer(outsider)).get_json()["items"] == []
    resp = client.get("/api/v1/register/outgoing", query_string={"year": 99999},
                      headers=bearer(leader))
    assert resp.status_code == 422 and "year" in resp.get_json()["error"]["fields"]


# ----------------------------------------------------------------------------- notifications


def _notices(db: Session, username: str, n: int) -> list[int]:
    who = actor(db, username)
    rows = [notify(db, [who.user_id], Kind.ASSIGNED, agency_id=who.agency_id,
                   text=f"Được giao văn bản {i}", subject_type="incoming", subject_id=1000 + i
                   )[0] for i in range(n)]
    db.commit()
    return [r.id for r in rows]


def test_notifications_list_page_count_and_mark_read(client: FlaskClient, db: Session) -> None:
    ids = _notices(db, SPECIALIST, 3)
    secret = token(db, SPECIALIST)
    seen, after = [], None
    for _ in range(5):
        page = client.get("/api/v1/notifications",
                          query_string={"limit": 2} | ({"after": after} if after else {}),
                          headers=bearer(secret)).get_json()
        seen += [n["id"] for n in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen[:3] == sorted(ids, reverse=True)
    assert client.get("/api/v1/notifications/unread-count",
                      headers=bearer(secret)).get_json()["unread"] >= 3
    before = client.get("/api/v1/notifications/unread-count", headers=bearer(secret)
                        ).get_json()["unread"]
    resp = client.post(f"/api/v1/notifications/{ids[0]}/read", headers=bearer(secret))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["read_at"] is not None and resp.get_json()["kind"]["code"] == "assigned"
    assert client.get("/api/v1/notifications/unread-count", headers=bearer(secret)
                      ).get_json()["unread"] == before - 1
    unread = client.get("/api/v1/notifications", query_string={"unread": "true", "limit": 200},
                        headers=bearer(secret)).get_json()["items"]
    assert ids[0] not in [n["id"] for n in unread] and ids[1] in [n["id"] for n in unread]
    # another user's notification looks missing; so does a missing one
    other = _notices(db, CLERK, 1)[0]
    for nid in (other, 987654321):
        resp = client.post(f"/api/v1/notifications/{nid}/read", headers=bearer(secret))
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    resp = client.post("/api/v1/notifications/read-all", headers=bearer(secret))
    assert resp.status_code == 200 and resp.get_json()["marked"] == before - 1
    assert client.get("/api/v1/notifications/unread-count", headers=bearer(secret)
                      ).get_json()["unread"] == 0
    # the clerk's own stays unread
    assert client.get("/api/v1/notifications/unread-count", headers=bearer(token(db, CLERK))
                      ).get_json()["unread"] >= 1
    # marking needs `write`, reading `read`
    resp = client.post("/api/v1/notifications/read-all",
                       headers=bearer(token(db, SPECIALIST, scopes=("read",))))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "insufficient_scope"
    resp = client.get("/api/v1/notifications", headers=bearer(token(db, SPECIALIST,
                                                                    scopes=("write",))))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "insufficient_scope"
    resp = client.get("/api/v1/notifications", query_string={"after": "abc"},
                      headers=bearer(secret))
    assert resp.status_code == 422 and "after" in resp.get_json()["error"]["fields"]


def test_notification_preferences_change_per_kind(client: FlaskClient, db: Session) -> None:
    secret = token(db, SPECIALIST)
    prefs = client.get("/api/v1/notifications/preferences", headers=bearer(secret)).get_json()
    assert {c["kind"]["code"]: c["channel"]["code"] for c in prefs["channels"]}["assigned"] == "app"
    resp = client.post("/api/v1/notifications/preferences", headers=bearer(secret),
                       json={"channels": {"assigned": "both", "due_soon": "email"},
                             "daily_digest": True})
    assert resp.status_code == 200, resp.get_json()
    channels = {c["kind"]["code"]: c["channel"]["code"] for c in resp.get_json()["channels"]}
    assert channels["assigned"] == "both" and channels["due_soon"] == "email"
    assert channels["overdue"] == "app" and resp.get_json()["daily_digest"] is True
    # only the digest: the channels stay
    resp = client.post("/api/v1/notifications/preferences", headers=bearer(secret),
                       json={"daily_digest": False})
    again = {c["kind"]["code"]: c["channel"]["code"] for c in resp.get_json()["channels"]}
    assert again == channels and resp.get_json()["daily_digest"] is False
    # the web page shows what the API saved
    from ioffice.notifications import service as notices

    saved = notices.preferences(db, user_id(db, SPECIALIST))
    assert saved.channels[Kind.ASSIGNED].value == "both"
    for bad in ({"channels": {"assigned": "sms"}}, {"channels": {"no_such_kind": "app"}},
                {"daily_digest": "sometimes"}, {"colour": "red"}):
        resp = client.post("/api/v1/notifications/preferences", headers=bearer(secret), json=bad)
        assert resp.status_code == 422, (bad, resp.get_json())


# ----------------------------------------------------------------------------- records


def test_a_dossier_planned_opened_filled_and_closed(client: FlaskClient, db: Session,
                                                    blobs: BlobStore) -> None:
    year = today_vn().year
    plan = make_year(db, year, approve=False)
    heading = plan.dossier.heading_id
    keeper = user_id(db, SPECIALIST)
    db.commit()
    clerk = token(db, CLERK)
    body = {"heading_id": heading, "number": 7, "title": "Hồ sơ hội nghị chuyển đổi số",
            "retention": "10", "keeper_id": keeper}
    path = f"/api/v1/records/file-lists/{plan.file_list.id}/dossiers"
    resp = client.post(path, json=body, headers=bearer(clerk) | {"Idempotency-Key": "hs-7"})
    assert resp.status_code == 201, resp.get_json()
    dossier = resp.get_json()
    assert dossier["symbol"] == "07.TCCB" and dossier["status"]["code"] == "planned"
    assert dossier["retention"] == "10 năm" and dossier["items"] == []
    # a retry answers the same dossier and plans no second one
    count = db.scalar(select(func.count()).select_from(Dossier))
    again = client.post(path, json=body, headers=bearer(clerk) | {"Idempotency-Key": "hs-7"})
    assert again.get_json()["id"] == dossier["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.scalar(select(func.count()).select_from(Dossier)) == count
    # the same number without the key: refused with the service's message
    resp = client.post(path, json=body, headers=bearer(clerk))
    assert resp.status_code == 400 and "07.TCCB" in resp.get_json()["error"]["message"]
    # a reporting token (read only) plans nothing
    resp = client.post(path, json=body | {"number": 8}, headers=bearer(token(db, CLERK,
                                                                            scopes=("read",))))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "insufficient_scope"
    # the specialist may not plan dossiers
    resp = client.post(path, json=body | {"number": 8}, headers=bearer(token(db, SPECIALIST)))
    assert resp.status_code == 403
    for bad in ({**body, "retention": "mãi mãi", "number": 9}, {**body, "keeper_id": 987654321,
                                                               "number": 9}):
        resp = client.post(path, json=bad, headers=bearer(clerk))
        assert resp.status_code == 400, resp.get_json()
    for bad in ({**body, "number": 0}, {k: v for k, v in body.items() if k != "title"}):
        assert client.post(path, json=bad, headers=bearer(clerk)).status_code == 422

    # the file list of the year, with the new dossier; a year without a list
    listed = client.get("/api/v1/records/file-list", query_string={"year": year},
                        headers=bearer(token(db, SPECIALIST))).get_json()
    assert listed["status"]["code"] == "draft"
    assert "07.TCCB" in [r["dossier"]["symbol"] for r in listed["rows"] if r["dossier"]]
    assert {h["code"] for h in listed["headings"]} >= {"TCCB", "VP"}
    resp = client.get("/api/v1/records/file-list", query_string={"year": year - 5},
                      headers=bearer(clerk))
    assert resp.status_code == 404 and str(year - 5) in resp.get_json()["error"]["message"]
    resp = client.get("/api/v1/records/file-list", query_string={"year": "x"},
                      headers=bearer(clerk))
    assert resp.status_code == 422

    records.approve_list(db, actor(db, LEADER), plan.file_list.id, "Quyết định số 1/QĐ")
    db.commit()
    keeper_token = token(db, SPECIALIST)
    did = dossier["id"]
    act = f"/api/v1/records/dossiers/{did}"
    # only its keeper opens it
    assert client.post(f"{act}/open", json={}, headers=bearer(clerk)).status_code == 403
    resp = client.post(f"{act}/open", json={}, headers=bearer(keeper_token))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"]["code"] == "open"
    assert resp.get_json()["start_date"] == today_vn().isoformat()

    # closing an empty dossier is refused
    resp = client.post(f"{act}/close", json={"end": today_vn().isoformat(), "pages": 3},
                       headers=bearer(keeper_token))
    assert resp.status_code == 400 and "rỗng" in resp.get_json()["error"]["message"]

    incoming = register(db, blobs, actor(db, CLERK))
    foreign = register(db, blobs, actor(db, "vanthu.uminh"))
    db.commit()
    resp = client.post(f"{act}/documents", json={"kind": "incoming", "document_id": incoming.id},
                       headers=bearer(keeper_token) | {"Idempotency-Key": "file-1"})
    assert resp.status_code == 201, resp.get_json()
    [item] = resp.get_json()["items"]
    assert item["kind"]["code"] == "incoming" and item["index"] == 1
    assert item["number_notation"] == incoming.number_notation
    assert item["document_url"] == f"/api/v1/documents/{incoming.id}"
    # twice: refused; another agency's document: refused as not in the agency
    resp = client.post(f"{act}/documents", json={"kind": "incoming", "document_id": incoming.id},
                       headers=bearer(keeper_token))
    assert resp.status_code == 400 and "một lần" in resp.get_json()["error"]["message"]
    resp = client.post(f"{act}/documents", json={"kind": "incoming", "document_id": foreign.id},
                       headers=bearer(keeper_token))
    assert resp.status_code == 400
    assert "cơ quan của bạn" in resp.get_json()["error"]["message"]
    resp = client.post(f"{act}/documents", json={"kind": "memo", "document_id": incoming.id},
                       headers=bearer(keeper_token))
    assert resp.status_code == 422
    # the clerk is not its keeper
    resp = client.post(f"{act}/documents", json={"kind": "incoming", "document_id": incoming.id},
                       headers=bearer(clerk))
    assert resp.status_code == 403

    # taken out and filed again
    resp = client.post(f"{act}/items/{item['id']}/remove", headers=bearer(keeper_token))
    assert resp.status_code == 200 and resp.get_json()["items"] == []
    assert client.post(f"{act}/items/{item['id']}/remove",
                       headers=bearer(keeper_token)).status_code == 404
    client.post(f"{act}/documents", json={"kind": "incoming", "document_id": incoming.id},
                headers=bearer(keeper_token))

    # the package is for closed dossiers
    resp = client.get(f"{act}/package", headers=bearer(keeper_token))
    assert resp.status_code == 400 and "chưa kết thúc" in resp.get_json()["error"]["message"]
    for bad in ({"end": "2020-13-01", "pages": 3}, {"end": today_vn().isoformat(), "pages": 0}):
        assert client.post(f"{act}/close", json=bad,
                           headers=bearer(keeper_token)).status_code == 422
    resp = client.post(f"{act}/close", json={"end": f"{year - 1}-12-31", "pages": 3},
                       headers=bearer(keeper_token))
    assert resp.status_code == 400 and "ngày mở" in resp.get_json()["error"]["message"]
    resp = client.post(f"{act}/close", json={"end": today_vn().isoformat(), "pages": 3},
                       headers=bearer(keeper_token))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"]["code"] == "closed" and resp.get_json()["page_count"] == 3

    toc = client.get(f"{act}/table-of-contents", headers=bearer(clerk))
    assert toc.status_code == 200 and toc.mimetype == XLSX
    cells = [c for row in load_workbook(io.BytesIO(toc.data)).active.iter_rows(values_only=True)
             for c in row]
    assert incoming.number_notation in cells
    zipped = client.get(f"{act}/package", headers=bearer(keeper_token))
    assert zipped.status_code == 200 and zipped.mimetype == "application/zip"
    assert zipped.data[:2] == b"PK" and "07.TCCB" in zipped.headers["Content-Disposition"]

    # the lists: the clerk sees all the agency's dossiers, the keeper his own, the head none
    by_clerk = client.get("/api/v1/records/dossiers", query_string={"year": year, "limit": 200},
                          headers=bearer(clerk)).get_json()["items"]
    assert {d["symbol"] for d in by_clerk} >= {"01.TCCB", "02.TCCB", "07.TCCB"}
    closed = client.get("/api/v1/records/dossiers", query_string={"status": "closed"},
                        headers=bearer(keeper_token)).get_json()["items"]
    assert [d["id"] for d in closed] == [did]
    head = client.get("/api/v1/records/dossiers", headers=bearer(token(db, HEAD))).get_json()
    assert head["items"] == []
    assert client.get(act, headers=bearer(token(db, HEAD))).status_code == 404
    assert client.get("/api/v1/records/dossiers", query_string={"status": "lost"},
                      headers=bearer(clerk)).status_code == 422


def test_dossiers_page_by_key(client: FlaskClient, db: Session) -> None:
    make_year(db, today_vn().year)
    db.commit()
    secret = token(db, CLERK)
    seen, after = [], None
    for _ in range(5):
        page = client.get("/api/v1/records/dossiers",
                          query_string={"limit": 1} | ({"after": after} if after else {}),
                          headers=bearer(secret)).get_json()
        seen += [d["id"] for d in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert len(seen) == 2 and seen == sorted(seen)


def test_another_agencys_dossiers_and_lists_are_not_found(client: FlaskClient,
                                                          db: Session) -> None:
    plan = make_year(db, today_vn().year, approve=False)
    db.commit()
    outsider = token(db, "vanthu.uminh", agency="000.00.21.H12")
    did = plan.dossier.id
    for method, path, body in (
            ("GET", f"/api/v1/records/dossiers/{did}", None),
            ("GET", f"/api/v1/records/dossiers/{did}/table-of-contents", None),
            ("GET", f"/api/v1/records/dossiers/{did}/package", None),
            ("POST", f"/api/v1/records/dossiers/{did}/open", {}),
            ("POST", f"/api/v1/records/file-lists/{plan.file_list.id}/dossiers",
             {"heading_id": plan.dossier.heading_id, "number": 5, "title": "Thử",
              "retention": "5", "keeper_id": 1})):
        resp = client.open(path, method=method, json=body, headers=bearer(outsider))
        assert resp.status_code == 404, (path, resp.status_code, resp.get_json())
    listed = client.get("/api/v1/records/dossiers", headers=bearer(outsider)).get_json()
    assert did not in [d["id"] for d in listed["items"]]
    resp = client.get("/api/v1/records/file-list", query_string={"year": today_vn().year},
                      headers=bearer(outsider))
    assert resp.status_code == 404
