"""Electronic documents awaiting registration: the clerk's queue, register or refuse."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency
from ioffice.incoming.models import DocumentStatus, IncomingDocument, Source
from ioffice.incoming.registration import today_vn
from tests.api.conftest import CAMAU, bearer, form


def _arrived(db: Session, number: str) -> int:
    """What the exchange leaves for the clerk (the axis side is not part of these tests)."""
    agency_id = db.scalars(select(Agency.id).where(Agency.code == CAMAU)).one()
    doc = IncomingDocument(agency_id=agency_id, status=DocumentStatus.AWAITING_REGISTRATION,
                           source=Source.AXIS, issuer_name="Sở Tài chính", issuer_code="000.00.10.H12",
                           number=number, notation="STC-NS", number_notation=f"{number}/STC-NS",
                           document_date=today_vn() - dt.timedelta(days=1), doc_type="cong_van",
                           subject="Về dự toán ngân sách", document_identifier=f"000.00.10.H12,{number}")
    db.add(doc)
    db.commit()
    return doc.id


def test_register_an_arrived_document(client: FlaskClient, db: Session, token_for) -> None:
    clerk = bearer(token_for("vanthu.camau"))
    doc_id = _arrived(db, "901")
    queue = client.get("/api/v1/queues/to-register", headers=clerk).get_json()
    assert doc_id in [d["id"] for d in queue["items"]]
    assert client.get("/api/v1/counts", headers=clerk).get_json()["to_register"] >= 1
    metadata = form(issuer_name="Sở Tài chính", issuer_code="000.00.10.H12", number="901",
                    notation="STC-NS", subject="Về dự toán ngân sách năm sau", signer=None,
                    urgency=None)
    resp = client.post(f"/api/v1/documents/{doc_id}/register", headers=clerk, json=metadata)
    assert resp.status_code == 200, resp.get_json()
    doc = resp.get_json()
    assert doc["status"]["code"] == "registered" and doc["incoming_number"] >= 1
    assert doc["source"]["code"] == "axis" and doc["subject"] == "Về dự toán ngân sách năm sau"
    again = client.post(f"/api/v1/documents/{doc_id}/register", headers=clerk, json=metadata)
    assert again.status_code == 400 and again.get_json()["error"]["code"] == "bad_request"


def test_reject_an_arrived_document(client: FlaskClient, db: Session, token_for) -> None:
    clerk = bearer(token_for("vanthu.camau"))
    doc_id = _arrived(db, "902")
    resp = client.post(f"/api/v1/documents/{doc_id}/reject", headers=clerk, json={"reason": " "})
    assert resp.status_code == 422 and "reason" in resp.get_json()["error"]["fields"]
    resp = client.post(f"/api/v1/documents/{doc_id}/reject", headers=clerk,
                       json={"reason": "Gửi nhầm cơ quan."})
    assert resp.status_code == 200 and resp.get_json()["status"]["code"] == "rejected"
    other = bearer(token_for("vanthu.uminh", "000.00.21.H12"))
    resp = client.post(f"/api/v1/documents/{doc_id}/reject", headers=other, json={"reason": "x"})
    assert resp.status_code == 404
