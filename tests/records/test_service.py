"""Records (issue 22): the file list, dossiers, filing, closing and the hand-over, through the
services, with each refused input's Vietnamese message."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent
from ioffice.demo import DEMO_PIN
from ioffice.errors import Forbidden, NotFound
from ioffice.notifications.models import Kind, Notification
from ioffice.outgoing.errors import PinRefused
from ioffice.records import handover as handovers
from ioffice.records import service as records
from ioffice.records.models import DossierStatus, HandoverStatus, ListStatus
from ioffice.records.service import RecordsError
from ioffice.storage import BlobStore
from tests.outgoing.conftest import new_draft
from tests.records.conftest import ARCHIVIST, CLERK, KEEPER, LEADER, TODAY, make_year
from tests.support.factories import actor, register, user_id


def _refused(words: str, call, *args, **kw) -> None:
    with pytest.raises(RecordsError) as info:
        call(*args, **kw)
    assert words in info.value.message, info.value.message


def test_the_list_has_roman_headings_symbols_and_is_copied_to_next_year(db: Session) -> None:
    year = make_year(db)
    assert year.file_list.status is ListStatus.APPROVED
    assert [d.symbol for d in year.file_list.dossiers] == ["01.TCCB", "02.TCCB"]
    rows = records.list_rows(year.file_list)
    assert [r.label for r in rows if r.kind != "dossier"] == [
        "I. TỔ CHỨC, CÁN BỘ", "1. Tuyển dụng", "II. VĂN PHÒNG"]
    assert year.dossier.retention_label == "Vĩnh viễn" and year.other.retention_label == "20 năm"
    nxt = records.create_list(db, actor(db, CLERK), "2027", TODAY, copy_previous=True)
    assert nxt.status is ListStatus.DRAFT
    assert sorted(d.symbol for d in nxt.dossiers) == ["01.TCCB", "02.TCCB"]
    assert {d.status for d in nxt.dossiers} == {DossierStatus.PLANNED}
    tags = set(db.scalars(select(AuditEvent.tag).where(AuditEvent.tag.like("records:%"))))
    assert {"records:file-list:create", "records:heading:add", "records:dossier:plan",
            "records:file-list:approve"} <= tags


def test_bad_list_input_is_refused(db: Session) -> None:
    clerk = actor(db, CLERK)
    _refused("không hợp lệ: danh mục hồ sơ được lập cho một năm từ 2000 đến 2027",
             records.create_list, db, clerk, "2031", TODAY)
    _refused("Năm «hai»", records.create_list, db, clerk, "hai", TODAY)
    _refused("Chưa có danh mục hồ sơ năm 2025 để sao chép", records.create_list, db, clerk,
             "2026", TODAY, copy_previous=True)
    year = make_year(db, approve=False)
    _refused("Cơ quan đã có danh mục hồ sơ năm 2026", records.create_list, db, clerk, "2026",
             TODAY)
    heading = year.dossier.heading_id
    _refused("«01.TCCB» đã có trong danh mục năm 2026", records.add_dossier, db, clerk,
             year.file_list.id, records.DossierInput(str(heading), "01", "Trùng số", "5",
                                                     str(user_id(db, KEEPER))))
    _refused("Hồ sơ thuộc danh mục năm 2026, không phải năm «2025»", records.add_dossier, db,
             clerk, year.file_list.id, records.DossierInput(str(heading), "7", "Khác", "5",
                                                            str(user_id(db, KEEPER)), "2025"))
    _refused("Thời hạn bảo quản «mãi mãi» không hợp lệ", records.add_dossier, db, clerk,
             year.file_list.id, records.DossierInput(str(heading), "8", "Khác", "mãi mãi",
                                                     str(user_id(db, KEEPER))))
    _refused("Người lập hồ sơ phải là một người đang làm việc trong cơ quan", records.add_dossier,
             db, clerk, year.file_list.id, records.DossierInput(
                 str(heading), "9", "Khác", "5", str(user_id(db, "vanthu.bnv"))))
    _refused("đã có đề mục lớn viết tắt «VP»", records.add_heading, db, clerk, year.file_list.id,
             "Văn phòng 2", "VP")
    _refused("chưa được phê duyệt; chưa mở được hồ sơ", records.open_dossier, db,
             actor(db, KEEPER), year.dossier.id, "2026-02-01", TODAY)
    with pytest.raises(Forbidden):
        records.approve_list(db, clerk, year.file_list.id, "")
    with pytest.raises(Forbidden):
        records.create_list(db, actor(db, KEEPER), "2027", TODAY)
    extra = records.add_dossier(db, clerk, year.file_list.id, records.DossierInput(
        str(heading), "9", "Nhầm", "5", str(user_id(db, KEEPER))))
    records.remove_planned(db, clerk, year.file_list.id, extra.id)
    assert [d.symbol for d in year.file_list.dossiers] == ["01.TCCB", "02.TCCB"]
    records.approve_list(db, actor(db, LEADER), year.file_list.id, "")
    _refused("đã được phê duyệt; không sửa được nữa", records.remove_planned, db, clerk,
             year.file_list.id, year.dossier.id)
    _refused("đã được phê duyệt; không sửa được nữa", records.add_heading, db, clerk,
             year.file_list.id, "Mới", "MOI")
    _refused("Ngày mở hồ sơ 01/02/2025 không thuộc năm 2026", records.open_dossier, db,
             actor(db, KEEPER), year.dossier.id, "2025-02-01", TODAY)


def test_filing_closing_and_the_table_of_contents(db: Session, blobs: BlobStore) -> None:
    year = make_year(db)
    keeper, clerk = actor(db, KEEPER), actor(db, CLERK)
    records.open_dossier(db, keeper, year.dossier.id, "2026-02-01", TODAY)
    records.open_dossier(db, keeper, year.other.id, "2026-03-01", TODAY)
    _refused("chưa có văn bản, tài liệu nào; không kết thúc được một hồ sơ rỗng",
             records.close_dossier, db, keeper, year.dossier.id, "2026-11-30", "10", TODAY)
    incoming = register(db, blobs, clerk, subject="Về việc tuyển dụng công chức cấp xã")
    outgoing = new_draft(db, blobs)
    outgoing.number_notation, outgoing.promulgation_date = "45/BC-UBND", TODAY
    records.add_document(db, keeper, year.dossier.id, "incoming", incoming.id)
    records.add_document(db, keeper, year.dossier.id, "outgoing", outgoing.id)
    records.add_document(db, keeper, year.other.id, "incoming", incoming.id)  # a second dossier
    records.add_note(db, keeper, year.dossier.id, "Còn thiếu biên bản họp hội đồng.")
    records.add_file(db, blobs, keeper, year.dossier.id, "Ảnh buổi thi tuyển", "anh.jpg", b"JPEG")
    _refused(f"Văn bản {incoming.number_notation} đã có trong hồ sơ 01.TCCB",
             records.add_document, db, keeper, year.dossier.id, "incoming", incoming.id)
    bnv_doc = register(db, blobs, actor(db, "vanthu.bnv"))
    _refused(f"Không có văn bản đến mã {bnv_doc.id} trong cơ quan của bạn",
             records.add_document, db, keeper, year.dossier.id, "incoming", bnv_doc.id)
    with pytest.raises(Forbidden):  # only the keeper files (the clerk reads the dossier)
        records.add_document(db, clerk, year.dossier.id, "incoming", incoming.id)
    with pytest.raises(NotFound):  # a head who is not the keeper does not see it
        records.add_document(db, actor(db, "truongphong.camau"), year.dossier.id, "incoming",
                             incoming.id)
    holding = records.dossiers_holding(db, keeper, "incoming", incoming.id)
    assert [d.symbol for d in holding.dossiers] == ["01.TCCB", "02.TCCB"]
    toc = records.table_of_contents(db, year.dossier, "Ủy ban nhân dân tỉnh Cà Mau")
    assert [r.number_notation for r in toc] == [incoming.number_notation, "45/BC-UBND", ""]
    assert toc[0].author == "Bộ Nội vụ" and toc[0].type_and_subject.startswith("Công văn: ")
    _refused("Ngày kết thúc phải từ ngày mở hồ sơ (01/02/2026)", records.close_dossier, db,
             keeper, year.dossier.id, "2026-01-15", "10", TODAY)
    _refused("Số tờ (trang)", records.close_dossier, db, keeper, year.dossier.id, "2026-11-30",
             "0", TODAY)
    closed = records.close_dossier(db, keeper, year.dossier.id, "2026-11-30", "12", TODAY)
    assert closed.status is DossierStatus.CLOSED and closed.page_count == 12
    _refused("đang ở trạng thái «Đã kết thúc»", records.add_note, db, keeper, year.dossier.id, "x")
    assert [d.symbol for d in records.search_dossiers(db, clerk, "tuyen dung CONG chuc")] == [
        "01.TCCB"]
    assert [d.symbol for d in records.search_dossiers(db, clerk, "01.tccb")] == ["01.TCCB"]
    assert records.search_dossiers(db, actor(db, "truongphong.camau"), "tuyển dụng") == []
    with pytest.raises(NotFound):  # another agency's dossier looks missing
        records.get_dossier(db, actor(db, "vanthu.bnv"), year.dossier.id)


def test_hand_over_signed_by_both_sides(db: Session, blobs: BlobStore, trust, keeper_key) -> None:
    year = make_year(db)
    keeper, archivist = actor(db, KEEPER), actor(db, ARCHIVIST)
    for d in (year.dossier, year.other):
        records.open_dossier(db, keeper, d.id, "2026-02-01", TODAY)
        records.add_note(db, keeper, d.id, "Ghi chú")
        records.add_file(db, blobs, keeper, d.id, "Tài liệu", "a.pdf", b"%PDF-1.4 x")
    records.close_dossier(db, keeper, year.dossier.id, "2026-11-30", "3", TODAY)
    _refused("Hồ sơ 02.TCCB đang ở trạng thái «Đang lập»; chỉ nộp lưu được hồ sơ đã kết thúc",
             handovers.start, db, blobs, keeper, [year.dossier.id, year.other.id], TODAY)
    _refused("chỉ nộp lưu được hồ sơ của mình", handovers.start, db, blobs,
             actor(db, "truongphong.camau"), [year.dossier.id], TODAY)
    h = handovers.start(db, blobs, keeper, [year.dossier.id], TODAY)
    with pytest.raises(PinRefused):
        handovers.sign_as_keeper(db, blobs, trust, keeper, h.id, "000000")
    _refused("chỉ nhận hoặc trả lại được biên bản bên giao đã ký", handovers.accept, db, blobs,
             trust, archivist, h.id, DEMO_PIN)
    handovers.sign_as_keeper(db, blobs, trust, keeper, h.id, DEMO_PIN)
    assert h.status is HandoverStatus.SUBMITTED
    assert year.dossier.status is DossierStatus.SUBMITTED
    told = db.scalars(select(Notification).where(Notification.kind == Kind.RECORDS,
                                                 Notification.user_id == archivist.user_id)).all()
    assert told and "chờ Lưu trữ nhận" in told[-1].text
    with pytest.raises(Forbidden):
        handovers.accept(db, blobs, trust, keeper, h.id, DEMO_PIN)
    handovers.accept(db, blobs, trust, archivist, h.id, DEMO_PIN)
    assert h.status is HandoverStatus.ACCEPTED
    assert year.dossier.status is DossierStatus.ARCHIVED
    pdf = blobs.read_bytes(h.record_sha256)
    sigs = list(PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures)
    assert len(sigs) == 2
    names = [s.signer_cert.subject.native["common_name"] for s in sigs]
    assert "Đoàn Thị Lưu" in names[1]
    tags = list(db.scalars(select(AuditEvent.tag).where(AuditEvent.subject_type == "handover")))
    assert {"records:handover:start", "records:handover:keeper-wrong-pin",
            "records:handover:submit", "records:handover:accept"} <= set(tags)


def test_the_archive_returns_a_hand_over_and_keepers_are_reminded(
        db: Session, blobs: BlobStore, trust, keeper_key) -> None:
    year = make_year(db)
    keeper, archivist = actor(db, KEEPER), actor(db, ARCHIVIST)
    records.open_dossier(db, keeper, year.dossier.id, "2026-01-05", TODAY)
    records.add_file(db, blobs, keeper, year.dossier.id, "Tài liệu", "a.pdf", b"%PDF-1.4 x")
    records.close_dossier(db, keeper, year.dossier.id, "2026-01-10", "3", TODAY)
    h = handovers.start(db, blobs, keeper, [year.dossier.id], TODAY)
    handovers.sign_as_keeper(db, blobs, trust, keeper, h.id, DEMO_PIN)
    _refused("Hãy ghi lý do trả lại", handovers.return_handover, db, archivist, h.id, "  ")
    handovers.return_handover(db, archivist, h.id, "Thiếu biên bản họp hội đồng.")
    assert year.dossier.status is DossierStatus.CLOSED and year.dossier.handover_id is None
    # the keeper completes it: reopened, a file added, closed again (a new end date)
    records.reopen_dossier(db, keeper, year.dossier.id)
    assert year.dossier.status is DossierStatus.OPEN and year.dossier.end_date is None
    records.add_file(db, blobs, keeper, year.dossier.id, "Biên bản họp", "bb.pdf", b"%PDF-1.4 y")
    records.close_dossier(db, keeper, year.dossier.id, "2026-01-10", "4", TODAY)
    h2 = handovers.start(db, blobs, keeper, [year.dossier.id], TODAY)
    _refused("đang nằm trong biên bản giao nhận số", records.reopen_dossier, db, keeper,
             year.dossier.id)
    handovers.cancel(db, keeper, h2.id)
    assert year.dossier.handover_id is None
    import datetime as dt
    assert handovers.remind_keepers(db, dt.date(2026, 12, 10)) == 0
    assert handovers.remind_keepers(db, dt.date(2026, 12, 11)) == 1  # 30 days before 10/01/2027
    assert handovers.remind_keepers(db, dt.date(2026, 12, 12)) == 0  # once
    note = db.scalars(select(Notification).where(Notification.user_id == keeper.user_id,
                                                 Notification.kind == Kind.RECORDS)
                      .order_by(Notification.id.desc())).first()
    assert "phải nộp lưu trước ngày 10/01/2027" in note.text
