"""Input and output schemas of the registers, notifications and records endpoints
(``ioffice.api.records_views``), and their builders from domain objects."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from ioffice.api.outgoing_schemas import outgoing_url
from ioffice.api.schemas import (
    DocTypeCode,
    Input,
    Labelled,
    Limit,
    Output,
    _doc_type,
    _labelled,
    document_url,
)
from ioffice.notifications.models import Channel, Kind, Notification
from ioffice.notifications.service import BELL_MAX, Preferences
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus
from ioffice.records.models import Dossier, DossierItem, FileList, ItemKind
from ioffice.records.service import ListRow, TocRow

# ----------------------------------------------------------------------------- registers


class RegisterExportQuery(Input):
    year: int = Field(ge=1900, le=2999)
    month: int | None = Field(None, ge=1, le=12, description="One month of the year.")
    doc_type: DocTypeCode | None = None  # type: ignore[valid-type]
    issuer: str | None = Field(None, max_length=255, description="Part of the issuing agency's name.")


class OutgoingRegisterQuery(Input):
    year: int = Field(ge=1900, le=2999)
    confidential: bool = Field(False, description="The register of confidential documents "
                                                  "(a separate book).")
    after_number: int | None = Field(None, description="Keyset cursor: `next_after_number` of "
                                                       "the previous page.")
    limit: Limit = 50


class OutgoingRegisterExportQuery(Input):
    year: int = Field(ge=1900, le=2999)
    confidential: bool = False


class OutgoingRegisterEntryOut(Output):
    """A row of the outgoing register (Appendix IV of Decree 30)."""

    id: int
    url: str
    number: int
    number_notation: str
    promulgation_date: dt.date | None
    doc_type: Labelled
    subject: str
    signer_name: str
    recipients: list[str]
    copies: int
    status: Labelled
    dispatched_at: dt.datetime | None
    notes: str


class OutgoingRegisterPage(Output):
    items: list[OutgoingRegisterEntryOut]
    next_after_number: int | None = Field(description="Pass as `after_number` for the next page; "
                                                      "null on the last page.")


def register_entry_out(doc: OutgoingDocument) -> OutgoingRegisterEntryOut:
    return OutgoingRegisterEntryOut(
        id=doc.id, url=outgoing_url(doc.id), number=doc.number or 0,
        number_notation=doc.number_notation, promulgation_date=doc.promulgation_date,
        doc_type=_doc_type(doc.doc_type), subject=doc.subject,
        signer_name=doc.signer.full_name if doc.signer else "",
        recipients=[r.name for r in doc.recipients], copies=doc.copies,
        status=_labelled(OutgoingStatus(doc.status)), dispatched_at=doc.dispatched_at,
        notes=doc.notes)


# ----------------------------------------------------------------------------- notifications

KindCode = Literal[tuple(k.value for k in Kind)]  # type: ignore[valid-type]
ChannelCode = Literal[tuple(c.value for c in Channel)]  # type: ignore[valid-type]


class NotificationQuery(Input):
    unread: bool = Field(False, description="Only the unread ones.")
    after: int | None = Field(None, ge=1, description="Keyset cursor: `next_after` of the "
                                                      "previous page.")
    limit: Limit = 50


class NotificationOut(Output):
    id: int
    kind: Labelled
    text: str
    link: str = Field(description="The web page it is about (path under the application's "
                                  "root), or empty.")
    subject_type: str = Field(description="`incoming`, `outgoing`, `exchange`, ... or empty.")
    subject_id: int | None
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(Output):
    items: list[NotificationOut]
    next_after: int | None = Field(description="Pass as `after` for the next page (newest "
                                               "first); null on the last page.")


class UnreadCountOut(Output):
    unread: int = Field(description=f"Unread notifications, counted up to {BELL_MAX} (the "
                                    "bell shows 99+).")


class MarkedOut(Output):
    marked: int = Field(description="How many notifications were marked read.")


class ChannelOut(Output):
    kind: Labelled
    channel: Labelled


class PreferencesOut(Output):
    channels: list[ChannelOut]
    daily_digest: bool
    email: str = Field(description="Where the e-mails go (the user's address).")


class PreferencesIn(Input):
    channels: dict[KindCode, ChannelCode] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="The channel per kind to change (`app`, `email`, "
                                          "`both`, `none`); kinds not given keep theirs.")
    daily_digest: bool | None = Field(None, description="One e-mail a day with what was not yet "
                                                        "read; omitted: unchanged.")


def notification_out(n: Notification) -> NotificationOut:
    return NotificationOut(id=n.id, kind=_labelled(Kind(n.kind)), text=n.text, link=n.link,
                           subject_type=n.subject_type, subject_id=n.subject_id,
                           created_at=n.created_at, read_at=n.read_at)


def preferences_out(p: Preferences) -> PreferencesOut:
    return PreferencesOut(channels=[ChannelOut(kind=_labelled(k), channel=_labelled(c))
                                    for k, c in p.channels.items()],
                          daily_digest=p.daily_digest, email=p.email)


# ----------------------------------------------------------------------------- records


class FileListQuery(Input):
    year: int = Field(ge=1900, le=2999, description="The list's year.")


class DossierQuery(Input):
    year: int | None = Field(None, ge=1900, le=2999, description="Of this year's file list.")
    status: Literal["planned", "open", "closed", "submitted", "archived", "destroyed"] | None = None
    mine: bool = Field(False, description="Only the dossiers the caller keeps.")
    after: int | None = Field(None, ge=1, description="Keyset cursor: `next_after` of the "
                                                      "previous page.")
    limit: Limit = 50


class DossierIn(Input):
    heading_id: int = Field(description="A heading or subheading of the list.")
    number: int = Field(ge=1, le=9999, description="Số hồ sơ; the symbol is the number and the "
                                                   "heading's abbreviation.")
    title: str = Field(max_length=1000)
    retention: str = Field(max_length=20, description="`vinh-vien` (permanent) or a number of "
                                                      "years from 1 to 99.")
    keeper_id: int = Field(description="The person of the agency who keeps it (người lập hồ sơ).")


class OpenDossierIn(Input):
    start: dt.date | None = Field(None, description="Ngày mở hồ sơ, in the list's year; today "
                                                    "when omitted.")


class FileDocumentIn(Input):
    kind: Literal["incoming", "outgoing"]
    document_id: int = Field(description="The incoming or outgoing document's id.")


class CloseDossierIn(Input):
    end: dt.date = Field(description="Ngày kết thúc: not before the start nor after today.")
    pages: int = Field(ge=1, le=100_000, description="Số tờ (trang) of the dossier.")


class DossierSummaryOut(Output):
    id: int
    url: str
    list_id: int
    year: int
    symbol: str = Field(description="Số và ký hiệu hồ sơ, e.g. `01.TCCB`.")
    title: str
    retention: str = Field(description="`Vĩnh viễn` or `N năm`.")
    retention_years: int | None = Field(description="Null: permanent.")
    keeper_id: int
    status: Labelled
    start_date: dt.date | None
    end_date: dt.date | None
    page_count: int | None
    added_at: dt.datetime | None = Field(None, description="When it was added to the approved "
                                                           "list (art. 29.2.c, «Bổ sung»); null "
                                                           "for a dossier of the list as approved.")
    handover_id: int | None = Field(None, description="The hand-over it is in (unsigned, "
                                                      "submitted or accepted); null: none.")


class DossierItemOut(Output):
    id: int
    kind: Labelled
    index: int | None = Field(description="Its row in the table of contents (notes have none).")
    document_url: str | None = Field(description="The API address of a filed document.")
    file_url: str | None = Field(None, description="The download of a file added to the "
                                                   "dossier.")
    number_notation: str
    date: dt.date | None
    title: str = Field(description="Type and subject of a document, a file's title, a note.")
    author: str
    pages: str = Field(description="Tờ số / trang số in the dossier.")
    added_at: dt.datetime


class ActiveHoldOut(Output):
    id: int
    reason: str
    set_by_id: int
    set_at: dt.datetime


class DossierOut(DossierSummaryOut):
    items: list[DossierItemOut]
    hold: ActiveHoldOut | None = Field(None, description="The active legal hold (tạm giữ): "
                                                         "the dossier is not destroyed.")


class DossierPage(Output):
    items: list[DossierSummaryOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null on the "
                                               "last page.")


class FileListRowOut(Output):
    kind: Literal["heading", "subheading", "dossier"]
    label: str
    dossier: DossierSummaryOut | None


class HeadingOut(Output):
    id: int
    parent_id: int | None = Field(description="The heading above a subheading.")
    code: str = Field(description="A heading's abbreviation (the dossiers' symbol).")
    title: str


class FileListOut(Output):
    id: int
    year: int
    status: Labelled
    decision: str = Field(description="The approving decision, once approved.")
    approved_at: dt.datetime | None
    headings: list[HeadingOut] = Field(description="Each heading, for new dossiers.")
    rows: list[FileListRowOut] = Field(description="Headings, subheadings and dossiers in the "
                                                   "order of Appendix V form II.")


def dossier_url(dossier_id: int) -> str:
    return f"/api/v1/records/dossiers/{dossier_id}"


def dossier_summary(d: Dossier) -> DossierSummaryOut:
    return DossierSummaryOut(
        id=d.id, url=dossier_url(d.id), list_id=d.list_id, year=d.file_list.year,
        symbol=d.symbol, title=d.title, retention=d.retention_label,
        retention_years=d.retention_years, keeper_id=d.keeper_id, status=_labelled(d.status),
        start_date=d.start_date, end_date=d.end_date, page_count=d.page_count,
        added_at=d.added_at, handover_id=d.handover_id)


def _item_out(item: DossierItem, toc: TocRow | None) -> DossierItemOut:
    url = (document_url(item.incoming_id) if item.incoming_id
           else outgoing_url(item.outgoing_id) if item.outgoing_id else None)
    return DossierItemOut(
        id=item.id, kind=_labelled(ItemKind(item.kind)), index=toc.index if toc else None,
        document_url=url, number_notation=toc.number_notation if toc else "",
        date=toc.date if toc else None, title=toc.type_and_subject if toc else item.title,
        author=toc.author if toc else "", pages=toc.pages if toc else "", added_at=item.added_at,
        file_url=f"{dossier_url(item.dossier_id)}/items/{item.id}/file" if item.sha256 else None)


def dossier_out(d: Dossier, toc: list[TocRow], hold=None) -> DossierOut:
    by_item = {r.item.id: r for r in toc}
    return DossierOut(**dossier_summary(d).model_dump(),
                      items=[_item_out(i, by_item.get(i.id)) for i in d.items],
                      hold=ActiveHoldOut(id=hold.id, reason=hold.reason, set_by_id=hold.set_by_id,
                                         set_at=hold.set_at) if hold else None)


def file_list_out(row: FileList, rows: list[ListRow]) -> FileListOut:
    return FileListOut(
        id=row.id, year=row.year, status=_labelled(row.status), decision=row.decision or "",
        approved_at=row.approved_at,
        headings=[HeadingOut(id=h.id, parent_id=h.parent_id, code=h.code, title=h.title)
                  for h in sorted(row.headings, key=lambda h: (h.parent_id or 0, h.position))],
        rows=[FileListRowOut(kind=r.kind, label=r.label,  # type: ignore[arg-type]
                             dossier=dossier_summary(r.dossier) if r.dossier else None)
              for r in rows])


class FileListIn(Input):
    year: int = Field(ge=1900, le=2999, description="The list's year: from 2000 to next year.")
    copy_previous: bool = Field(False, description="Copy last year's headings and dossiers "
                                                   "(same keepers, numbers and retention).")


class HeadingIn(Input):
    title: str = Field(max_length=600, description="The heading's name (at most 500 characters).")
    code: str = Field("", max_length=30, description="A heading's abbreviation (capital letters "
                                                     "and digits, e.g. `TCCB`): the symbol of "
                                                     "its dossiers. Not for a subheading.")
    parent_id: int | None = Field(None, description="The heading a subheading goes under.")


class ApproveListIn(Input):
    decision: str = Field("", max_length=300, description="The approving decision's number and "
                                                          "date (shown on form II).")


class NoteIn(Input):
    text: str = Field(max_length=5000, description="The note (at most 4000 characters).")


class DossierFileForm(Input):
    """Fields of a file added to a dossier (multipart/form-data, with ``file``)."""

    title: str = Field(max_length=1200, description="The file's title in the dossier.")


def heading_out(h) -> HeadingOut:
    return HeadingOut(id=h.id, parent_id=h.parent_id, code=h.code, title=h.title)


class RecordsSearchQuery(Input):
    q: str = Field(min_length=1, max_length=200, description="Words of the symbol or title, "
                                                             "diacritics and case ignored.")
    limit: Limit = 50


class RestoredHitOut(Output):
    id: int
    url: str
    organ_id: str
    year: int
    symbol: str
    title: str


class RecordsSearchOut(Output):
    dossiers: list[DossierSummaryOut] = Field(description="Dossiers of the file lists the "
                                                           "caller may read, newest list first.")
    restored: list[RestoredHitOut] = Field(description="Restored dossiers (the archive and the "
                                                       "leaders only), newest first.")
