"""Input and output schemas of the exchange and search endpoints (``ioffice.api.exchange_views``),
and their builders from domain objects."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from ioffice.api import outgoing_schemas as o
from ioffice.api.schemas import DocTypeCode, DocumentSummaryOut, Input, Labelled, Limit, Output
from ioffice.api.schemas import summary_out as incoming_summary
from ioffice.exchange import decisions
from ioffice.exchange.dispatch import RecipientStatus
from ioffice.exchange.models import ExchangeInbox, ExchangeOutbox
from ioffice.incoming.models import DocumentStatus
from ioffice.outgoing.models import OutgoingStatus
from ioffice.search import INCOMING, SearchPage
from ioffice.search.text import MAX_QUERY_CHARS

OutState = Literal[decisions.OUT_STATES]  # type: ignore[valid-type]
InState = Literal[decisions.IN_STATES]  # type: ignore[valid-type]
SearchStatus = Literal[tuple([f"den:{s.value}" for s in DocumentStatus]  # type: ignore[misc]
                             + [f"di:{s.value}" for s in OutgoingStatus])]

# ----------------------------------------------------------------------------- inputs


class OutboxQuery(Input):
    state: OutState | None = Field(None, description=(  # type: ignore[valid-type]
        "`pending`: waiting to be sent (or to be tried again); `sent`: on the axis; `dead`: "
        "sending gave up (the dead letters, which a clerk may retry)."))
    after: str | None = Field(None, max_length=40, description="Keyset cursor: `next_after` of "
                                                              "the previous page (opaque).")
    limit: Limit = 50


class InboxQuery(Input):
    state: InState | None = Field(None, description=(  # type: ignore[valid-type]
        "What became of the package; `awaiting_decision`: a revoke, update or replace request "
        "for a clerk to decide on."))
    after: str | None = Field(None, max_length=40, description="Keyset cursor: `next_after` of "
                                                              "the previous page (opaque).")
    limit: Limit = 50


class DecisionIn(Input):
    agree: bool = Field(description="true: agree (the axis status 15); false: refuse (16).")
    reason: str = Field("", max_length=1000, description="Required when refusing; sent back to "
                                                         "the requesting agency.")


class SearchQuery(Input):
    q: str = Field(max_length=MAX_QUERY_CHARS, description=(
        "Words to find, every one of them; diacritics and case are ignored (`quyet dinh` finds "
        "«Quyết định»)."))
    direction: Literal["all", "incoming", "outgoing"] = Field(
        "all", description="Incoming documents, outgoing documents, or both.")
    status: SearchStatus | None = Field(None, description=(  # type: ignore[valid-type]
        "`den:<status>` (an incoming document's) or `di:<status>` (an outgoing one's); it implies "
        "the direction."))
    doc_type: DocTypeCode | None = None  # type: ignore[valid-type]
    date_from: dt.date | None = Field(None, description="Document (or promulgation) date from.")
    date_to: dt.date | None = Field(None, description="Document (or promulgation) date up to.")
    department_id: int | None = Field(None, description=(
        "Incoming: assigned to this department; outgoing: drafted by it."))
    after: str | None = Field(None, max_length=200, description="Keyset cursor: `next_after` of "
                                                               "the previous page (opaque).")
    limit: int = Field(20, ge=1, le=100, description="Page size.")


# ----------------------------------------------------------------------------- outputs


class StatusEventOut(Output):
    code: str
    label: str
    description: str
    at: dt.datetime
    staff: str
    department: str


class PackageRecipientOut(Output):
    organ_id: str = Field(description="The recipient agency's identifier code.")
    name: str
    delivery: Labelled = Field(description="This package's own state: pending, sent or dead.")
    status: Labelled | None = Field(description="The latest status the recipient sent back "
                                                "(edXML code and its meaning); null until one came.")
    at: dt.datetime | None
    staff: str
    history: list[StatusEventOut]


class OutboxSummaryOut(Output):
    id: int
    url: str
    kind: Literal["edoc", "status"] = Field(description="`edoc`: a document (new, revoke, update, "
                                                        "replace); `status`: a status we send back.")
    business_type: Labelled
    status_code: Labelled | None = Field(description="For a status package: the code it carries.")
    document_identifier: str = Field(description="The edXML DocumentId the package is about.")
    recipients: list[str]
    state: Labelled
    attempts: int
    next_attempt_at: dt.datetime | None = Field(description="When a pending package is tried next.")
    last_error: str
    hub: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    retryable: bool = Field(description="A dead letter: `POST .../retry` puts it back in the queue.")


class OutboxOut(OutboxSummaryOut):
    per_recipient: list[PackageRecipientOut]


class OutboxPage(Output):
    items: list[OutboxSummaryOut]
    next_after: str | None = Field(description="Pass as `after` for the next page; null on the "
                                               "last page.")


class InboxOut(Output):
    id: int
    url: str
    messagetype: str = Field(description="`edoc` or `status`.")
    sender_organ_id: str
    sender_name: str
    business_type: Labelled | None
    status_code: Labelled | None
    document_identifier: str
    subject: str
    reason: str
    state: Labelled
    error: str
    received_at: dt.datetime
    decided_at: dt.datetime | None
    incoming_document_id: int | None = Field(description="The incoming document it created.")
    target_document_id: int | None = Field(description="The received copy a request is about.")
    request: str | None = Field(None, description="A revoke, update or replace request in words "
                                                  "(one package only; null in lists).")
    awaiting_decision: bool


class InboxPage(Output):
    items: list[InboxOut]
    next_after: str | None = Field(description="Pass as `after` for the next page; null on the "
                                               "last page.")


class SearchHitOut(Output):
    direction: Literal["incoming", "outgoing"]
    id: int
    incoming: DocumentSummaryOut | None = Field(description="Set for an incoming document.")
    outgoing: o.OutgoingSummaryOut | None = Field(description="Set for an outgoing document.")


class SearchPageOut(Output):
    items: list[SearchHitOut]
    terms: list[str] = Field(description="The words searched for, folded (no diacritics).")
    newest_first: bool = Field(description="Too many matches to rank in time: the newest first.")
    next_after: str | None = Field(description="Pass as `after` for the next page; null on the "
                                               "last page.")


# ----------------------------------------------------------------------------- builders


def _label(code: str, labels: dict[str, str]) -> Labelled:
    return Labelled(code=code, label=labels.get(code, code))


def _status(code: str | None) -> Labelled | None:
    return Labelled(code=code, label=decisions.status_label(code)) if code else None


def outbox_summary(row: ExchangeOutbox) -> OutboxSummaryOut:
    return OutboxSummaryOut(**_outbox_fields(row))


def _outbox_fields(row: ExchangeOutbox) -> dict:
    return dict(
        id=row.id, url=f"/api/v1/exchange/outbox/{row.id}", kind=row.kind,
        business_type=_label(row.business_type or "new", decisions.BUSINESS_LABELS),
        status_code=_status(row.status_code) if row.kind == "status" else None,
        document_identifier=row.document_identifier, recipients=list(row.recipients),
        state=_label(row.state, decisions.OUT_STATE_LABELS), attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if row.state == "pending" else None,
        last_error=row.last_error, hub=row.hub, created_at=row.created_at, sent_at=row.sent_at,
        retryable=row.state == "dead")


def _recipient(r: RecipientStatus) -> PackageRecipientOut:
    return PackageRecipientOut(
        organ_id=r.organ_id, name=r.name, delivery=_label(r.delivery, decisions.OUT_STATE_LABELS),
        status=_status(r.code), at=r.at, staff=r.staff,
        history=[StatusEventOut(code=e.code, label=e.label, description=e.description, at=e.at,
                                staff=e.staff, department=e.department) for e in r.history])


def outbox_out(package: decisions.OutboxPackage) -> OutboxOut:
    return OutboxOut(**_outbox_fields(package.row),
                     per_recipient=[_recipient(r) for r in package.recipients])


def inbox_out(row: ExchangeInbox, request: str | None = None) -> InboxOut:
    return InboxOut(
        id=row.id, url=f"/api/v1/exchange/inbox/{row.id}", messagetype=row.messagetype,
        sender_organ_id=row.sender_organ_id, sender_name=row.sender_name,
        business_type=_label(row.business_type, decisions.BUSINESS_LABELS) if row.business_type else None,
        status_code=_status(row.status_code), document_identifier=row.document_identifier,
        subject=row.subject, reason=row.reason, state=_label(row.state, decisions.IN_STATE_LABELS),
        error=row.error, received_at=row.received_at, decided_at=row.decided_at,
        incoming_document_id=row.incoming_document_id, target_document_id=row.target_document_id,
        request=request, awaiting_decision=row.state == "awaiting_decision")


def search_page(page: SearchPage) -> SearchPageOut:
    items = []
    for r in page.results:
        if r.kind == INCOMING:
            items.append(SearchHitOut(direction="incoming", id=r.document.id,
                                      incoming=incoming_summary(r.document), outgoing=None))
        else:
            items.append(SearchHitOut(direction="outgoing", id=r.document.id, incoming=None,
                                      outgoing=o.summary_out(r.document)))
    return SearchPageOut(items=items, terms=page.terms, newest_first=page.newest_first,
                         next_after=page.next_cursor)
