"""Previews show what was signed: the signature's appearance and the red seal (issue 16)."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session

from ioffice.documents.pdf import preview_name, render_page_png
from ioffice.outgoing import numbering, signatures
from ioffice.storage import BlobStore
from signing import Pki, TrustStore
from tests.outgoing.conftest import CLERK
from tests.support.factories import actor


def seal_pixels(png: bytes) -> int:
    """Pixels of the demo seal's red (210, 20, 20)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(1 for r, g, b in image.get_flattened_data() if r > 150 and g < 80 and b < 80)


def signature_pixels(png: bytes) -> int:
    """Pixels of the demo signature's blue (20, 40, 170)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(1 for r, g, b in image.get_flattened_data() if 140 < b < 190 and r < 40 and g < 60)


def sealed(db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa, doc) -> bytes:
    clerk = actor(db, CLERK)
    numbering.assign_number(db, clerk, doc.id)
    signatures.apply_agency_signature(db, blobs, pki, trust, clerk, doc.id, tsa=tsa)
    return blobs.read_bytes(doc.current_sha256)


def test_preview_of_sealed_pdf_shows_signature_and_seal(db: Session, blobs: BlobStore, pki: Pki,
                                                        trust: TrustStore, tsa, signed_doc) -> None:
    last = signed_doc.stamp_page  # the signature's page
    signed_png = render_page_png(blobs.read_bytes(signed_doc.current_sha256), last)
    assert signature_pixels(signed_png) > 200
    assert seal_pixels(signed_png) < 100  # a few reddish text edges
    png = render_page_png(sealed(db, blobs, pki, trust, tsa, signed_doc), last)
    assert seal_pixels(png) > 500
    assert signature_pixels(png) > 200


def test_stamp_preview_draws_the_signature(db: Session, blobs: BlobStore, signed_doc) -> None:
    # the clerk's page: the signed page with the seal's place outlined, the signature visible
    png = signatures.stamp_preview_png(signed_doc, blobs.read_bytes(signed_doc.current_sha256))
    assert signature_pixels(png) > 200


def test_old_previews_are_not_reused(db: Session, blobs: BlobStore, pki: Pki, trust: TrustStore, tsa,
                                     signed_doc, client: FlaskClient, login_as) -> None:
    sealed(db, blobs, pki, trust, tsa, signed_doc)
    sha, page_no = signed_doc.current_sha256, signed_doc.stamp_page + 1
    blank = io.BytesIO()
    Image.new("RGB", (10, 10), "white").save(blank, format="PNG")
    blobs.put_named(f"previews/{sha}/page-{page_no}.png", blank.getvalue())  # cached before the fix
    db.commit()
    login_as(CLERK)
    page = client.get(f"/van-ban-di/{signed_doc.id}").get_data(as_text=True)
    url = f"/van-ban-di/{signed_doc.id}/tep/{sha}/trang-{page_no}.png?r="
    assert url in page  # the renderer's version in the URL: no browser reuses an old one
    png = client.get(url + "2").data
    assert seal_pixels(png) > 500
    assert blobs.get_named(preview_name(sha, page_no)) == png
