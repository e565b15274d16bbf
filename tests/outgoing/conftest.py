"""Helpers for outgoing-document tests: a draft through the real services, approvals, PIN key."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from ioffice.agencies.models import Agency, User
from ioffice.keys import service as keys
from ioffice.outgoing import drafts, review, signatures
from ioffice.outgoing.drafts import DraftInput, Upload
from ioffice.outgoing.models import OutgoingDocument
from ioffice.storage import BlobStore
from signing import Pki, TrustStore
from signing.demo import make_text_pdf
from tests.support.factories import actor, department, user_id

PIN = "246810"
LEADER = "lanhdao.camau"
SPECIALIST = "chuyenvien.camau"
HEAD = "truongphong.camau"
CLERK = "vanthu.camau"


def pdf_bytes(text: str = "Báo cáo tình hình triển khai Chính phủ điện tử tỉnh Cà Mau") -> bytes:
    return make_text_pdf([text, "Nội dung dự thảo: tiếng Việt có dấu đầy đủ."])


def new_draft(db: Session, blobs: BlobStore, *, data: bytes | None = None,
              filename: str = "du-thao.pdf", **overrides: object) -> OutgoingDocument:
    specialist = actor(db, SPECIALIST)
    values: dict[str, object] = {
        "doc_type": "bao_cao", "subject": "Báo cáo tiến độ triển khai Chính phủ điện tử",
        "signer_id": user_id(db, LEADER),
        "department_ids": (department(db, specialist, "KT").id,),
    }
    values.update(overrides)
    return drafts.create_draft(db, blobs, specialist, DraftInput(**values),  # type: ignore[arg-type]
                               Upload(filename, data if data is not None else pdf_bytes()))


def approve_all(db: Session, doc: OutgoingDocument) -> OutgoingDocument:
    review.submit(db, actor(db, SPECIALIST), doc.id)
    review.approve(db, actor(db, HEAD), doc.id, "Nội dung đạt.")
    review.approve(db, actor(db, CLERK), doc.id, "Đúng thể thức.")
    review.approve(db, actor(db, LEADER), doc.id)
    return doc


@pytest.fixture
def trust(pki: Pki) -> TrustStore:
    return pki.trust_store()


@pytest.fixture
def pin_key(db: Session, pki: Pki):
    leader = actor(db, LEADER)
    return keys.issue_pin_key(db, pki, leader.ctx, db.get(User, leader.user_id),
                              db.get(Agency, leader.agency_id), PIN, key_type="ec")


@pytest.fixture
def signed_doc(db: Session, blobs: BlobStore, trust: TrustStore, pin_key) -> OutgoingDocument:
    doc = approve_all(db, new_draft(db, blobs))
    signatures.sign_with_pin(db, blobs, trust, actor(db, LEADER), doc.id, PIN)
    return doc
