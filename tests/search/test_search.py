"""Full-text search: diacritics, fields, ranking, keyset pages, isolation, confidentiality."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import delete, select
from sqlalchemy import text as text_sql
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Department
from ioffice.audit.models import AuditEvent
from ioffice.documents.vocabulary import Confidentiality
from ioffice.incoming.access import can_read
from ioffice.incoming.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    DocumentStatus,
    IncomingDocument,
    Source,
)
from ioffice.incoming.registration import (
    IncomingInput,
    UploadedFile,
    check_files,
    finish_files,
    register_paper,
    stage_files,
)
from ioffice.search import index_incoming, search, service
from ioffice.storage import LocalBlobStore
from ioffice.text import MAX_INT
from tests.search.conftest import text_pdf

MakeDoc = Callable[..., IncomingDocument]


def ids(page) -> list[int]:
    return [r.document.id for r in page.results]


@pytest.fixture
def registered(db: Session, clerk: Actor, blobs: LocalBlobStore) -> IncomingDocument:
    data = IncomingInput(
        issuer_name="Ủy ban nhân dân huyện Đầm Dơi", issuer_code="000.00.23.H12", number="15",
        notation="QĐ-UBND", document_date=dt.date(2025, 6, 2), doc_type="quyet_dinh",
        subject="Quyết định phê duyệt kế hoạch đầu tư công năm 2026", signer="Lê Thị Hường",
        notes="Gửi kèm phụ lục điều chỉnh",
        files=(UploadedFile("qd.pdf", text_pdf("Phong chong thien tai mua mua bao")),))
    return register_paper(db, blobs, clerk, data, today=dt.date(2025, 6, 5))


@pytest.mark.parametrize("query", [
    "quyet dinh", "QUYẾT ĐỊNH", "Quyết Định", "dau tu cong", "đầu tư công", "kế hoạch",
    "15/QĐ-UBND", "qd ubnd", "dam doi", "Đầm Dơi", "le thi huong", "phu luc", "000.00.23.H12",
    "thien tai",  # only in the PDF's text
])
def test_every_field_and_the_text_without_diacritics(db: Session, clerk: Actor,
                                                     registered: IncomingDocument,
                                                     query: str) -> None:
    assert ids(search(db, clerk, query)) == [registered.id]


def test_type_name_and_incoming_number(db: Session, clerk: Actor, make_doc: MakeDoc) -> None:
    doc = make_doc(clerk.agency_id, "Về việc tổ chức hội nghị", doc_type="giay_moi",
                   incoming_number=987654)
    assert doc.id in ids(search(db, clerk, "giay moi hoi nghi"))
    assert ids(search(db, clerk, "987654")) == [doc.id]


def test_every_word_must_match(db: Session, clerk: Actor, make_doc: MakeDoc) -> None:
    a = make_doc(clerk.agency_id, "Xây dựng cầu Rạch Ráng")
    make_doc(clerk.agency_id, "Xây dựng trường học")
    assert ids(search(db, clerk, "xay dung rach rang")) == [a.id]
    assert ids(search(db, clerk, "xay dung khong-co-tu-nay")) == []


def test_more_relevant_first(db: Session, clerk: Actor, make_doc: MakeDoc) -> None:
    in_text = make_doc(clerk.agency_id, "Báo cáo tháng", "có nhắc đến thủy lợi một lần")
    in_subject = make_doc(clerk.agency_id, "Kế hoạch thủy lợi nội đồng", "kênh mương")
    both = make_doc(clerk.agency_id, "Thủy lợi và thủy lợi nội đồng",
                    "thủy lợi thủy lợi, công trình thủy lợi")
    page = search(db, clerk, "thuy loi")
    assert ids(page) == [both.id, in_subject.id, in_text.id]
    scores = [r.score for r in page.results]
    assert scores == sorted(scores, reverse=True)


def test_keyset_pages_are_complete_and_stable(db: Session, clerk: Actor, make_doc: MakeDoc) -> None:
    # three relevance levels with many ties inside each, so the id tie-break is exercised
    made = [make_doc(clerk.agency_id, f"Phân trang mục {i}",
                     " ".join(["phantrang"] * (1 + i % 3)) + f" noi dung {i}").id
            for i in range(37)]
    everything = ids(search(db, clerk, "phan trang", limit=100))
    assert sorted(everything) == sorted(made)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = search(db, clerk, "phan trang", cursor=cursor, limit=5)
        seen += ids(page)
        pages += 1
        if page.next_cursor is None:
            break
        # a new matching document after the first page does not shift or repeat what follows
        cursor = page.next_cursor
        assert len(page.results) == 5
    assert pages == 8
    assert seen == everything
    assert len(set(seen)) == len(seen)


def test_exact_page_size_has_no_empty_next_page(db: Session, clerk: Actor, make_doc: MakeDoc) -> None:
    for i in range(4):
        make_doc(clerk.agency_id, f"Chẵn trang {i}")
    page = search(db, clerk, "chan trang", limit=4)
    assert len(page.results) == 4 and page.next_cursor is None


def test_other_agencies_documents_never_found(db: Session, clerk: Actor, actor_for, make_doc: MakeDoc
                                              ) -> None:
    other = actor_for("vanthu.uminh")
    theirs = make_doc(other.agency_id, "Bí mật riêng của huyện U Minh zqxuminh",
                      number="4242", notation="UBND-VP", number_notation="4242/UBND-VP")
    ours = make_doc(clerk.agency_id, "Văn bản của tỉnh zqxuminh")
    assert ids(search(db, clerk, "zqxuminh")) == [ours.id]
    assert search(db, clerk, "4242/UBND-VP").results == []
    assert ids(search(db, other, "4242/UBND-VP")) == [theirs.id]


def test_confidential_only_for_clerk_leader_and_assignees(db: Session, actor_for, clerk: Actor,
                                                          make_doc: MakeDoc) -> None:
    leader, head = actor_for("lanhdao.camau"), actor_for("truongphong.camau")
    specialist = actor_for("chuyenvien.camau")
    secret = make_doc(clerk.agency_id, "Phương án mật kmxsecret",
                      confidentiality=Confidentiality.SECRET)
    public = make_doc(clerk.agency_id, "Thông báo thường kmxsecret")
    assert set(ids(search(db, clerk, "kmxsecret"))) == {secret.id, public.id}
    assert set(ids(search(db, leader, "kmxsecret"))) == {secret.id, public.id}
    assert ids(search(db, specialist, "kmxsecret")) == [public.id]
    assert ids(search(db, head, "kmxsecret")) == [public.id]

    # assigned to the head's department: the head may read it, the specialist still not
    dept = db.get(Department, head.department_id)
    db.add(Assignment(agency_id=clerk.agency_id, document_id=secret.id, role=AssignmentRole.LEAD,
                      assignee_department_id=dept.id, assigned_by_id=leader.user_id))
    db.flush()
    assert set(ids(search(db, head, "kmxsecret"))) == {secret.id, public.id}
    assert ids(search(db, specialist, "kmxsecret")) == [public.id]

    db.add(Assignment(agency_id=clerk.agency_id, document_id=secret.id, role=AssignmentRole.CO,
                      assignee_user_id=specialist.user_id, assigned_by_id=leader.user_id))
    db.flush()
    assert set(ids(search(db, specialist, "kmxsecret"))) == {secret.id, public.id}


def test_confidential_rule_per_entry_hides_exactly_what_can_read_hides(
        db: Session, actor_for, clerk: Actor, make_doc: MakeDoc) -> None:
    """The read rule looked up per confidential entry (docs/search.md, "Who sees what, in SQL")
    shows each user exactly the documents ``can_read`` lets them open, ranked and newest first,
    page after page: whose assignment it is, to a person or a department, in any status, one of
    several, or none."""
    leader, head = actor_for("lanhdao.camau"), actor_for("truongphong.camau")
    specialist = actor_for("chuyenvien.camau")
    other_dept = db.scalars(select(Department.id).where(
        Department.agency_id == clerk.agency_id, Department.id != head.department_id)).first()
    assert specialist.department_id == head.department_id and other_dept is not None

    def assign(doc: IncomingDocument, status: AssignmentStatus = AssignmentStatus.PENDING,
               **to: int | None) -> None:
        db.add(Assignment(agency_id=clerk.agency_id, document_id=doc.id, role=AssignmentRole.LEAD,
                          assigned_by_id=leader.user_id, status=status, **to))

    secret, docs = Confidentiality.SECRET, []
    for i in range(4):
        mine = make_doc(clerk.agency_id, f"Mật giao chuyên viên kmxrule {i}", confidentiality=secret)
        assign(mine, AssignmentStatus.DONE if i % 2 else AssignmentStatus.RETURNED,
               assignee_user_id=specialist.user_id)
        shared = make_doc(clerk.agency_id, f"Mật phối hợp kmxrule {i}",
                          confidentiality=Confidentiality.TOP_SECRET)
        assign(shared, assignee_user_id=head.user_id)
        assign(shared, assignee_user_id=specialist.user_id)
        theirs = make_doc(clerk.agency_id, f"Mật giao trưởng phòng kmxrule {i}",
                          confidentiality=secret)
        assign(theirs, assignee_user_id=head.user_id)
        unit = make_doc(clerk.agency_id, f"Mật giao phòng kmxrule {i}",
                        confidentiality=Confidentiality.CONFIDENTIAL)
        assign(unit, assignee_department_id=head.department_id)
        elsewhere = make_doc(clerk.agency_id, f"Mật giao phòng khác kmxrule {i}",
                             confidentiality=secret)
        assign(elsewhere, assignee_department_id=other_dept)
        nobody = make_doc(clerk.agency_id, f"Mật chưa giao kmxrule {i}", confidentiality=secret)
        ordinary = make_doc(clerk.agency_id, f"Thông báo kmxrule {i}")
        assign(ordinary, assignee_user_id=head.user_id)
        docs += [mine, shared, theirs, unit, elsewhere, nobody, ordinary,
                 make_doc(clerk.agency_id, f"Công văn kmxrule {i}")]
    db.flush()
    db.expire_all()

    def every_page(who: Actor, cursor: str | None) -> list[int]:
        found: list[int] = []
        while True:
            # no ranking budget: under load a page's ranking overran 150 ms and was given up
            # for newest first in the middle of the paging (seen once; see docs/search.md)
            page = search(db, who, "kmxrule", cursor=cursor, limit=5, rank_budget_ms=60_000)
            found += ids(page)
            if page.next_cursor is None:
                return found
            cursor = page.next_cursor

    newest = service.encode_cursor(service.NEWEST_FIRST, MAX_INT)  # from the newest down
    for who in (specialist, head, clerk):
        readable = sorted((d.id for d in docs if can_read(db, who, d)), reverse=True)
        ranked = every_page(who, None)
        assert sorted(ranked, reverse=True) == readable and len(set(ranked)) == len(ranked)
        assert every_page(who, newest) == readable
    # the specialist: theirs alone or shared, and the two ordinary ones; the head: shared, theirs,
    # their unit's, and the ordinary ones; the clerk: all
    assert [sum(can_read(db, who, d) for d in docs) for who in (specialist, head, clerk)] == \
        [4 * 4, 4 * 5, 4 * 8]


def test_index_follows_changes_and_deletes(db: Session, clerk: Actor, make_doc: MakeDoc) -> None:
    doc = make_doc(clerk.agency_id, "Trích yếu cũ oldword")
    doc.subject = "Trích yếu mới newword"
    index_incoming(db, doc)
    assert search(db, clerk, "oldword").results == []
    assert ids(search(db, clerk, "newword")) == [doc.id]
    db.execute(delete(IncomingDocument).where(IncomingDocument.id == doc.id))
    db.expunge_all()
    assert search(db, clerk, "newword").results == []


def test_filters(db: Session, clerk: Actor, make_doc: MakeDoc) -> None:
    early = make_doc(clerk.agency_id, "Lọc ngày filterx", document_date=dt.date(2025, 1, 10))
    late = make_doc(clerk.agency_id, "Lọc ngày filterx", document_date=dt.date(2025, 5, 10),
                    doc_type="thong_bao")
    assert ids(search(db, clerk, "filterx", date_from=dt.date(2025, 2, 1))) == [late.id]
    assert ids(search(db, clerk, "filterx", date_to=dt.date(2025, 2, 1))) == [early.id]
    assert ids(search(db, clerk, "filterx", doc_type="thong_bao")) == [late.id]


def test_each_search_is_audited(db: Session, clerk: Actor) -> None:
    search(db, clerk, "Nhật ký tìm kiếm")
    event = db.scalars(select(AuditEvent).where(AuditEvent.tag == "search:query:run")
                       .order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.details["q"] == "Nhật ký tìm kiếm"
    assert event.actor_id == clerk.user_id and event.agency_id == clerk.agency_id


def test_documents_received_are_indexed_as_a_reindex_would(db: Session, clerk: Actor,
                                                              blobs: LocalBlobStore) -> None:
    """The exchange's new documents (staged, one flush, then ``finish_files``: on PostgreSQL
    one INSERT statement writes every entry and its text vector) are found by subject and
    text, with the entries a later re-index writes."""
    docs = []
    for word in ("rcvword", "othword"):
        doc = IncomingDocument(
            agency_id=clerk.agency_id, status=DocumentStatus.AWAITING_REGISTRATION,
            source=Source.AXIS, issuer_name="Bộ Nội vụ", number="12", notation="BNV-CCHC",
            number_notation="12/BNV-CCHC", document_date=dt.date(2026, 3, 1), doc_type="cong_van",
            subject=f"Công văn về cải cách hành chính {word}", confidentiality=Confidentiality.NORMAL,
            files=[])
        checked = check_files((UploadedFile("cong-van.pdf", text_pdf(f"Noi dung body{word}")),))
        text = stage_files(blobs, doc, checked)
        db.add(doc)
        docs.append((doc, text))
    db.flush()
    finish_files(db, docs)
    (first, _), (second, _) = docs
    assert ids(search(db, clerk, "cai cach rcvword")) == [first.id]
    assert ids(search(db, clerk, "bodyrcvword")) == [first.id]
    assert ids(search(db, clerk, "bodyothword")) == [second.id]
    assert len(first.files) == 1 and first.files[0].page_count == 1
    columns = "meta, body, tsv" if db.get_bind().dialect.name == "postgresql" else "meta, body"
    entry = text_sql(f"SELECT {columns} FROM search_entries WHERE document_id = :id")
    for doc, _ in docs:
        written = db.execute(entry, {"id": doc.id}).one()
        index_incoming(db, doc)  # the update path, from the stored text
        assert db.execute(entry, {"id": doc.id}).one() == written
