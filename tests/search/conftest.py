"""Search fixtures: actors of the demo agencies, a small real PDF, documents to find."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import User
from ioffice.documents.vocabulary import Confidentiality
from ioffice.incoming.models import DocumentStatus, DocumentText, IncomingDocument, Source
from ioffice.search import index_incoming
from ioffice.storage import LocalBlobStore


def text_pdf(line: str) -> bytes:
    """A one-page PDF whose text layer says ``line`` (ASCII), written by hand."""
    stream = f"BT /F1 12 Tf 72 720 Td ({line}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture
def actor_for(db: Session) -> Callable[..., Actor]:
    def _actor(username: str) -> Actor:
        user = db.scalars(select(User).where(User.username == username)).one()
        return Actor.of(user.memberships[0])

    return _actor


@pytest.fixture
def clerk(actor_for: Callable[..., Actor]) -> Actor:
    return actor_for("vanthu.camau")


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


_numbers = itertools.count(1)


@pytest.fixture
def make_doc(db: Session) -> Callable[..., IncomingDocument]:
    """Insert a registered document directly (for bulk cases) and index it."""

    def _make(agency_id: int, subject: str, text: str = "", **fields: object) -> IncomingDocument:
        n = next(_numbers)
        values: dict[str, object] = {
            "agency_id": agency_id, "status": DocumentStatus.REGISTERED, "source": Source.PAPER,
            "issuer_name": "Sở Tài chính", "number": str(n), "notation": "STC-KH",
            "number_notation": f"{n}/STC-KH", "document_date": dt.date(2025, 3, 1),
            "doc_type": "cong_van", "subject": subject,
            "confidentiality": Confidentiality.NORMAL}
        values.update(fields)
        doc = IncomingDocument(**values)
        db.add(doc)
        db.flush()
        db.add(DocumentText(document_id=doc.id, content=text))
        index_incoming(db, doc, text)
        return doc

    return _make
