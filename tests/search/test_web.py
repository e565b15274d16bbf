"""The /tim-kiem page: login required, highlighted results, next-page link, saved searches."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import User
from ioffice.incoming.models import SavedSearch
from tests.conftest import csrf_token


def test_login_required(client: FlaskClient) -> None:
    resp = client.get("/tim-kiem?q=abc")
    assert resp.status_code == 302 and "/dang-nhap" in resp.headers["Location"]


def test_results_highlighted_with_next_page(login_as, make_doc, clerk) -> None:
    client = login_as("vanthu.camau")
    for i in range(23):
        make_doc(clerk.agency_id, f"Quyết định webword số {i}")
    resp = client.get("/tim-kiem?q=quyet+dinh+webword")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<mark>Quyết</mark> <mark>định</mark> <mark>webword</mark>" in html
    assert html.count("<tr>") == 21  # header + 20 results
    link = re.search(r'href="([^"]+)" rel="next">Trang sau', html)
    assert link
    second = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert second.count("<tr>") == 4 and "Trang sau" not in second
    assert 'name="csrf_token"' in html
    # no inline script (the app's own app.js, from /static, is allowed by the CSP)
    assert not re.search(r"<script(?![^>]*\ssrc=)", html) and "style=" not in html


def test_hostile_and_empty_queries(login_as) -> None:
    client = login_as("vanthu.camau")
    assert client.get("/tim-kiem").status_code == 200
    for q in ['"', "NEAR(", "<script>alert(1)</script>", "a:*"]:
        resp = client.get("/tim-kiem", query_string={"q": q})
        assert resp.status_code == 200
        assert "<script>alert" not in resp.get_data(as_text=True)
    resp = client.get("/tim-kiem", query_string={"q": "x" * 600})
    assert resp.status_code == 400 and "quá dài" in resp.get_data(as_text=True)
    resp = client.get("/tim-kiem", query_string={"q": "abc", "sau": "rac"})
    assert resp.status_code == 400 and "không hợp lệ" in resp.get_data(as_text=True)


def test_other_agency_not_shown(login_as, make_doc, actor_for) -> None:
    make_doc(actor_for("vanthu.uminh").agency_id, "Văn bản U Minh uminhonly")
    html = login_as("vanthu.camau").get("/tim-kiem?q=uminhonly").get_data(as_text=True)
    assert "Không tìm thấy văn bản nào" in html


def test_save_run_delete_and_csrf(login_as, db: Session) -> None:
    client = login_as("vanthu.camau")
    assert client.post("/tim-kiem/da-luu", data={"name": "x", "q": "abc"}).status_code == 400
    token = csrf_token(client, "/tim-kiem?q=abc")
    resp = client.post("/tim-kiem/da-luu", data={"csrf_token": token, "name": "Của tôi", "q": "ke hoach"})
    assert resp.status_code == 302
    user = db.scalars(select(User).where(User.username == "vanthu.camau")).one()
    saved = db.scalars(select(SavedSearch).where(SavedSearch.user_id == user.id)).one()
    page = client.get("/tim-kiem").get_data(as_text=True)
    assert "Của tôi" in page
    run = client.get(f"/tim-kiem/da-luu/{saved.id}")
    assert run.status_code == 302 and "q=ke+hoach" in run.headers["Location"]
    client.post("/dang-xuat", data={"csrf_token": csrf_token(client, "/tim-kiem")})
    other = login_as("lanhdao.camau")
    assert other.get(f"/tim-kiem/da-luu/{saved.id}").status_code == 404
    token = csrf_token(other, "/tim-kiem")
    assert other.post(f"/tim-kiem/da-luu/{saved.id}/xoa", data={"csrf_token": token}).status_code == 404
