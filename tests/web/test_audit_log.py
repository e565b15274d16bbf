"""The admin's audit log page: the agency's own events only, filters by person, document,
action and period with Vietnamese errors, paging by key, an audited XLSX export; refused to
other roles."""

from __future__ import annotations

import datetime as dt
import io

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.agencies.models import User
from ioffice.audit import viewer
from ioffice.audit.models import AuditEvent
from tests.conftest import login
from tests.incoming.test_web import _form


def _register(client: FlaskClient) -> int:
    resp = client.post("/van-ban-den/vao-so", data=_form(client), content_type="multipart/form-data")
    assert resp.status_code == 302
    return int(resp.location.rstrip("/").rsplit("/", 1)[-1])


def _event_ids(page: str) -> list[int]:
    import re

    return [int(x) for x in re.findall(r'data-event="(\d+)"', page)]


def test_the_log_shows_this_agencys_events_in_words(client: FlaskClient, db: Session) -> None:
    login(client, "vanthu.camau")  # clerk and admin of Cà Mau
    doc_id = _register(client)
    page = client.get("/quan-tri/nhat-ky").get_data(as_text=True)
    assert "Nhật ký hoạt động" in page and "vào sổ văn bản đến" in page and "đăng nhập" in page
    ids = _event_ids(page)
    assert ids == sorted(ids, reverse=True)
    agencies = set(db.scalars(select(AuditEvent.agency_id).where(AuditEvent.id.in_(ids))))
    camau = db.scalar(select(AuditEvent.agency_id).where(AuditEvent.id == ids[0]))
    assert agencies == {camau}
    one = client.get(f"/quan-tri/nhat-ky?doi_tuong=incoming:{doc_id}").get_data(as_text=True)
    shown = _event_ids(one)
    assert shown and all(
        db.get(AuditEvent, i).subject_id == str(doc_id) for i in shown)


def test_filters_by_person_action_and_period(client: FlaskClient, db: Session) -> None:
    login(client, "vanthu.camau")
    clerk = db.scalar(select(User.id).where(User.username == "vanthu.camau"))
    _register(client)
    mine = _event_ids(client.get(f"/quan-tri/nhat-ky?nguoi={clerk}").get_data(as_text=True))
    assert mine and {db.get(AuditEvent, i).actor_id for i in mine} == {clerk}
    logins = _event_ids(client.get("/quan-tri/nhat-ky?hanh_dong=auth").get_data(as_text=True))
    assert logins and all(db.get(AuditEvent, i).tag.startswith("auth:") for i in logins)
    today = dt.date.today()
    later = (today + dt.timedelta(days=2)).strftime("%d/%m/%Y")
    none = client.get(f"/quan-tri/nhat-ky?tu_ngay={later}").get_data(as_text=True)
    assert _event_ids(none) == [] and "Không có hoạt động nào khớp bộ lọc" in none
    window = (today - dt.timedelta(days=1)).strftime("%d/%m/%Y")
    assert _event_ids(client.get(f"/quan-tri/nhat-ky?tu_ngay={window}").get_data(as_text=True))


def test_bad_filters_answer_in_vietnamese(client: FlaskClient) -> None:
    login(client, "vanthu.camau")
    resp = client.get("/quan-tri/nhat-ky?tu_ngay=31/02/2026&den_ngay=hom-qua&doi_tuong=X%3C:1&nguoi=ai")
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "Từ ngày «31/02/2026» không phải là ngày hợp lệ" in page
    assert "Đến ngày «hom-qua» không phải là ngày hợp lệ" in page
    assert "Đối tượng «X&lt;:1» không hợp lệ" in page and "Người thực hiện không hợp lệ" in page
    serial = client.get("/quan-tri/nhat-ky?doi_tuong=certificate:581513533741659721820018")
    assert serial.status_code == 200  # every object the log names can be filtered on
    reversed_ = client.get("/quan-tri/nhat-ky?tu_ngay=05/12/2026&den_ngay=01/12/2026")
    assert "«Đến ngày» phải sau «Từ ngày»" in reversed_.get_data(as_text=True)


def test_pages_by_key(client: FlaskClient, monkeypatch) -> None:
    monkeypatch.setattr(viewer, "PAGE_SIZE", 3)
    login(client, "vanthu.camau")
    _register(client)
    first = client.get("/quan-tri/nhat-ky").get_data(as_text=True)
    ids = _event_ids(first)
    assert len(ids) == 3 and "Cũ hơn" in first
    second = client.get(f"/quan-tri/nhat-ky?truoc={ids[-1]}").get_data(as_text=True)
    more = _event_ids(second)
    assert more and max(more) < min(ids)


def test_export_is_a_workbook_and_is_audited(client: FlaskClient, db: Session) -> None:
    login(client, "vanthu.camau")
    _register(client)
    resp = client.get("/quan-tri/nhat-ky.xlsx?hanh_dong=incoming")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(resp.data)).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[1][0] == "NHẬT KÝ HOẠT ĐỘNG"
    body = [v for v in values[5:] if v[0]]
    assert body and all(v[3].startswith("incoming:") for v in body)
    assert any(v[2] == "vào sổ văn bản đến" for v in body)
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.tag == "audit:log:export")) == 1


def test_other_roles_and_agencies_cannot_read_it(app, client: FlaskClient, db: Session) -> None:
    login(client, "vanthu.camau")
    doc_id = _register(client)
    other = app.test_client()
    login(other, "lanhdao.camau")
    assert other.get("/quan-tri/nhat-ky").status_code == 403
    assert other.get("/quan-tri/nhat-ky.xlsx").status_code == 403
    bnv = app.test_client()
    login(bnv, "vanthu.bnv")  # the admin of another agency
    page = bnv.get(f"/quan-tri/nhat-ky?doi_tuong=incoming:{doc_id}").get_data(as_text=True)
    assert _event_ids(page) == []
    everything = _event_ids(bnv.get("/quan-tri/nhat-ky").get_data(as_text=True))
    # ids are per table: BNV's own events may name a user or a document of its own with this id
    assert not any((db.get(AuditEvent, i).subject_type, db.get(AuditEvent, i).subject_id)
                   == ("incoming", str(doc_id)) for i in everything)
