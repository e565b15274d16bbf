"""/api/v1/dashboards (ioffice/api/dashboard_views.py): the figures the page shows, as JSON and
XLSX; the page's refusals of a period (400 with its message), its roles (403), the token's
scope, another agency outside the province (404)."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency
from ioffice.audit.models import AuditEvent
from tests.api.conftest import bearer
from tests.api.test_outgoing import token
from tests.dashboards.test_dashboards import seeded  # noqa: F401  (a fixture)

PERIOD = {"start": "2026-01", "end": "2026-06"}


def test_a_leader_reads_the_agency_s_figures(client: FlaskClient, db: Session,
                                             seeded: dict[str, int]) -> None:  # noqa: F811
    resp = client.get("/api/v1/dashboards/agency", query_string=PERIOD,
                      headers=bearer(token(db, "lanhdao.camau", scopes=("read",))))
    assert resp.status_code == 200, resp.get_json()
    d = resp.get_json()
    assert d["period"]["months"] == [f"2026-0{m}" for m in range(1, 7)]
    assert d["period"]["label"] == "từ tháng 01/2026 đến tháng 06/2026"
    assert [a["id"] for a in d["agencies"]] == [seeded["camau"]]
    march = next(m for m in d["incoming"] if m["month"] == "2026-03")
    # the same counts the page's table has (tests/dashboards: ("03/2026", 2, 0, 2, 1))
    assert (march["axis"], march["other"], march["total"], march["signed"]) == (2, 0, 2, 1)
    assert d["outgoing_total"] == 2 and d["exchange"]["dead"] == 1
    person = next(p for p in d["people"] if p["total"] == 3)
    # judged against today (after both open deadlines, 1 June and 1 July 2026)
    assert (person["late"], person["overdue"], person["open_in_time"]) == (1, 2, 0)
    assert d["totals"]["total"] == 4
    assert [(r["incoming"], r["outgoing"]) for r in d["by_agency"]] == [(4, 2)]


@pytest.mark.parametrize(("query", "words"), [
    ({"start": "2010-01", "end": "2026-01"}, "quá giới hạn 10 năm"),
    ({"start": "2026-06", "end": "2026-01"}, "phải trước"),
    ({"start": "hom-qua"}, "không hợp lệ"),
])
def test_a_bad_period_answers_400_with_the_page_s_message(client: FlaskClient, db: Session,
                                                         query, words) -> None:
    headers = bearer(token(db, "vanthu.camau", scopes=("read",)))
    for path in ("/api/v1/dashboards/agency", "/api/v1/dashboards/agency/xlsx",
                 "/api/v1/dashboards/province", "/api/v1/dashboards/province/xlsx"):
        resp = client.get(path, query_string=query, headers=headers)
        assert resp.status_code == 400, (path, resp.status_code)
        assert words in resp.get_json()["error"]["message"]


def test_roles_and_scope(client: FlaskClient, db: Session) -> None:
    specialist = bearer(token(db, "chuyenvien.camau", scopes=("read",)))
    assert client.get("/api/v1/dashboards/agency", headers=specialist).status_code == 403
    leader = bearer(token(db, "lanhdao.camau", scopes=("read",)))
    resp = client.get("/api/v1/dashboards/province", headers=leader)
    assert resp.status_code == 403  # not an admin
    # the admin of a district is no admin of the province: the page's message
    resp = client.get("/api/v1/dashboards/province",
                      headers=bearer(token(db, "vanthu.uminh", scopes=("read",),
                                           agency="000.00.21.H12")))
    assert resp.status_code == 403
    assert "cơ quan cấp cao nhất" in resp.get_json()["error"]["message"]
    # a token without the read scope
    resp = client.get("/api/v1/dashboards/agency",
                      headers=bearer(token(db, "lanhdao.camau", scopes=("write",))))
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "insufficient_scope"
    assert client.get("/api/v1/dashboards/agency").status_code == 401


def test_the_province_admin_reads_each_agency_and_no_other(
        client: FlaskClient, db: Session, seeded: dict[str, int]) -> None:  # noqa: F811
    headers = bearer(token(db, "vanthu.camau", scopes=("read",)))
    resp = client.get("/api/v1/dashboards/province", query_string=PERIOD, headers=headers)
    assert resp.status_code == 200
    names = {a["name"] for a in resp.get_json()["agencies"]}
    assert "Ủy ban nhân dân huyện U Minh" in names and "Bộ Nội vụ" not in names
    assert len(resp.get_json()["by_agency"]) == len(names)
    uminh = db.scalars(select(Agency.id).where(Agency.code == "000.00.21.H12")).one()
    resp = client.get("/api/v1/dashboards/province", headers=headers,
                      query_string={**PERIOD, "agency_id": uminh})
    assert [a["id"] for a in resp.get_json()["agencies"]] == [uminh]
    for other in (seeded["other"], 987654321):
        for path in ("/api/v1/dashboards/province", "/api/v1/dashboards/province/xlsx"):
            resp = client.get(path, headers=headers, query_string={**PERIOD, "agency_id": other})
            assert resp.status_code == 404, path
    resp = client.get("/api/v1/dashboards/province", headers=headers,
                      query_string={"agency_id": "x"})
    assert resp.status_code == 422 and "agency_id" in resp.get_json()["error"]["fields"]


def test_the_xlsx_holds_the_page_s_figures_and_is_audited(
        client: FlaskClient, db: Session, seeded: dict[str, int]) -> None:  # noqa: F811
    def exports() -> int:
        return db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.tag == "dashboards:figures:export"))

    before = exports()
    resp = client.get("/api/v1/dashboards/agency/xlsx", query_string=PERIOD,
                      headers=bearer(token(db, "lanhdao.camau", scopes=("read",))))
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    assert "thong-ke-202601-202606.xlsx" in resp.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(resp.data))
    rows = list(wb["Văn bản đến"].iter_rows(min_row=5, values_only=True))
    assert ("03/2026", 2, 0, 2, 1) in rows
    assert exports() == before + 1
