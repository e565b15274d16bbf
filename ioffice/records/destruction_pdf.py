"""A destruction's record as the paper forms the archive files (docs/records.md, retention):
the list of the documents destroyed (Danh mục tài liệu hết giá trị) and the record of their
destruction (Biên bản về việc hủy tài liệu hết giá trị), one PDF drawn by
:class:`ioffice.documents.pdf_canvas.Canvas` with the heading of Decree 30's forms
(:mod:`ioffice.records.record_pdf`). Decree 30 has no model of these two: their content is the
usual one of the archives' guidance (the agency, the decision it follows, a table of the
dossiers with the reason, the count in words, who destroyed, the method, who signs), filled
from the record the approval kept (``Destruction.record``). Printed for signing on paper: the
app does not sign it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ioffice.agencies import service as agencies
from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Agency, User
from ioffice.agencies.places import place_of
from ioffice.documents.pdf_canvas import LEFT, RIGHT, TOP, Canvas, vn_date, wrap
from ioffice.records import retention
from ioffice.records.models import VN, DestructionStatus, retention_end
from ioffice.records.record_pdf import _heading, _paragraph, in_words, table
from ioffice.records.service import RecordsError

__all__ = ["DestroyedLine", "DestructionText", "forms_pdf", "render"]

_COLUMNS = (("Số TT", 30, 5), ("Số, ký hiệu hồ sơ", 64, 12), ("Tiêu đề hồ sơ", 140, 28),
            ("Thời gian tài liệu", 70, 13), ("Thời hạn bảo quản", 55, 10), ("Số tờ", 34, 6),
            ("Lý do hủy", 60, 11))


@dataclass(frozen=True)
class DestroyedLine:
    """One dossier of the list."""

    symbol: str
    title: str
    span: str
    retention: str
    pages: str
    reason: str


@dataclass(frozen=True)
class DestructionText:
    """What the two forms say."""

    number: int
    parent_name: str
    agency_name: str
    place: str
    date: dt.date
    """The day of the decision (the destruction was done in its transaction)."""
    decision: str
    proposed_on: dt.date
    council_opinion: str
    archivist: str
    archivist_title: str
    leader: str
    leader_title: str
    documents_destroyed: int
    documents_kept: int
    files_deleted: int
    dossiers: tuple[DestroyedLine, ...]


def _signatures(c: Canvas, y: float, left: tuple[str, str, str], right: tuple[str, str, str]
                ) -> None:
    """Two signature columns: title, «(Ký, ghi rõ họ tên)», then the name below the space."""
    if y - 110 < 70:
        c.next_page()
        y = TOP
    for cx, (title, hint, name) in ((LEFT + 110, left), (RIGHT - 110, right)):
        line = y
        for part in wrap(title, 30):
            c.text(part, cx, line, size=13, style="Bold", align="center")
            line -= 16
        c.text(hint, cx, line, size=12, style="Italic", align="center")
        c.text(name, cx, line - 70, size=13, style="Bold", align="center")


def _list_form(c: Canvas, t: DestructionText) -> None:
    y = _heading(c, t, TOP)
    middle = (LEFT + RIGHT) / 2
    c.text("DANH MỤC TÀI LIỆU HẾT GIÁ TRỊ", middle, y, size=14, style="Bold", align="center")
    y -= 18
    for line in wrap(f"Phông (khối) tài liệu: {t.agency_name}", 60):
        c.text(line, middle, y, size=13, style="Bold", align="center")
        y -= 17
    c.text(f"(Kèm theo {t.decision})", middle, y, size=12, style="Italic", align="center")
    y -= 26
    count = len(t.dossiers)
    y = _paragraph(c, f"Danh mục này gồm: {count} hồ sơ (đơn vị bảo quản). Viết bằng chữ: "
                      f"{in_words(count)} hồ sơ (đơn vị bảo quản).", y, size=12)
    y = table(c, y - 4, _COLUMNS, [(str(i), d.symbol, d.title, d.span, d.retention, d.pages,
                                    d.reason) for i, d in enumerate(t.dossiers, start=1)])
    if y - 140 < 70:
        c.next_page()
        y = TOP + 24
    cx = RIGHT - 110
    c.text(vn_date(t.place, t.proposed_on), cx, y - 24, size=13, style="Italic", align="center")
    c.text("NGƯỜI LẬP", cx, y - 44, size=13, style="Bold", align="center")
    c.text("(Ký, ghi rõ họ tên)", cx, y - 60, size=12, style="Italic", align="center")
    c.text(t.archivist, cx, y - 130, size=13, style="Bold", align="center")
    c.text(t.archivist_title, cx, y - 146, size=12, align="center")


def _record_form(c: Canvas, t: DestructionText) -> None:
    y = _heading(c, t, TOP)
    middle = (LEFT + RIGHT) / 2
    c.text("BIÊN BẢN", middle, y, size=14, style="Bold", align="center")
    c.text("Về việc hủy tài liệu hết giá trị", middle, y - 18, size=14, style="Bold",
           align="center")
    c.text(f"(Đề nghị tiêu hủy số {t.number})", middle, y - 36, size=12, style="Italic",
           align="center")
    y -= 64
    y = _paragraph(c, f"Căn cứ {t.decision} về việc hủy tài liệu hết giá trị;", y)
    y = _paragraph(c, f"Căn cứ đề nghị tiêu hủy số {t.number} ngày {t.proposed_on:%d/%m/%Y} "
                      f"của Lưu trữ cơ quan và ý kiến của Hội đồng xác định giá trị tài liệu: "
                      f"«{t.council_opinion}»;", y)
    y = _paragraph(c, f"Hôm nay, ngày {t.date:%d/%m/%Y}, trên Hệ thống quản lý văn bản và hồ sơ "
                      f"điện tử của {t.agency_name}, chúng tôi gồm:", y)
    y = _paragraph(c, f"1. Ông (bà): {t.leader}. Chức vụ: {t.leader_title}, người quyết định "
                      "hủy tài liệu;", y, indent="    ")
    y = _paragraph(c, f"2. Ông (bà): {t.archivist}. Chức vụ: {t.archivist_title}, đại diện Lưu "
                      "trữ cơ quan;", y, indent="    ")
    y = _paragraph(c, f"Đã tiến hành hủy tài liệu hết giá trị của {t.agency_name}.", y)
    count = len(t.dossiers)
    y = _paragraph(c, f"Tổng số tài liệu hủy: {count} hồ sơ (viết bằng chữ: "
                      f"{in_words(count).lower()} hồ sơ), gồm {t.documents_destroyed} văn bản "
                      f"hủy cùng hồ sơ; {t.documents_kept} văn bản giữ lại vì còn cần cho việc "
                      "khác.", y)
    y = _paragraph(c, "Phương pháp hủy: xóa dữ liệu điện tử trên Hệ thống (tệp tin bị xóa khỏi "
                      f"kho lưu trữ: {t.files_deleted} tệp; mã SHA-256 của từng tệp được ghi "
                      "trong biên bản điện tử); mục đăng ký của văn bản trong sổ được giữ lại.",
                   y)
    y = _paragraph(c, "Chúng tôi đã hủy hết số tài liệu có trong Danh mục tài liệu hết giá trị "
                      f"kèm theo {t.decision}./.", y)
    _signatures(c, y - 24, ("ĐẠI DIỆN LƯU TRỮ CƠ QUAN", "(Ký, ghi rõ họ tên)", t.archivist),
                ("NGƯỜI QUYẾT ĐỊNH HỦY TÀI LIỆU", "(Ký, ghi rõ họ tên, đóng dấu)", t.leader))


def render(t: DestructionText) -> bytes:
    """The list (from page 1) and the record (on a page of its own after it)."""
    c = Canvas()
    _list_form(c, t)
    c.next_page()
    _record_form(c, t)
    return c.pdf()


def _line(entry: dict) -> DestroyedLine:
    def day(iso: str | None) -> str:
        return dt.date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else ""

    span = " – ".join(d for d in (day(entry.get("start")), day(entry.get("end"))) if d)
    retention_text = entry.get("retention", "")
    years = retention_text.removesuffix(" năm")
    end = retention_end(dt.date.fromisoformat(entry["end"]), int(years)) \
        if entry.get("end") and years.isdigit() else None
    reason = f"Hết thời hạn bảo quản ({end:%d/%m/%Y})" if end else "Hết thời hạn bảo quản"
    title = entry.get("title", "")
    if entry.get("kind") == "restored":
        title += f" (nhập từ cơ quan mã {entry.get('organ_id', '')})"
    return DestroyedLine(entry.get("symbol", ""), f"{title} (năm {entry.get('year', '')})",
                         span, retention_text, str(entry.get("pages") or ""), reason)


def _title(session: Session, user_id: int | None, agency_id: int) -> tuple[str, str]:
    user = session.get(User, user_id) if user_id else None
    if user is None:
        return "", ""
    return user.full_name, agencies.post_title(session, user, agency_id) or ""


def forms_pdf(session: Session, actor: Actor, destruction_id: int) -> tuple[str, bytes]:
    """The two forms of a destruction the leader approved, for those who read retention
    (``Op.VIEW_RETENTION``, the agency's): the file's name and bytes."""
    row = retention.destruction(session, actor, destruction_id)
    if row.status is not DestructionStatus.DESTROYED:
        raise RecordsError(f"Đề nghị tiêu hủy số {row.id} chưa được quyết định tiêu hủy "
                           f"(«{row.status.label}»); chưa có biên bản hủy tài liệu.")
    agency = session.get(Agency, row.agency_id)
    parent = session.get(Agency, agency.parent_id) if agency.parent_id else None
    archivist, archivist_title = _title(session, row.proposed_by_id, agency.id)
    leader, leader_title = _title(session, row.decided_by_id, agency.id)
    record = row.record or {}
    documents = record.get("documents", [])
    deleted = record.get("deleted") or record.get("files_to_delete", [])
    text = DestructionText(
        number=row.id, parent_name=parent.name if parent else "", agency_name=agency.name,
        place=place_of(agency), date=row.decided_at.astimezone(VN).date(),
        decision=row.decision, proposed_on=row.proposed_at.astimezone(VN).date(),
        council_opinion=row.reason, archivist=archivist,
        archivist_title=archivist_title or "Lưu trữ cơ quan", leader=leader,
        leader_title=leader_title or "Lãnh đạo cơ quan",
        documents_destroyed=sum(1 for d in documents if d.get("destroyed")),
        documents_kept=sum(1 for d in documents if not d.get("destroyed")),
        files_deleted=len(deleted),
        dossiers=tuple(_line(e) for e in record.get("dossiers", [])))
    return f"bien-ban-huy-tai-lieu-{row.id}.pdf", render(text)
