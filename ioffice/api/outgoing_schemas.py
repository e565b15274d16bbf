"""Input and output schemas of the outgoing-document endpoints (``ioffice.api.outgoing_views``),
and their builders from domain objects."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from ioffice.api.schemas import (
    DocTypeCode,
    HistoryEntryOut,
    Input,
    Labelled,
    Limit,
    Output,
    _labelled,
)
from ioffice.documents.vocabulary import DOC_TYPES_BY_CODE, Confidentiality, Urgency
from ioffice.incoming.queries import HistoryEntry
from ioffice.outgoing import drafts
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus, RecipientKind, RecipientStatus
from ioffice.outgoing.review import ReviewStepKind

# ----------------------------------------------------------------------------- inputs


class DraftForm(Input):
    """Form fields of a new draft (multipart/form-data, with one `file`: PDF or DOCX). Repeat
    `department_ids` / `agency_codes` for several recipients."""

    doc_type: DocTypeCode = Field(description="Document type code from Decree 30's list.")  # type: ignore[valid-type]
    subject: str = Field(max_length=2000, description="Trích yếu nội dung.")
    signer_id: int = Field(description="The designated signer: a leader of the agency.")
    urgency: Urgency = Urgency.NORMAL
    confidentiality: Confidentiality = Confidentiality.NORMAL
    signer_position: str = Field("", max_length=255, description="e.g. `TM. ỦY BAN NHÂN DÂN`.")
    department_ids: list[int] = Field(default_factory=list, max_length=200,
                                      description="Recipient departments of the agency.")
    agency_codes: list[str] = Field(default_factory=list, max_length=200,
                                    description="Recipient agencies by identifier code (sent "
                                                "through the exchange axis).")
    reply_to_id: int | None = Field(None, description="The incoming document this answers.")
    due_date: dt.date | None = None
    copies: int = Field(1, ge=1, le=999)
    notes: str = Field("", max_length=2000)

    def to_input(self) -> drafts.DraftInput:
        return drafts.DraftInput(
            doc_type=self.doc_type, subject=self.subject, signer_id=self.signer_id,
            urgency=self.urgency, confidentiality=self.confidentiality,
            signer_position=self.signer_position, department_ids=tuple(self.department_ids),
            agency_codes=tuple(self.agency_codes), reply_to_id=self.reply_to_id,
            due_date=self.due_date, copies=self.copies, notes=self.notes)


class VersionForm(Input):
    """Form fields of a new version (multipart/form-data, with one `file`: PDF or DOCX)."""

    note: str = Field("", max_length=2000, description="What changed.")


class CommentIn(Input):
    body: str = Field(max_length=10_000, description="The comment (góp ý).")


class StepIn(Input):
    comment: str = Field("", max_length=10_000, description="Optional comment kept with the step.")


class SendBackIn(Input):
    comment: str = Field(max_length=10_000, description="Why it goes back: required.")


class PinIn(Input):
    pin: str = Field(max_length=64, description="The signer's PIN: it unlocks the signer's "
                                                "server-held key. Five wrong PINs lock the key.")


class SignatureFinishIn(Input):
    handle: str = Field(max_length=64, description="`handle` of the prepare answer.")
    signature: str = Field(max_length=4096, description=(
        "Base64 of the signature over the `to_sign` bytes, made with the key of the signer's "
        "certificate: ECDSA P-256 as r||s (64 bytes, what WebCrypto returns) or RSASSA-PKCS1-v1_5, "
        "both SHA-256."))


class ReasonIn(Input):
    reason: str = Field(max_length=10_000)


class CsrIn(Input):
    csr: str = Field(max_length=20_000, description="PEM PKCS#10 request for the caller's own key "
                                                    "(P-256 or RSA); the key never leaves the "
                                                    "caller.")


class OutgoingListQuery(Input):
    section: Literal["to_act", "mine", "recent"] = Field(
        "to_act", description="`to_act`: the next step is the caller's (most urgent first); "
                              "`mine`: drafted or signed by the caller (newest first); `recent`: "
                              "dispatched documents the caller may read (latest first).")
    after: str | None = Field(None, max_length=80, description="Keyset cursor: `next_after` of "
                                                              "the previous page (opaque).")
    limit: Limit = 50


# ----------------------------------------------------------------------------- outputs


class PersonOut(Output):
    id: int
    name: str


class OutgoingSummaryOut(Output):
    id: int
    url: str
    status: Labelled
    doc_type: Labelled
    subject: str
    urgency: Labelled
    confidentiality: Labelled
    number_notation: str = Field(description="Empty until numbered.")
    signer_name: str
    dispatched_at: dt.datetime | None


class OutgoingPage(Output):
    items: list[OutgoingSummaryOut]
    next_after: str | None = Field(description="Pass as `after` for the next page; null on the "
                                               "last page.")


class VersionOut(Output):
    version_no: int
    filename: str
    sha256: str
    size: int
    page_count: int
    source_filename: str = Field(description="The DOCX it was converted from, if any.")
    note: str
    uploaded_by: str
    uploaded_at: dt.datetime
    download_url: str


class CommentOut(Output):
    id: int
    author: str
    kind: str = Field(description="`comment`, `approve`, `send_back`, ...")
    step: str
    version_no: int
    body: str
    created_at: dt.datetime


class SignatureOut(Output):
    kind: str = Field(description="`personal`, `agency` or `archival`.")
    method: str = Field(description="`pin`, `browser`, `seal`, `tsa`, ...")
    sha256: str
    certificate_serial: str
    signer: str
    level: str = Field(description="PAdES level, e.g. `B-LTA`.")
    created_at: dt.datetime
    download_url: str


class ExchangeEventOut(Output):
    code: str
    label: str
    description: str
    at: dt.datetime | None
    staff: str
    department: str


class ExchangeStatusOut(Output):
    code: str = Field(description="The latest status code the recipient sent (edXML), or empty.")
    label: str
    at: dt.datetime | None
    staff: str
    delivery: str = Field(description="The package on the axis: `pending`, `sent`, `dead`.")
    error: str
    history: list[ExchangeEventOut]


class RecipientOut(Output):
    kind: Literal["department", "agency"]
    name: str
    department_id: int | None
    agency_code: str
    status: Labelled
    sent_at: dt.datetime | None
    exchange: ExchangeStatusOut | None = Field(description="For an agency reached through the "
                                                           "axis: what it answered.")


class RecipientList(Output):
    items: list[RecipientOut]


class OutgoingOut(OutgoingSummaryOut):
    due_date: dt.date | None
    drafting_department: str
    created_by: PersonOut
    signer: PersonOut
    signer_position: str
    review_step: Labelled | None = Field(description="The step awaited while in review.")
    reply_to_id: int | None
    replaces_id: int | None
    copies: int
    notes: str
    page_count: int
    current_sha256: str
    current_url: str = Field(description="The newest PDF: the draft, then each signed revision.")
    promulgation_date: dt.date | None
    document_identifier: str
    created_at: dt.datetime
    signed_at: dt.datetime | None
    numbered_at: dt.datetime | None
    sealed_at: dt.datetime | None
    versions: list[VersionOut]
    comments: list[CommentOut]
    recipients: list[RecipientOut]
    signatures: list[SignatureOut]
    history: list[HistoryEntryOut]


class PreparedOut(Output):
    handle: str = Field(description="Single use; pass it to `signing/finish`.")
    algorithm: str = Field(description="`ECDSA-P256` or `RSASSA-PKCS1-v1_5`, with SHA-256.")
    to_sign: str = Field(description="Base64 of the DER signed attributes: sign these bytes.")
    expires_at: dt.datetime


class CertificateOut(Output):
    serial: str
    subject: str


# ----------------------------------------------------------------------------- builders


def outgoing_url(document_id: int) -> str:
    return f"/api/v1/outgoing/{document_id}"


def _doc_type(code: str) -> Labelled:
    t = DOC_TYPES_BY_CODE.get(code)
    return Labelled(code=code, label=t.name if t else code)


def summary_out(row: Any) -> OutgoingSummaryOut:
    """From a list row (``ioffice.outgoing.queries._rows``) or a document."""
    signer = getattr(row, "signer_name", None)
    if signer is None:
        signer = row.signer.full_name if row.signer else ""
    return OutgoingSummaryOut(
        id=row.id, url=outgoing_url(row.id), status=_labelled(OutgoingStatus(row.status)),
        doc_type=_doc_type(row.doc_type), subject=row.subject,
        urgency=_labelled(Urgency(row.urgency)),
        confidentiality=_labelled(Confidentiality(row.confidentiality)),
        number_notation=row.number_notation, signer_name=signer,
        dispatched_at=row.dispatched_at)


def _file_url(doc_id: int, sha256: str) -> str:
    return f"{outgoing_url(doc_id)}/files/{sha256}"


def recipient_out(r: Any, exchange: Any | None) -> RecipientOut:
    return RecipientOut(
        kind=RecipientKind(r.kind).value, name=r.name, department_id=r.department_id,
        agency_code=r.agency_code, status=_labelled(RecipientStatus(r.status)), sent_at=r.sent_at,
        exchange=None if exchange is None else ExchangeStatusOut(
            code=exchange.code, label=exchange.label, at=exchange.at, staff=exchange.staff,
            delivery=exchange.delivery, error=exchange.error or "",
            history=[ExchangeEventOut(code=e.code, label=e.label, description=e.description or "",
                                      at=e.at, staff=e.staff or "", department=e.department or "")
                     for e in exchange.history]))


def document_out(doc: OutgoingDocument, step: ReviewStepKind | None,
                 entries: list[HistoryEntry], statuses: dict[str, Any]) -> OutgoingOut:
    return OutgoingOut(
        **summary_out(doc).model_dump(), due_date=doc.due_date,
        drafting_department=doc.drafting_department.name if doc.drafting_department else "",
        created_by=PersonOut(id=doc.created_by_id, name=doc.created_by.full_name),
        signer=PersonOut(id=doc.signer_id, name=doc.signer.full_name),
        signer_position=doc.signer_position,
        review_step=Labelled(code=step.value, label=step.label) if step else None,
        reply_to_id=doc.reply_to_id, replaces_id=doc.replaces_id, copies=doc.copies,
        notes=doc.notes, page_count=doc.page_count, current_sha256=doc.current_sha256,
        current_url=_file_url(doc.id, doc.current_sha256) if doc.current_sha256 else "",
        promulgation_date=doc.promulgation_date, document_identifier=doc.document_identifier,
        created_at=doc.created_at, signed_at=doc.signed_at, numbered_at=doc.numbered_at,
        sealed_at=doc.sealed_at,
        versions=[VersionOut(version_no=v.version_no, filename=v.filename, sha256=v.sha256,
                             size=v.size, page_count=v.page_count,
                             source_filename=v.source_filename, note=v.note,
                             uploaded_by=v.uploaded_by.full_name, uploaded_at=v.uploaded_at,
                             download_url=_file_url(doc.id, v.sha256)) for v in doc.versions],
        comments=[CommentOut(id=c.id, author=c.author.full_name, kind=c.kind, step=c.step,
                             version_no=c.version_no, body=c.body, created_at=c.created_at)
                  for c in doc.comments],
        recipients=[recipient_out(r, statuses.get(r.agency_code)) for r in doc.recipients],
        signatures=[SignatureOut(kind=s.kind, method=s.method, sha256=s.sha256,
                                 certificate_serial=s.certificate_serial,
                                 signer=s.signer.full_name if s.signer else "", level=s.level,
                                 created_at=s.created_at, download_url=_file_url(doc.id, s.sha256))
                    for s in doc.signatures],
        history=[HistoryEntryOut(at=e.at, actor=e.actor, action=e.tag, details=e.details)
                 for e in entries])
