"""Work nobody can do (issue 16): distributing to a department nobody could act for, or to a
person who left, is refused; the admin sees assignments whose handler left and gives them to
someone else."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Membership, User
from ioffice.errors import Forbidden
from ioffice.incoming import handling, queries, stuck
from ioffice.incoming.access import can_handle
from ioffice.incoming.errors import IncomingError, InvalidInput
from ioffice.incoming.handling import DistributionInput, Target
from ioffice.incoming.models import AssignmentStatus
from ioffice.incoming.registration import today_vn
from ioffice.storage import BlobStore
from tests.support.factories import actor, department, register, user_id

CLERK, LEADER, HEAD, SPECIALIST = ("vanthu.camau", "lanhdao.camau", "truongphong.camau",
                                   "chuyenvien.camau")


@pytest.fixture
def doc(db: Session, blobs: BlobStore):
    return register(db, blobs, actor(db, CLERK))


def _deactivate(db: Session, username: str) -> None:
    db.get(User, user_id(db, username)).active = False
    db.flush()


def _to(db: Session, doc, lead: Target, **more):
    return handling.distribute(db, actor(db, LEADER), doc.id, DistributionInput(lead=lead, **more))


def test_a_department_without_anyone_is_refused(db: Session, doc) -> None:
    kt = department(db, actor(db, LEADER), "KT")  # the demo's KT has no members
    with pytest.raises(InvalidInput, match="Phòng Kinh tế - Ngành không có ai đang hoạt động"):
        _to(db, doc, Target("department", kt.id))
    assert not doc.assignments


def test_a_department_without_a_head_takes_no_work_but_may_be_informed(db: Session, doc) -> None:
    leader = actor(db, LEADER)
    vp, tttt = department(db, leader, "VP"), department(db, leader, "TTTT")
    with pytest.raises(InvalidInput, match=r"không có trưởng đơn vị đang hoạt động.*hãy giao "
                                           r"trực tiếp cho một người"):
        _to(db, doc, Target("department", vp.id))
    with pytest.raises(InvalidInput, match="không có trưởng đơn vị"):
        _to(db, doc, Target("department", tttt.id), co_handlers=(Target("department", vp.id),))
    _lead, info = _to(db, doc, Target("department", tttt.id),
                      for_information=(Target("department", vp.id),))
    assert info.status is AssignmentStatus.DONE


def test_a_department_whose_head_left_is_refused(db: Session, doc) -> None:
    _deactivate(db, HEAD)
    tttt = department(db, actor(db, LEADER), "TTTT")
    with pytest.raises(InvalidInput, match="Sở Thông tin và Truyền thông không có trưởng đơn vị"):
        _to(db, doc, Target("department", tttt.id))


def test_an_inactive_person_gets_no_work(db: Session, doc) -> None:
    _deactivate(db, SPECIALIST)
    with pytest.raises(InvalidInput, match="Tài khoản của Lý Minh Khôi đã ngừng hoạt động"):
        _to(db, doc, Target("user", user_id(db, SPECIALIST)))


def test_pass_on_to_an_inactive_person_is_refused(db: Session, doc) -> None:
    [lead] = _to(db, doc, Target("department", department(db, actor(db, LEADER), "TTTT").id))
    _deactivate(db, SPECIALIST)
    with pytest.raises(InvalidInput, match="đã ngừng hoạt động"):
        handling.pass_on(db, actor(db, HEAD), lead.id, user_id(db, SPECIALIST), None)
    assert lead.status is AssignmentStatus.PENDING


def test_the_admin_moves_work_whose_handler_left(db: Session, doc) -> None:
    admin = actor(db, CLERK)  # the demo's clerk is also the agency's admin
    [lead] = _to(db, doc, Target("user", user_id(db, SPECIALIST),
                                 today_vn() + dt.timedelta(days=5)))
    assert not stuck.stuck_assignments(db, admin)
    _deactivate(db, SPECIALIST)
    [item] = stuck.stuck_assignments(db, admin)
    assert item.assignment.id == lead.id and "Lý Minh Khôi đã ngừng hoạt động" in item.reason
    with pytest.raises(InvalidInput, match="Phải ghi lý do"):
        stuck.reassign(db, admin, lead.id, user_id(db, HEAD), "")
    with pytest.raises(InvalidInput, match="không phải người đang hoạt động"):
        stuck.reassign(db, admin, lead.id, user_id(db, SPECIALIST), "Nghỉ việc")
    stuck.reassign(db, admin, lead.id, user_id(db, HEAD), "Chuyên viên nghỉ việc")
    assert can_handle(actor(db, HEAD), lead) and not stuck.stuck_assignments(db, admin)
    handling.finish(db, actor(db, HEAD), lead.id, "Đã báo cáo.")
    history = queries.history(db, doc)
    [moved] = [h for h in history if h.tag == "incoming:assignment:reassign"]
    assert moved.details["note"] == "từ Lý Minh Khôi sang Nguyễn Hoàng Phúc; lý do: Chuyên viên nghỉ việc"
    with pytest.raises(IncomingError, match="không chuyển được"):
        stuck.reassign(db, admin, lead.id, user_id(db, CLERK), "Lần nữa")


def test_work_passed_on_to_someone_who_left_the_department_is_stuck(db: Session, doc) -> None:
    [lead] = _to(db, doc, Target("department", department(db, actor(db, LEADER), "TTTT").id))
    child = handling.pass_on(db, actor(db, HEAD), lead.id, user_id(db, SPECIALIST), None)
    membership = db.scalars(select(Membership).where(
        Membership.user_id == user_id(db, SPECIALIST))).one()
    membership.department_id = department(db, actor(db, LEADER), "VP").id
    db.flush()
    [item] = stuck.stuck_assignments(db, actor(db, CLERK))
    assert item.assignment.id == child.id and "đã rời Sở Thông tin và Truyền thông" in item.reason


def test_a_department_s_work_is_stuck_when_its_head_leaves(db: Session, doc) -> None:
    [lead] = _to(db, doc, Target("department", department(db, actor(db, LEADER), "TTTT").id))
    _deactivate(db, HEAD)
    [item] = stuck.stuck_assignments(db, actor(db, CLERK))
    assert item.assignment.id == lead.id and "không có trưởng đơn vị" in item.reason


def test_only_the_admin_sees_and_moves_stuck_work(db: Session, doc) -> None:
    [lead] = _to(db, doc, Target("user", user_id(db, SPECIALIST)))
    for who in (LEADER, HEAD):
        with pytest.raises(Forbidden):
            stuck.stuck_assignments(db, actor(db, who))
        with pytest.raises(Forbidden):
            stuck.reassign(db, actor(db, who), lead.id, user_id(db, HEAD), "Thử")


def test_the_distribution_form_offers_no_deactivated_person(db: Session, doc, client, login_as
                                                            ) -> None:
    _deactivate(db, SPECIALIST)
    db.commit()
    login_as(LEADER)
    html = client.get(f"/van-ban-den/{doc.id}").get_data(as_text=True)
    assert f'value="user:{user_id(db, HEAD)}"' in html
    assert f'value="user:{user_id(db, SPECIALIST)}"' not in html
