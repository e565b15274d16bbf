"""Search over outgoing documents: indexed when created, given a new version, numbered and
dispatched; filtered by direction, status and department; the outgoing read rule in SQL
(the same answer as ``outgoing.access.can_read``); one keyset across both registers."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies import service as agencies
from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Membership, Role, User
from ioffice.documents.vocabulary import Confidentiality
from ioffice.outgoing import access, drafts, numbering
from ioffice.outgoing.drafts import Upload
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus
from ioffice.search import Filters, SearchError, search
from ioffice.storage import BlobStore
from signing.demo import make_text_pdf
from tests.conftest import csrf_token
from tests.outgoing.conftest import approve_all, new_draft
from tests.support.factories import actor, department

IN, OUT = Filters(direction="incoming"), Filters(direction="outgoing")


def found(db: Session, who: Actor, q: str, flt: Filters | None = None) -> set[tuple[str, int]]:
    return {(r.kind, r.document.id) for r in search(db, who, q, limit=100, filters=flt).results}


def test_a_draft_is_found_by_its_subject_its_text_and_later_its_number(
        db: Session, blobs: BlobStore, make_doc) -> None:
    clerk = actor(db, "vanthu.camau")
    doc = new_draft(db, blobs, subject="Kế hoạch phòng chống bão Xuân Thủy",
                    data=make_text_pdf(["Nội dung dự thảo", "sơ tán dân cư vùng trũng"]))
    incoming = make_doc(clerk.agency_id, "Công văn về phòng chống bão Xuân Thủy")
    assert found(db, clerk, "xuan thuy") == {("outgoing", doc.id), ("incoming", incoming.id)}
    assert found(db, clerk, "so tan dan cu") == {("outgoing", doc.id)}  # the PDF's text
    assert found(db, clerk, "xuan thuy", OUT) == {("outgoing", doc.id)}
    assert found(db, clerk, "xuan thuy", IN) == {("incoming", incoming.id)}
    drafts.upload_version(db, blobs, actor(db, "chuyenvien.camau"), doc.id, Upload(
        "v2.pdf", make_text_pdf(["Bản sửa", "di dời tàu thuyền"])))
    assert found(db, clerk, "so tan") == set() and found(db, clerk, "tau thuyen") == {("outgoing", doc.id)}
    approve_all(db, doc)
    doc.status = OutgoingStatus.SIGNED  # as after the signature
    numbering.assign_number(db, clerk, doc.id)
    assert found(db, clerk, doc.number_notation, OUT) == {("outgoing", doc.id)}


def test_filters_by_status_and_department(db: Session, blobs: BlobStore, make_doc) -> None:
    clerk = actor(db, "vanthu.camau")
    draft = new_draft(db, blobs, subject="Tờ trình lọctrạngthái")
    approved = approve_all(db, new_draft(db, blobs, subject="Tờ trình lọctrạngthái đã duyệt"))
    incoming = make_doc(clerk.agency_id, "Văn bản đến lọctrạngthái")
    q = "loctrangthai"
    assert found(db, clerk, q, Filters(status="di:draft")) == {("outgoing", draft.id)}
    assert found(db, clerk, q, Filters(status="di:approved")) == {("outgoing", approved.id)}
    assert found(db, clerk, q, Filters(status="den:registered")) == {("incoming", incoming.id)}
    # a status of one direction with the other direction asked for: nothing
    assert found(db, clerk, q, Filters(direction="incoming", status="di:draft")) == set()
    drafting = draft.drafting_department_id
    assert found(db, clerk, q, Filters(direction="outgoing", department_id=drafting)) == {
        ("outgoing", draft.id), ("outgoing", approved.id)}
    other = department(db, clerk, "VP").id
    assert found(db, clerk, q, Filters(direction="outgoing", department_id=other)) == set()
    with pytest.raises(SearchError, match="Trạng thái"):
        search(db, clerk, q, filters=Filters(status="di:khong-co"))


def _actors(db: Session, agency_id: int) -> list[Actor]:
    rows = db.scalars(select(Membership).where(Membership.agency_id == agency_id)).all()
    return [Actor.of(m) for m in rows]


def test_the_sql_read_rule_answers_as_can_read_for_every_user(
        db: Session, blobs: BlobStore) -> None:
    subject = "Báo cáo quyềnđọc"
    clerk = actor(db, "vanthu.camau")
    office = department(db, clerk, "VP")
    for name in ("chuyenvien2.camau", "chuyenvien3.camau"):  # outside the drafting unit
        agencies.create_user(db, clerk.ctx, agency_id=clerk.agency_id, username=name,
                             full_name="Nguyễn Văn Khác", password="Mat-khau-dai-1!",
                             roles=[Role.SPECIALIST], department_id=office.id)
    docs = [new_draft(db, blobs, subject=subject, department_ids=(office.id,)),
            new_draft(db, blobs, subject=subject),
            new_draft(db, blobs, subject=subject, confidentiality=Confidentiality.CONFIDENTIAL),
            approve_all(db, new_draft(db, blobs, subject=subject,
                                      confidentiality=Confidentiality.SECRET))]
    in_review = new_draft(db, blobs, subject=subject, confidentiality=Confidentiality.CONFIDENTIAL)
    from ioffice.outgoing import review
    review.submit(db, actor(db, "chuyenvien.camau"), in_review.id)
    docs.append(in_review)
    users = _actors(db, docs[0].agency_id)
    assert len(users) >= 4
    seen_by_some_not_all = False
    for who in users:
        expected = {("outgoing", d.id) for d in docs if access.can_read(db, who, d)}
        assert found(db, who, "quyendoc", OUT) == expected, who
        seen_by_some_not_all |= 0 < len(expected) < len(docs)
    assert seen_by_some_not_all  # the rule did narrow something


def test_another_agencys_outgoing_document_is_never_found(db: Session, blobs: BlobStore) -> None:
    drafter = actor(db, "chuyenvien.uminh")
    doc = drafts.create_draft(db, blobs, drafter, drafts.DraftInput(
        doc_type="bao_cao", subject="Báo cáo riêngUMinh", signer_id=db.scalars(select(User.id).where(
            User.username == "lanhdao.uminh")).one(), department_ids=(drafter.department_id,)),
        Upload("d.pdf", make_text_pdf(["U Minh"])))
    assert found(db, actor(db, "lanhdao.uminh"), "riengUMinh") == {("outgoing", doc.id)}
    assert found(db, actor(db, "lanhdao.camau"), "riengUMinh") == set()
    assert found(db, actor(db, "vanthu.camau"), doc.subject) == set()


def test_pages_walk_both_registers_without_repeats(db: Session, blobs: BlobStore,
                                                   make_doc) -> None:
    clerk = actor(db, "vanthu.camau")
    expected = {("outgoing", new_draft(db, blobs, subject=f"Phântrang chung số {i}").id)
                for i in range(4)}
    expected |= {("incoming", make_doc(clerk.agency_id, f"Phântrang chung đến {i}").id)
                 for i in range(5)}
    seen: list[tuple[str, int]] = []
    cursor = None
    while True:
        page = search(db, clerk, "phantrang chung", limit=2, cursor=cursor)
        seen += [(r.kind, r.document.id) for r in page.results]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) and set(seen) == expected


def test_dispatch_keeps_the_document_findable(db: Session, blobs: BlobStore) -> None:
    clerk = actor(db, "vanthu.camau")
    doc = approve_all(db, new_draft(db, blobs, subject="Thông báo phát hành tìmđược"))
    doc.status = OutgoingStatus.SIGNED
    numbering.assign_number(db, clerk, doc.id)
    doc.status = OutgoingStatus.SEALED
    from ioffice.outgoing import dispatch
    dispatch.dispatch(db, clerk, doc.id)
    assert found(db, clerk, "timduoc", Filters(status="di:dispatched")) == {("outgoing", doc.id)}
    assert db.get(OutgoingDocument, doc.id).status is OutgoingStatus.DISPATCHED


def test_the_search_page_lists_outgoing_documents_with_their_filters(
        db: Session, blobs: BlobStore, make_doc, login_as) -> None:
    clerk = actor(db, "vanthu.camau")
    doc = new_draft(db, blobs, subject="Kế hoạch trangtìmkiếm năm 2027")
    secret = new_draft(db, blobs, subject="Kế hoạch trangtìmkiếm mật",
                       confidentiality=Confidentiality.CONFIDENTIAL)
    incoming = make_doc(clerk.agency_id, "Công văn trangtìmkiếm")
    db.commit()
    client = login_as("vanthu.camau")
    html = client.get("/tim-kiem", query_string={"q": "trangtimkiem", "huong": "di"}).get_data(
        as_text=True)
    assert f'href="/van-ban-di/{doc.id}"' in html and f'href="/van-ban-di/{secret.id}"' in html
    assert f'href="/van-ban-den/{incoming.id}"' not in html
    assert '<option value="di" selected>' in html and 'value="di:draft"' in html
    both = client.get("/tim-kiem", query_string={"q": "trangtimkiem"}).get_data(as_text=True)
    assert f'href="/van-ban-den/{incoming.id}"' in both and f'href="/van-ban-di/{doc.id}"' in both
    drafts_only = client.get("/tim-kiem", query_string={
        "q": "trangtimkiem", "trang_thai": "di:draft",
        "phong": str(doc.drafting_department_id)}).get_data(as_text=True)
    assert f'href="/van-ban-di/{doc.id}"' in drafts_only
    assert f'href="/van-ban-den/{incoming.id}"' not in drafts_only
    client.post("/dang-xuat", data={"csrf_token": csrf_token(client, "/")})
    other = login_as("chuyenvien.khanhan")  # another agency sees nothing of it
    assert "Không tìm thấy văn bản nào" in other.get("/tim-kiem?q=trangtimkiem").get_data(
        as_text=True)
