"""Records (Decree 30/2020, articles 28-30): the file list of a year, dossiers, filing.

Who may: the office (clerks) makes the year's list, a leader approves it (``Op.EDIT_FILE_LIST``,
``Op.APPROVE_FILE_LIST``); each dossier's keeper opens it, files documents, other files and
notes, and closes it (``Op.KEEP_DOSSIER`` and being its keeper). Everyone of the agency sees
the list; a dossier's contents are seen by its keeper, the clerks, the leaders and the archive.
Another agency's lists and dossiers answer "not found". Hand-over: :mod:`ioffice.records.handover`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Membership, Role, User
from ioffice.agencies.permissions import Op
from ioffice.audit import record
from ioffice.db import utcnow
from ioffice.documents.vocabulary import DOC_TYPES_BY_CODE, fold
from ioffice.errors import DomainError, Forbidden, NotFound
from ioffice.incoming import access as incoming_access
from ioffice.incoming.models import IncomingDocument
from ioffice.outgoing import access as outgoing_access
from ioffice.outgoing.models import OutgoingDocument
from ioffice.records.models import (
    Dossier,
    DossierItem,
    DossierStatus,
    FileList,
    FileListHeading,
    ItemKind,
    ListStatus,
)
from ioffice.storage import BlobStore

__all__ = ["DossierInput", "RecordsError", "TocRow", "add_document", "add_dossier", "add_file",
           "add_heading", "add_note", "approve_list", "close_dossier", "create_list",
           "dossiers_holding", "get_dossier", "get_list", "list_for_year", "open_dossier",
           "remove_item", "roman", "search_dossiers", "table_of_contents"]

FIRST_YEAR = 2000
MAX_RETENTION = 99
_SYMBOL_CODE = re.compile(r"^[A-ZĐ0-9]{1,20}$")
READERS = (Role.CLERK, Role.LEADER, Role.ARCHIVIST)
"""Besides the keeper, who reads a dossier's contents."""


class RecordsError(DomainError):
    """Refused input or a step out of order, with a message the user can act on."""


def roman(n: int) -> str:
    out = []
    for value, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"),
                           (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"),
                           (4, "IV"), (1, "I")):
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


def _audit(session: Session, actor: Actor, tag: str, subject_type: str, subject_id: int,
           **details: object) -> None:
    record(session, actor.ctx, tag, subject_type=subject_type, subject_id=subject_id,
           details=details)


# ---------------------------------------------------------------------------- the file list

def parse_year(value: object, today: dt.date) -> int:
    """A list's year: from 2000 to next year (the list is made at the start of its year)."""
    text = str(value).strip()
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= today.year + 1:
        raise RecordsError(f"Năm «{text[:10]}» không hợp lệ: danh mục hồ sơ được lập cho một năm "
                           f"từ {FIRST_YEAR} đến {today.year + 1}.")
    return int(text)


def list_for_year(session: Session, actor: Actor, year: int) -> FileList | None:
    actor.check(Op.VIEW_RECORDS)
    return session.scalars(select(FileList).where(FileList.agency_id == actor.agency_id,
                                                  FileList.year == year)).first()


def list_years(session: Session, actor: Actor) -> list[int]:
    actor.check(Op.VIEW_RECORDS)
    return list(session.scalars(select(FileList.year).where(
        FileList.agency_id == actor.agency_id).order_by(FileList.year.desc())))


def get_list(session: Session, actor: Actor, list_id: int, *, for_update: bool = False
             ) -> FileList:
    actor.check(Op.VIEW_RECORDS)
    row = session.get(FileList, list_id, with_for_update=for_update)
    if row is None or row.agency_id != actor.agency_id:
        raise NotFound("Không tìm thấy danh mục hồ sơ này.")
    return row


def _editable(session: Session, actor: Actor, list_id: int) -> FileList:
    actor.check(Op.EDIT_FILE_LIST)
    row = get_list(session, actor, list_id, for_update=True)
    if row.status is not ListStatus.DRAFT:
        raise RecordsError(f"Danh mục hồ sơ năm {row.year} đã được phê duyệt; không sửa được "
                           "nữa.")
    return row


def create_list(session: Session, actor: Actor, year_text: str, today: dt.date, *,
                copy_previous: bool = False) -> FileList:
    """A new draft list for a year, empty or copied from last year's (headings and dossiers,
    with the same keepers, numbers and retention)."""
    actor.check(Op.EDIT_FILE_LIST)
    year = parse_year(year_text, today)
    if list_for_year(session, actor, year) is not None:
        raise RecordsError(f"Cơ quan đã có danh mục hồ sơ năm {year}; hãy mở danh mục đó để "
                           "sửa.")
    previous = list_for_year(session, actor, year - 1) if copy_previous else None
    if copy_previous and previous is None:
        raise RecordsError(f"Chưa có danh mục hồ sơ năm {year - 1} để sao chép; hãy lập danh "
                           "mục mới.")
    new = FileList(agency_id=actor.agency_id, year=year, created_by_id=actor.user_id)
    session.add(new)
    session.flush()
    if previous is not None:
        heading_ids: dict[int, int] = {}
        for h in sorted(previous.headings, key=lambda h: (h.parent_id is not None, h.position)):
            copy = FileListHeading(agency_id=actor.agency_id, list_id=new.id, position=h.position,
                                   code=h.code, title=h.title,
                                   parent_id=heading_ids.get(h.parent_id or 0))
            session.add(copy)
            session.flush()
            heading_ids[h.id] = copy.id
        for d in previous.dossiers:
            session.add(Dossier(agency_id=actor.agency_id, list_id=new.id,
                                heading_id=heading_ids[d.heading_id], number=d.number,
                                symbol=d.symbol, title=d.title, retention_years=d.retention_years,
                                keeper_id=d.keeper_id, note="", title_folded=d.title_folded))
        session.flush()
    _audit(session, actor, "records:file-list:create", "file_list", new.id, year=year,
           copied_from=previous.year if previous else None)
    return new


def add_heading(session: Session, actor: Actor, list_id: int, title: str, code: str = "",
                parent_id: int | None = None) -> FileListHeading:
    """A heading (Roman numeral, with its abbreviation) or, under one, a subheading."""
    row = _editable(session, actor, list_id)
    title, code = " ".join(title.split()), code.strip().upper()
    if not title or len(title) > 500:
        raise RecordsError("Hãy nhập tên đề mục (tối đa 500 ký tự).")
    parent = None
    if parent_id is not None:
        parent = next((h for h in row.headings if h.id == parent_id and h.parent_id is None), None)
        if parent is None:
            raise RecordsError("Đề mục lớn đã chọn không có trong danh mục này.")
        code = ""
    elif not _SYMBOL_CODE.match(code):
        raise RecordsError("Chữ viết tắt của đề mục lớn chỉ gồm chữ in hoa và chữ số, tối đa 20 "
                           "ký tự (ví dụ TCCB); nó là ký hiệu của các hồ sơ trong đề mục.")
    elif any(h.code == code for h in row.headings if h.parent_id is None):
        raise RecordsError(f"Danh mục năm {row.year} đã có đề mục lớn viết tắt «{code}».")
    position = 1 + max((h.position for h in row.headings if h.parent_id == parent_id), default=0)
    heading = FileListHeading(agency_id=actor.agency_id, list_id=row.id, parent_id=parent_id,
                              position=position, code=code, title=title)
    session.add(heading)
    session.flush()
    session.expire(row, ["headings"])
    _audit(session, actor, "records:heading:add", "file_list", row.id, heading_id=heading.id,
           title=title, code=code)
    return heading


@dataclass
class DossierInput:
    heading_id: str = ""
    number: str = ""
    title: str = ""
    retention: str = ""
    """``vinh-vien`` (permanent) or a number of years."""
    keeper_id: str = ""
    year: str = ""
    """The list's year as the form shows it: checked against the list (a stale form)."""


def parse_retention(value: str) -> int | None:
    text = fold(value.strip()).replace(" ", "-")
    if text in ("vinh-vien", "vv"):
        return None
    text = text.removesuffix("-nam")
    if text.isdigit() and 1 <= int(text) <= MAX_RETENTION:
        return int(text)
    raise RecordsError(f"Thời hạn bảo quản «{value.strip()[:20]}» không hợp lệ: chọn «Vĩnh viễn» "
                       f"hoặc một số năm từ 1 đến {MAX_RETENTION}.")


def _member(session: Session, agency_id: int, user_id: object) -> User:
    uid = int(user_id) if str(user_id).isdigit() else 0
    user = session.scalars(select(User).join(Membership).where(
        User.id == uid, Membership.agency_id == agency_id, User.active.is_(True))).first()
    if user is None:
        raise RecordsError("Người lập hồ sơ phải là một người đang làm việc trong cơ quan.")
    return user


@dataclass(frozen=True)
class DossierFields:
    """A dossier's fields as checked against its list (``dossier_fields``)."""

    heading: FileListHeading
    number: int
    symbol: str
    title: str
    retention: int | None
    keeper: User


def dossier_fields(session: Session, actor: Actor, row: FileList, data: DossierInput, *,
                   exclude_id: int | None = None) -> DossierFields:
    """Check a dossier's heading, number, title, retention and keeper against the list; the
    symbol (number and heading's abbreviation) must be free in it (``exclude_id``: the dossier
    being edited keeps its own)."""
    if data.year and data.year.strip() != str(row.year):
        raise RecordsError(f"Hồ sơ thuộc danh mục năm {row.year}, không phải năm "
                           f"«{data.year.strip()[:10]}»; hãy tải lại trang danh mục.")
    heading_id = int(data.heading_id) if data.heading_id.isdigit() else 0
    heading = next((h for h in row.headings if h.id == heading_id), None)
    if heading is None:
        raise RecordsError("Hãy chọn một đề mục của danh mục này cho hồ sơ.")
    top = heading.parent or heading
    number = data.number.strip()
    if not number.isdigit() or not 1 <= int(number) <= 9999:
        raise RecordsError("Số hồ sơ là một số từ 1 đến 9999.")
    symbol = f"{int(number):02d}.{top.code}"
    taken = select(Dossier.id).where(Dossier.list_id == row.id, Dossier.symbol == symbol)
    if exclude_id is not None:
        taken = taken.where(Dossier.id != exclude_id)
    if session.scalars(taken).first():
        raise RecordsError(f"Số và ký hiệu hồ sơ «{symbol}» đã có trong danh mục năm {row.year}; "
                           "hãy chọn số khác.")
    title = " ".join(data.title.split())
    if not title or len(title) > 1000:
        raise RecordsError("Hãy nhập tiêu đề hồ sơ (tối đa 1000 ký tự).")
    retention = parse_retention(data.retention)
    keeper = _member(session, actor.agency_id, data.keeper_id)
    return DossierFields(heading, int(number), symbol, title, retention, keeper)


def add_dossier(session: Session, actor: Actor, list_id: int, data: DossierInput) -> Dossier:
    """A planned dossier: its symbol is its number and its heading's abbreviation."""
    row = _editable(session, actor, list_id)
    f = dossier_fields(session, actor, row, data)
    dossier = Dossier(agency_id=actor.agency_id, list_id=row.id, heading_id=f.heading.id,
                      number=f.number, symbol=f.symbol, title=f.title,
                      retention_years=f.retention, keeper_id=f.keeper.id,
                      title_folded=fold(f"{f.symbol} {f.title}"))
    session.add(dossier)
    session.flush()
    session.expire(row, ["dossiers"])
    _audit(session, actor, "records:dossier:plan", "dossier", dossier.id, symbol=f.symbol,
           year=row.year, keeper_id=f.keeper.id)
    return dossier


def approve_list(session: Session, actor: Actor, list_id: int, decision: str) -> FileList:
    actor.check(Op.APPROVE_FILE_LIST)
    row = get_list(session, actor, list_id, for_update=True)
    if row.status is not ListStatus.DRAFT:
        raise RecordsError(f"Danh mục hồ sơ năm {row.year} đã được phê duyệt.")
    if not row.dossiers:
        raise RecordsError(f"Danh mục hồ sơ năm {row.year} chưa có hồ sơ nào để phê duyệt.")
    row.status, row.approved_by_id, row.approved_at = ListStatus.APPROVED, actor.user_id, utcnow()
    row.decision = " ".join(decision.split())[:255]
    _audit(session, actor, "records:file-list:approve", "file_list", row.id, year=row.year,
           dossiers=len(row.dossiers), decision=row.decision)
    return row


@dataclass(frozen=True)
class ListRow:
    """One row of the list as Appendix V form II prints it."""

    kind: str  # "heading", "subheading" or "dossier"
    label: str
    dossier: Dossier | None = None
    heading: FileListHeading | None = None
    """The heading or subheading of a heading row (the draft's edit forms)."""
    order: int = 0
    """A heading row's place among its siblings (1 for I or 1)."""


def list_rows(file_list: FileList) -> list[ListRow]:
    """Headings (I, II, ...), their subheadings (1, 2, ...) and the dossiers under each."""
    rows: list[ListRow] = []
    tops = [h for h in file_list.headings if h.parent_id is None]
    by_heading: dict[int, list[Dossier]] = {}
    for d in file_list.dossiers:
        by_heading.setdefault(d.heading_id, []).append(d)
    for i, top in enumerate(sorted(tops, key=lambda h: h.position), start=1):
        rows.append(ListRow("heading", f"{roman(i)}. {top.title.upper()}", heading=top, order=i))
        rows += [ListRow("dossier", d.title, d) for d in by_heading.get(top.id, [])]
        subs = sorted((h for h in file_list.headings if h.parent_id == top.id),
                      key=lambda h: h.position)
        for j, sub in enumerate(subs, start=1):
            rows.append(ListRow("subheading", f"{j}. {sub.title}", heading=sub, order=j))
            rows += [ListRow("dossier", d.title, d) for d in by_heading.get(sub.id, [])]
    return rows


# ---------------------------------------------------------------------------- dossiers

def can_read(actor: Actor, dossier: Dossier) -> bool:
    return dossier.agency_id == actor.agency_id and (
        dossier.keeper_id == actor.user_id or actor.has(*READERS))


def get_dossier(session: Session, actor: Actor, dossier_id: int, *, for_update: bool = False
                ) -> Dossier:
    """The dossier, if the actor may read it; otherwise NotFound, as for a missing one."""
    actor.check(Op.VIEW_RECORDS)
    dossier = session.get(Dossier, dossier_id, with_for_update=for_update)
    if dossier is None or not can_read(actor, dossier):
        raise NotFound("Không tìm thấy hồ sơ này.")
    return dossier


def _kept(session: Session, actor: Actor, dossier_id: int, *statuses: DossierStatus) -> Dossier:
    """The dossier, locked, for an action of its keeper, in one of ``statuses``."""
    actor.check(Op.KEEP_DOSSIER)
    dossier = get_dossier(session, actor, dossier_id, for_update=True)
    if dossier.keeper_id != actor.user_id:
        raise Forbidden(f"Chỉ người lập hồ sơ {dossier.symbol} mới làm được việc này.")
    if dossier.status not in statuses:
        raise RecordsError(f"Hồ sơ {dossier.symbol} đang ở trạng thái «{dossier.status.label}»; "
                           f"việc này chỉ làm được khi hồ sơ «"
                           + "» hoặc «".join(s.label for s in statuses) + "».")
    return dossier


def parse_date(value: str, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise RecordsError(f"{label} không hợp lệ (dạng năm-tháng-ngày, ví dụ 2026-03-02)."
                           ) from None


def open_dossier(session: Session, actor: Actor, dossier_id: int, start: str,
                 today: dt.date) -> Dossier:
    dossier = _kept(session, actor, dossier_id, DossierStatus.PLANNED)
    year = dossier.file_list.year
    if dossier.file_list.status is not ListStatus.APPROVED:
        raise RecordsError(f"Danh mục hồ sơ năm {year} chưa được phê duyệt; chưa mở được hồ sơ.")
    day = parse_date(start, "Ngày mở hồ sơ") if start.strip() else today
    if day.year != year:
        raise RecordsError(f"Ngày mở hồ sơ {day:%d/%m/%Y} không thuộc năm {year} của danh mục.")
    if day > today:
        raise RecordsError("Ngày mở hồ sơ không được sau hôm nay.")
    dossier.status, dossier.start_date = DossierStatus.OPEN, day
    _audit(session, actor, "records:dossier:open", "dossier", dossier.id, symbol=dossier.symbol,
           start=day.isoformat())
    return dossier


def _next_position(dossier: Dossier) -> int:
    return 1 + max((i.position for i in dossier.items), default=0)


def add_document(session: Session, actor: Actor, dossier_id: int, kind: str, document_id: int
                 ) -> DossierItem:
    """File an incoming or outgoing document of the agency (that the keeper may read) in the
    keeper's open dossier; once per dossier, in as many dossiers as it belongs to."""
    dossier = _kept(session, actor, dossier_id, DossierStatus.OPEN)
    if kind not in (ItemKind.INCOMING, ItemKind.OUTGOING):
        raise RecordsError("Chỉ đưa vào hồ sơ được văn bản đến hoặc văn bản đi.")
    incoming = kind == ItemKind.INCOMING
    try:
        doc = (incoming_access.get_document(session, actor, document_id) if incoming
               else outgoing_access.get_document(session, actor, document_id))
    except NotFound:
        word = "đến" if incoming else "đi"
        raise RecordsError(f"Không có văn bản {word} mã {document_id} trong cơ quan của bạn: chỉ "
                           "đưa vào hồ sơ được văn bản của cơ quan mình mà bạn được xem."
                           ) from None
    if not incoming and not doc.number_notation:
        raise RecordsError("Văn bản đi này chưa được cấp số; chỉ đưa vào hồ sơ được văn bản đã "
                           "ban hành.")
    column = DossierItem.incoming_id if incoming else DossierItem.outgoing_id
    if session.scalars(select(DossierItem.id).where(DossierItem.dossier_id == dossier.id,
                                                    column == doc.id)).first():
        raise RecordsError(f"Văn bản {doc.number_notation} đã có trong hồ sơ {dossier.symbol}; "
                           "mỗi văn bản chỉ đưa vào một hồ sơ một lần.")
    item = DossierItem(agency_id=actor.agency_id, dossier_id=dossier.id, kind=ItemKind(kind),
                       position=_next_position(dossier), added_by_id=actor.user_id,
                       pages=doc.page_count or None,
                       incoming_id=doc.id if incoming else None,
                       outgoing_id=None if incoming else doc.id)
    session.add(item)
    session.flush()
    session.expire(dossier, ["items"])
    _audit(session, actor, "records:dossier:file-document", "dossier", dossier.id,
           kind=str(kind), document_id=doc.id, number_notation=doc.number_notation)
    return item


MAX_FILE_BYTES = 50 * 1024 * 1024


def add_file(session: Session, blobs: BlobStore, actor: Actor, dossier_id: int, title: str,
             filename: str, data: bytes) -> DossierItem:
    """Another file of the work (a photo, a recording, a working paper)."""
    dossier = _kept(session, actor, dossier_id, DossierStatus.OPEN)
    title = " ".join(title.split()) or filename
    if not data:
        raise RecordsError("Hãy chọn một tệp (tệp đã chọn rỗng).")
    if not title or len(title) > 1000:
        raise RecordsError("Hãy nhập tên tài liệu (tối đa 1000 ký tự).")
    info = blobs.put_bytes(data)
    item = DossierItem(agency_id=actor.agency_id, dossier_id=dossier.id, kind=ItemKind.FILE,
                       position=_next_position(dossier), title=title,
                       filename=filename[-255:] or "tai-lieu", sha256=info.sha256,
                       size=info.size, added_by_id=actor.user_id)
    session.add(item)
    session.flush()
    session.expire(dossier, ["items"])
    _audit(session, actor, "records:dossier:add-file", "dossier", dossier.id, item_id=item.id,
           sha256=info.sha256, filename=item.filename)
    return item


def add_note(session: Session, actor: Actor, dossier_id: int, text: str) -> DossierItem:
    dossier = _kept(session, actor, dossier_id, DossierStatus.OPEN)
    text = text.replace("\r\n", "\n").strip()
    if not text or len(text) > 4000:
        raise RecordsError("Hãy nhập nội dung ghi chú (tối đa 4000 ký tự).")
    item = DossierItem(agency_id=actor.agency_id, dossier_id=dossier.id, kind=ItemKind.NOTE,
                       position=_next_position(dossier), title=text, added_by_id=actor.user_id)
    session.add(item)
    session.flush()
    session.expire(dossier, ["items"])
    _audit(session, actor, "records:dossier:add-note", "dossier", dossier.id, item_id=item.id)
    return item


def remove_item(session: Session, actor: Actor, dossier_id: int, item_id: int) -> None:
    dossier = _kept(session, actor, dossier_id, DossierStatus.OPEN)
    item = next((i for i in dossier.items if i.id == item_id), None)
    if item is None:
        raise NotFound("Không tìm thấy văn bản, tài liệu này trong hồ sơ.")
    _audit(session, actor, "records:dossier:remove-item", "dossier", dossier.id,
           item_id=item.id, kind=str(item.kind), incoming_id=item.incoming_id,
           outgoing_id=item.outgoing_id)
    session.delete(item)
    session.flush()
    session.expire(dossier, ["items"])


def close_dossier(session: Session, actor: Actor, dossier_id: int, end: str, pages: str,
                  today: dt.date) -> Dossier:
    """Kết thúc hồ sơ: the end date of the work and the number of pages (art. 29.4)."""
    dossier = _kept(session, actor, dossier_id, DossierStatus.OPEN)
    if not any(i.kind is not ItemKind.NOTE for i in dossier.items):
        raise RecordsError(f"Hồ sơ {dossier.symbol} chưa có văn bản, tài liệu nào; không kết thúc "
                           "được một hồ sơ rỗng.")
    day = parse_date(end, "Ngày kết thúc hồ sơ")
    if dossier.start_date and day < dossier.start_date:
        raise RecordsError(f"Ngày kết thúc phải từ ngày mở hồ sơ "
                           f"({dossier.start_date:%d/%m/%Y}) trở đi.")
    if day > today:
        raise RecordsError("Ngày kết thúc hồ sơ không được sau hôm nay.")
    count = pages.strip()
    if not count.isdigit() or not 1 <= int(count) <= 100000:
        raise RecordsError("Số tờ (trang) của hồ sơ là một số từ 1 trở lên.")
    dossier.status, dossier.end_date, dossier.page_count = DossierStatus.CLOSED, day, int(count)
    dossier.closed_at, dossier.reminded_on = utcnow(), None
    _audit(session, actor, "records:dossier:close", "dossier", dossier.id, symbol=dossier.symbol,
           end=day.isoformat(), pages=int(count), items=len(dossier.items))
    return dossier


def reopen_dossier(session: Session, actor: Actor, dossier_id: int) -> Dossier:
    """A closed dossier, not in a hand-over, back to its keeper's work (what the archive
    returned as incomplete is completed this way); closing it again sets a new end."""
    dossier = _kept(session, actor, dossier_id, DossierStatus.CLOSED)
    if dossier.handover_id is not None:
        raise RecordsError(f"Hồ sơ {dossier.symbol} đang nằm trong biên bản giao nhận số "
                           f"{dossier.handover_id}; hãy hủy biên bản trước khi mở lại.")
    previous = (dossier.end_date, dossier.page_count)
    dossier.status, dossier.end_date, dossier.page_count = DossierStatus.OPEN, None, None
    dossier.closed_at = dossier.reminded_on = None
    _audit(session, actor, "records:dossier:reopen", "dossier", dossier.id, symbol=dossier.symbol,
           previous_end=previous[0].isoformat() if previous[0] else None,
           previous_pages=previous[1])
    return dossier


def remove_planned(session: Session, actor: Actor, list_id: int, dossier_id: int) -> None:
    """Take a dossier out of a draft list (a mistake of the office)."""
    row = _editable(session, actor, list_id)
    dossier = next((d for d in row.dossiers if d.id == dossier_id), None)
    if dossier is None:
        raise NotFound("Không tìm thấy hồ sơ này trong danh mục.")
    _audit(session, actor, "records:dossier:unplan", "file_list", row.id, symbol=dossier.symbol,
           title=dossier.title)
    session.delete(dossier)
    session.flush()
    session.expire(row, ["dossiers"])


@dataclass(frozen=True)
class TocRow:
    """A row of the table of contents (Mục lục văn bản, Appendix V form IV)."""

    index: int
    number_notation: str
    date: dt.date | None
    type_and_subject: str
    author: str
    pages: str
    note: str
    item: DossierItem


def table_of_contents(session: Session, dossier: Dossier, agency_name: str) -> list[TocRow]:
    """Every document and file of the dossier in order, pages counted on from 1."""
    incoming = {d.id: d for d in session.scalars(select(IncomingDocument).where(
        IncomingDocument.id.in_([i.incoming_id for i in dossier.items if i.incoming_id])))}
    outgoing = {d.id: d for d in session.scalars(select(OutgoingDocument).where(
        OutgoingDocument.id.in_([i.outgoing_id for i in dossier.items if i.outgoing_id])))}
    rows, page = [], 1
    for item in dossier.items:
        if item.kind is ItemKind.NOTE:
            continue
        if item.kind is ItemKind.FILE:
            number, date, text, author = "", None, item.title, agency_name
        else:
            doc = incoming[item.incoming_id] if item.incoming_id else outgoing[item.outgoing_id]
            kind = DOC_TYPES_BY_CODE.get(doc.doc_type)
            number = doc.number_notation
            date = doc.document_date if item.incoming_id else doc.promulgation_date
            text = f"{kind.name if kind else doc.doc_type}: {doc.subject}"
            author = doc.issuer_name if item.incoming_id else agency_name
        pages = item.pages or 0
        span = (f"{page}" if pages <= 1 else f"{page}–{page + pages - 1}") if pages else ""
        page += pages
        rows.append(TocRow(len(rows) + 1, number, date, text, author, span, "", item))
    return rows


def item_documents(session: Session, dossier: Dossier) -> dict[tuple[str, int], object]:
    """The documents the dossier's items refer to, by (kind, id)."""
    out: dict[tuple[str, int], object] = {}
    ids_in = [i.incoming_id for i in dossier.items if i.incoming_id]
    ids_out = [i.outgoing_id for i in dossier.items if i.outgoing_id]
    for d in session.scalars(select(IncomingDocument).where(IncomingDocument.id.in_(ids_in))):
        out[("incoming", d.id)] = d
    for d in session.scalars(select(OutgoingDocument).where(OutgoingDocument.id.in_(ids_out))):
        out[("outgoing", d.id)] = d
    return out


@dataclass(frozen=True)
class Holding:
    """What a document page shows: the dossiers holding it (that the reader may see), and the
    reader's open dossiers it could go into."""

    dossiers: list[Dossier]
    open_mine: list[Dossier]


# read on every document page: built once, the values bound (docs/performance.md)
_HOLDING = {
    kind: select(Dossier).join(DossierItem, DossierItem.dossier_id == Dossier.id)
    .where(Dossier.agency_id == bindparam("agency_id"), column == bindparam("document_id"))
    .order_by(Dossier.symbol)
    for kind, column in (("incoming", DossierItem.incoming_id),
                         ("outgoing", DossierItem.outgoing_id))}
_OPEN_KEPT = (select(Dossier)
              .where(Dossier.agency_id == bindparam("agency_id"),
                     Dossier.keeper_id == bindparam("user_id"),
                     Dossier.status == DossierStatus.OPEN)
              .order_by(Dossier.symbol))


def dossiers_holding(session: Session, actor: Actor, kind: str, document_id: int, *,
                     may_be_held: bool = True, may_keep: bool = True) -> Holding:
    """``may_be_held`` False: the caller knows no dossier holds the document
    (``documents.attached``), so only the actor's open dossiers are read; ``may_keep`` False:
    it knows the actor keeps no open dossier, so those are not read."""
    if not actor.may(Op.VIEW_RECORDS):
        return Holding([], [])
    held = [] if not may_be_held else [d for d in session.scalars(
        _HOLDING["incoming" if kind == "incoming" else "outgoing"],
        {"agency_id": actor.agency_id, "document_id": document_id}) if can_read(actor, d)]
    mine: list[Dossier] = []
    if may_keep and actor.may(Op.KEEP_DOSSIER):
        mine = [d for d in session.scalars(
            _OPEN_KEPT, {"agency_id": actor.agency_id, "user_id": actor.user_id})
            if d not in held]
    return Holding(held, mine)


def my_dossiers(session: Session, actor: Actor) -> list[Dossier]:
    actor.check(Op.VIEW_RECORDS)
    return list(session.scalars(select(Dossier).where(
        Dossier.agency_id == actor.agency_id, Dossier.keeper_id == actor.user_id,
        Dossier.status.not_in([DossierStatus.ARCHIVED, DossierStatus.DESTROYED]))
        .order_by(Dossier.symbol)))


def dossiers_page(session: Session, actor: Actor, *, year: int | None = None,
                  status: DossierStatus | None = None, mine: bool = False,
                  after: int | None = None, limit: int = 50) -> list[Dossier]:
    """The dossiers the actor may read (all of the agency for the clerks, leaders and archive;
    their own for a keeper), of a year's list and in a status if given, by id, paginated by
    key (``after``: the last id of the previous page)."""
    actor.check(Op.VIEW_RECORDS)
    stmt = select(Dossier).where(Dossier.agency_id == actor.agency_id)
    if mine or not actor.has(*READERS):
        stmt = stmt.where(Dossier.keeper_id == actor.user_id)
    if year is not None:
        stmt = stmt.join(FileList, FileList.id == Dossier.list_id).where(FileList.year == year)
    if status is not None:
        stmt = stmt.where(Dossier.status == status)
    if after is not None:
        stmt = stmt.where(Dossier.id > after)
    return list(session.scalars(stmt.order_by(Dossier.id).limit(limit)))


def search_dossiers(session: Session, actor: Actor, query: str, limit: int = 50
                    ) -> list[Dossier]:
    """Dossiers whose symbol or title hold every word of ``query``, diacritics and case
    ignored; only those the actor may read."""
    actor.check(Op.VIEW_RECORDS)
    words = [w for w in fold(query).split() if w][:12]
    if not words:
        return []
    values: dict[str, object] = {"agency_id": actor.agency_id, "user_id": actor.user_id,
                                 "limit": limit}
    for i, word in enumerate(words):
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        values[f"word_{i}"] = f"%{escaped}%"
    return list(session.scalars(_dossier_search(len(words), actor.has(*READERS)), values))


@lru_cache(maxsize=32)
def _dossier_search(n_words: int, reader: bool) -> Select:
    """:func:`search_dossiers`' statement per shape (the search page sends it with every
    query), built once: the words, agency, keeper and limit bound."""
    stmt = select(Dossier).where(Dossier.agency_id == bindparam("agency_id"))
    for i in range(n_words):
        stmt = stmt.where(Dossier.title_folded.like(bindparam(f"word_{i}"), escape="\\"))
    if not reader:
        stmt = stmt.where(Dossier.keeper_id == bindparam("user_id"))
    return (stmt.order_by(Dossier.list_id.desc(), Dossier.symbol)
            .limit(bindparam("limit", type_=Integer)))


def count_by_retention(file_list: FileList) -> tuple[int, int]:
    permanent = sum(1 for d in file_list.dossiers if d.retention_years is None)
    return permanent, len(file_list.dossiers) - permanent


def list_summary(file_list: FileList) -> str:
    """Form II's summary line, with the dossiers added after the approval counted."""
    permanent, limited = count_by_retention(file_list)
    added = sum(1 for d in file_list.dossiers if d.added_at is not None)
    more = f" (trong đó {added} hồ sơ bổ sung sau khi phê duyệt)" if added else ""
    return (f"Danh mục hồ sơ này có {permanent + limited} hồ sơ, bao gồm: {permanent} hồ sơ bảo "
            f"quản vĩnh viễn; {limited} hồ sơ bảo quản có thời hạn{more}.")


def keepers(session: Session, agency_id: int) -> list[User]:
    return list(session.scalars(select(User).join(Membership).where(
        Membership.agency_id == agency_id, User.active.is_(True)).order_by(User.full_name)))


def count_items(session: Session, dossier_ids: list[int]) -> dict[int, int]:
    return dict(session.execute(select(DossierItem.dossier_id, func.count()).where(
        DossierItem.dossier_id.in_(dossier_ids), DossierItem.kind != ItemKind.NOTE)
        .group_by(DossierItem.dossier_id)).all())
