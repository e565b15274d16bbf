"""The web input rule: control characters and bidi overrides refused naming the field, NFC on
the way in, and integers no database can hold answering 400/404 instead of 500."""

from __future__ import annotations

import base64
import io
import json
import unicodedata

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.incoming.models import IncomingDocument
from ioffice.web.inputs import local_path
from tests.conftest import csrf_token, login
from tests.incoming.test_web import _form

HUGE = str(2**64)
REFUSED = {"\x00": "U+0000", "\x07": "U+0007", "\x1b": "U+001B", "\u202e": "U+202E",
           "\u202a": "U+202A", "\u2066": "U+2066", "\u2069": "U+2069"}


def _count(db: Session) -> int:
    return db.scalar(select(func.count(IncomingDocument.id)))


@pytest.mark.parametrize("char", sorted(REFUSED))
def test_a_refused_character_in_a_field_answers_422_naming_it(client: FlaskClient, db: Session,
                                                              char: str) -> None:
    login(client, "vanthu.camau")
    before = _count(db)
    resp = client.post("/van-ban-den/vao-so", content_type="multipart/form-data",
                       data=_form(client, subject=f"Về việc{char} thử nghiệm"))
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "Trích yếu" in page and REFUSED[char] in page
    assert "không được phép" in page
    assert _count(db) == before


def test_a_file_name_with_a_right_to_left_override_is_refused(client: FlaskClient,
                                                              db: Session) -> None:
    login(client, "vanthu.camau")
    before = _count(db)
    from tests.support.factories import pdf

    resp = client.post("/van-ban-den/vao-so", content_type="multipart/form-data",
                       data=_form(client, files=(io.BytesIO(pdf()), "cong-van\u202efdp.exe")))
    assert resp.status_code == 422 and "U+202E" in resp.get_data(as_text=True)
    assert _count(db) == before


def test_tab_and_newlines_are_kept_and_nfd_is_stored_as_nfc(client: FlaskClient,
                                                            db: Session) -> None:
    login(client, "vanthu.camau")
    subject = "Về việc kiểm tra\tcông tác\r\nnăm 2026"
    issuer = unicodedata.normalize("NFD", "Sở Nội vụ tỉnh Bạc Liêu")
    assert issuer != unicodedata.normalize("NFC", issuer)
    resp = client.post("/van-ban-den/vao-so", content_type="multipart/form-data",
                       data=_form(client, subject=unicodedata.normalize("NFD", subject),
                                  issuer_name=issuer))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    doc = db.scalars(select(IncomingDocument).order_by(IncomingDocument.id.desc())).first()
    assert doc.issuer_name == "Sở Nội vụ tỉnh Bạc Liêu"  # NFC
    assert doc.subject == " ".join(subject.split())  # the service folds the whitespace


def test_the_register_filter_typed_in_nfd_finds_nfc_text(client: FlaskClient) -> None:
    login(client, "vanthu.camau")
    resp = client.post("/van-ban-den/vao-so", content_type="multipart/form-data",
                       data=_form(client, issuer_name="Sở Nội vụ tỉnh Bạc Liêu"))
    assert resp.status_code == 302
    nfd = unicodedata.normalize("NFD", "Nội vụ tỉnh Bạc")
    page = client.get("/van-ban-den/so", query_string={"noi_gui": nfd}).get_data(as_text=True)
    assert "Sở Nội vụ tỉnh Bạc Liêu" in page


@pytest.mark.parametrize("path", [
    f"/van-ban-den/{HUGE}", f"/van-ban-den/{2**63}", f"/van-ban-den/1/tep/{HUGE}",
    f"/van-ban-den/1/tep/1/trang-{HUGE}.png", f"/van-ban-di/{HUGE}", f"/van-ban-den/{'9' * 400}",
])
def test_ids_larger_than_any_row_are_not_found(client: FlaskClient, path: str) -> None:
    login(client, "vanthu.camau")
    resp = client.get(path)
    assert resp.status_code == 404
    assert "không tồn tại" in resp.get_data(as_text=True)


@pytest.mark.parametrize("path", [
    f"/van-ban-den/so?nam={HUGE}", f"/van-ban-den/so?sau={HUGE}", f"/van-ban-den/so?thang={HUGE}",
    f"/van-ban-den/so.xlsx?nam={HUGE}", "/van-ban-den/so?nam=abc", "/van-ban-den/so?sau=-1",
    f"/van-ban-den/theo-doi?phong={HUGE}", f"/van-ban-di/so?nam={HUGE}",
    f"/van-ban-di/so?sau={HUGE}", f"/van-ban-di/so.xlsx?nam={HUGE}",
    f"/van-ban-di/moi?tra_loi={HUGE}", "/van-ban-di/moi?tra_loi=1e9",
])
def test_garbage_or_huge_numbers_in_a_query_string_answer_400(client: FlaskClient,
                                                              path: str) -> None:
    login(client, "vanthu.camau")
    resp = client.get(path)
    assert resp.status_code == 400, path
    assert "không hợp lệ" in resp.get_data(as_text=True)


def test_cursors_with_huge_ids_answer_400(client: FlaskClient) -> None:
    login(client, "vanthu.camau")
    search_cursor = base64.urlsafe_b64encode(json.dumps([1.0, 2**70]).encode()).decode()
    resp = client.get("/tim-kiem", query_string={"q": "báo cáo", "sau": search_cursor})
    assert resp.status_code == 400


def test_a_queue_cursor_with_a_huge_id_answers_400(client: FlaskClient) -> None:
    login(client, "chuyenvien.camau")
    resp = client.get("/van-ban-den/", query_string={"tab": "can-xu-ly", "sau": f"-_{HUGE}"})
    assert resp.status_code in (400, 422)
    assert "Con trỏ phân trang không hợp lệ" in resp.get_data(as_text=True)


def test_switching_to_a_huge_agency_id_answers_400(client: FlaskClient) -> None:
    login(client, "vanthu.camau")
    resp = client.post("/chuyen-co-quan", data={"csrf_token": csrf_token(client, "/"),
                                                 "agency_id": HUGE})
    assert resp.status_code == 400
    assert "Yêu cầu không hợp lệ" in resp.get_data(as_text=True)


def test_a_huge_number_in_a_form_field_is_a_field_error(client: FlaskClient) -> None:
    login(client, "chuyenvien.camau")
    token = csrf_token(client, "/van-ban-di/moi")
    resp = client.post("/van-ban-di/moi", data={"csrf_token": token, "signer_id": HUGE,
                                                "subject": "Về việc thử", "doc_type": "cong_van"})
    assert resp.status_code != 500
    assert "Người ký quá lớn" in resp.get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "https://evil.example/",
                                    "javascript:alert(1)", "", None, "van-ban-den"])
def test_a_redirect_after_a_form_never_leaves_the_site(target) -> None:
    assert local_path(target, "/trang-chu") == "/trang-chu"


def test_a_path_of_the_site_is_kept() -> None:
    assert local_path("/van-ban-den/theo-doi?trang=2", "/") == "/van-ban-den/theo-doi?trang=2"
