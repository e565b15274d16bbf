"""Dashboards (issue 21): each figure against rows whose answer is known, the period's bad
inputs, who sees which dashboard (per-agency isolation, the province's admin), the exports."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency
from ioffice.dashboards.period import PeriodError, parse_period
from ioffice.dashboards.stats import HANDLING_COLUMNS, compute
from ioffice.exchange.models import ExchangeOutbox, OutboxState
from ioffice.incoming.models import Assignment, IncomingDocument
from ioffice.notifications.models import Chase
from ioffice.outgoing.models import OutgoingDocument, OutgoingRecipient
from tests.conftest import login
from tests.support.factories import actor, department

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboards"
TODAY = dt.date(2026, 6, 15)


def _at(y: int, m: int, d: int, h: int = 9) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=VN).astimezone(dt.UTC)


def _doc(db: Session, agency_id: int, arrived: dt.datetime, *, source: str = "paper",
         status: str = "registered", flags: str = "", registered_after_s: int | None = 3600
         ) -> IncomingDocument:
    doc = IncomingDocument(
        agency_id=agency_id, status=status, source=source, issuer_name="Sở Nội vụ", number="1",
        number_notation="1/SNV", document_date=arrived.date(), doc_type="cong_van",
        subject="Thử thống kê", arrived_at=arrived, receipt_flags=flags,
        registered_at=None if registered_after_s is None else
        arrived + dt.timedelta(seconds=registered_after_s))
    db.add(doc)
    db.flush()
    return doc


def _assign(db: Session, doc: IncomingDocument, by: int, *, user: int | None = None,
            dept: int | None = None, role: str = "lead", status: str = "pending",
            deadline: dt.date | None = None, assigned: dt.datetime,
            finished: dt.datetime | None = None) -> None:
    db.add(Assignment(agency_id=doc.agency_id, document_id=doc.id, role=role,
                      assignee_user_id=user, assignee_department_id=dept, status=status,
                      deadline=deadline, assigned_by_id=by, assigned_at=assigned,
                      finished_at=finished))


def _outgoing(db: Session, agency_id: int, by: int, dispatched: dt.datetime, *, axis: bool,
              signed: bool) -> None:
    doc = OutgoingDocument(agency_id=agency_id, status="dispatched", doc_type="cong_van",
                           subject="Thử", created_by_id=by, signer_id=by, dispatched_at=dispatched,
                           signed_at=dispatched if signed else None)
    db.add(doc)
    db.flush()
    db.add(OutgoingRecipient(document_id=doc.id, kind="agency" if axis else "department",
                             name="Nơi nhận", agency_code="000.00.00.G09" if axis else ""))


@pytest.fixture
def seeded(db: Session) -> dict[str, int]:
    clerk, leader = actor(db, "vanthu.camau"), actor(db, "lanhdao.camau")
    specialist = actor(db, "chuyenvien.camau")
    camau = clerk.agency_id
    other = db.scalars(select(Agency.id).where(Agency.code == "000.00.00.G09")).one()
    dept = department(db, clerk, "TTTT").id
    a1 = _doc(db, camau, _at(2026, 3, 2), source="axis", registered_after_s=7200)
    _doc(db, camau, _at(2026, 3, 20), source="axis", flags="no_valid_pdf_signature",
         registered_after_s=None, status="awaiting_registration")
    _doc(db, camau, _at(2026, 4, 1), registered_after_s=600)
    _doc(db, camau, _at(2026, 4, 2), status="rejected")  # not counted
    _doc(db, camau, _at(2025, 12, 31, 23))  # 31/12 local: before the period
    _doc(db, other, _at(2026, 3, 5))  # another agency
    # 1 May 00:30 local is still April in UTC: counted in May
    _doc(db, camau, dt.datetime(2026, 5, 1, 0, 30, tzinfo=VN).astimezone(dt.UTC))
    start = _at(2026, 5, 1)
    _assign(db, a1, leader.user_id, dept=dept, status="done", deadline=dt.date(2026, 5, 10),
            assigned=start, finished=_at(2026, 5, 10, 16))  # on the deadline day: on time
    _assign(db, a1, leader.user_id, user=specialist.user_id, status="done",
            deadline=dt.date(2026, 5, 3), assigned=start, finished=_at(2026, 5, 5))  # late
    _assign(db, a1, leader.user_id, user=specialist.user_id, status="in_progress",
            deadline=dt.date(2026, 6, 1), assigned=start)  # overdue on 15/06
    _assign(db, a1, leader.user_id, user=specialist.user_id, status="pending",
            deadline=dt.date(2026, 7, 1), assigned=start)  # in time
    _assign(db, a1, leader.user_id, dept=dept, role="info", status="pending", assigned=start)
    _outgoing(db, camau, leader.user_id, _at(2026, 2, 3), axis=True, signed=True)
    _outgoing(db, camau, leader.user_id, _at(2026, 2, 4), axis=False, signed=False)
    db.add_all([
        ExchangeOutbox(agency_id=camau, kind="edoc", document_identifier="x", recipients=[],
                       payload={}, state=OutboxState.PENDING),
        ExchangeOutbox(agency_id=camau, kind="edoc", document_identifier="y", recipients=[],
                       payload={}, state=OutboxState.DEAD),
        ExchangeOutbox(agency_id=camau, kind="edoc", document_identifier="z", recipients=[],
                       payload={}, state=OutboxState.SENT, created_at=_at(2026, 2, 3),
                       sent_at=_at(2026, 2, 3) + dt.timedelta(seconds=90)),
    ])
    db.commit()
    return {"camau": camau, "other": other, "specialist": specialist.user_id, "dept": dept}


def test_each_figure_counts_what_its_definition_says(db: Session, seeded: dict[str, int]) -> None:
    period = parse_period("2026-01", "2026-06", today=TODAY, tz=VN)
    d = compute(db, [seeded["camau"]], period, today=TODAY)
    months = {r.month: r for r in d.incoming}
    assert list(months) == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert (months["2026-03"].axis, months["2026-03"].other, months["2026-03"].signed) == (2, 0, 1)
    assert (months["2026-04"].axis, months["2026-04"].other) == (0, 1)
    assert months["2026-05"].other == 1 and d.incoming_total == 4
    assert d.incoming_signed_share == pytest.approx(0.25)
    assert d.register_avg_s["axis"] == pytest.approx(7200)
    assert d.register_avg_s["paper"] == pytest.approx((600 + 3600) / 2)
    out = {r.month: r for r in d.outgoing}
    assert (out["2026-02"].axis, out["2026-02"].other, out["2026-02"].signed) == (1, 1, 1)
    assert d.outgoing_signed_share == pytest.approx(0.5)
    [dept] = d.departments
    assert (dept.total, dept.on_time, dept.late, dept.overdue) == (1, 1, 0, 0)
    [person] = d.people
    assert (person.total, person.on_time, person.late, person.open_in_time, person.overdue) == (
        3, 0, 1, 1, 1)
    assert d.totals.overdue == 1 and d.totals.on_time_rate == pytest.approx(0.5)
    # (9 days 7 h + 4 days) / 2
    assert d.finish_avg_s == pytest.approx(((9 * 24 + 7) * 3600 + 4 * 24 * 3600) / 2)
    ex = d.exchange
    assert (ex.pending, ex.dead, ex.sent) == (1, 1, 1)
    assert ex.mean_delivery_s == pytest.approx(90)


def test_chases_are_counted_for_whom_they_chased(db: Session, seeded: dict[str, int]) -> None:
    """A chase of a person's assignment counts for the person, one of a department's
    assignment or of the department's open work for the department; outside the period and
    another agency's chases do not count."""
    leader = actor(db, "lanhdao.camau")
    mine = db.scalars(select(Assignment).where(Assignment.agency_id == seeded["camau"],
                                               Assignment.role == "lead")).all()
    person = next(a for a in mine if a.assignee_user_id and a.status == "in_progress")
    dept_assignment = next(a for a in mine if a.assignee_department_id)
    db.add_all([
        Chase(agency_id=seeded["camau"], assignment_id=person.id, by_id=leader.user_id,
              note="Khẩn trương", created_at=_at(2026, 6, 2)),
        Chase(agency_id=seeded["camau"], assignment_id=person.id, by_id=leader.user_id,
              note="Lần hai", created_at=_at(2026, 6, 10)),
        Chase(agency_id=seeded["camau"], assignment_id=dept_assignment.id, by_id=leader.user_id,
              note="Phòng", created_at=_at(2026, 5, 20)),
        Chase(agency_id=seeded["camau"], department_id=seeded["dept"], by_id=leader.user_id,
              note="Cả phòng", created_at=_at(2026, 5, 21)),
        Chase(agency_id=seeded["camau"], assignment_id=person.id, by_id=leader.user_id,
              note="Năm trước", created_at=_at(2025, 6, 1)),
    ])
    db.commit()
    d = compute(db, [seeded["camau"]], parse_period("2026-01", "2026-06", today=TODAY, tz=VN),
                today=TODAY)
    [dept] = d.departments
    [someone] = d.people
    assert (someone.chases, dept.chases) == (2, 2)
    assert ("chases", "Số lần đôn đốc") in HANDLING_COLUMNS
    other = compute(db, [seeded["other"]], parse_period("2026-01", "2026-06", today=TODAY, tz=VN),
                    today=TODAY)
    assert all(r.chases == 0 for r in other.departments + other.people)


def test_another_agency_s_figures_are_its_own(db: Session, seeded: dict[str, int]) -> None:
    period = parse_period("2026-01", "2026-06", today=TODAY, tz=VN)
    d = compute(db, [seeded["other"]], period, today=TODAY)
    assert d.incoming_total == 1 and not d.people and d.exchange.pending == 0


@pytest.mark.parametrize(("first", "last", "words"), [
    ("2010-01", "2020-02", "quá giới hạn 10 năm"),
    ("2026-05", "2026-01", "phải trước"),
    ("2026-13", "2026-12", "không hợp lệ"),
    ("26-01", "2026-12", "không hợp lệ"),
    ("2026-01", "2026/12", "không hợp lệ"),
    ("x' OR 1=1", None, "không hợp lệ"),
])
def test_a_bad_period_is_refused_with_a_message(first, last, words) -> None:
    with pytest.raises(PeriodError, match=words):
        parse_period(first, last, today=TODAY, tz=VN)


def test_the_default_period_is_the_last_twelve_months_and_ten_years_pass() -> None:
    p = parse_period(None, None, today=TODAY, tz=VN)
    assert (p.first, p.last, len(p.months)) == (dt.date(2025, 7, 1), dt.date(2026, 6, 1), 12)
    assert len(parse_period("2017-01", "2026-12", today=TODAY, tz=VN).months) == 120
    assert p.start == dt.datetime(2025, 6, 30, 17, tzinfo=dt.UTC)


def test_a_leader_sees_charts_each_followed_by_its_table(
        client: FlaskClient, seeded: dict[str, int]) -> None:
    login(client, "lanhdao.camau")
    page = client.get("/thong-ke/?tu=2026-01&den=2026-06")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for key in ("incoming", "outgoing", "departments", "people"):
        chart, table = html.index(f'id="chart-{key}"'), html.index(f'id="table-{key}"')
        assert chart < table
    assert "<title id=\"chart-incoming-t\">Văn bản đến theo tháng</title>" in html
    assert "Sở Thông tin và Truyền thông" in html and "Quá hạn, chưa xong" in html


@pytest.mark.parametrize(("query", "words"), [
    ("tu=2010-01&den=2026-01", "quá giới hạn 10 năm"),
    ("tu=2026-06&den=2026-01", "phải trước"),
    ("tu=hom-qua", "không hợp lệ"),
])
def test_the_page_refuses_a_bad_period_with_its_message(client: FlaskClient, query, words) -> None:
    login(client, "vanthu.camau")
    for path in ("/thong-ke/", "/thong-ke/tinh"):
        page = client.get(f"{path}?{query}")
        assert page.status_code == 400 and words in page.get_data(as_text=True)
    assert client.get(f"/thong-ke/xuat.xlsx?{query}").status_code == 400


def test_who_sees_which_dashboard(client: FlaskClient, db: Session, seeded) -> None:
    assert login(client, "chuyenvien.camau").status_code == 302
    assert client.get("/thong-ke/").status_code == 403
    assert client.get("/thong-ke/tinh").status_code == 403
    client.post("/dang-xuat")
    for username, agency_page, province_page in (("lanhdao.camau", 200, 403),
                                                 ("vanthu.camau", 200, 200),
                                                 ("vanthu.uminh", 200, 403)):
        c = client.application.test_client()
        assert login(c, username).status_code == 302
        assert c.get("/thong-ke/").status_code == agency_page, username
        assert c.get("/thong-ke/tinh").status_code == province_page, username


def test_the_province_admin_sees_every_agency_of_the_province_and_no_other(
        client: FlaskClient, db: Session, seeded) -> None:
    login(client, "vanthu.camau")
    page = client.get("/thong-ke/tinh?tu=2026-01&den=2026-06").get_data(as_text=True)
    assert "Ủy ban nhân dân huyện U Minh" in page and "Ủy ban nhân dân xã Trần Hợi" in page
    assert "Bộ Nội vụ" not in page
    uminh = db.scalars(select(Agency.id).where(Agency.code == "000.00.21.H12")).one()
    assert client.get(f"/thong-ke/tinh/co-quan/{uminh}").status_code == 200
    assert client.get(f"/thong-ke/tinh/co-quan/{seeded['other']}").status_code == 404
    assert client.get("/thong-ke/tinh/co-quan/987654321").status_code == 404


def test_the_xlsx_holds_the_figures_of_the_page(client: FlaskClient, seeded) -> None:
    login(client, "lanhdao.camau")
    resp = client.get("/thong-ke/xuat.xlsx?tu=2026-01&den=2026-06")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames[:5] == ["Tổng hợp", "Văn bản đến", "Văn bản đi", "Theo phòng ban",
                                 "Theo cá nhân"]
    rows = list(wb["Văn bản đến"].iter_rows(min_row=5, values_only=True))
    assert ("03/2026", 2, 0, 2, 1) in rows
    assert wb["Văn bản đến"]._charts, "a native chart of the months"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_the_pdf_is_the_workbook_printed(client: FlaskClient, seeded) -> None:
    login(client, "vanthu.camau")
    resp = client.get("/thong-ke/tinh/xuat.pdf?tu=2026-01&den=2026-06")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # looked at with pdftoppm (docs/dashboards.md)
    (ARTIFACTS / "thong-ke-tinh.pdf").write_bytes(resp.data)
