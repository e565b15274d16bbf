"""Input and output schemas of the archive's endpoints (``ioffice.api.archive_views``): hand-overs
to the agency's archive, retention and destruction, legal holds, imported dossier packages and
the dossiers they restore; and their builders from domain objects."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from ioffice.api.records_schemas import DossierSummaryOut, dossier_summary
from ioffice.api.schemas import Input, Labelled, Limit, Output, _labelled
from ioffice.records.models import (
    Destruction,
    Dossier,
    Handover,
    ImportedDocument,
    ImportedPackage,
    LegalHold,
)

MAX_IDS = 500
"""Dossiers in one hand-over or one proposal (the page's form takes as many)."""


def _page_after(description: str = "Keyset cursor: `next_after` of the previous page."):
    return Field(None, ge=1, description=description)


# ----------------------------------------------------------------------------- hand-overs


class HandoverQuery(Input):
    after: int | None = _page_after()
    limit: Limit = 50


class HandoverIn(Input):
    dossier_ids: list[int] = Field(min_length=1, max_length=MAX_IDS, description=(
        "The caller's closed dossiers not yet in a hand-over (`handover_id` null)."))


class ReturnHandoverIn(Input):
    reason: str = Field(max_length=2100, description="Why the archive returns it (at most 2000 "
                                                     "characters): the keeper completes it.")


class HandoverOut(Output):
    id: int
    url: str
    status: Labelled
    keeper_id: int
    keeper_name: str
    archivist_id: int | None
    created_at: dt.datetime
    submitted_at: dt.datetime | None = Field(description="When the keeper signed.")
    decided_at: dt.datetime | None = Field(description="When the archive accepted or returned "
                                                       "it (or the keeper cancelled it).")
    return_reason: str
    keeper_certificate: str = Field(description="Serial of the keeper's certificate, once "
                                                "signed.")
    archive_certificate: str = Field(description="Serial of the archive's certificate, once "
                                                 "accepted.")
    level: str = Field(description="PAdES level of the accepted record (`B-LTA`), or empty.")
    record_url: str = Field(description="The record (biên bản giao nhận, Appendix V forms V and "
                                        "III) as PDF, with the signatures made so far.")
    record_sha256: str
    dossiers: list[DossierSummaryOut]


class HandoverPage(Output):
    items: list[HandoverOut]
    next_after: int | None = Field(description="Pass as `after` for the next page (newest "
                                               "first); null on the last page.")


def handover_url(handover_id: int) -> str:
    return f"/api/v1/records/handovers/{handover_id}"


def handover_out(h: Handover, names: dict[int, str]) -> HandoverOut:
    return HandoverOut(
        id=h.id, url=handover_url(h.id), status=_labelled(h.status), keeper_id=h.keeper_id,
        keeper_name=names.get(h.keeper_id, ""), archivist_id=h.archivist_id,
        created_at=h.created_at, submitted_at=h.submitted_at, decided_at=h.decided_at,
        return_reason=h.return_reason or "", keeper_certificate=h.keeper_serial or "",
        archive_certificate=h.archivist_serial or "", level=h.level or "",
        record_url=f"{handover_url(h.id)}/record", record_sha256=h.record_sha256,
        dossiers=[dossier_summary(d) for d in h.dossiers])


# ----------------------------------------------------------------------------- holds


class HoldIn(Input):
    reason: str = Field(max_length=2100, description="The legal ground or the case (at most "
                                                     "2000 characters).")


class HoldOut(Output):
    id: int
    kind: Literal["dossier", "restored"] = Field(description="A dossier of the file list, or "
                                                             "one restored from a package.")
    dossier_id: int = Field(description="The dossier's id, or the restored dossier's.")
    reason: str
    set_by_id: int
    set_at: dt.datetime
    lifted_by_id: int | None
    lifted_at: dt.datetime | None
    lift_reason: str


def hold_out(h: LegalHold) -> HoldOut:
    restored = h.package_id is not None
    return HoldOut(id=h.id, kind="restored" if restored else "dossier",
                   dossier_id=(h.package_id if restored else h.dossier_id) or 0,
                   reason=h.reason, set_by_id=h.set_by_id, set_at=h.set_at,
                   lifted_by_id=h.lifted_by_id, lifted_at=h.lifted_at,
                   lift_reason=h.lift_reason or "")


# ----------------------------------------------------------------------------- retention


class ExpiredQuery(Input):
    after: str | None = Field(None, max_length=80, description=(
        "Keyset cursor: `next_after` of the previous page (opaque)."))
    limit: Limit = 50


class ExpiredOut(Output):
    kind: Literal["dossier", "restored"]
    id: int = Field(description="The dossier's id (`dossier_ids` of a proposal), or the "
                                "restored dossier's (`package_ids`).")
    url: str
    symbol: str
    title: str
    year: int
    retention: str
    end_date: dt.date | None
    retention_end: dt.date = Field(description="The end of the work plus the retention.")
    status: Labelled | None = Field(description="A dossier's status; null for a restored one.")
    hold: HoldOut | None = Field(description="The active legal hold: it may not be proposed.")


class ExpiredPage(Output):
    items: list[ExpiredOut]
    next_after: str | None = Field(description="Pass as `after` for the next page; null on the "
                                               "last page.")


class DestructionIn(Input):
    dossier_ids: list[int] = Field(default_factory=list, max_length=MAX_IDS, description=(
        "Expired dossiers of the file lists."))
    package_ids: list[int] = Field(default_factory=list, max_length=MAX_IDS, description=(
        "Expired dossiers restored from imported packages."))
    reason: str = Field(max_length=4100, description="The reason, the opinion of the council "
                                                     "for the value of documents (at most 4000 "
                                                     "characters).")


class DestructionDecisionIn(Input):
    decision: str = Field(max_length=300, description="Number and date of the leader's decision "
                                                      "(e.g. «Quyết định số 15/QĐ-UBND ngày "
                                                      "04/12/2026»).")


class RejectDestructionIn(Input):
    reason: str = Field(max_length=300, description="Why not (at most 255 characters).")


class DestructionQuery(Input):
    after: int | None = _page_after()
    limit: Limit = 50


class HoldingOut(Output):
    kind: Literal["dossier", "restored"]
    id: int
    url: str
    symbol: str
    title: str
    year: int
    retention: str


class DestructionOut(Output):
    id: int
    url: str
    status: Labelled
    reason: str
    proposed_by_id: int
    proposed_at: dt.datetime
    decided_by_id: int | None
    decided_at: dt.datetime | None
    decision: str = Field(description="The decision's number and date (approved), or the reason "
                                      "of a refusal.")
    holdings: list[HoldingOut] = Field(description="The dossiers proposed.")
    record: dict[str, Any] = Field(description=(
        "Once destroyed, what was destroyed (biên bản): `dossiers` (symbol, title, items with "
        "their files' SHA-256), `documents` (each filed document, destroyed or kept and why), "
        "`files_to_delete`, `deleted`, `kept_shared`; empty before the decision."))
    files_deleted: int | None = Field(None, description=(
        "On an approval: how many files were deleted at once; null when the storage could "
        "not be reached (the periodic cleanup deletes them)."))


class DestructionPage(Output):
    items: list[DestructionOut]
    next_after: int | None = Field(description="Pass as `after` for the next page (newest "
                                               "first); null on the last page.")


def restored_url(package_id: int) -> str:
    return f"/api/v1/records/restored/{package_id}"


def dossier_api_url(dossier_id: int) -> str:
    return f"/api/v1/records/dossiers/{dossier_id}"


def holding_out(d: Dossier | ImportedPackage) -> HoldingOut:
    if isinstance(d, ImportedPackage):
        return HoldingOut(kind="restored", id=d.id, url=restored_url(d.id), symbol=d.symbol,
                          title=d.title, year=d.year, retention=d.retention_label)
    return HoldingOut(kind="dossier", id=d.id, url=dossier_api_url(d.id), symbol=d.symbol,
                      title=d.title, year=d.file_list.year, retention=d.retention_label)


def expired_out(d: Dossier | ImportedPackage, hold: LegalHold | None) -> ExpiredOut:
    h = holding_out(d)
    return ExpiredOut(kind=h.kind, id=h.id, url=h.url, symbol=h.symbol, title=h.title,
                      year=h.year, retention=h.retention, end_date=d.end_date,
                      retention_end=d.retention_end,
                      status=None if isinstance(d, ImportedPackage) else _labelled(d.status),
                      hold=hold_out(hold) if hold else None)


def destruction_url(destruction_id: int) -> str:
    return f"/api/v1/records/destructions/{destruction_id}"


def destruction_out(row: Destruction, files_deleted: int | None = None) -> DestructionOut:
    return DestructionOut(
        id=row.id, url=destruction_url(row.id), status=_labelled(row.status), reason=row.reason,
        proposed_by_id=row.proposed_by_id, proposed_at=row.proposed_at,
        decided_by_id=row.decided_by_id, decided_at=row.decided_at, decision=row.decision or "",
        holdings=[holding_out(d) for d in row.holdings], record=dict(row.record or {}),
        files_deleted=files_deleted)


# ----------------------------------------------------------------------------- packages


class PackageForm(Input):
    """The import form: only the `file` part (the package, a ZIP)."""


class RestoredQuery(Input):
    after: int | None = _page_after()
    limit: Limit = 50


class RestoredFileOut(Output):
    index: int = Field(description="Its place among the document's files, from 1.")
    name: str
    sha256: str
    size: int
    url: str = Field(description="Its download, byte for byte as in the package.")


class RestoredDocumentOut(Output):
    ordinal: int
    kind: str
    type_name: str
    number: str
    notation: str
    issued_date: str
    organ_name: str
    subject: str
    language: str
    pages: str
    description: str
    files: list[RestoredFileOut]


class RestoredSummaryOut(Output):
    id: int
    url: str
    organ_id: str = Field(description="The code of the agency whose dossier it was.")
    year: int
    symbol: str
    title: str
    retention: str
    retention_years: int | None
    keeper_name: str
    start_date: dt.date | None
    end_date: dt.date | None
    page_count: int | None
    documents: int
    signatures: int = Field(description="Intact signatures found in its PDFs.")
    untrusted: int = Field(description="Of those, how many chain to no anchor trusted here.")
    filename: str
    sha256: str = Field(description="SHA-256 of the package (ZIP) as imported.")
    imported_by_id: int
    imported_at: dt.datetime
    destroyed: bool


class RestoredOut(RestoredSummaryOut):
    description: str
    items: list[RestoredDocumentOut]
    hold: HoldOut | None
    destroyed_message: str = Field(description="Once destroyed, by which decision; its files "
                                               "answer 410.")


class RestoredPage(Output):
    items: list[RestoredSummaryOut]
    next_after: int | None = Field(description="Pass as `after` for the next page (newest "
                                               "first); null on the last page.")


def restored_summary(p: ImportedPackage) -> RestoredSummaryOut:
    return RestoredSummaryOut(
        id=p.id, url=restored_url(p.id), organ_id=p.organ_id, year=p.year, symbol=p.symbol,
        title=p.title, retention=p.retention_label, retention_years=p.retention_years,
        keeper_name=p.keeper_name, start_date=p.start_date, end_date=p.end_date,
        page_count=p.page_count, documents=p.documents, signatures=p.signatures,
        untrusted=p.untrusted, filename=p.filename, sha256=p.sha256,
        imported_by_id=p.imported_by_id, imported_at=p.imported_at, destroyed=p.destroyed)


def _restored_document(p: ImportedPackage, d: ImportedDocument) -> RestoredDocumentOut:
    return RestoredDocumentOut(
        ordinal=d.ordinal, kind=d.kind, type_name=d.type_name, number=d.number,
        notation=d.notation, issued_date=d.issued_date, organ_name=d.organ_name,
        subject=d.subject, language=d.language, pages=d.pages, description=d.description,
        files=[RestoredFileOut(index=i, name=f.get("name", ""), sha256=f.get("sha256", ""),
                               size=f.get("size", 0),
                               url=f"{restored_url(p.id)}/documents/{d.ordinal}/files/{i}")
               for i, f in enumerate(d.files or (), start=1)])


def restored_out(p: ImportedPackage, hold: LegalHold | None, destroyed: str | None
                 ) -> RestoredOut:
    return RestoredOut(**restored_summary(p).model_dump(), description=p.description,
                       items=[_restored_document(p, d) for d in p.items],
                       hold=hold_out(hold) if hold else None,
                       destroyed_message=destroyed or "")
