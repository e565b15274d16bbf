"""Forms across the app (docs/forms.md): kept input on admin forms, one spelling, local time,
the browser's checks rendered from the server's config."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from flask import Flask, render_template_string
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.conftest import csrf_token, login
from tests.support.factories import actor, department

ROOT = Path(__file__).resolve().parents[2]
# a tone mark on the second vowel of an open "oa", "oe", "uy" syllable ("khoá", "hoà", "thuỷ"):
# the project writes "khóa", "hòa", "thủy" ("quý" and closed syllables like "hoàn" are not this)
OLD_TONE = re.compile(r"(?<![qQ])([oO][áàảãạéèẻẽẹ]|[uU][ýỳỷỹỵ])(?![a-zA-Zà-ỹÀ-Ỹđ])")


def test_one_spelling_of_tone_marks_in_templates_and_messages() -> None:
    files = [*(ROOT / "ioffice").rglob("*.py"), *(ROOT / "ioffice").rglob("*.html"),
             *(ROOT / "ioffice").rglob("*.js")]
    found = [f"{p.relative_to(ROOT)}:{n}: {m.group(0)}" for p in files
             for n, line in enumerate(p.read_text().splitlines(), 1)
             for m in OLD_TONE.finditer(line)]
    assert not found, "\n".join(found)
    assert OLD_TONE.search("Khoá ký số") and not OLD_TONE.search("Khóa ký số, khoản, quý, hoàn")


def test_the_users_form_keeps_the_department_and_roles_after_an_error(
        client: FlaskClient, db: Session) -> None:
    login(client, "vanthu.camau")  # the demo clerk is the agency's admin too
    kt = department(db, actor(db, "vanthu.camau"), "KT")
    resp = client.post("/quan-tri/nguoi-dung", data={
        "csrf_token": csrf_token(client, "/quan-tri/nguoi-dung"), "username": "vanthu.camau",
        "full_name": "Người Trùng Tên", "password": "mat-khau-dai-du", "department_id": str(kt.id),
        "position_title": "Chuyên viên", "roles": ["specialist"]})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Người Trùng Tên" in page and 'value="Chuyên viên"' in page
    assert re.search(rf'<option value="{kt.id}"\s*selected', page)
    assert re.search(r'value="specialist"\s*checked', page)


def test_the_review_chain_form_keeps_the_choices_after_an_error(client: FlaskClient) -> None:
    login(client, "vanthu.camau")
    resp = client.post("/quan-tri/quy-trinh-duyet", data={
        "csrf_token": csrf_token(client, "/quan-tri/quy-trinh-duyet"), "step1": "department_head",
        "step2": "department_head"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    chosen = re.findall(r'<option value="([a-z_]+)" selected', page)
    assert chosen == ["department_head", "department_head"]


def test_one_filter_for_dates_and_one_for_times(app: Flask) -> None:
    with app.test_request_context():
        moment = dt.datetime(2026, 12, 3, 17, 30, tzinfo=dt.UTC)  # 00:30 on the 4th in Hà Nội
        out = render_template_string("{{ m|local }} · {{ m|vndate }} · {{ d|vndate }} · {{ n|local }}",
                                     m=moment, d=dt.date(2026, 1, 5),
                                     n=moment.replace(tzinfo=None))
        assert out == "04/12/2026 00:30 · 04/12/2026 · 05/01/2026 · 04/12/2026 00:30"


def test_file_inputs_carry_the_server_limit_and_types(app: Flask, client: FlaskClient) -> None:
    login(client, "vanthu.camau")
    page = client.get("/van-ban-den/vao-so").get_data(as_text=True)
    limit = app.config["MAX_CONTENT_LENGTH"]
    # a scan may be a PDF or a photo of the paper (turned into a PDF: docs/ocr.md)
    assert f'data-max-bytes="{limit}"' in page and 'data-accept=".pdf,.jpg,.jpeg,.png"' in page
    assert "app.js" in page


def test_the_post_title_follows_a_switch_of_agency(client: FlaskClient, db: Session) -> None:
    """A person holding posts in two agencies sees the post of the agency acted for, on the
    home page and where they are chosen as signer; the certificate gets that title too."""
    from ioffice.agencies import service as agencies
    from ioffice.agencies.models import User
    from ioffice.demo import CONCURRENT_SECOND_POST

    login(client, "kiemnhiem.uminh")
    home = client.get("/").get_data(as_text=True)
    assert "Phó Chủ tịch UBND huyện U Minh" in home and CONCURRENT_SECOND_POST not in home
    khanhan = re.search(r'<option value="(\d+)"[^>]*>Ủy ban nhân dân xã Khánh An<', home).group(1)
    client.post("/chuyen-co-quan", data={"csrf_token": csrf_token(client, "/"),
                                         "agency_id": khanhan})
    home = client.get("/").get_data(as_text=True)
    assert CONCURRENT_SECOND_POST in home and "Phó Chủ tịch UBND huyện U Minh" not in home
    user = agencies.get_user_by_username(db, "kiemnhiem.uminh")
    assert isinstance(user, User)
    assert agencies.post_title(db, user, int(khanhan)) == CONCURRENT_SECOND_POST
    draft_form = client.get("/van-ban-di/moi").get_data(as_text=True)
    assert f"Lê Văn Kiên – {CONCURRENT_SECOND_POST}" in draft_form
