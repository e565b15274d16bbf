"""The whole life of an incoming document through the API, by the four roles."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.api.models import ApiToken
from ioffice.audit.models import AuditEvent
from ioffice.incoming.registration import today_vn
from tests.api.conftest import bearer, department_id, register, user_id


def test_register_distribute_pass_on_handle_finish(client: FlaskClient, db: Session, token_for,
                                                   pdf_bytes: bytes) -> None:
    clerk, leader = token_for("vanthu.camau"), token_for("lanhdao.camau")
    head, specialist = token_for("truongphong.camau"), token_for("chuyenvien.camau")

    # the clerk registers a scanned PDF
    resp = register(client, clerk, pdf_bytes, submission_id="flow-1")
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()
    assert isinstance(doc["incoming_number"], int) and doc["incoming_number"] >= 1
    assert doc["status"]["code"] == "registered"
    assert doc["number_notation"] == "125/BTTTT-CĐSQG"
    assert doc["doc_type"] == {"code": "cong_van", "label": "Công văn"}
    assert doc["page_count"] == 1
    assert [f["filename"] for f in doc["files"]] == ["van-ban.pdf"]
    assert [h["action"] for h in doc["history"]] == ["incoming:document:register"]
    assert "Set-Cookie" not in resp.headers
    doc_id = doc["id"]

    # the leader sees it (urgent, so at the top) and distributes it to the department
    queue = client.get("/api/v1/queues/to-distribute", headers=bearer(leader)).get_json()
    assert queue["items"][0]["id"] == doc_id
    document_date = dt.date.fromisoformat(doc["document_date"])
    deadline = document_date + dt.timedelta(days=15)
    resp = client.post(f"/api/v1/documents/{doc_id}/distribute", headers=bearer(leader), json={
        "lead": {"kind": "department", "id": department_id(db, "TTTT"),
                 "deadline": deadline.isoformat()},
        "instruction": "Sở TTTT chủ trì, tham mưu trả lời trước hạn."})
    assert resp.status_code == 201, resp.get_json()
    [lead] = resp.get_json()["assignments"]
    assert lead["role"]["code"] == "lead" and lead["assignee"]["kind"] == "department"
    assert lead["deadline"] == deadline.isoformat()

    # the department head finds it in the queue and passes it on to the specialist
    queue = client.get("/api/v1/queues/to-handle", headers=bearer(head)).get_json()
    assert [a["id"] for a in queue["items"]] == [lead["id"]]
    assert queue["items"][0]["document"]["id"] == doc_id
    resp = client.post(f"/api/v1/assignments/{lead['id']}/pass-on", headers=bearer(head),
                       json={"user_id": user_id(db, "chuyenvien.camau"),
                             "instruction": "Đồng chí Khôi dự thảo văn bản trả lời."})
    assert resp.status_code == 201, resp.get_json()
    child = resp.get_json()
    assert child["parent_id"] == lead["id"] and child["deadline"] == deadline.isoformat()

    # the specialist records progress and finishes with the reply's number
    queue = client.get("/api/v1/queues/to-handle?which=all", headers=bearer(specialist)).get_json()
    assert [a["id"] for a in queue["items"]] == [child["id"]]
    resp = client.post(f"/api/v1/assignments/{child['id']}/progress", headers=bearer(specialist),
                       json={"note": "Đã dự thảo, trình lãnh đạo Sở."})
    assert resp.status_code == 200 and resp.get_json()["status"]["code"] == "in_progress"
    resp = client.post(f"/api/v1/assignments/{child['id']}/finish", headers=bearer(specialist),
                       json={"result": "Đã trả lời Bộ.", "reply_number": "88/STTTT-BCVT"})
    assert resp.status_code == 200 and resp.get_json()["status"]["code"] == "done"

    # the document is done, with every step in its history
    resp = client.get(f"/api/v1/documents/{doc_id}", headers=bearer(leader))
    assert resp.status_code == 200
    final = resp.get_json()
    assert final["status"]["code"] == "done" and final["reply_number"] == "88/STTTT-BCVT"
    assert [h["action"] for h in final["history"]] == [
        "incoming:document:register", "incoming:document:distribute",
        "incoming:assignment:pass-on", "incoming:assignment:progress",
        "incoming:assignment:finish"]
    assert {a["status"]["code"] for a in final["assignments"]} == {"done"}
    reads = db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.tag == "incoming:document:read", AuditEvent.subject_id == str(doc_id)))
    assert reads == 1

    # the file downloads as it was uploaded, and that read is audited too
    resp = client.get(final["files"][0]["download_url"], headers=bearer(specialist))
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data == pdf_bytes
    assert "van-ban.pdf" in resp.headers["Content-Disposition"]

    # the register lists it; nothing is left in the queues
    page = client.get(f"/api/v1/register?year={today_vn().year}", headers=bearer(clerk)).get_json()
    assert doc_id in [d["id"] for d in page["items"]]
    counts = client.get("/api/v1/counts", headers=bearer(specialist)).get_json()
    assert counts["to_handle"] == 0
    used = db.scalars(select(ApiToken.last_used_at).where(ApiToken.prefix == specialist[:12])).one()
    assert used is not None


def test_extension_request_and_decision(client: FlaskClient, db: Session, token_for,
                                        pdf_bytes: bytes) -> None:
    clerk, leader = token_for("vanthu.camau"), token_for("lanhdao.camau")
    specialist = token_for("chuyenvien.camau")
    doc = register(client, clerk, pdf_bytes, number="7").get_json()
    deadline = dt.date.fromisoformat(doc["document_date"]) + dt.timedelta(days=5)
    [a] = client.post(f"/api/v1/documents/{doc['id']}/distribute", headers=bearer(leader), json={
        "lead": {"kind": "user", "id": user_id(db, "chuyenvien.camau"),
                 "deadline": deadline.isoformat()}}).get_json()["assignments"]
    later = deadline + dt.timedelta(days=10)
    resp = client.post(f"/api/v1/assignments/{a['id']}/extension-request", headers=bearer(specialist),
                       json={"new_deadline": later.isoformat(), "reason": "Chờ số liệu từ huyện."})
    assert resp.status_code == 200 and resp.get_json()["status"]["code"] == "extension_requested"
    resp = client.post(f"/api/v1/assignments/{a['id']}/extension-decision", headers=bearer(leader),
                       json={"approve": True})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["deadline"] == later.isoformat()
    # a specialist cannot decide
    resp = client.post(f"/api/v1/assignments/{a['id']}/extension-decision",
                       headers=bearer(specialist), json={"approve": False})
    assert resp.status_code == 403


def test_return_puts_the_document_back_to_the_leader(client: FlaskClient, db: Session, token_for,
                                                     pdf_bytes: bytes) -> None:
    clerk, leader = token_for("vanthu.camau"), token_for("lanhdao.camau")
    specialist = token_for("chuyenvien.camau")
    doc = register(client, clerk, pdf_bytes, number="8").get_json()
    [a] = client.post(f"/api/v1/documents/{doc['id']}/distribute", headers=bearer(leader), json={
        "lead": {"kind": "user", "id": user_id(db, "chuyenvien.camau")}}).get_json()["assignments"]
    resp = client.post(f"/api/v1/assignments/{a['id']}/return", headers=bearer(specialist),
                       json={"reason": "Không thuộc lĩnh vực của Sở."})
    assert resp.status_code == 200 and resp.get_json()["status"]["code"] == "returned"
    queue = client.get("/api/v1/queues/to-distribute", headers=bearer(leader)).get_json()
    assert doc["id"] in [d["id"] for d in queue["items"]]


def test_register_page_is_paginated_by_number(client: FlaskClient, token_for,
                                              pdf_bytes: bytes) -> None:
    clerk = token_for("vanthu.camau")
    numbers = [register(client, clerk, pdf_bytes, number=str(100 + i)).get_json()["incoming_number"]
               for i in range(3)]
    year = today_vn().year
    seen: list[int] = []
    after = None
    while True:
        url = f"/api/v1/register?year={year}&limit=2" + (f"&after_number={after}" if after else "")
        page = client.get(url, headers=bearer(clerk)).get_json()
        seen += [d["incoming_number"] for d in page["items"]]
        after = page["next_after_number"]
        if after is None:
            break
    assert set(numbers) <= set(seen) and seen == sorted(seen)


def test_me_describes_the_membership(client: FlaskClient, token_for) -> None:
    me = client.get("/api/v1/me", headers=bearer(token_for("vanthu.camau"))).get_json()
    assert me["username"] == "vanthu.camau" and me["agency_code"] == "000.00.00.H12"
    assert set(me["roles"]) >= {"clerk", "admin"}


def test_to_handle_is_paginated_by_key(client: FlaskClient, db: Session, token_for,
                                       pdf_bytes: bytes) -> None:
    clerk, leader = token_for("vanthu.camau"), token_for("lanhdao.camau")
    specialist = user_id(db, "chuyenvien.camau")
    created = []
    for i, days in enumerate((9, None, 2, 5, 2)):
        doc = register(client, clerk, pdf_bytes, number=str(300 + i)).get_json()
        deadline = (dt.date.fromisoformat(doc["document_date"]) + dt.timedelta(days=days)).isoformat() \
            if days is not None else None
        [a] = client.post(f"/api/v1/documents/{doc['id']}/distribute", headers=bearer(leader), json={
            "lead": {"kind": "user", "id": specialist, "deadline": deadline}}).get_json()["assignments"]
        created.append(a["id"])
    token = token_for("chuyenvien.camau")
    seen, after = [], None
    while True:
        url = "/api/v1/queues/to-handle?limit=2" + (f"&after={after}" if after else "")
        page = client.get(url, headers=bearer(token)).get_json()
        seen += [(a["deadline"], a["id"]) for a in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert sorted(i for _, i in seen) == sorted(created)
    dated = [s for s in seen if s[0] is not None]
    assert dated == sorted(dated) and seen[-1][0] is None  # soonest first, no deadline last
