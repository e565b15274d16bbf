"""The designated signer chooses where the signature goes before signing: a point clicked on the
page preview, or a page and a preset place; the signed PDF has its signature there, and the
agency seal that overlaps its left part stays on the page."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent
from ioffice.errors import Forbidden, NotFound
from ioffice.outgoing import signatures
from ioffice.outgoing.errors import InvalidInput, WrongState
from ioffice.outgoing.models import OutgoingDocument
from ioffice.outgoing.signatures import BOX_HEIGHT, BOX_WIDTH, LEFT_MARGIN, PAGE_MARGIN
from ioffice.storage import BlobStore
from signing import TrustStore
from tests.conftest import csrf_token
from tests.outgoing.conftest import CLERK, LEADER, PIN, SPECIALIST, approve_all, new_draft
from tests.support.factories import actor
from tests.support.pdf import signature_widget

A4 = (595.0, 842.0)  # make_text_pdf's pages, in points


def _approved(db: Session, blobs: BlobStore) -> OutgoingDocument:
    return approve_all(db, new_draft(db, blobs))  # two pages


def test_a_clicked_point_becomes_the_signature_box_of_the_signed_pdf(
        db: Session, blobs: BlobStore, trust: TrustStore, pin_key) -> None:
    doc = _approved(db, blobs)
    leader = actor(db, LEADER)
    box = signatures.place_stamp(db, blobs, leader, doc.id, "1", x="0.5", y="0.25")
    width, height = A4
    assert (box.page, box.x1, box.y1) == (0, round(width / 2 - BOX_WIDTH / 2, 1),
                                          round(height * 0.75 - BOX_HEIGHT / 2, 1))
    event = db.scalars(select(AuditEvent).where(AuditEvent.tag == "outgoing:signature:position",
                                                AuditEvent.subject_id == str(doc.id))).one()
    assert event.details["page"] == 1
    signatures.sign_with_pin(db, blobs, trust, leader, doc.id, PIN)
    page, rect = signature_widget(blobs.read_bytes(doc.current_sha256))
    assert page == 0
    assert rect == pytest.approx([box.x1, box.y1, box.x2, box.y2], abs=0.5)


@pytest.mark.parametrize(("x", "y"), [("0", "1"), ("1", "0"), ("0", "0"), ("1", "1")])
def test_at_the_page_corners_the_signature_and_the_seal_stay_on_the_page(
        db: Session, blobs: BlobStore, x: str, y: str) -> None:
    doc = _approved(db, blobs)
    box = signatures.place_stamp(db, blobs, actor(db, LEADER), doc.id, "2", x=x, y=y)
    seal = signatures.seal_box(doc, blobs.read_bytes(doc.current_sha256))
    width, height = A4
    for b in (box, seal):
        assert b.page == 1
        assert b.x1 >= PAGE_MARGIN - 0.1 and b.x2 <= width - PAGE_MARGIN + 0.1
        assert b.y1 >= PAGE_MARGIN - 0.1 and b.y2 <= height - PAGE_MARGIN + 0.1


def test_preset_places_without_a_click(db: Session, blobs: BlobStore) -> None:
    doc = _approved(db, blobs)
    pdf = blobs.read_bytes(doc.current_sha256)
    default = signatures.stamp_box(doc, pdf)  # nothing chosen: bottom right of the last page
    leader = actor(db, LEADER)
    right = signatures.place_stamp(db, blobs, leader, doc.id, "2", place="duoi-phai")
    assert right == default
    left = signatures.place_stamp(db, blobs, leader, doc.id, "1", place="duoi-trai")
    assert (left.page, left.x1, left.y1) == (0, LEFT_MARGIN, default.y1)
    middle = signatures.place_stamp(db, blobs, leader, doc.id, "1", place="duoi-giua")
    assert middle.x1 + BOX_WIDTH / 2 == pytest.approx(A4[0] / 2, abs=0.1)
    top = signatures.place_stamp(db, blobs, leader, doc.id, "1", place="tren-phai")
    assert top.x1 == default.x1 and A4[1] - top.y2 == pytest.approx(default.y1)
    assert signatures.stamp_box(doc, pdf) == top  # the last choice holds


@pytest.mark.parametrize(("fields", "message"), [
    ({"page": "3", "x": "0.5", "y": "0.5"}, "Văn bản có 2 trang; không có trang 3."),
    ({"page": "0", "place": "duoi-phai"}, "không có trang 0"),
    ({"page": "hai", "place": "duoi-phai"}, "Số trang 'hai' không hợp lệ."),
    ({"page": "1", "x": "1.5", "y": "0.5"}, "Vị trí phải nằm trong trang"),
    ({"page": "1", "x": "nan", "y": "0.5"}, "Vị trí phải nằm trong trang"),
    ({"page": "1", "x": "0.5", "y": "giữa"}, "Vị trí 'giữa' không phải là số."),
    ({"page": "1", "x": "0.5"}, "Vị trí '' không phải là số."),
    ({"page": "1", "place": "giua-trang"}, "Chọn vị trí chữ ký hoặc bấm vào trang."),
])
def test_bad_positions_are_refused_and_change_nothing(db: Session, blobs: BlobStore,
                                                      fields: dict[str, str], message: str) -> None:
    doc = _approved(db, blobs)
    page = fields.pop("page")
    with pytest.raises(InvalidInput, match=message):
        signatures.place_stamp(db, blobs, actor(db, LEADER), doc.id, page, **fields)
    assert (doc.stamp_page, doc.stamp_x1, doc.stamp_y1) == (-1, None, None)


def test_only_the_signer_and_only_before_signing(db: Session, blobs: BlobStore, trust: TrustStore,
                                                 pin_key) -> None:
    doc = _approved(db, blobs)
    for who in (CLERK, SPECIALIST):
        with pytest.raises(Forbidden, match="Chỉ người được giao ký"):
            signatures.place_stamp(db, blobs, actor(db, who), doc.id, "1", place="duoi-trai")
    with pytest.raises(NotFound):
        signatures.place_stamp(db, blobs, actor(db, "lanhdao.bnv"), doc.id, "1", place="duoi-trai")
    leader = actor(db, LEADER)
    signatures.sign_with_pin(db, blobs, trust, leader, doc.id, PIN)
    signed_at = (doc.stamp_page, doc.stamp_x1, doc.stamp_y1)
    with pytest.raises(WrongState, match="chưa ký được"):
        signatures.place_stamp(db, blobs, leader, doc.id, "1", place="duoi-trai")
    assert (doc.stamp_page, doc.stamp_x1, doc.stamp_y1) == signed_at


def test_the_page_form_places_the_signature(db: Session, blobs: BlobStore, client: FlaskClient,
                                            login_as) -> None:
    doc = _approved(db, blobs)
    db.commit()
    login_as(LEADER)
    page = f"/van-ban-di/{doc.id}"
    html = client.get(page).get_data(as_text=True)
    assert 'data-place-form="place-form"' in html and "Cuối trang, bên trái" in html
    resp = client.post(f"{page}/vi-tri-chu-ky", data={
        "csrf_token": csrf_token(client, page), "page": "2", "x": "0.5", "y": "0.5"})
    assert resp.status_code == 302
    shown = client.get(resp.location).get_data(as_text=True)
    assert "Đã đặt vị trí chữ ký ở trang 2." in shown and "(trang 2)" in shown
    png = client.get(f"{page}/vi-tri-chu-ky.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    bad = client.post(f"{page}/vi-tri-chu-ky", data={
        "csrf_token": csrf_token(client, page), "page": "7", "place": "duoi-phai"})
    assert "không có trang 7" in client.get(bad.location).get_data(as_text=True)
    assert client.post(f"{page}/vi-tri-chu-ky", data={"page": "1", "place": "duoi-trai"}
                       ).status_code == 400  # no CSRF token
    db.expire_all()
    assert db.get(OutgoingDocument, doc.id).stamp_page == 1
