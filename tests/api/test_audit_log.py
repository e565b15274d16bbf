"""/api/v1/admin/audit (ioffice/api/audit_views.py): the admin's audit log with the page's
filters, paged by key; only the token's agency's events; the admin role and the `admin` scope;
bad filters answer 422 with the page's messages."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ioffice.audit import AuditContext, record
from tests.api.conftest import bearer
from tests.api.test_outgoing import token
from tests.support.factories import actor

ADMIN = ("read", "admin")
BASE = 990_000
"""Subjects of the seeded events: ids no object of a test has (events about a real outgoing
document 7, made by another test, would join the filtered pages)."""


def _seed(db: Session) -> tuple[int, int]:
    clerk, specialist = actor(db, "vanthu.camau"), actor(db, "chuyenvien.camau")
    bnv = actor(db, "vanthu.bnv")
    for i in range(53):
        record(db, specialist.ctx, "incoming:document:read", subject_type="incoming",
               subject_id=BASE + i)
    record(db, clerk.ctx, "outgoing:document:dispatch", subject_type="outgoing", subject_id=BASE + 7)
    record(db, AuditContext(None, clerk.agency_id, "worker"), "exchange:package:send",
           subject_type="outgoing", subject_id=BASE + 7)
    record(db, bnv.ctx, "incoming:document:read", subject_type="incoming", subject_id=BASE + 1)
    db.commit()
    return clerk.user_id, specialist.user_id


def test_the_admin_pages_through_the_filtered_log(client: FlaskClient, db: Session) -> None:
    _clerk_id, specialist_id = _seed(db)
    headers = bearer(token(db, "vanthu.camau", scopes=ADMIN))
    query = {"user_id": specialist_id, "action": "incoming"}
    first = client.get("/api/v1/admin/audit", query_string=query, headers=headers)
    assert first.status_code == 200, first.get_json()
    page = first.get_json()
    assert len(page["items"]) == 50 and page["next_after"] == page["items"][-1]["id"]
    assert page["items"][0]["subject_id"] == str(BASE + 52)  # newest first
    names = {i["actor_name"] for i in page["items"]}
    assert len(names) == 1 and "" not in names  # the specialist alone
    second = client.get("/api/v1/admin/audit", headers=headers,
                        query_string={**query, "after": page["next_after"]}).get_json()
    assert [i["subject_id"] for i in second["items"]] == [str(BASE + 2), str(BASE + 1), str(BASE)]
    assert second["next_after"] is None
    # one object, whatever acted on it: the clerk's dispatch and the system's sending
    items = client.get("/api/v1/admin/audit", headers=headers,
                       query_string={"subject": f"outgoing:{BASE + 7}"}).get_json()["items"]
    assert [(i["tag"], i["actor_name"]) for i in items] == [
        ("exchange:package:send", ""), ("outgoing:document:dispatch", items[1]["actor_name"])]
    assert items[1]["actor_name"]
    system = client.get("/api/v1/admin/audit", headers=headers,
                        query_string={"user_id": 0, "action": "exchange:package:send"})
    assert [i["remote_addr"] for i in system.get_json()["items"]] == ["worker"]
    # another agency's event is not in the log; a day range excludes everything old
    ids = client.get("/api/v1/admin/audit", headers=headers,
                     query_string={"subject": f"incoming:{BASE + 1}"}).get_json()["items"]
    assert len(ids) == 1
    none = client.get("/api/v1/admin/audit", headers=headers,
                      query_string={"since": "2020-01-01", "until": "2020-01-31"})
    assert none.get_json() == {"items": [], "next_after": None}


def test_bad_filters_roles_and_scope(client: FlaskClient, db: Session) -> None:
    headers = bearer(token(db, "vanthu.camau", scopes=ADMIN))
    resp = client.get("/api/v1/admin/audit", headers=headers,
                      query_string={"subject": "incoming:1 OR 1=1"})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"] == {
        "subject": "Đối tượng «incoming:1 OR 1=1» không hợp lệ."}
    resp = client.get("/api/v1/admin/audit", headers=headers,
                      query_string={"since": "2026-12-05", "until": "2026-12-01"})
    assert resp.get_json()["error"]["fields"] == {"until": "«Đến ngày» phải sau «Từ ngày»."}
    resp = client.get("/api/v1/admin/audit", headers=headers, query_string={"since": "05/12"})
    assert resp.status_code == 422 and "since" in resp.get_json()["error"]["fields"]
    # the admin without the admin scope; a leader (no admin role) with it
    resp = client.get("/api/v1/admin/audit",
                      headers=bearer(token(db, "vanthu.camau", scopes=("read", "write"))))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "insufficient_scope"
    resp = client.get("/api/v1/admin/audit", headers=bearer(token(db, "lanhdao.camau",
                                                                   scopes=ADMIN)))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
