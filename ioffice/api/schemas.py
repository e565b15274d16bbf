"""Input and output schemas of the JSON API (pydantic v2), and builders from domain objects.

Input models turn into the services' dataclasses; output models are what the API answers and
what the OpenAPI document describes. Field descriptions are in English for integrators; the
values that are Vietnamese by law (type names, status labels) stay Vietnamese.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from ioffice.documents.vocabulary import DOC_TYPES, DOC_TYPES_BY_CODE, Confidentiality, Urgency
from ioffice.incoming import handling, queries
from ioffice.incoming.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    DocumentFile,
    DocumentStatus,
    IncomingDocument,
    Source,
)
from ioffice.incoming.registration import IncomingInput, UploadedFile
from ioffice.text import MAX_INT, UnsafeText, clean, unsafe_message

DocTypeCode = Literal[tuple(t.code for t in DOC_TYPES)]  # type: ignore[valid-type]
Limit = Annotated[int, Field(ge=1, le=200, description="Page size.")]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=10_000)

    @field_validator("*", mode="after")
    @classmethod
    def _safe(cls, value: Any) -> Any:
        """The input rule of :mod:`ioffice.text` (no control characters or bidi overrides, NFC),
        and integers no database column can hold refused (they failed in the driver)."""
        if isinstance(value, list):
            return [_safe_value(v) for v in value]
        return _safe_value(value)


def _safe_value(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return clean(value)
        except UnsafeText as exc:
            raise PydanticCustomError("unsafe_text", "Chuỗi {detail}",
                                      {"detail": unsafe_message(exc.char)}) from None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise PydanticCustomError("int_too_large", "Số quá lớn.")
    return value


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# ----------------------------------------------------------------------------- inputs


class DocumentMetadata(Input):
    """Appendix VI metadata of an incoming document."""

    issuer_name: str = Field(max_length=255, description="Issuing agency (cơ quan ban hành).")
    issuer_code: str = Field("", max_length=35,
                             description="Issuing agency's identifier, e.g. 000.00.00.H12.")
    number: str = Field(max_length=20, description="Document number (số), e.g. 15.")
    notation: str = Field("", max_length=60, description="Notation (ký hiệu), e.g. QĐ-UBND.")
    document_date: dt.date = Field(description="Date of the document; not in the future.")
    doc_type: DocTypeCode = Field(description="Document type code from Decree 30's list.")  # type: ignore[valid-type]
    subject: str = Field(description="Subject (trích yếu nội dung).")
    signer: str = Field("", max_length=255)
    page_count: int | None = Field(None, ge=0, description="Counted from the PDFs when omitted.")
    urgency: Urgency = Urgency.NORMAL
    confidentiality: Confidentiality = Confidentiality.NORMAL
    due_date: dt.date | None = Field(None, description="Handling due date; not before document_date.")
    notes: str = ""
    document_identifier: str = Field("", max_length=255, description="Sender's document identifier.")
    confirm_duplicate: bool = Field(False, description="Register although a duplicate is suspected.")

    def to_input(self, files: tuple[UploadedFile, ...] = (), submission_id: str = "") -> IncomingInput:
        return IncomingInput(
            issuer_name=self.issuer_name, issuer_code=self.issuer_code, number=self.number,
            notation=self.notation, document_date=self.document_date, doc_type=self.doc_type,
            subject=self.subject, signer=self.signer, page_count=self.page_count,
            urgency=self.urgency, confidentiality=self.confidentiality, due_date=self.due_date,
            notes=self.notes, document_identifier=self.document_identifier,
            submission_id=submission_id, confirm_duplicate=self.confirm_duplicate, files=files)


class RegisterPaperForm(DocumentMetadata):
    """Form fields of a paper/electronic PDF registration (multipart/form-data, with ``files``)."""

    submission_id: str = Field("", max_length=64, description=(
        "A client-chosen id of this submission (e.g. a UUID). Sending it again answers 409 "
        "`already_submitted` with the first document instead of registering twice."))


class RejectIn(Input):
    reason: str = Field(description="Why the document is refused (sent back to the sender).")


class TargetIn(Input):
    kind: Literal["department", "user"]
    id: int = Field(description="Department id or user id in the acting agency.")
    deadline: dt.date | None = Field(None, description="Not before the document date.")

    def to_target(self) -> handling.Target:
        return handling.Target(kind=self.kind, id=self.id, deadline=self.deadline)


class DistributeIn(Input):
    lead: TargetIn | None = Field(None, description="The lead handler (chủ trì); required unless "
                                                    "an open lead exists.")
    co_handlers: list[TargetIn] = Field(default_factory=list, max_length=50, description="Phối hợp.")
    for_information: list[TargetIn] = Field(default_factory=list, max_length=200,
                                            description="Nhận để biết.")
    instruction: str = Field("", description="The leader's instruction (ý kiến chỉ đạo).")

    def to_input(self) -> handling.DistributionInput:
        return handling.DistributionInput(
            lead=self.lead.to_target() if self.lead else None,
            co_handlers=tuple(t.to_target() for t in self.co_handlers),
            for_information=tuple(t.to_target() for t in self.for_information),
            instruction=self.instruction)


class PassOnIn(Input):
    user_id: int = Field(description="A person of the department head's own department.")
    deadline: dt.date | None = Field(None, description="Defaults to the parent's; not after it.")
    instruction: str = ""


class ProgressIn(Input):
    note: str


class ExtensionRequestIn(Input):
    new_deadline: dt.date
    reason: str


class ExtensionDecisionIn(Input):
    approve: bool


class FinishIn(Input):
    result: str = Field(description="The result of the handling.")
    reply_number: str = Field("", max_length=90, description="Number and notation of the reply.")


class ReturnIn(Input):
    reason: str


class ToHandleQuery(Input):
    which: Literal["all", "overdue", "due_soon"] = Field(
        "all", description="`overdue`: deadline passed; `due_soon`: due within 3 days.")
    after: str | None = Field(None, max_length=40, description=(
        "Keyset cursor: `next_after` of the previous page (opaque)."))
    limit: Limit = queries.PAGE_SIZE


class QueueQuery(Input):
    after: str | None = Field(None, max_length=80, description=(
        "Keyset cursor: `next_after` of the previous page (opaque)."))
    limit: Limit = queries.PAGE_SIZE


class RegisterQuery(Input):
    year: int = Field(ge=1900, le=2999)
    month: int | None = Field(None, ge=1, le=12)
    doc_type: DocTypeCode | None = None  # type: ignore[valid-type]
    issuer: str | None = Field(None, max_length=255, description="Part of the issuing agency's name.")
    after_number: int | None = Field(None, description="Keyset cursor: `next_after_number` of the "
                                                       "previous page.")
    limit: Limit = queries.PAGE_SIZE


class FollowUpQuery(Input):
    department_id: int | None = None
    start: dt.date | None = Field(None, description="Deadlines from this day.")
    end: dt.date | None = Field(None, description="Deadlines up to this day.")
    only_overdue: bool = False
    after: str | None = Field(None, max_length=40, description=(
        "Keyset cursor: `next_after` of the previous page (opaque)."))
    limit: Annotated[int, Field(ge=1, le=500)] = 200


# ----------------------------------------------------------------------------- outputs


class Labelled(Output):
    code: str
    label: str


class FileOut(Output):
    id: int
    filename: str
    content_type: str
    size: int
    page_count: int
    sha256: str
    signature_verdict: str
    download_url: str


class AssigneeOut(Output):
    kind: Literal["department", "user"]
    id: int
    name: str


class AssignmentOut(Output):
    id: int
    document_id: int
    parent_id: int | None
    role: Labelled
    status: Labelled
    assignee: AssigneeOut | None
    deadline: dt.date | None
    overdue: bool
    instruction: str
    assigned_by: str
    assigned_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    progress_note: str
    result: str
    reply_number: str
    return_reason: str
    requested_deadline: dt.date | None
    extension_reason: str


class DocumentSummaryOut(Output):
    id: int
    url: str
    incoming_number: int | None
    status: Labelled
    source: Labelled
    issuer_name: str
    number_notation: str
    document_date: dt.date
    doc_type: Labelled
    subject: str
    urgency: Labelled
    confidentiality: Labelled
    due_date: dt.date | None
    arrived_at: dt.datetime
    registered_at: dt.datetime | None


class HistoryEntryOut(Output):
    at: dt.datetime
    actor: str
    action: str = Field(description="Audit tag, `capability:subject:action`.")
    details: dict[str, Any]


class DocumentOut(DocumentSummaryOut):
    issuer_code: str
    number: str
    notation: str
    signer: str
    page_count: int
    notes: str
    document_identifier: str | None
    distributed_at: dt.datetime | None
    finished_at: dt.datetime | None
    reply_number: str
    rejection_reason: str
    files: list[FileOut]
    assignments: list[AssignmentOut]
    history: list[HistoryEntryOut]


class DocumentPage(Output):
    items: list[DocumentSummaryOut]
    next_after: str | None = Field(None, description="Pass as `after` for the next page; null "
                                                     "on the last page.")


class RegisterPage(Output):
    items: list[DocumentSummaryOut]
    next_after_number: int | None = Field(description="Pass as `after_number` for the next page; "
                                                      "null on the last page.")


class AssignmentItem(AssignmentOut):
    document: DocumentSummaryOut


class AssignmentPage(Output):
    items: list[AssignmentItem]
    next_after: str | None = Field(description="Pass as `after` for the next page; null on the "
                                               "last page.")


class AssignmentList(Output):
    items: list[AssignmentItem]
    next_after: str | None = Field(None, description="Pass as `after` for the next page; null "
                                                     "on the last page.")


class DistributeOut(Output):
    assignments: list[AssignmentOut]


class CountsOut(Output):
    to_register: int
    to_distribute: int
    to_handle: int
    overdue: int
    due_soon: int


class MeOut(Output):
    user_id: int
    username: str
    full_name: str
    agency_id: int
    agency_code: str
    agency_name: str
    department_id: int | None
    roles: list[str]


class ErrorBody(Output):
    code: str = Field(description="Machine-readable: `unauthorized`, `forbidden`, `not_found`, "
                                  "`validation_error`, `invalid_input`, `already_submitted`, "
                                  "`duplicate_suspected`, `conflict`, ...")
    message: str = Field(description="Vietnamese, for the person using the client.")
    fields: dict[str, str] = Field(default_factory=dict, description="Field name -> Vietnamese "
                                                                     "message, for 422.")
    document: DocumentSummaryOut | None = Field(None, description="`already_submitted`: the first "
                                                                  "document.")
    matches: list[DocumentSummaryOut] | None = Field(None, description="`duplicate_suspected`: the "
                                                                       "earlier records.")


class ErrorOut(Output):
    error: ErrorBody


# ----------------------------------------------------------------------------- builders


_Row = TypeVar("_Row")


def next_after(rows: Sequence[_Row], limit: int,
               key: Callable[[_Row], Any] = operator.attrgetter("id")) -> Any:
    """Paging by key: the key of a full page's last row, where the next page starts; None when
    the page was not full (it was the last)."""
    return key(rows[-1]) if len(rows) == limit else None


def _labelled(value: Any) -> Labelled:
    return Labelled(code=value.value, label=value.label)


def _doc_type(code: str) -> Labelled:
    t = DOC_TYPES_BY_CODE.get(code)
    return Labelled(code=code, label=t.name if t else code)


def document_url(document_id: int) -> str:
    return f"/api/v1/documents/{document_id}"


def summary_out(doc: IncomingDocument) -> DocumentSummaryOut:
    return DocumentSummaryOut(
        id=doc.id, url=document_url(doc.id), incoming_number=doc.incoming_number,
        status=_labelled(DocumentStatus(doc.status)), source=_labelled(Source(doc.source)),
        issuer_name=doc.issuer_name, number_notation=doc.number_notation,
        document_date=doc.document_date, doc_type=_doc_type(doc.doc_type), subject=doc.subject,
        urgency=_labelled(Urgency(doc.urgency)),
        confidentiality=_labelled(Confidentiality(doc.confidentiality)), due_date=doc.due_date,
        arrived_at=doc.arrived_at, registered_at=doc.registered_at)


def assignment_out(a: Assignment, today: dt.date) -> AssignmentOut:
    return AssignmentOut(**_assignment_fields(a, today))


def assignment_item(a: Assignment, today: dt.date) -> AssignmentItem:
    return AssignmentItem(**_assignment_fields(a, today), document=summary_out(a.document))


def _assignment_fields(a: Assignment, today: dt.date) -> dict[str, Any]:
    assignee = None
    if a.assignee_user is not None:
        assignee = AssigneeOut(kind="user", id=a.assignee_user.id, name=a.assignee_user.full_name)
    elif a.assignee_department is not None:
        assignee = AssigneeOut(kind="department", id=a.assignee_department.id,
                               name=a.assignee_department.name)
    return dict(
        id=a.id, document_id=a.document_id, parent_id=a.parent_id,
        role=_labelled(AssignmentRole(a.role)), status=_labelled(AssignmentStatus(a.status)),
        assignee=assignee, deadline=a.deadline, overdue=a.is_overdue(today),
        instruction=a.instruction, assigned_by=a.assigned_by.full_name if a.assigned_by else "",
        assigned_at=a.assigned_at, started_at=a.started_at, finished_at=a.finished_at,
        progress_note=a.progress_note, result=a.result, reply_number=a.reply_number,
        return_reason=a.return_reason, requested_deadline=a.requested_deadline,
        extension_reason=a.extension_reason)


def file_out(doc: IncomingDocument, f: DocumentFile) -> FileOut:
    return FileOut(id=f.id, filename=f.filename, content_type=f.content_type, size=f.size,
                   page_count=f.page_count, sha256=f.sha256, signature_verdict=f.signature_verdict,
                   download_url=f"{document_url(doc.id)}/files/{f.id}")


def document_out(doc: IncomingDocument, entries: list[queries.HistoryEntry],
                 today: dt.date) -> DocumentOut:
    return DocumentOut(
        **summary_out(doc).model_dump(), issuer_code=doc.issuer_code, number=doc.number,
        notation=doc.notation, signer=doc.signer, page_count=doc.page_count, notes=doc.notes,
        document_identifier=doc.document_identifier, distributed_at=doc.distributed_at,
        finished_at=doc.finished_at, reply_number=doc.reply_number,
        rejection_reason=doc.rejection_reason,
        files=[file_out(doc, f) for f in doc.files],
        assignments=[assignment_out(a, today) for a in doc.assignments],
        history=[HistoryEntryOut(at=e.at, actor=e.actor, action=e.tag, details=e.details)
                 for e in entries])
