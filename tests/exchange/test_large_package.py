"""A document whose file is larger than libxml2's cap on one text node (10 MB of base64): built
from the blob store through files, signed, sent up the national axis and down the provincial
platform, received byte for byte with its PDF signature still valid."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from sqlalchemy import select
from sqlalchemy.orm import Session

from axis_connector.edxml import open_package, parse_document_package
from ioffice.exchange import dispatch
from ioffice.exchange import packages as exchange_packages
from ioffice.exchange.models import ExchangeOutbox
from ioffice.incoming.models import IncomingDocument
from ioffice.keys.service import seal_credential
from signing import sign_pdf
from signing.demo import make_text_pdf

from .conftest import BNV, CA_MAU, Federation, agency, outgoing
from .test_flow import CTX


def _large_signed_pdf(db: Session, federation: Federation, size: int) -> bytes:
    """A text PDF carrying ``size`` random bytes in a stream object, then sealed by BNV."""
    writer = IncrementalPdfFileWriter(io.BytesIO(make_text_pdf(["Công văn kèm hồ sơ lớn"])))
    filler = writer.add_object(generic.StreamObject(stream_data=os.urandom(size)))
    writer.root["/IOfficeFiller"] = filler
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    credential = seal_credential(db, federation.pki, agency(db, BNV).id)
    return sign_pdf(out.getvalue(), credential, trust=federation.pki.trust_store())


def _raise_hub_limits(federation: Federation, megabytes: int) -> None:
    """The federation's hubs take packages up to ``megabytes`` (the fixture sets 2 MB)."""
    for hub_app in (federation.national, federation.provincial):
        hub = hub_app.extensions["axis_hub"]
        hub.settings = dataclasses.replace(hub.settings, max_package_bytes=megabytes * 1024 * 1024)
        hub_app.config["MAX_PACKAGE_BYTES"] = megabytes * 1024 * 1024
        hub_app.config["MAX_CONTENT_LENGTH"] = megabytes * 1024 * 1024 * 4 // 3 + 64 * 1024


def test_a_file_over_ten_megabytes_of_base64_goes_through(db: Session, federation: Federation) -> None:
    _raise_hub_limits(federation, 32)
    pdf = _large_signed_pdf(db, federation, 8 * 1024 * 1024)
    assert len(pdf) * 4 // 3 > 10_000_000 > exchange_packages.STREAM_FILES_ABOVE
    edoc = outgoing(db, federation, recipients=(CA_MAU,), pdf=pdf)
    [row] = dispatch(db, CTX, edoc)
    db.commit()
    federation.pump()
    db.expire_all()
    row = db.get(ExchangeOutbox, row.id)
    assert row.state == "sent", row.last_error
    [doc] = db.scalars(select(IncomingDocument).where(
        IncomingDocument.agency_id == agency(db, CA_MAU).id,
        IncomingDocument.document_identifier == edoc.document_identifier)).all()
    [f] = doc.files
    assert f.sha256 == hashlib.sha256(pdf).hexdigest()
    assert federation.rt.blobs.read_bytes(f.sha256) == pdf
    assert f.signature_verdict == "valid", f.signature_summary


@pytest.mark.parametrize("threshold", [0, 1 << 40])
def test_the_package_is_the_same_through_files_or_in_memory(db: Session, federation: Federation,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            threshold: int) -> None:
    edoc = outgoing(db, federation, recipients=(CA_MAU,))
    [row] = dispatch(db, CTX, edoc)
    db.commit()
    sender = agency(db, BNV)
    credential = seal_credential(db, federation.pki, sender.id)
    from cryptography import x509

    chain = [x509.load_der_x509_certificate(c.dump()) for c in (credential.certificate, *credential.chain)]
    monkeypatch.setattr(exchange_packages, "STREAM_FILES_ABOVE", threshold)
    signed = exchange_packages.build_signed_document(sender, row.payload, federation.rt.blobs,
                                                     credential.private_key, chain)
    unsigned = exchange_packages.build_document(sender, row.payload, federation.rt.blobs)
    package = parse_document_package(signed)
    assert package == parse_document_package(unsigned)
    _, opened = open_package(signed, trusted_ca_certs=federation.rt.trusted_cas)
    assert opened == package
