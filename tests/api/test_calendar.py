"""/api/v1/calendar (ioffice/api/calendar_views.py): the office adds, changes, publishes and
deletes events as on /lich-cong-tac; staff see published weeks only; the page's refusals (400
with per-field messages), roles (403), scopes, another agency (404), a replayed
Idempotency-Key."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent
from ioffice.schedule.models import CalendarEvent
from tests.api.conftest import bearer
from tests.api.test_outgoing import token

EVENT = {"day": "2026-12-08", "start_time": "08:00", "end_time": "09:30",
         "title": "Giao ban tuần", "place": "Phòng họp số 1", "chair": "Chủ tịch UBND tỉnh"}


def _events(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(CalendarEvent))


def test_the_office_writes_a_week_and_staff_see_it_once_published(
        client: FlaskClient, db: Session) -> None:
    clerk = bearer(token(db, "vanthu.camau"))
    staff = bearer(token(db, "chuyenvien.camau", scopes=("read",)))
    headers = {**clerk, "Idempotency-Key": "giao-ban-0812"}
    resp = client.post("/api/v1/calendar/events", headers=headers, json=EVENT)
    assert resp.status_code == 201, resp.get_json()
    event = resp.get_json()
    assert (event["week_start"], event["start_time"], event["published"]) == (
        "2026-12-07", "08:00", False)
    again = client.post("/api/v1/calendar/events", headers=headers, json=EVENT)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["id"] == event["id"] and _events(db) == 1
    other = client.post("/api/v1/calendar/events", headers=headers,
                        json={**EVENT, "title": "Họp khác"})
    assert other.status_code == 409
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"

    # a draft: the office sees it, staff see an empty, invisible week and 404 on the event
    week = client.get("/api/v1/calendar/week", query_string={"week": "2026-12-10"}, headers=clerk)
    assert [e["title"] for e in week.get_json()["events"]] == ["Giao ban tuần"]
    assert week.get_json()["editable"] is True
    week = client.get("/api/v1/calendar/week", query_string={"week": "2026-12-10"}, headers=staff)
    assert week.status_code == 200
    assert (week.get_json()["visible"], week.get_json()["events"]) == (False, [])
    assert client.get(event["url"], headers=staff).status_code == 404

    resp = client.post("/api/v1/calendar/week/publish", headers=clerk,
                       json={"week": "2026-12-09"})
    assert resp.status_code == 200 and resp.get_json()["published"] is True
    week = client.get("/api/v1/calendar/week", query_string={"week": "2026-12-07"}, headers=staff)
    assert [e["place"] for e in week.get_json()["events"]] == ["Phòng họp số 1"]
    assert client.get(event["url"], headers=staff).status_code == 200

    resp = client.post(f"{event['url']}/edit", headers=clerk,
                       json={**EVENT, "start_time": "07:30", "end_time": ""})
    assert resp.status_code == 200
    assert (resp.get_json()["start_time"], resp.get_json()["end_time"],
            resp.get_json()["sequence"]) == ("07:30", "", 1)
    # back to draft: staff no longer see it
    resp = client.post("/api/v1/calendar/week/publish", headers=clerk,
                       json={"week": "2026-12-13", "publish": False})
    assert resp.status_code == 200 and resp.get_json()["published"] is False
    assert client.get(event["url"], headers=staff).status_code == 404
    resp = client.post(f"{event['url']}/delete", headers=clerk)
    assert resp.status_code == 200 and resp.get_json()["events"] == []
    assert client.get(event["url"], headers=clerk).status_code == 404
    tags = dict(db.execute(select(AuditEvent.tag, func.count()).where(
        AuditEvent.tag.like("calendar:%")).group_by(AuditEvent.tag)).all())
    assert tags == {"calendar:event:save": 2, "calendar:event:delete": 1,
                    "calendar:week:publish": 1, "calendar:week:unpublish": 1}


def test_bad_input_answers_the_page_s_messages(client: FlaskClient, db: Session) -> None:
    clerk = bearer(token(db, "vanthu.camau"))
    resp = client.post("/api/v1/calendar/events", headers=clerk,
                       json={**EVENT, "day": "2026-02-30", "start_time": "25:00", "title": " "})
    assert resp.status_code == 400
    err = resp.get_json()["error"]
    assert err["message"] == "Sự kiện chưa được lưu: hãy sửa các ô được đánh dấu."
    assert set(err["fields"]) == {"day", "start_time", "title"}
    resp = client.post("/api/v1/calendar/events", headers=clerk,
                       json={**EVENT, "end_time": "07:00"})
    assert resp.get_json()["error"]["fields"] == {"end_time": "Giờ kết thúc phải sau giờ bắt đầu."}
    resp = client.post("/api/v1/calendar/events", headers=clerk,
                       json={**EVENT, "place": "x" * 300})
    assert resp.get_json()["error"]["fields"] == {"place": "Tối đa 255 ký tự."}
    resp = client.post("/api/v1/calendar/events", headers=clerk, json={"day": "2026-12-08"})
    assert resp.status_code == 422 and set(resp.get_json()["error"]["fields"]) == {
        "start_time", "title"}
    resp = client.get("/api/v1/calendar/week", query_string={"week": "tuan-sau"}, headers=clerk)
    assert resp.status_code == 400 and "không hợp lệ" in resp.get_json()["error"]["message"]
    resp = client.post("/api/v1/calendar/week/publish", headers=clerk, json={"week": "2030-01-07"})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["message"] == "Tuần này chưa có sự kiện nào để công bố."
    assert _events(db) == 0


def test_roles_scopes_and_another_agency(client: FlaskClient, db: Session) -> None:
    clerk = bearer(token(db, "vanthu.camau"))
    event = client.post("/api/v1/calendar/events", headers=clerk, json=EVENT).get_json()
    client.post("/api/v1/calendar/week/publish", headers=clerk, json={"week": EVENT["day"]})
    for username in ("chuyenvien.camau", "lanhdao.camau"):  # staff and leaders only read
        other = bearer(token(db, username))
        assert client.post("/api/v1/calendar/events", headers=other, json=EVENT).status_code == 403
        assert client.post(f"{event['url']}/delete", headers=other).status_code == 403
        assert client.get(event["url"], headers=other).status_code == 200
    # a read-only token of the office may read but not write
    reader = bearer(token(db, "vanthu.camau", scopes=("read",)))
    resp = client.post("/api/v1/calendar/events", headers=reader, json=EVENT)
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "insufficient_scope"
    # another agency's office: the event is not there, its own week is empty
    bnv = bearer(token(db, "vanthu.bnv", agency="000.00.00.G09"))
    assert client.get(event["url"], headers=bnv).status_code == 404
    assert client.post(f"{event['url']}/edit", headers=bnv, json=EVENT).status_code == 404
    assert client.post(f"{event['url']}/delete", headers=bnv).status_code == 404
    week = client.get("/api/v1/calendar/week", query_string={"week": EVENT["day"]}, headers=bnv)
    assert week.get_json()["events"] == []
    assert _events(db) == 1


def test_a_new_feed_link_serves_the_published_weeks(client: FlaskClient, db: Session) -> None:
    clerk = bearer(token(db, "vanthu.camau"))
    client.post("/api/v1/calendar/events", headers=clerk, json=EVENT)
    client.post("/api/v1/calendar/week/publish", headers=clerk, json={"week": EVENT["day"]})
    staff = bearer(token(db, "chuyenvien.camau"))
    first = client.post("/api/v1/calendar/feed", headers=staff)
    assert first.status_code == 200
    url = first.get_json()["url"]
    assert "/lich-cong-tac/ical/" in url and url.endswith(".ics")
    path = url.split("://", 1)[1].split("/", 1)[1]
    feed = client.get(f"/{path}")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert "Giao ban tuần" in feed.get_data(as_text=True)
    second = client.post("/api/v1/calendar/feed", headers=staff).get_json()["url"]
    assert second != url and client.get(f"/{path}").status_code == 404  # the old link stops
    resp = client.post("/api/v1/calendar/feed",
                       headers=bearer(token(db, "chuyenvien.camau", scopes=("read",))))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "insufficient_scope"
