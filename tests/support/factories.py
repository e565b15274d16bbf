"""Test data built through the real services."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Department, Membership, User
from ioffice.incoming.registration import IncomingInput, UploadedFile, register_paper, today_vn
from ioffice.storage import BlobStore
from signing.demo import make_text_pdf


def actor(db: Session, username: str) -> Actor:
    membership = db.scalars(select(Membership).join(User).where(User.username == username)
                            .order_by(Membership.id)).first()
    assert membership is not None, username
    return Actor.of(membership, "198.51.100.9")


def department(db: Session, actor_: Actor, short_name: str) -> Department:
    return db.scalars(select(Department).where(Department.agency_id == actor_.agency_id,
                                               Department.short_name == short_name)).one()


def user_id(db: Session, username: str) -> int:
    return db.scalars(select(User.id).where(User.username == username)).one()


# A per-process sequence from a random start: numbers drawn at random collided now and then
# (two registrations in one test with the same number and notation are a suspected duplicate).
_numbers = itertools.count(uuid.uuid4().int % 100_000)


def doc_number(low: int = 1000, span: int = 8000) -> str:
    """A document number in [low, low + span) that no other call in this process returns
    until `span` more numbers have been drawn."""
    return str(low + next(_numbers) % span)


def pdf(text: str = "Công văn về việc báo cáo tiến độ Chính phủ điện tử") -> bytes:
    return make_text_pdf([text])


def incoming_input(**overrides: object) -> IncomingInput:
    values: dict[str, object] = {
        "issuer_name": "Bộ Nội vụ", "issuer_code": "000.00.00.G09",
        "number": doc_number(), "notation": "BNV-CCHC",
        "document_date": today_vn() - dt.timedelta(days=2), "doc_type": "cong_van",
        "subject": "Về việc báo cáo tình hình triển khai Chính phủ điện tử",
        "signer": "Trần Anh Tuấn", "submission_id": uuid.uuid4().hex,
        "files": (UploadedFile("cong-van.pdf", pdf()),),
    }
    values.update(overrides)
    return IncomingInput(**values)  # type: ignore[arg-type]


def register(db: Session, blobs: BlobStore, clerk: Actor, **overrides: object):
    return register_paper(db, blobs, clerk, incoming_input(**overrides))
