"""Changing the file list (issue 22): a draft's headings and planned dossiers edited, an empty
heading removed, a dossier added to the approved list mid-year (art. 29.2.c), and the archive
told once when dossiers' retention ends; each refusal's Vietnamese message."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent
from ioffice.errors import Forbidden, NotFound
from ioffice.notifications.models import Kind, Notification
from ioffice.records import destruction_pdf, editing, expiry, export, retention
from ioffice.records import service as records
from ioffice.records.models import DossierStatus
from ioffice.records.service import RecordsError
from ioffice.storage import BlobStore
from signing import TrustStore
from tests.records.conftest import ARCHIVIST, CLERK, KEEPER, LEADER, TODAY, make_year
from tests.records.test_retention import expired_year
from tests.records.test_retention_restored import restored_pair
from tests.support.factories import actor, user_id


def _refused(words: str, call, *args, **kw) -> None:
    with pytest.raises(RecordsError) as info:
        call(*args, **kw)
    assert words in info.value.message, info.value.message


def _tags(db: Session) -> list[str]:
    return list(db.scalars(select(AuditEvent.tag).where(AuditEvent.tag.like("records:%"))
                           .order_by(AuditEvent.id)))


def _labels(file_list) -> list[str]:
    return [r.label for r in records.list_rows(file_list)]


def test_headings_renamed_reordered_and_an_empty_one_removed(db: Session) -> None:
    year = make_year(db, approve=False)
    clerk, flist = actor(db, CLERK), year.file_list
    top = next(h for h in flist.headings if h.code == "TCCB")
    vp = next(h for h in flist.headings if h.code == "VP")
    sub = next(h for h in flist.headings if h.parent_id == top.id)
    # Văn phòng first: the numerals follow the order; its abbreviation changes to VPUB
    editing.edit_heading(db, clerk, flist.id, vp.id, title="Văn phòng Ủy ban", code="vpub",
                         order="1")
    editing.edit_heading(db, clerk, flist.id, sub.id, title="Tuyển dụng, tiếp nhận")
    assert _labels(flist) == ["I. VĂN PHÒNG ỦY BAN", "II. TỔ CHỨC, CÁN BỘ",
                              "Báo cáo thống kê số lượng cán bộ", "1. Tuyển dụng, tiếp nhận",
                              "Hồ sơ tuyển dụng công chức năm 2026"]
    assert [r.label for r in records.list_rows(flist) if r.kind != "dossier"] == [
        "I. VĂN PHÒNG ỦY BAN", "II. TỔ CHỨC, CÁN BỘ", "1. Tuyển dụng, tiếp nhận"]
    # the abbreviation of TCCB changes: its dossiers' symbols follow (and are found by them)
    editing.edit_heading(db, clerk, flist.id, top.id, title="Tổ chức, cán bộ", code="TC")
    assert sorted(d.symbol for d in flist.dossiers) == ["01.TC", "02.TC"]
    assert records.search_dossiers(db, clerk, "02.tc")[0].id == year.other.id
    _refused("đã có đề mục lớn viết tắt «VPUB»", editing.edit_heading, db, clerk, flist.id,
             top.id, title="Tổ chức", code="VPUB")
    _refused("Thứ tự «3» không hợp lệ: danh mục có 2 đề mục lớn, hãy chọn từ 1 đến 2",
             editing.edit_heading, db, clerk, flist.id, top.id, title="Tổ chức", order="3")
    _refused("Hãy nhập tên đề mục", editing.edit_heading, db, clerk, flist.id, top.id,
             title="  ")
    # removing: one with dossiers, one with subheadings, refused; the empty one goes
    _refused("Đề mục «1. Tuyển dụng, tiếp nhận» còn 1 hồ sơ (01.TC); hãy chuyển các hồ sơ đó",
             editing.remove_heading, db, clerk, flist.id, sub.id)
    _refused("Đề mục «II. Tổ chức, cán bộ» còn 1 hồ sơ (02.TC)", editing.remove_heading, db,
             clerk, flist.id, top.id)
    editing.remove_heading(db, clerk, flist.id, vp.id)
    assert [r.label for r in records.list_rows(flist) if r.kind != "dossier"] == [
        "I. TỔ CHỨC, CÁN BỘ", "1. Tuyển dụng, tiếp nhận"]
    records.remove_planned(db, clerk, flist.id, year.other.id)
    _refused("Đề mục «I. Tổ chức, cán bộ» còn 1 đề mục nhỏ («Tuyển dụng, tiếp nhận»)",
             editing.remove_heading, db, clerk, flist.id, top.id)
    with pytest.raises(NotFound):
        editing.remove_heading(db, clerk, flist.id, vp.id)
    with pytest.raises(Forbidden):
        editing.edit_heading(db, actor(db, KEEPER), flist.id, top.id, title="X")
    assert {"records:heading:edit", "records:heading:remove"} <= set(_tags(db))
    event = db.scalars(select(AuditEvent).where(AuditEvent.tag == "records:heading:edit")
                       .order_by(AuditEvent.id.desc())).first()
    assert event.details["symbols"] == {"01.TCCB": "01.TC", "02.TCCB": "02.TC"}


def test_a_planned_dossier_is_edited_and_duplicates_refused(db: Session) -> None:
    year = make_year(db, approve=False)
    clerk, flist = actor(db, CLERK), year.file_list
    vp = next(h for h in flist.headings if h.code == "VP")
    other_keeper = str(user_id(db, "truongphong.camau"))
    data = records.DossierInput(heading_id=str(vp.id), number="5", title=" Sổ  công văn đi ",
                                retention="10", keeper_id=other_keeper, year="2026")
    d = editing.edit_dossier(db, clerk, flist.id, year.other.id, data)
    assert (d.symbol, d.title, d.retention_years, d.keeper_id, d.heading_id) == (
        "05.VP", "Sổ công văn đi", 10, int(other_keeper), vp.id)
    assert records.search_dossiers(db, clerk, "cong van di")[0].id == d.id
    event = db.scalars(select(AuditEvent).where(AuditEvent.tag == "records:dossier:edit")).one()
    assert event.details["changes"]["symbol"] == ["02.TCCB", "05.VP"]
    assert event.details["changes"]["retention_years"] == [20, 10]
    # its own number again is fine; another dossier's is refused
    editing.edit_dossier(db, clerk, flist.id, d.id, data)
    top = next(h for h in flist.headings if h.code == "TCCB")
    _refused("Số và ký hiệu hồ sơ «01.TCCB» đã có trong danh mục năm 2026; hãy chọn số khác",
             editing.edit_dossier, db, clerk, flist.id, d.id, records.DossierInput(
                 str(top.id), "1", "Trùng", "5", other_keeper))
    _refused("Thời hạn bảo quản «0» không hợp lệ", editing.edit_dossier, db, clerk, flist.id,
             d.id, records.DossierInput(str(vp.id), "5", "X", "0", other_keeper))
    _refused("Người lập hồ sơ phải là một người đang làm việc trong cơ quan",
             editing.edit_dossier, db, clerk, flist.id, d.id, records.DossierInput(
                 str(vp.id), "5", "X", "5", str(user_id(db, "vanthu.bnv"))))
    assert db.get(type(d), d.id).symbol == "05.VP"
    # approved: nothing is edited any more
    records.approve_list(db, actor(db, LEADER), flist.id, "QĐ 1")
    _refused("Danh mục hồ sơ năm 2026 đã được phê duyệt; không sửa được nữa",
             editing.edit_dossier, db, clerk, flist.id, d.id, data)
    _refused("Danh mục hồ sơ năm 2026 đã được phê duyệt; không sửa được nữa",
             editing.edit_heading, db, clerk, flist.id, vp.id, title="Khác")
    _refused("Danh mục hồ sơ năm 2026 đã được phê duyệt; không sửa được nữa",
             editing.remove_heading, db, clerk, flist.id, vp.id)


def test_another_agency_gets_not_found(db: Session) -> None:
    year = make_year(db, approve=False)
    outsider = actor(db, "vanthu.bnv")
    with pytest.raises(NotFound):
        editing.edit_heading(db, outsider, year.file_list.id, year.dossier.heading_id,
                             title="X")
    with pytest.raises(NotFound):
        editing.add_to_approved(db, actor(db, "chuyenvien.bnv"), year.file_list.id,
                                records.DossierInput(), "", TODAY)


def test_a_dossier_added_to_the_approved_list_mid_year(db: Session) -> None:
    year = make_year(db)
    keeper, clerk, flist = actor(db, KEEPER), actor(db, CLERK), year.file_list
    vp = next(h for h in flist.headings if h.code == "VP")
    mine = records.DossierInput(heading_id=str(vp.id), number="3",
                                title="Hồ sơ hội nghị tổng kết năm 2026", retention="10",
                                keeper_id=str(keeper.user_id), year="2026")
    _refused("Ngày mở hồ sơ không được sau hôm nay", editing.add_to_approved, db, keeper,
             flist.id, mine, "2026-12-05", TODAY)
    _refused("Ngày mở hồ sơ 31/12/2025 không thuộc năm 2026", editing.add_to_approved, db,
             keeper, flist.id, mine, "2025-12-31", TODAY)
    d = editing.add_to_approved(db, keeper, flist.id, mine, "2026-11-20", TODAY)
    assert (d.symbol, d.status, d.start_date, d.added_by_id) == (
        "03.VP", DossierStatus.OPEN, dt.date(2026, 11, 20), keeper.user_id)
    assert d.added_at is not None
    _refused("«03.VP» đã có trong danh mục năm 2026", editing.add_to_approved, db, keeper,
             flist.id, mine, "", TODAY)
    # a specialist adds only their own; the office adds one for someone (planned, told)
    head = str(user_id(db, "truongphong.camau"))
    theirs = records.DossierInput(str(vp.id), "4", "Hồ sơ thanh tra công vụ", "vinh-vien", head)
    _refused("Bạn chỉ bổ sung được hồ sơ do chính mình lập", editing.add_to_approved, db,
             keeper, flist.id, theirs, "", TODAY)
    p = editing.add_to_approved(db, clerk, flist.id, theirs, "", TODAY)
    assert p.status is DossierStatus.PLANNED and p.start_date is None
    told = db.scalars(select(Notification).where(Notification.user_id == int(head))).one()
    assert told.kind is Kind.RECORDS and "04.VP" in told.text and told.link == f"/ho-so/{p.id}"
    with pytest.raises(Forbidden):
        editing.add_to_approved(db, actor(db, ARCHIVIST), flist.id, mine, "", TODAY)
    assert _tags(db).count("records:dossier:add") == 2
    # shown as additions: in the list's rows and in form II (Ghi chú column)
    assert d.addition_note.startswith("Bổ sung ngày ") and year.dossier.addition_note == ""
    db.expire(flist, ["dossiers"])
    assert [r.dossier.symbol for r in records.list_rows(flist) if r.dossier][-2:] == [
        "03.VP", "04.VP"]
    data = export.file_list_xlsx(flist, "UBND tỉnh Cà Mau", {})
    ws = load_workbook(io.BytesIO(data)).active
    rows = {r[0]: r for r in ws.iter_rows(values_only=True) if r[0]}
    assert rows["03.VP"][4].startswith("Bổ sung ngày ")
    assert rows["01.TCCB"][4] in (None, "")
    summary = [r[0] for r in ws.iter_rows(values_only=True) if r[0] and "hồ sơ này có" in r[0]]
    assert summary == ["Danh mục hồ sơ này có 4 hồ sơ, bao gồm: 2 hồ sơ bảo quản vĩnh viễn; 2 "
                       "hồ sơ bảo quản có thời hạn (trong đó 2 hồ sơ bổ sung sau khi phê duyệt)."]


def test_adding_to_a_draft_list_is_refused(db: Session) -> None:
    year = make_year(db, approve=False)
    keeper = actor(db, KEEPER)
    _refused("Danh mục hồ sơ năm 2026 chưa được phê duyệt; hãy thêm hồ sơ vào dự thảo",
             editing.add_to_approved, db, keeper, year.file_list.id, records.DossierInput(
                 str(year.dossier.heading_id), "9", "X", "5", str(keeper.user_id)), "", TODAY)


def test_the_archive_is_told_once_when_retention_ends(db: Session, blobs: BlobStore) -> None:
    _year, short, _doc, _item = expired_year(db, blobs)  # 03.VP: 5 years from 1 March 2026
    archivist = user_id(db, ARCHIVIST)

    def notices() -> list[Notification]:
        return list(db.scalars(select(Notification).where(Notification.user_id == archivist,
                                                          Notification.kind == Kind.RECORDS)))

    assert expiry.notify_expired(db, dt.date(2031, 2, 28)) == 0
    assert notices() == []
    assert expiry.notify_expired(db, dt.date(2031, 3, 1)) == 1
    [told] = notices()
    assert told.text.startswith("1 hồ sơ đã hết thời hạn bảo quản: 03.VP (2026, hết hạn "
                                "01/03/2031)")
    assert told.link == "/ho-so/bao-quan"
    assert db.get(type(short), short.id).expiry_notified_on == dt.date(2031, 3, 1)
    # the next days: nothing again for 03.VP; 02.TCCB (20 years) when its time comes
    assert expiry.notify_expired(db, dt.date(2031, 3, 2)) == 0
    assert expiry.notify_expired(db, dt.date(2040, 1, 1)) == 0
    assert expiry.notify_expired(db, dt.date(2046, 3, 1)) == 1
    assert [n.text[:30] for n in notices()][-1].startswith("1 hồ sơ đã hết thời hạn")
    assert len(notices()) == 2
    assert _tags(db).count("records:dossier:expiry-notify") == 2


def test_the_destruction_forms_as_pdf(db: Session, blobs: BlobStore, tmp_path: Path) -> None:
    _year, short, _doc, _item = expired_year(db, blobs)
    archive, leader = actor(db, ARCHIVIST), actor(db, LEADER)
    later = dt.date(2032, 1, 1)
    row = retention.propose(db, archive, [short.id], "Hội đồng thống nhất: hết giá trị",
                            later)
    _refused(f"Đề nghị tiêu hủy số {row.id} chưa được quyết định tiêu hủy",
             destruction_pdf.forms_pdf, db, leader, row.id)
    retention.approve(db, leader, row.id, "Quyết định số 5/QĐ-UBND ngày 02/01/2032", later)
    name, data = destruction_pdf.forms_pdf(db, actor(db, CLERK), row.id)
    assert name == f"bien-ban-huy-tai-lieu-{row.id}.pdf" and data.startswith(b"%PDF")
    path = tmp_path / name
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    for words in ("DANH MỤC TÀI LIỆU HẾT GIÁ TRỊ", "Kèm theo Quyết định số 5/QĐ-UBND",
                  "Danh mục này gồm: 1 hồ sơ (đơn vị bảo quản). Viết bằng chữ: Một hồ sơ",
                  "03.VP", "Sổ theo dõi công văn thường", "01/03/2031", "BIÊN BẢN",
                  "Về việc hủy tài liệu hết giá trị", "Hội đồng thống nhất: hết giá trị",
                  "Phương pháp hủy: xóa dữ liệu điện tử", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"):
        assert words in " ".join(text.split()), words
    pages = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert re.search(r"^Pages: +2$", pages, re.M), pages
    with pytest.raises(NotFound):
        destruction_pdf.forms_pdf(db, actor(db, "vanthu.bnv"), row.id)
    with pytest.raises(Forbidden):
        destruction_pdf.forms_pdf(db, actor(db, KEEPER), row.id)


def test_restored_dossiers_are_told_too(db: Session, blobs: BlobStore, trust: TrustStore
                                        ) -> None:
    _perm, short = restored_pair(db, blobs, trust)  # 02.TCCB of 2000, 20 years: both copies
    assert expiry.notify_expired(db, TODAY) == 2
    [told] = db.scalars(select(Notification).where(
        Notification.user_id == user_id(db, ARCHIVIST), Notification.kind == Kind.RECORDS))
    assert told.text.startswith("2 hồ sơ đã hết thời hạn bảo quản: 02.TCCB (2000, hết hạn "
                                "01/03/2020), 02.TCCB (2000, nhập từ ")
    assert db.get(type(short), short.id).expiry_notified_on == TODAY
    assert expiry.notify_expired(db, TODAY + dt.timedelta(days=1)) == 0
    assert _tags(db).count("records:package:expiry-notify") == 1
