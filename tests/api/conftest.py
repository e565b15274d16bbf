"""Fixtures of the API tests: bearer tokens for the demo users, a real small PDF."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pypdfium2 as pdfium
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency, Department, User
from ioffice.api import tokens
from ioffice.audit import AuditContext
from ioffice.incoming.registration import today_vn

CTX = AuditContext(actor_id=None, agency_id=None, remote_addr="test")
CAMAU = "000.00.00.H12"


def make_pdf(pages: int = 1) -> bytes:
    pdf = pdfium.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(595, 842)
    buf = io.BytesIO()
    pdf.save(buf)
    pdf.close()
    return buf.getvalue()


@pytest.fixture(scope="session")
def pdf_bytes() -> bytes:
    return make_pdf()


def issue_token(db: Session, username: str, agency_code: str = CAMAU) -> str:
    """A token with every scope: what it may do is then the user's roles alone (the scopes'
    own tests are tests/api/test_scopes.py)."""
    user = db.scalars(select(User).where(User.username == username)).one()
    agency = db.scalars(select(Agency).where(Agency.code == agency_code)).one()
    issued = tokens.issue(db, CTX, user=user, agency_id=agency.id, name=f"test {username}",
                          scopes=list(tokens.Scope))
    db.commit()
    return issued.secret


@pytest.fixture
def token_for(db: Session) -> Callable[..., str]:
    return lambda username, agency_code=CAMAU: issue_token(db, username, agency_code)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def user_id(db: Session, username: str) -> int:
    return db.scalars(select(User.id).where(User.username == username)).one()


def department_id(db: Session, short_name: str, agency_code: str = CAMAU) -> int:
    return db.scalars(select(Department.id).join(Agency, Agency.id == Department.agency_id)
                      .where(Agency.code == agency_code, Department.short_name == short_name)).one()


def form(**overrides: Any) -> dict[str, Any]:
    """Registration form fields; ``None`` drops a field."""
    fields: dict[str, Any] = {
        "issuer_name": "Bộ Thông tin và Truyền thông",
        "issuer_code": "000.00.00.G12",
        "number": "125",
        "notation": "BTTTT-CĐSQG",
        "document_date": (today_vn() - dt.timedelta(days=3)).isoformat(),
        "doc_type": "cong_van",
        "subject": "Về việc triển khai chữ ký số trong cơ quan nhà nước",
        "signer": "Nguyễn Huy Dũng",
        "urgency": "urgent",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def register(client: FlaskClient, token: str, pdf: bytes | None, filename: str = "van-ban.pdf",
             **overrides: Any):
    data = form(**overrides)
    if pdf is not None:
        data["files"] = [(io.BytesIO(pdf), filename, "application/pdf")]
    return client.post("/api/v1/documents", data=data, headers=bearer(token),
                       content_type="multipart/form-data")


OUTSIDER_AGENCY = "000.00.00.G09"  # Bộ Nội vụ


def outsider_token(db: Session, scopes=tuple(tokens.Scope)) -> str:
    """A token of a user of another agency (the Bộ Nội vụ) holding every role there: what it
    may do in Cà Mau is nothing, each Cà Mau id answering as a missing one (404)."""
    from ioffice.agencies import service as agencies
    from ioffice.agencies.models import Role

    agency = db.scalars(select(Agency).where(Agency.code == OUTSIDER_AGENCY)).one()
    user = db.scalars(select(User).where(User.username == "ngoai.api")).first()
    if user is None:
        user = agencies.create_user(db, AuditContext(None, agency.id, "test"),
                                    agency_id=agency.id, username="ngoai.api",
                                    full_name="Người cơ quan khác", password="mat-khau-thu-1",
                                    roles=list(Role))
    issued = tokens.issue(db, CTX, user=user, agency_id=agency.id, name="ngoài",
                          scopes=list(scopes))
    db.commit()
    return issued.secret
