"""The outgoing pages through the Flask test client: draft, review, PIN signing, clerk steps."""

from __future__ import annotations

import io
import re

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.demo import DEMO_PIN
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus
from tests.conftest import csrf_token
from tests.outgoing.conftest import pdf_bytes
from tests.support.factories import actor, department, user_id


def _post(client: FlaskClient, path: str, data: dict, page: str) -> object:
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def _logout(client: FlaskClient) -> None:
    client.post("/dang-xuat", data={"csrf_token": csrf_token(client, "/")})


def test_pages_from_draft_to_dispatch(db: Session, client: FlaskClient, login_as) -> None:
    login_as("chuyenvien.camau")
    kt = department(db, actor(db, "chuyenvien.camau"), "KT")
    resp = client.post("/van-ban-di/moi", data={
        "csrf_token": csrf_token(client, "/van-ban-di/moi"), "doc_type": "cong_van",
        "subject": "Về việc đôn đốc báo cáo", "signer_id": str(user_id(db, "lanhdao.camau")),
        "department_ids": [str(kt.id)], "file": (io.BytesIO(pdf_bytes()), "du-thao.pdf")},
        content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    doc_id = int(re.search(r"/van-ban-di/(\d+)", resp.headers["Location"]).group(1))
    page = f"/van-ban-di/{doc_id}"
    assert _post(client, f"{page}/trinh", {}, page).status_code == 302
    for username in ("truongphong.camau", "vanthu.camau", "lanhdao.camau"):
        _logout(client)
        login_as(username)
        assert "Duyệt" in client.get(page).get_data(as_text=True)
        _post(client, f"{page}/duyet", {"comment": "Đồng ý"}, page)
    html = client.get(page).get_data(as_text=True)
    assert 'id="sign"' in html and 'id="browser-sign"' in html
    assert client.get(f"{page}/vi-tri-chu-ky.png").mimetype == "image/png"
    _post(client, f"{page}/ky-pin", {"pin": DEMO_PIN}, page)
    doc = db.scalars(select(OutgoingDocument).where(OutgoingDocument.id == doc_id)).one()
    assert doc.status is OutgoingStatus.SIGNED, client.get(page).get_data(as_text=True)[:3000]
    _logout(client)
    login_as("vanthu.camau")
    for action in ("cap-so", "ky-so-co-quan", "phat-hanh"):
        assert _post(client, f"{page}/{action}", {}, page).status_code == 302
    db.refresh(doc)
    assert doc.status is OutgoingStatus.DISPATCHED
    assert re.fullmatch(r"\d{2,}/UBND-TTTT", doc.number_notation)  # Công văn: agency-unit
    html = client.get(f"/van-ban-di/so?nam={doc.promulgation_date.year}").get_data(as_text=True)
    assert doc.number_notation in html
    xlsx = client.get(f"/van-ban-di/so.xlsx?nam={doc.promulgation_date.year}")
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    assert ws["A4"].value == "Số, ký hiệu văn bản"
    assert any(row[0] == doc.number_notation for row in ws.iter_rows(min_row=6, values_only=True))
