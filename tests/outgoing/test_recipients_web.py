"""The draft form refuses a confidential document with outside recipients at once, keeping
what was entered (issue 16)."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.outgoing.models import OutgoingDocument
from tests.conftest import csrf_token
from tests.outgoing.conftest import pdf_bytes
from tests.support.factories import user_id


def test_confidential_with_an_outside_agency_refused_in_the_form(
        db: Session, client: FlaskClient, login_as) -> None:
    login_as("chuyenvien.camau")
    before = db.scalar(select(func.count()).select_from(OutgoingDocument))
    subject = "Phương án bảo vệ mục tiêu (mật)"
    resp = client.post("/van-ban-di/moi", data={
        "csrf_token": csrf_token(client, "/van-ban-di/moi"), "doc_type": "cong_van",
        "subject": subject, "signer_id": str(user_id(db, "lanhdao.camau")),
        "confidentiality": "confidential", "agency_codes": ["000.00.00.G09"],
        "file": (io.BytesIO(pdf_bytes()), "du-thao.pdf")}, content_type="multipart/form-data")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Văn bản độ mật «Mật» không được gửi cho cơ quan khác qua trục liên thông" in html
    assert subject in html  # the form keeps what was entered
    assert db.scalar(select(func.count()).select_from(OutgoingDocument)) == before
