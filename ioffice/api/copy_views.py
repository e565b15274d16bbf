"""/api/v1/copies: copies of documents (sao y, sao lục, trích sao; docs/copies.md): the leader's
decision (or the clerk recording it), the clerk making the copy (its number in the copies
register and the agency's seal, PAdES B-LTA), reading a copy, its PDF, the register of a year.

Each handler calls the service its page calls (``ioffice.copies.service``, as
``ioffice.web.copies``) after the same role rule; a copy is read by who may read its original
(others get 404, as for another agency's). Making a copy applies the agency's seal, so it needs
the token's ``sign`` scope.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from flask import Response
from pydantic import Field

from ioffice.agencies.permissions import Op
from ioffice.api.records_views import _download
from ioffice.api.routing import Call
from ioffice.api.schemas import Input, Labelled, Limit, Output, _labelled, next_after
from ioffice.api.tokens import Scope
from ioffice.api.views import api
from ioffice.audit import record_read
from ioffice.copies import service as copies
from ioffice.copies.models import CopyStatus, DocumentCopy
from ioffice.errors import NotFound
from ioffice.services import services

COPIES = "copies"
PDF = "application/pdf"


# ----------------------------------------------------------------------------- schemas


class CopyRequestIn(Input):
    kind: Literal["sao_y", "sao_luc", "trich_sao"] = Field(description=(
        "Sao y (the whole original), sao lục (from the newest sao y made, Decree 30 art. 25.2), "
        "trích sao (some pages)."))
    recipients: str = Field(max_length=2100, description="Nơi nhận, one per line (at most 2000 "
                                                         "characters).")
    pages: str = Field("", max_length=200, description="Trích sao only: the pages, e.g. "
                                                       "`1-2, 4`.")
    decided_by_id: int | None = Field(None, ge=1, description=(
        "The leader who decided (art. 27.1): required when a clerk records the decision; a "
        "leader asking decides himself when omitted."))
    note: str = Field("", max_length=2000)
    submission_id: str = Field("", max_length=64, description=(
        "The page form's one-time id: the same id again answers the first request. Optional; "
        "`Idempotency-Key` does the same for API clients."))


class CopyQuery(Input):
    year: int | None = Field(None, ge=2000, le=2100, description="The register's year (this "
                                                                 "year by default).")
    after: int | None = Field(None, ge=1, description="Keyset cursor: `next_after` of the "
                                                      "previous page.")
    limit: Limit = 50


class CopyOut(Output):
    id: int
    url: str
    kind: Labelled
    status: Labelled
    source: Literal["incoming", "outgoing"] = Field(description="The original's direction.")
    document_id: int = Field(description="The original's id (`/documents/{id}` or "
                                         "`/outgoing/{id}`).")
    from_copy_id: int | None = Field(description="Sao lục: the sao y it was made from.")
    pages: str = Field(description="Trích sao: the pages copied.")
    recipients: list[str]
    note: str
    decided_by_id: int
    decided_by: str
    signer_title: str
    requested_by_id: int
    requested_at: dt.datetime
    number: int | None = Field(description="In the copies register of `year`, once made.")
    year: int | None
    number_notation: str = Field(description="e.g. `05/SY-UBND`, once made.")
    copy_date: dt.date | None
    made_by_id: int | None
    made_at: dt.datetime | None
    page_count: int
    size: int
    sha256: str
    certificate_serial: str = Field(description="The agency's seal certificate.")
    level: str = Field(description="PAdES level (`B-LTA`), or empty.")
    file_url: str | None = Field(description="The sealed PDF, once made.")


class CopyPage(Output):
    items: list[CopyOut]
    next_after: int | None = Field(description="Pass as `after` for the next page (newest "
                                               "first); null on the last page.")


def copy_url(copy_id: int) -> str:
    return f"/api/v1/copies/{copy_id}"


def copy_out(c: DocumentCopy) -> CopyOut:
    source, document_id = copies.source_of(c)
    made = c.status is CopyStatus.MADE
    return CopyOut(
        id=c.id, url=copy_url(c.id), kind=_labelled(c.kind), status=_labelled(c.status),
        source=source, document_id=document_id, from_copy_id=c.from_copy_id, pages=c.pages,
        recipients=[r for r in c.recipients.splitlines() if r], note=c.note,
        decided_by_id=c.decided_by_id, decided_by=c.decided_by.full_name,
        signer_title=c.signer_title, requested_by_id=c.requested_by_id,
        requested_at=c.requested_at, number=c.number, year=c.year,
        number_notation=c.number_notation, copy_date=c.copy_date, made_by_id=c.made_by_id,
        made_at=c.made_at, page_count=c.page_count, size=c.size, sha256=c.sha256,
        certificate_serial=c.certificate_serial, level=c.level,
        file_url=f"{copy_url(c.id)}/file" if made else None)


# ----------------------------------------------------------------------------- handlers


def _request(call: Call, source: str, document_id: int) -> CopyOut:
    b = call.body
    data = copies.CopyRequest(kind=b.kind, submission_id=b.submission_id or uuid.uuid4().hex,
                              recipients=b.recipients, pages=b.pages,
                              decided_by_id=b.decided_by_id, note=b.note)
    return copy_out(copies.request_copy(call.session, services().blobs, call.actor, source,
                                        document_id, data))


COPY_LINKS = ("get_copy", "make_copy")


@api.post("/documents/<int:document_id>/copies", summary="Decide to copy an incoming document "
          "(leader; a clerk records a leader's decision)", tag=COPIES, body=CopyRequestIn,
          response=CopyOut, status=201, errors=(403, 404, 422), operation=Op.REQUEST_COPY,
          links=COPY_LINKS)
def request_incoming_copy(call: Call, document_id: int) -> CopyOut:
    """A document the caller may not read answers 404. The page's refusals answer 422 with its
    message: no leader's decision, a sao lục with no sao y made, pages outside the document,
    no recipients. The clerk then makes it (`make`)."""
    return _request(call, "incoming", document_id)


@api.post("/outgoing/<int:outgoing_id>/copies", summary="Decide to copy an issued outgoing "
          "document (leader; a clerk records a leader's decision)", tag=COPIES,
          body=CopyRequestIn, response=CopyOut, status=201, errors=(403, 404, 422),
          operation=Op.REQUEST_COPY, links=COPY_LINKS)
def request_outgoing_copy(call: Call, outgoing_id: int) -> CopyOut:
    """Only a sealed or dispatched document can be copied (422 otherwise)."""
    return _request(call, "outgoing", outgoing_id)


@api.get("/copies", summary="The copies register of a year and the requests still to make",
         tag=COPIES, query=CopyQuery, response=CopyPage, errors=(403,),
         operation=Op.VIEW_COPIES)
def list_copies(call: Call) -> CopyPage:
    """Newest first, paginated by key; copies of originals the caller may not read are left
    out, as on the page."""
    q = call.query
    rows = [c for c, _original in copies.list_copies(call.session, call.actor,
                                                     q.year or copies.today_vn().year)
            if q.after is None or c.id < q.after][:q.limit]
    return CopyPage(items=[copy_out(c) for c in rows],
                    next_after=next_after(rows, q.limit))


@api.get("/copies/<int:copy_id>", summary="A copy: the decision, and once made its number and "
         "seal", tag=COPIES, response=CopyOut, errors=(403, 404), operation=Op.VIEW_COPIES,
         links=("download_copy",))
def get_copy(call: Call, copy_id: int) -> CopyOut:
    """Recorded in the audit log as a read, as the page."""
    c = copies.get_copy(call.session, call.actor, copy_id)
    record_read(call.session, call.actor.ctx, "copies:copy:read", subject_type="copy",
                subject_id=c.id)
    return copy_out(c)


@api.post("/copies/<int:copy_id>/make", summary="Make the copy: its number in the copies "
          "register, the PDF with the copy form, the agency's seal (clerk)", tag=COPIES,
          response=CopyOut, errors=(400, 403, 404, 409, 422), operation=Op.MAKE_COPY,
          scope=Scope.SIGN)
def make_copy(call: Call, copy_id: int) -> CopyOut:
    """PAdES B-LTA with the agency's seal (top right of page 1, Appendix I). A copy already
    made answers as it is (no second number). A register busy with other copies answers 409:
    try again; no seal or no timestamp to be had answers 400 with the page's message, and
    nothing is numbered."""
    s = services()
    c = copies.make_copy(call.session, s.blobs, s.pki, s.trust, call.actor, copy_id,
                         tsa=s.timestamps, tokens=s.seal_tokens)
    return copy_out(c)


@api.get("/copies/<int:copy_id>/file", summary="The sealed copy as PDF", tag=COPIES,
         response_media=PDF, errors=(403, 404), operation=Op.VIEW_COPIES)
def download_copy(call: Call, copy_id: int) -> Response:
    """404 while not made. Recorded in the audit log, as the page's download."""
    c = copies.get_copy(call.session, call.actor, copy_id)
    if c.status is not CopyStatus.MADE:
        raise NotFound("Bản sao chưa được thực hiện nên chưa có tệp.")
    record_read(call.session, call.actor.ctx, "copies:copy:download", subject_type="copy",
                subject_id=c.id, details={"sha256": c.sha256})
    name = c.number_notation.replace("/", "-") + ".pdf"
    return _download(services().blobs.read_bytes(c.sha256), name, PDF)

