"""The work calendar (issue 21): the office edits and publishes a week, staff see published
weeks only, bad input is refused, another agency's ids answer 404, and the iCalendar feed
parses (the ``icalendar`` package) with Vietnamese text escaped and folded."""

from __future__ import annotations

import datetime as dt

import icalendar
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ioffice.schedule import ical
from ioffice.schedule import service as schedule
from ioffice.schedule.service import EventInput
from tests.conftest import csrf_token, login
from tests.support.factories import actor

WEEK = dt.date(2026, 12, 7)  # a Monday
LONG_TITLE = ("Họp Ban chỉ đạo chuyển đổi số tỉnh; nghe báo cáo, cho ý kiến về Đề án "
              "\"Chính quyền số\", giai đoạn 2026–2030\\quý I; kết luận của Chủ tịch Ủy ban "
              "nhân dân tỉnh về những việc cần làm ngay")


def _event(db: Session, username: str = "vanthu.camau", **kw) -> int:
    data = EventInput(day="2026-12-08", start_time="07:30", end_time="11:00", title=LONG_TITLE,
                      place="Phòng họp số 1, Ủy ban nhân dân tỉnh",
                      chair="Chủ tịch Huỳnh Quốc Việt", participants="Giám đốc các sở, ngành",
                      preparation="Sở Thông tin và Truyền thông", notes="Dòng một\nDòng hai")
    for k, v in kw.items():
        setattr(data, k, v)
    event = schedule.save_event(db, actor(db, username), data)
    db.commit()
    return event.id


def _form(**kw) -> dict[str, str]:
    base = {"day": "2026-12-09", "start_time": "14:00", "end_time": "16:30",
            "title": "Tiếp công dân định kỳ", "place": "Trụ sở tiếp công dân", "chair": "",
            "participants": "", "preparation": "Văn phòng", "notes": ""}
    base.update(kw)
    return base


def test_the_office_edits_and_publishes_and_staff_then_see_the_week(
        client: FlaskClient, app) -> None:
    login(client, "vanthu.camau")
    token = csrf_token(client, "/lich-cong-tac/")
    resp = client.post("/lich-cong-tac/su-kien", data={**_form(), "csrf_token": token})
    assert resp.status_code == 302
    staff = app.test_client()
    login(staff, "chuyenvien.camau")
    page = staff.get(f"/lich-cong-tac/?tuan={WEEK}").get_data(as_text=True)
    assert "chưa được công bố" in page and "Tiếp công dân định kỳ" not in page
    assert staff.post("/lich-cong-tac/cong-bo", data={"tuan": str(WEEK), "csrf_token": csrf_token(
        staff, "/lich-cong-tac/")}).status_code == 403
    assert client.post("/lich-cong-tac/cong-bo", data={"tuan": "2026-12-10", "action": "publish",
                                                       "csrf_token": token}).status_code == 302
    page = staff.get(f"/lich-cong-tac/?tuan={WEEK}").get_data(as_text=True)
    assert "Tiếp công dân định kỳ" in page and "14:00–16:30" in page and "Thứ Tư" in page
    assert 'rel="prev" href' not in page and "tuan=2026-11-30" in page and "tuan=2026-12-14" in page
    assert "Thêm sự kiện" not in page  # staff cannot edit


def test_bad_event_input_is_refused_field_by_field(client: FlaskClient) -> None:
    login(client, "vanthu.camau")
    token = csrf_token(client, "/lich-cong-tac/")
    for fields, name, words in (
            ({"end_time": "13:00"}, "end_time", "phải sau giờ bắt đầu"),
            ({"end_time": "14:00"}, "end_time", "phải sau giờ bắt đầu"),
            ({"start_time": "25:00"}, "start_time", "không hợp lệ"),
            ({"day": "2026-02-30"}, "day", "Ngày không hợp lệ"),
            ({"day": "09/12/2026"}, "day", "Ngày không hợp lệ"),
            ({"title": "  "}, "title", "nội dung công việc"),
            ({"place": "x" * 300}, "place", "Tối đa 255")):
        resp = client.post("/lich-cong-tac/su-kien", data={**_form(**fields), "csrf_token": token})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 400, fields
        assert f'data-field="{name}"' in html and words in html, fields
    assert client.get("/lich-cong-tac/?tuan=2026-13-01").status_code == 400
    assert client.get("/lich-cong-tac/?tuan=abc").status_code == 400
    assert client.post("/lich-cong-tac/cong-bo", data={"tuan": "2030-01-07", "action": "publish",
                                                       "csrf_token": token}).status_code == 400


def test_another_agency_s_event_is_not_found(client: FlaskClient, db: Session) -> None:
    event_id = _event(db)
    login(client, "vanthu.uminh")
    token = csrf_token(client, "/lich-cong-tac/")
    assert client.get(f"/lich-cong-tac/su-kien/{event_id}").status_code == 404
    assert client.post(f"/lich-cong-tac/su-kien/{event_id}",
                       data={**_form(), "csrf_token": token}).status_code == 404
    assert client.post(f"/lich-cong-tac/su-kien/{event_id}/xoa",
                       data={"csrf_token": token}).status_code == 404
    assert client.get("/lich-cong-tac/su-kien/987654321").status_code == 404


def test_editing_moves_an_event_and_bumps_its_sequence(db: Session) -> None:
    event_id = _event(db)
    clerk = actor(db, "vanthu.camau")
    moved = schedule.save_event(db, clerk, EventInput(day="2026-12-15", start_time="08:00",
                                                      title="Dời sang tuần sau"), event_id)
    assert moved.sequence == 1 and moved.week.week_start == dt.date(2026, 12, 14)
    assert schedule.delete_event(db, clerk, event_id) == dt.date(2026, 12, 14)


def test_the_ical_feed_parses_with_vietnamese_text_intact(client: FlaskClient, db: Session,
                                                          app) -> None:
    _event(db)
    schedule.publish_week(db, actor(db, "vanthu.camau"), WEEK)
    draft_id = _event(db, day="2026-12-21", title="Nháp chưa công bố")  # another, unpublished week
    db.commit()
    login(client, "chuyenvien.camau")
    page = client.post("/lich-cong-tac/lien-ket",
                       data={"csrf_token": csrf_token(client, "/lich-cong-tac/lien-ket")})
    html = page.get_data(as_text=True)
    url = html.split("<code>")[1].split("</code>")[0]
    path = url.split("://", 1)[1].split("/", 1)[1]
    with app.test_client() as anonymous:
        resp = anonymous.get("/" + path)
    assert resp.status_code == 200 and resp.mimetype == "text/calendar"
    raw = resp.data
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # no character cut by the folding
    assert b"\n" not in raw.replace(b"\r\n", b"")
    cal = icalendar.Calendar.from_ical(raw)
    [event] = [c for c in cal.walk("VEVENT")]
    assert str(event["SUMMARY"]) == LONG_TITLE
    assert str(event["LOCATION"]) == "Phòng họp số 1, Ủy ban nhân dân tỉnh"
    assert "Chủ trì: Chủ tịch Huỳnh Quốc Việt" in str(event["DESCRIPTION"])
    assert "Ghi chú: Dòng một\nDòng hai" in str(event["DESCRIPTION"])
    start = event.decoded("DTSTART")
    assert start.replace(tzinfo=None) == dt.datetime(2026, 12, 8, 7, 30)
    assert start.utcoffset() == dt.timedelta(hours=7)
    assert f"lich-{draft_id}@".encode() not in raw


def test_a_bad_or_replaced_ical_token_is_not_found(client: FlaskClient, db: Session, app) -> None:
    specialist = actor(db, "chuyenvien.camau")
    old = schedule.reset_feed_token(db, specialist)
    new = schedule.reset_feed_token(db, specialist)
    db.commit()
    anonymous = app.test_client()
    assert anonymous.get(f"/lich-cong-tac/ical/{new}.ics").status_code == 200
    assert anonymous.get(f"/lich-cong-tac/ical/{old}.ics").status_code == 404
    assert anonymous.get("/lich-cong-tac/ical/not-a-token.ics").status_code == 404
    assert anonymous.get(f"/lich-cong-tac/ical/{'x' * 200}.ics").status_code == 404


def test_escaping_and_folding_follow_rfc_5545() -> None:
    assert ical.escape_text('a,b;c\\d\ne') == "a\\,b\\;c\\\\d\\ne"
    line = "SUMMARY:" + "Ủy ban " * 40
    folded = ical.fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line
