"""Changing a year's file list (Decree 30/2020 art. 28, 29.2.c; Appendix V, I and II).

While the list is a draft, the office (``Op.EDIT_FILE_LIST``) corrects it: a heading's or
subheading's title, a heading's abbreviation (its dossiers' symbols follow), their order (the
numerals I, II, … and 1, 2, … are their positions), removes an empty heading, and edits a
planned dossier (number, title, retention, keeper, heading). Once the leader approved it, the
list is not edited; a dossier that is not in it is **added** (art. 29.2.c) by the person who
will keep it, or by the office for someone: the addition is marked (``Dossier.added_at``), shown
as such on the list's page and in its form II export, and a keeper adding their own opens it
at once with its start day (the information art. 29.2.c has them determine).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.permissions import Op
from ioffice.db import utcnow
from ioffice.documents.vocabulary import fold
from ioffice.errors import NotFound
from ioffice.notifications import Kind, notify
from ioffice.records.models import Dossier, DossierStatus, FileList, FileListHeading, ListStatus
from ioffice.records.service import (
    _SYMBOL_CODE,
    DossierInput,
    RecordsError,
    _audit,
    _editable,
    dossier_fields,
    get_list,
    parse_date,
    roman,
)

__all__ = ["add_to_approved", "edit_dossier", "edit_heading", "heading_label",
           "remove_heading"]


def _heading(row: FileList, heading_id: int) -> FileListHeading:
    heading = next((h for h in row.headings if h.id == heading_id), None)
    if heading is None:
        raise NotFound("Không tìm thấy đề mục này trong danh mục.")
    return heading


def _siblings(row: FileList, heading: FileListHeading) -> list[FileListHeading]:
    return sorted((h for h in row.headings if h.parent_id == heading.parent_id),
                  key=lambda h: (h.position, h.id))


def heading_label(row: FileList, heading: FileListHeading) -> str:
    """«II. Văn phòng» or «1. Tuyển dụng»: its numeral and title, as the list prints it."""
    n = [h.id for h in _siblings(row, heading)].index(heading.id) + 1
    return f"{roman(n) if heading.parent_id is None else n}. {heading.title}"


def _renumber(ordered: list[FileListHeading]) -> None:
    for i, h in enumerate(ordered, start=1):
        h.position = i


def edit_heading(session: Session, actor: Actor, list_id: int, heading_id: int, *,
                 title: str, code: str = "", order: str = "") -> FileListHeading:
    """Correct a heading of a draft list: its title; a heading's abbreviation (the symbols of
    the dossiers under it and its subheadings change with it); its place among its siblings
    (``order``: 1 for the first; empty keeps it)."""
    row = _editable(session, actor, list_id)
    heading = _heading(row, heading_id)
    title = " ".join(title.split())
    if not title or len(title) > 500:
        raise RecordsError("Hãy nhập tên đề mục (tối đa 500 ký tự).")
    siblings = _siblings(row, heading)
    position = [h.id for h in siblings].index(heading.id) + 1
    if order.strip():
        if not order.strip().isdigit() or not 1 <= int(order) <= len(siblings):
            word = "đề mục lớn" if heading.parent_id is None else "đề mục nhỏ trong đề mục lớn này"
            raise RecordsError(f"Thứ tự «{order.strip()[:10]}» không hợp lệ: danh mục có "
                               f"{len(siblings)} {word}, hãy chọn từ 1 đến {len(siblings)}.")
        position = int(order)
    before = {"title": heading.title, "code": heading.code,
              "order": [h.id for h in siblings].index(heading.id) + 1}
    renamed: dict[str, str] = {}
    if heading.parent_id is None:
        code = code.strip().upper() or heading.code
        if not _SYMBOL_CODE.match(code):
            raise RecordsError("Chữ viết tắt của đề mục lớn chỉ gồm chữ in hoa và chữ số, tối đa "
                               "20 ký tự (ví dụ TCCB); nó là ký hiệu của các hồ sơ trong đề mục.")
        if any(h.code == code and h.id != heading.id for h in row.headings
               if h.parent_id is None):
            raise RecordsError(f"Danh mục năm {row.year} đã có đề mục lớn viết tắt «{code}».")
        if code != heading.code:
            under = {heading.id} | {h.id for h in row.headings if h.parent_id == heading.id}
            for d in row.dossiers:
                if d.heading_id in under:
                    old = d.symbol
                    d.symbol = f"{d.number:02d}.{code}"
                    d.title_folded = fold(f"{d.symbol} {d.title}")
                    renamed[old] = d.symbol
            heading.code = code
    heading.title = title
    ordered = [h for h in siblings if h.id != heading.id]
    ordered.insert(position - 1, heading)
    _renumber(ordered)
    session.flush()
    _audit(session, actor, "records:heading:edit", "file_list", row.id, heading_id=heading.id,
           before=before, title=title, code=heading.code, order=position, symbols=renamed)
    return heading


def remove_heading(session: Session, actor: Actor, list_id: int, heading_id: int) -> None:
    """Take an empty heading or subheading out of a draft list; the others are numbered
    again. One that still has dossiers (or, a heading, subheadings) is refused."""
    row = _editable(session, actor, list_id)
    heading = _heading(row, heading_id)
    label = heading_label(row, heading)
    subs = [h for h in row.headings if h.parent_id == heading.id]
    held = [d.symbol for d in row.dossiers if d.heading_id == heading.id]
    if held:
        raise RecordsError(f"Đề mục «{label}» còn {len(held)} hồ sơ ({', '.join(held[:10])}"
                           f"{', …' if len(held) > 10 else ''}); hãy chuyển các hồ sơ đó sang đề "
                           "mục khác hoặc bỏ chúng khỏi danh mục trước khi xóa đề mục.")
    if subs:
        raise RecordsError(f"Đề mục «{label}» còn {len(subs)} đề mục nhỏ ("
                           + ", ".join(f"«{s.title}»" for s in subs[:5])
                           + "); hãy xóa các đề mục nhỏ trước.")
    siblings = [h for h in _siblings(row, heading) if h.id != heading.id]
    _audit(session, actor, "records:heading:remove", "file_list", row.id, heading_id=heading.id,
           title=heading.title, code=heading.code, label=label)
    row.headings.remove(heading)
    session.delete(heading)
    _renumber(siblings)
    session.flush()


def edit_dossier(session: Session, actor: Actor, list_id: int, dossier_id: int,
                 data: DossierInput) -> Dossier:
    """Correct a planned dossier of a draft list: heading, number (the symbol follows),
    title, retention and keeper, each checked as when it was added."""
    row = _editable(session, actor, list_id)
    dossier = next((d for d in row.dossiers if d.id == dossier_id), None)
    if dossier is None:
        raise NotFound("Không tìm thấy hồ sơ này trong danh mục.")
    f = dossier_fields(session, actor, row, data, exclude_id=dossier.id)
    fields = {"heading_id": f.heading.id, "number": f.number, "symbol": f.symbol,
              "title": f.title, "retention_years": f.retention, "keeper_id": f.keeper.id}
    changes = {k: [getattr(dossier, k), v] for k, v in fields.items()
               if getattr(dossier, k) != v}
    for k, v in fields.items():
        setattr(dossier, k, v)
    dossier.title_folded = fold(f"{f.symbol} {f.title}")
    session.flush()
    _audit(session, actor, "records:dossier:edit", "dossier", dossier.id, symbol=f.symbol,
           year=row.year, changes=changes)
    return dossier


def add_to_approved(session: Session, actor: Actor, list_id: int, data: DossierInput,
                    start: str, today: dt.date) -> Dossier:
    """Art. 29.2.c: a dossier that is not in the approved list, added during the year with
    its title, number and symbol, retention and keeper. Anyone who keeps dossiers adds one of
    their own, opened at once on ``start`` (today when empty; in the list's year, not after
    today); the office may add one for another keeper, who opens it as a planned one. The
    addition is marked (when, by whom) and shown as such in the list."""
    actor.check(Op.KEEP_DOSSIER)
    row = get_list(session, actor, list_id, for_update=True)
    if row.status is not ListStatus.APPROVED:
        raise RecordsError(f"Danh mục hồ sơ năm {row.year} chưa được phê duyệt; hãy thêm hồ sơ "
                           "vào dự thảo danh mục như thường lệ (chỉ bổ sung vào danh mục đã phê "
                           "duyệt).")
    f = dossier_fields(session, actor, row, data)
    own = f.keeper.id == actor.user_id
    if not own and not actor.may(Op.EDIT_FILE_LIST):
        raise RecordsError("Bạn chỉ bổ sung được hồ sơ do chính mình lập (người lập hồ sơ là "
                           "bạn); hồ sơ của người khác do Văn thư bổ sung.")
    day = None
    if own:
        day = parse_date(start, "Ngày mở hồ sơ") if start.strip() else today
        if day.year != row.year:
            raise RecordsError(f"Ngày mở hồ sơ {day:%d/%m/%Y} không thuộc năm {row.year} của "
                               "danh mục.")
        if day > today:
            raise RecordsError("Ngày mở hồ sơ không được sau hôm nay.")
    dossier = Dossier(agency_id=actor.agency_id, list_id=row.id, heading_id=f.heading.id,
                      number=f.number, symbol=f.symbol, title=f.title,
                      retention_years=f.retention, keeper_id=f.keeper.id,
                      title_folded=fold(f"{f.symbol} {f.title}"), added_at=utcnow(),
                      added_by_id=actor.user_id,
                      status=DossierStatus.OPEN if own else DossierStatus.PLANNED,
                      start_date=day)
    session.add(dossier)
    session.flush()
    session.expire(row, ["dossiers"])
    _audit(session, actor, "records:dossier:add", "dossier", dossier.id, symbol=f.symbol,
           year=row.year, keeper_id=f.keeper.id, title=f.title, retention=f.retention,
           start=day.isoformat() if day else None)
    if not own:
        notify(session, [f.keeper.id], Kind.RECORDS, agency_id=actor.agency_id,
               text=f"Hồ sơ {f.symbol} «{f.title[:120]}» được bổ sung vào danh mục hồ sơ năm "
                    f"{row.year}; bạn là người lập hồ sơ.",
               subject_type="dossier", subject_id=dossier.id, exclude=actor.user_id)
    return dossier
