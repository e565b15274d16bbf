"""Step 1 and 2 of the story through the services, for a live server (``wsgi``, run with the
server's ``IOFFICE_*`` environment): the Ministry of Home Affairs drafts, signs (PIN),
numbers, seals and dispatches a Công văn to Cà Mau; the axis carries it; optionally Cà Mau's
clerk registers it, the chairman gives it to the Department of Information and Communications
and the department head to the specialist.

Run in its own process (the browser tests' Playwright loop must not see the signing code), with
the live server's ``IOFFICE_*`` environment:

    python -m tests.e2e.story --subject "..." [--handle]

prints one JSON line: ``{"incoming_id", "document_identifier", "bnv_outgoing_id", ...}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency
from ioffice.documents.vocabulary import Urgency
from ioffice.incoming import handling, registration
from ioffice.incoming.handling import DistributionInput, Target
from ioffice.incoming.models import IncomingDocument
from ioffice.incoming.registration import IncomingInput, today_vn
from ioffice.outgoing import dispatch, drafts, numbering, review, signatures
from signing.demo import make_text_pdf
from tests.support.factories import actor, department, user_id

BNV, CA_MAU = "000.00.00.G09", "000.00.00.H12"
DEMO_PIN = "123456"
ARRIVAL_TIMEOUT_S = 45.0


def bnv_dispatches(s: Session, blobs: Any, trust: Any, pki: Any, subject: str, tsa: Any) -> tuple[int, str]:
    """BNV's specialist drafts, the chain approves, the vice-minister signs with his PIN, the
    clerk numbers, seals and dispatches to Cà Mau. Commits after each step like the web does."""
    pdf = make_text_pdf(["\n".join([
        "BỘ NỘI VỤ", "", subject, "", "Kính gửi: Ủy ban nhân dân tỉnh Cà Mau", "",
        "Đề nghị báo cáo kết quả triển khai Chính phủ điện tử trong 10 ngày."])])
    doc = drafts.create_draft(s, blobs, actor(s, "chuyenvien.bnv"), drafts.DraftInput(
        doc_type="cong_van", subject=subject, signer_id=user_id(s, "lanhdao.bnv"),
        urgency=Urgency.URGENT, agency_codes=(CA_MAU,), due_date=today_vn() + dt.timedelta(days=10)),
        drafts.Upload("cong-van.pdf", pdf))
    s.commit()
    doc_id = doc.id
    review.submit(s, actor(s, "chuyenvien.bnv"), doc_id)
    for username in ("truongphong.bnv", "vanthu.bnv", "lanhdao.bnv"):
        if review.can_review(s, actor(s, username), drafts.get_document(s, actor(s, username), doc_id)):
            review.approve(s, actor(s, username), doc_id)
    s.commit()
    signatures.sign_with_pin(s, blobs, trust, actor(s, "lanhdao.bnv"), doc_id, DEMO_PIN)
    s.commit()
    clerk = actor(s, "vanthu.bnv")
    numbering.assign_number(s, clerk, doc_id)
    s.commit()
    signatures.apply_agency_signature(s, blobs, pki, trust, clerk, doc_id, tsa=tsa)
    s.commit()
    doc = dispatch.dispatch(s, clerk, doc_id)
    s.commit()
    return doc_id, doc.document_identifier


def wait_for_incoming(s: Session, code: str, document_identifier: str,
                      timeout: float = ARRIVAL_TIMEOUT_S) -> IncomingDocument:
    agency_id = s.scalars(select(Agency.id).where(Agency.code == code)).one()
    deadline = time.monotonic() + timeout
    while True:
        s.rollback()  # a fresh snapshot each round
        doc = s.scalars(select(IncomingDocument).where(
            IncomingDocument.agency_id == agency_id,
            IncomingDocument.document_identifier == document_identifier)).first()
        if doc is not None:
            return doc
        s.rollback()  # on SQLite every transaction is BEGIN IMMEDIATE: never sleep holding it
        if time.monotonic() > deadline:
            raise SystemExit(f"{document_identifier} did not reach {code} in {timeout:.0f} s")
        time.sleep(0.3)


def camau_hands_to_specialist(s: Session, doc: IncomingDocument) -> None:
    registration.register_received(s, actor(s, "vanthu.camau"), doc.id, IncomingInput(
        issuer_name=doc.issuer_name, issuer_code=doc.issuer_code, number=doc.number,
        notation=doc.notation, document_date=doc.document_date, doc_type=doc.doc_type,
        subject=doc.subject, signer=doc.signer, urgency=doc.urgency, due_date=doc.due_date,
        document_identifier=doc.document_identifier or ""))
    s.commit()
    leader = actor(s, "lanhdao.camau")
    deadline = (doc.due_date or today_vn() + dt.timedelta(days=10)) - dt.timedelta(days=2)
    [lead, *_] = handling.distribute(s, leader, doc.id, DistributionInput(
        lead=Target("department", department(s, leader, "TTTT").id, deadline),
        instruction="Sở TTTT chủ trì tham mưu báo cáo."))
    s.commit()
    handling.pass_on(s, actor(s, "truongphong.camau"), lead.id, user_id(s, "chuyenvien.camau"),
                     deadline, "Soạn báo cáo trả lời Bộ.")
    s.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subject", required=True)
    parser.add_argument("--handle", action="store_true",
                        help="register, distribute to TTTT, pass on to chuyenvien.camau")
    args = parser.parse_args()

    from ioffice.db_session import database
    from ioffice.services import services
    from wsgi import app

    with app.app_context():
        ports = services(app)
        with database(app).session() as s:
            bnv_id, identifier = bnv_dispatches(s, ports.blobs, ports.trust, ports.pki, args.subject,
                                                  ports.timestamps)
            doc = wait_for_incoming(s, CA_MAU, identifier)
            if args.handle:
                camau_hands_to_specialist(s, doc)
            print(json.dumps({"incoming_id": doc.id, "document_identifier": identifier,
                              "bnv_outgoing_id": bnv_id, "number_notation": doc.number_notation}))


if __name__ == "__main__":
    main()
