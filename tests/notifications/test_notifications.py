"""Notifications written with the events that cause them, the bell, the preferences, the
reminders and the chasing («đôn đốc»)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.agencies.models import User
from ioffice.audit.models import AuditEvent
from ioffice.errors import Forbidden, NotFound
from ioffice.incoming import handling
from ioffice.incoming.errors import IncomingError, InvalidInput
from ioffice.incoming.models import AssignmentStatus
from ioffice.incoming.registration import today_vn
from ioffice.notifications import Channel, Kind, chases, reminders
from ioffice.notifications import service as notices
from ioffice.notifications.models import (
    Chase,
    MailOutbox,
    Notification,
    Preference,
    ReminderSent,
)
from ioffice.outgoing import review
from ioffice.storage import BlobStore
from tests.conftest import csrf_token, login
from tests.outgoing.conftest import new_draft
from tests.support.factories import actor, department, register, user_id

CLERK, LEADER, HEAD, SPECIALIST = ("vanthu.camau", "lanhdao.camau", "truongphong.camau",
                                   "chuyenvien.camau")


def _of(db: Session, username: str, kind: Kind | None = None) -> list[Notification]:
    stmt = select(Notification).where(Notification.user_id == user_id(db, username))
    if kind is not None:
        stmt = stmt.where(Notification.kind == kind)
    return list(db.scalars(stmt.order_by(Notification.id)))


def _assign(db: Session, blobs: BlobStore, *, to_user: str | None = None,
            deadline: dt.date | None = None, **doc: object):
    clerk, leader = actor(db, CLERK), actor(db, LEADER)
    incoming = register(db, blobs, clerk, **doc)
    target = (handling.Target("user", user_id(db, to_user), deadline) if to_user else
              handling.Target("department", department(db, clerk, "TTTT").id, deadline))
    [assignment] = handling.distribute(db, leader, incoming.id,
                                       handling.DistributionInput(lead=target))
    db.flush()
    return incoming, assignment


def test_distributing_tells_the_handler_not_the_leader(db: Session, blobs: BlobStore) -> None:
    incoming, _ = _assign(db, blobs, to_user=SPECIALIST, deadline=today_vn() + dt.timedelta(days=9))
    [told] = _of(db, SPECIALIST, Kind.ASSIGNED)
    assert told.subject_type == "incoming" and told.subject_id == incoming.id
    assert told.link == f"/van-ban-den/{incoming.id}" and told.in_app and told.read_at is None
    assert incoming.number_notation in told.text and "hạn" in told.text
    assert _of(db, LEADER) == []
    # to a department: its head takes it
    incoming2, _ = _assign(db, blobs)
    assert [n.subject_id for n in _of(db, HEAD, Kind.ASSIGNED)] == [incoming2.id]


def test_a_channel_of_none_writes_nothing_and_email_goes_to_the_outbox(
        db: Session, blobs: BlobStore) -> None:
    specialist = db.get(User, user_id(db, SPECIALIST))
    specialist.email = "khoi@camau.test"
    head = db.get(User, user_id(db, HEAD))
    head.email = ""  # e-mail chosen, but no address: in the bell only
    db.add_all([Preference(user_id=specialist.id, kind=Kind.ASSIGNED, channel=Channel.EMAIL),
                Preference(user_id=head.id, kind=Kind.ASSIGNED, channel=Channel.BOTH)])
    _assign(db, blobs, to_user=SPECIALIST)
    [row] = _of(db, SPECIALIST, Kind.ASSIGNED)
    assert not row.in_app and row.by_email  # not in the bell
    assert notices.unread_count(db, specialist.id) == 0
    [mail] = db.scalars(select(MailOutbox).where(MailOutbox.user_id == specialist.id)).all()
    assert mail.to_address == "khoi@camau.test" and mail.link == row.link
    assert mail.subject.startswith("[iOffice] Được giao xử lý văn bản")
    _assign(db, blobs)
    assert [n.by_email for n in _of(db, HEAD, Kind.ASSIGNED)] == [False]
    assert db.scalar(select(func.count()).select_from(MailOutbox)
                     .where(MailOutbox.user_id == head.id)) == 0
    db.get(Preference, (specialist.id, Kind.ASSIGNED)).channel = Channel.NONE
    _assign(db, blobs, to_user=SPECIALIST)
    assert len(_of(db, SPECIALIST, Kind.ASSIGNED)) == 1  # nothing more


def test_preferences_refuse_an_unknown_channel(db: Session) -> None:
    uid = user_id(db, SPECIALIST)
    chosen = {k.value: "app" for k in Kind} | {Kind.CHASED.value: "pigeon"}
    with pytest.raises(notices.PreferenceError, match="Lãnh đạo đôn đốc"):
        notices.set_preferences(db, uid, chosen, False)
    prefs = notices.set_preferences(db, uid, chosen | {Kind.CHASED.value: "both"}, True)
    assert prefs.channels[Kind.CHASED] is Channel.BOTH and prefs.daily_digest


def test_review_tells_who_acts_next_and_a_return_tells_the_drafter(
        db: Session, blobs: BlobStore) -> None:
    doc = new_draft(db, blobs)
    review.submit(db, actor(db, SPECIALIST), doc.id)
    db.flush()
    step = review.current_step(db, doc)
    people = review.route_step(db, doc, step).people
    assert people
    for person in people:
        assert [n.kind for n in db.scalars(select(Notification).where(
            Notification.user_id == person.id, Notification.subject_id == doc.id))] == [Kind.TO_REVIEW]
    reviewer = next(p for p in people)
    review.send_back(db, actor(db, reviewer.username), doc.id, "Sửa lại phần kinh phí.")
    db.flush()
    [returned] = _of(db, SPECIALIST, Kind.RETURNED)
    assert "Sửa lại phần kinh phí." in returned.text and returned.link == f"/van-ban-di/{doc.id}"


def test_reminders_before_the_deadline_and_once_passed_each_once(
        db: Session, blobs: BlobStore) -> None:
    today = today_vn()
    _, soon = _assign(db, blobs, to_user=SPECIALIST, deadline=today + dt.timedelta(days=2),
                      document_date=today - dt.timedelta(days=20))
    _, later = _assign(db, blobs, to_user=SPECIALIST, deadline=today + dt.timedelta(days=5),
                       document_date=today - dt.timedelta(days=20))
    _, late = _assign(db, blobs, deadline=today - dt.timedelta(days=1),
                      document_date=today - dt.timedelta(days=20))
    _, done = _assign(db, blobs, to_user=SPECIALIST, deadline=today - dt.timedelta(days=1),
                      document_date=today - dt.timedelta(days=20))
    handling.finish(db, actor(db, SPECIALIST), done.id, "Đã xong.")
    reminders.remind(db, today)
    sent = {(r.assignment_id, r.kind) for r in db.scalars(select(ReminderSent))}
    assert (soon.id, Kind.DUE_SOON) in sent and (late.id, Kind.OVERDUE) in sent
    assert not {a for a, _ in sent} & {later.id, done.id}
    assert [n.kind for n in _of(db, SPECIALIST) if n.kind in (Kind.DUE_SOON, Kind.OVERDUE)] == [
        Kind.DUE_SOON]
    assert [n.kind for n in _of(db, HEAD, Kind.OVERDUE)] == [Kind.OVERDUE]  # the department's head
    assert "còn 2 ngày" in _of(db, SPECIALIST, Kind.DUE_SOON)[0].text
    before = db.scalar(select(func.count()).select_from(Notification))
    reminders.remind(db, today)  # run again: nothing twice
    assert db.scalar(select(func.count()).select_from(Notification)) == before
    # the agency reminds 5 days ahead: the later one too; the day after its deadline, overdue
    reminders.set_days_before(db, actor(db, "admin.camau") if _has(db, "admin.camau")
                              else _admin(db), 5)
    reminders.remind(db, today)
    assert (later.id, Kind.DUE_SOON) in {(r.assignment_id, r.kind)
                                         for r in db.scalars(select(ReminderSent))}
    reminders.remind(db, today + dt.timedelta(days=3))
    assert (soon.id, Kind.OVERDUE) in {(r.assignment_id, r.kind)
                                       for r in db.scalars(select(ReminderSent))}


def _has(db: Session, username: str) -> bool:
    return db.scalar(select(User.id).where(User.username == username)) is not None


def _admin(db: Session):
    from ioffice.agencies.models import Membership, MembershipRole, Role

    username = db.scalar(select(User.username).join(Membership, Membership.user_id == User.id)
                         .join(MembershipRole, MembershipRole.membership_id == Membership.id)
                         .where(Membership.agency_id == actor(db, CLERK).agency_id,
                                MembershipRole.role == Role.ADMIN))
    return actor(db, username)


@pytest.mark.parametrize("days", [None, -1, 31])
def test_reminder_days_out_of_range_are_refused(db: Session, days: int | None) -> None:
    with pytest.raises(InvalidInput, match="từ 0 đến 30"):
        reminders.set_days_before(db, _admin(db), days)


def test_reminder_days_are_the_admins(db: Session) -> None:
    with pytest.raises(Forbidden):
        reminders.set_days_before(db, actor(db, LEADER), 3)


def test_a_leader_chases_an_assignment(db: Session, blobs: BlobStore) -> None:
    incoming, assignment = _assign(db, blobs, to_user=SPECIALIST)
    chase = chases.chase_assignment(db, actor(db, LEADER), assignment.id, "  Báo cáo trước thứ Sáu. ")
    assert (chase.assignment_id, chase.note, chase.by_id) == (
        assignment.id, "Báo cáo trước thứ Sáu.", user_id(db, LEADER))
    assert chase.department_id == department(db, actor(db, CLERK), "TTTT").id
    [told] = _of(db, SPECIALIST, Kind.CHASED)
    assert "Báo cáo trước thứ Sáu." in told.text and told.subject_id == incoming.id
    assert db.scalar(select(AuditEvent.id).where(
        AuditEvent.tag == "incoming:assignment:chase",
        AuditEvent.subject_id == str(incoming.id))) is not None


def test_chasing_bad_input(db: Session, blobs: BlobStore) -> None:
    _, assignment = _assign(db, blobs, to_user=SPECIALIST)
    leader = actor(db, LEADER)
    with pytest.raises(InvalidInput, match="nội dung đôn đốc"):
        chases.chase_assignment(db, leader, assignment.id, "   ")
    with pytest.raises(InvalidInput, match="dài quá"):
        chases.chase_assignment(db, leader, assignment.id, "x" * 2001)
    with pytest.raises(Forbidden):
        chases.chase_assignment(db, actor(db, CLERK), assignment.id, "Nhanh lên.")
    with pytest.raises(NotFound):  # another agency's leader
        chases.chase_assignment(db, actor(db, "lanhdao.bnv"), assignment.id, "Nhanh lên.")
    handling.finish(db, actor(db, SPECIALIST), assignment.id, "Đã xong.")
    assert assignment.status is AssignmentStatus.DONE
    with pytest.raises(IncomingError, match="«Hoàn thành»: không đôn đốc được"):
        chases.chase_assignment(db, leader, assignment.id, "Nhanh lên.")
    assert db.scalar(select(func.count()).select_from(Chase)) == 0


def test_a_leader_chases_a_department(db: Session, blobs: BlobStore) -> None:
    leader = actor(db, LEADER)
    tttt = department(db, leader, "TTTT")
    with pytest.raises(IncomingError, match="không có việc nào đang xử lý"):
        chases.chase_department(db, leader, tttt.id, "Đẩy nhanh tiến độ.")
    doc1, _ = _assign(db, blobs)  # to the department
    doc2, _ = _assign(db, blobs, to_user=SPECIALIST)  # to one of its people
    chase = chases.chase_department(db, leader, tttt.id, "Đẩy nhanh tiến độ.")
    assert chase.assignment_id is None and chase.department_id == tttt.id
    assert len(_of(db, HEAD, Kind.CHASED)) == 1 and len(_of(db, SPECIALIST, Kind.CHASED)) == 1
    events = set(db.scalars(select(AuditEvent.subject_id).where(
        AuditEvent.tag == "incoming:assignment:chase")))
    assert events == {str(doc1.id), str(doc2.id)}
    with pytest.raises(NotFound):
        chases.chase_department(db, actor(db, "lanhdao.bnv"), tttt.id, "Đẩy nhanh.")


def test_the_bell_the_list_and_opening(db: Session, blobs: BlobStore, app, client: FlaskClient,
                                       login_as) -> None:
    incoming, _ = _assign(db, blobs, to_user=SPECIALIST)
    other, _ = _assign(db, blobs, to_user=SPECIALIST)
    db.commit()
    login_as(SPECIALIST)
    page = client.get("/van-ban-den/?tab=can-xu-ly").get_data(as_text=True)
    assert 'data-stream="/thong-bao/su-kien"' in page  # the count comes from the stream
    assert '"unread": 2' in client.get("/thong-bao/su-kien").get_data(as_text=True)
    assert page.count(' unread">') == 2  # both rows bold
    listing = client.get("/thong-bao/").get_data(as_text=True)
    assert incoming.number_notation in listing
    [first] = [n for n in _of(db, SPECIALIST) if n.subject_id == incoming.id]
    resp = client.get(f"/thong-bao/{first.id}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/van-ban-den/{incoming.id}")
    db.expire_all()
    assert db.get(Notification, first.id).read_at is not None
    page = client.get("/van-ban-den/?tab=can-xu-ly").get_data(as_text=True)
    assert page.count(' unread">') == 1
    assert '"unread": 1' in client.get("/thong-bao/su-kien").get_data(as_text=True)
    client.get(f"/van-ban-den/{other.id}")  # opening the document reads what told of it
    db.expire_all()
    assert notices.unread_count(db, user_id(db, SPECIALIST)) == 0
    # someone else's notification: not found
    other_client = app.test_client()
    assert login(other_client, HEAD).status_code == 302
    assert other_client.get(f"/thong-bao/{first.id}").status_code == 404


def test_the_live_stream_sends_retry_and_the_count(db: Session, blobs: BlobStore, app,
                                                   client: FlaskClient, login_as) -> None:
    _assign(db, blobs, to_user=SPECIALIST)
    db.commit()
    login_as(SPECIALIST)
    threaded = {"wsgi.multithread": True}  # as gunicorn's gthread worker says
    resp = client.get("/thong-bao/su-kien", environ_overrides=threaded)
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    assert resp.headers["X-Accel-Buffering"] == "no"
    body = resp.get_data(as_text=True)
    assert body.startswith("retry: 2000\n\n")
    assert "event: count\n" in body and '"unread": 1' in body
    # every slot streaming: the count once, and come back later
    slots = app.extensions["ioffice.notify.streams"]
    taken = 0
    while slots.acquire(blocking=False):
        taken += 1
    try:
        body = client.get("/thong-bao/su-kien", environ_overrides=threaded).get_data(as_text=True)
    finally:
        for _ in range(taken):
            slots.release()
    assert body.startswith("retry: 5000\n\n") and '"unread": 1' in body
    # a server of one thread per process (gunicorn's sync worker): never held by a stream
    started = time.monotonic()
    body = client.get("/thong-bao/su-kien").get_data(as_text=True)
    assert body.startswith("retry: 5000\n\n") and '"unread": 1' in body
    assert time.monotonic() - started < 5  # answered, not streamed for NOTIFY_STREAM_SECONDS


def test_preferences_page(db: Session, client: FlaskClient, login_as) -> None:
    login_as(SPECIALIST)
    assert "Lãnh đạo đôn đốc" in client.get("/thong-bao/cai-dat").get_data(as_text=True)
    token = csrf_token(client, "/thong-bao/cai-dat")
    form = {f"kind_{k.value}": "app" for k in Kind} | {"csrf_token": token}
    resp = client.post("/thong-bao/cai-dat", data=form | {"kind_chased": "both", "daily_digest": "1"})
    assert resp.status_code == 302
    resp = client.post("/thong-bao/cai-dat", data=form | {"kind_chased": "?"})
    assert resp.status_code == 422 and "Chưa chọn cách nhận" in resp.get_data(as_text=True)
    prefs = notices.preferences(db, user_id(db, SPECIALIST))
    assert prefs.channels[Kind.CHASED] is Channel.BOTH and prefs.daily_digest


def test_chase_pages(db: Session, blobs: BlobStore, client: FlaskClient, login_as) -> None:
    incoming, assignment = _assign(db, blobs, to_user=SPECIALIST)
    db.commit()
    login_as(LEADER)
    page = client.get(f"/van-ban-den/{incoming.id}").get_data(as_text=True)
    assert f"/van-ban-den/don-doc/viec/{assignment.id}" in page
    token = csrf_token(client, f"/van-ban-den/{incoming.id}")
    resp = client.post(f"/van-ban-den/don-doc/viec/{assignment.id}",
                       data={"csrf_token": token, "note": "Khẩn trương."})
    assert resp.status_code == 302
    assert "Đã gửi đôn đốc" in client.get(resp.headers["Location"]).get_data(as_text=True)
    resp = client.post(f"/van-ban-den/don-doc/viec/{assignment.id}",
                       data={"csrf_token": token, "note": ""})
    assert "Phải ghi nội dung đôn đốc." in client.get(resp.headers["Location"]).get_data(as_text=True)
    tttt = department(db, actor(db, CLERK), "TTTT").id
    page = client.get(f"/van-ban-den/theo-doi?phong={tttt}").get_data(as_text=True)
    assert 'id="chase-department"' in page
    resp = client.post("/van-ban-den/don-doc/don-vi", data={
        "csrf_token": token, "department_id": str(tttt), "note": "Cả phòng khẩn trương.",
        "back": f"/van-ban-den/theo-doi?phong={tttt}"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"theo-doi?phong={tttt}")
    assert len(_of(db, SPECIALIST, Kind.CHASED)) == 2


def test_admin_page_validates_the_days(db: Session, client: FlaskClient, login_as) -> None:
    admin = _admin(db)
    username = db.get(User, admin.user_id).username
    login_as(username)
    token = csrf_token(client, "/quan-tri/thong-bao/")
    for bad in ("abc", "-1", "99", ""):
        resp = client.post("/quan-tri/thong-bao/", data={"csrf_token": token, "days_before": bad})
        assert resp.status_code == 422, bad
    resp = client.post("/quan-tri/thong-bao/", data={"csrf_token": token, "days_before": "4"})
    assert resp.status_code == 302
    assert reminders.days_before(db, admin.agency_id) == 4
