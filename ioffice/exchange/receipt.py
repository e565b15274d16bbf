"""The receiving half of the worker: poll each hub, verify, store, create the incoming
document awaiting registration, send status 01, and acknowledge only after commit.

Idempotent: an inbox row per (hub, message id, recipient) and a unique key per (recipient,
sender, DocumentId, business type) mean a package seen twice, or the same document sent twice,
creates one incoming document.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from axis_connector.client import AxisError, AxisUnavailable, ReceivedEdoc, StatusUpdate
from axis_connector.edxml import (
    BusinessDocType,
    DocumentPackage,
    EdxmlError,
    EnvelopeCheck,
    EnvelopeSignature,
    ParseLimits,
    SignatureError,
    StatusCode,
    StatusPackage,
    open_received_package,
)
from ioffice.agencies.models import Agency
from ioffice.audit import AuditContext, Entry, record_many
from ioffice.db import utcnow
from ioffice.documents.vocabulary import Confidentiality, Urgency, notation_text
from ioffice.exchange.dispatch import STATUS_LABELS, enqueue_status_for
from ioffice.exchange.models import (
    DirectoryEntry,
    ExchangeInbox,
    ExchangeOutbox,
    ExchangeStatus,
    InboxState,
)
from ioffice.exchange.packages import BUSINESS_NAMES, URGENCY_OF_PRIORITY, doc_type_code
from ioffice.exchange.runtime import Exchange
from ioffice.exchange.sending import WorkReport
from ioffice.exchange.zipped import ZIP, read_zip, stored_as_received
from ioffice.incoming.errors import InvalidInput
from ioffice.incoming.models import DocumentStatus, IncomingDocument, ReceiptFlag, Source
from ioffice.incoming.registration import (
    UploadedFile,
    check_files,
    finish_files,
    stage_files,
    stage_received_file,
)
from ioffice.metrics import VALIDATIONS
from ioffice.notifications import events as notifications
from signing import validate_pdf

log = logging.getLogger(__name__)

BAD_PACKAGE = "bad_package"
"""The code of a hub client's per-item error for bytes that are not a package at all."""


@dataclass
class Outcome:
    """What to tell the hub once the transaction committed."""

    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: bool = False


class Refused(Exception):
    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _limits(rt: Exchange) -> ParseLimits:
    return ParseLimits(max_bytes=int(rt.setting("MAX_PACKAGE_MB") * 1024 * 1024),
                       allow_huge_text=True)


def verify_and_parse(rt: Exchange, data: bytes,
                     messagetype: str) -> tuple[DocumentPackage | StatusPackage, EnvelopeCheck]:
    """Check size, XML safety, the sender's seal against the PKI, then parse; or raise Refused.

    Liberal on the envelope as the real axis needs (docs/edxml.md, "Received as other
    producers write it"): a package without a real XML-DSig (absent, empty, not XML-DSig, a
    placeholder) is parsed all the same, the returned check saying which, for the document's
    flags; a real XML-DSig that fails (digest, signer, chain) is refused as before."""
    limit = int(rt.setting("MAX_PACKAGE_MB") * 1024 * 1024)
    if len(data) > limit:
        raise Refused(f"Gói tin {len(data)} byte vượt giới hạn {limit} byte [too_large].", "too_large")
    limits = _limits(rt)
    expect = StatusPackage if messagetype == "status" else DocumentPackage
    try:
        # one parse for the signature and the package (the same checks, in the same order)
        check, package = open_received_package(data, trusted_ca_certs=rt.trusted_cas,
                                               expect=expect, limits=limits)
        return package, check
    except (EdxmlError, SignatureError) as exc:
        detail = getattr(exc, "detail", "") or str(exc)
        path = getattr(exc, "path", "") or ""
        where = f"{path}: " if path else ""
        raise Refused(f"Gói tin không hợp lệ: {where}{detail} [{exc.code}]", exc.code) from exc


def _lock_message(session: Session, hub: str, message_id: str) -> bool:
    """PostgreSQL: one worker handles a message at a time (others skip it this round)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return _try_lock(session.connection(), hub, message_id)


def _agencies(session: Session, organ_ids: list[str]) -> dict[str, Agency]:
    return {a.code: a for a in session.scalars(select(Agency).where(Agency.code.in_(organ_ids)))}


def _pdf_verdicts(rt: Exchange, package: DocumentPackage) -> list[tuple[str, str]]:
    verdicts = []
    for attachment in package.attachments:
        kind = stored_as_received(attachment.name, attachment.data)
        if kind == ZIP:
            verdicts.append(_zip_verdict(rt, attachment.data))
            continue
        if kind is not None:
            verdicts.append(("unchecked", "Tệp văn phòng, lưu nguyên như khi nhận; chữ ký số chỉ "
                                          "được kiểm tra trên tệp PDF."))
            continue
        report = validate_pdf(attachment.data, rt.trust)
        verdicts.append((report.verdict.value, report.explanation))
        VALIDATIONS.labels(report.verdict.value).inc()
    return verdicts


def _zip_verdict(rt: Exchange, data: bytes) -> tuple[str, str]:
    """A zipped attachment (rule zipped-attachment): "valid" when it holds PDFs and every one
    has a valid signature; the summary names each PDF with its verdict, or why the zip was not
    opened (limits, unsafe names: :func:`zipped.read_zip`)."""
    listing = read_zip(data)
    if listing.problem:
        return "unchecked", f"Tệp nén không được mở: {listing.problem}. Tải về để kiểm tra."
    parts, verdicts = [], []
    for name, pdf in listing.pdfs:
        report = validate_pdf(pdf, rt.trust)
        VALIDATIONS.labels(report.verdict.value).inc()
        verdicts.append(report.verdict.value)
        parts.append(f"{name}: {report.explanation}")
    parts += [f"{name}: không đọc được (mã hóa hoặc quá lớn)" for name in listing.skipped]
    if not parts:
        return "unchecked", (f"Tệp nén ({len(listing.names)} tệp) không chứa tệp PDF nào: "
                             + ", ".join(listing.names[:10]))
    valid = bool(verdicts) and not listing.skipped and all(v == "valid" for v in verdicts)
    return ("valid" if valid else "invalid"), f"Tệp nén ({len(listing.names)} tệp). " + "; ".join(parts)


_ENVELOPE_FLAGS = {
    EnvelopeSignature.ABSENT: ReceiptFlag.ENVELOPE_ABSENT,
    EnvelopeSignature.EMPTY: ReceiptFlag.ENVELOPE_EMPTY,
    EnvelopeSignature.NOT_XMLDSIG: ReceiptFlag.ENVELOPE_NOT_XMLDSIG,
    EnvelopeSignature.PLACEHOLDER: ReceiptFlag.ENVELOPE_PLACEHOLDER,
}


def receipt_flags(envelope: EnvelopeCheck | None, verdicts: list[tuple[str, str]]) -> list[ReceiptFlag]:
    """What the clerk must see of a received document: an envelope that is not (or weakly)
    signed, and no file with a valid PDF signature (the PAdES signatures then decide alone)."""
    flags = []
    if envelope is not None:
        if envelope.signature in _ENVELOPE_FLAGS:
            flags.append(_ENVELOPE_FLAGS[envelope.signature])
        elif envelope.verification is not None and envelope.verification.weak_algorithm:
            flags.append(ReceiptFlag.ENVELOPE_SHA1)
    if not any(verdict == "valid" for verdict, _ in verdicts):
        flags.append(ReceiptFlag.NO_VALID_PDF_SIGNATURE)
    return flags


def target_document_id(package: DocumentPackage, organ_id: str) -> str:
    """The DocumentId a revocation, update or replacement acts on, for recipient ``organ_id``:
    ``ResponseFor`` when the package has one; else (rule target-without-response-for) an
    update's ``Bussiness/DocumentId`` and a replacement's ``ReplacementInfo`` naming this
    recipient in its ``OrganIdList`` (or naming no one)."""
    if package.response_for:
        return package.response_for[0].document_id
    kind = package.business.doc_type
    if kind is BusinessDocType.UPDATE:
        return package.business.document_id
    if kind is BusinessDocType.REPLACE:
        for item in package.business.replacements:
            if not item.organ_ids or organ_id in item.organ_ids:
                return item.document_id
    return ""


def _directory_name(session: Session, organ_id: str) -> str | None:
    """The name the directory holds for an agency code: a local agency's, else the hubs'
    (``exchange_directory``, refreshed from their getAgenciesList)."""
    local = session.scalar(select(Agency.name).where(Agency.code == organ_id))
    return local or session.scalar(select(DirectoryEntry.name).where(DirectoryEntry.organ_id == organ_id))


def _same_name(a: str, b: str) -> bool:
    def norm(name: str) -> str:
        return " ".join(unicodedata.normalize("NFC", name).split()).casefold()
    return norm(a) == norm(b)


def _sender_name(session: Session, package: DocumentPackage,
                 names: dict[str, str | None] | None = None) -> tuple[str, str | None]:
    """The issuer name a recipient sees, and the name the package declared when it differs.

    The name comes from the directory for the sender's code: the package's own ``OrganName``
    is what its sender says of itself, and a sender could otherwise present itself as any
    agency. Only when the directory does not know the code is the declared name shown (with
    nothing to compare it to). ``names``: a cache of directory look-ups for a batch."""
    code = package.sender.organ_id
    if names is not None and code in names:
        listed = names[code]
    else:
        listed = _directory_name(session, code)
        if names is not None:
            names[code] = listed
    declared = package.sender.organ_name.strip()
    if not listed:
        return declared or code, None
    if declared and not _same_name(declared, listed):
        return listed, declared
    return listed, None


@dataclass
class _Checked:
    """A package verified and parsed (or refused, ``error``) before its transaction, with the
    verdicts on its PDF signatures."""

    message_id: str
    to: list[str]
    messagetype: str
    sender: str
    document_id: str
    package: DocumentPackage | StatusPackage | None
    error: str | None
    verdicts: list[tuple[str, str]]
    envelope: EnvelopeCheck | None = None


def _check(rt: Exchange, message_id: str, to: list[str], messagetype: str, data: bytes, *,
           sender: str, document_id: str) -> _Checked:
    envelope = None
    try:
        (package, envelope), error = verify_and_parse(rt, data, messagetype), None
    except Refused as exc:
        package, error = None, exc.message
    verdicts = _pdf_verdicts(rt, package) if isinstance(package, DocumentPackage) else []
    return _Checked(message_id, list(to), messagetype, sender, document_id, package, error,
                    verdicts, envelope)


def _done(session: Session, hub: str, message_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The inbox rows already stored for these messages: message id -> recipient -> row."""
    done: dict[str, dict[str, Any]] = {}
    for row in session.execute(select(
            ExchangeInbox.message_id, ExchangeInbox.recipient_organ_id, ExchangeInbox.state,
            ExchangeInbox.error).where(ExchangeInbox.hub == hub,
                                       ExchangeInbox.message_id.in_(message_ids))):
        done.setdefault(row.message_id, {})[row.recipient_organ_id] = row
    return done


def _new_document(session: Session, rt: Exchange, agency: Agency, package: DocumentPackage,
                  verdicts: list[tuple[str, str]], hub: str, message_id: str,
                  sender_name: str, declared_name: str | None, staged: _Staged,
                  inbox: ExchangeInbox, flags: list[ReceiptFlag] | None = None) -> None:
    """The incoming document awaiting registration, its files and its status 01, added to the
    session without a flush; ``staged`` completes it (its id, text, search entry, inbox row and
    audit event) with the others of the transaction. The attachments are checked before
    anything is added: a refused one leaves nothing behind."""
    kinds = {i: stored_as_received(a.name, a.data) for i, a in enumerate(package.attachments)}
    zipped = [i for i, kind in kinds.items() if kind is not None]  # zips and office files
    files = tuple(UploadedFile(a.name, a.data, a.content_type)
                  for i, a in enumerate(package.attachments) if i not in zipped)
    try:
        checked = check_files(files)
    except InvalidInput as exc:
        raise Refused(f"Tệp đính kèm không hợp lệ: {exc.message}", "invalid_attachment") from exc
    number = package.code.number.strip()[:20] or "?"
    notation = package.code.notation.strip()[:60]
    signer = ", ".join(x for x in (package.signer.competence, package.signer.full_name) if x) \
        if package.signer else ""
    doc = IncomingDocument(
        agency_id=agency.id, status=DocumentStatus.AWAITING_REGISTRATION, source=Source.AXIS,
        document_identifier=package.document_id[:255], issuer_code=package.sender.organ_id,
        issuer_name=sender_name[:255], declared_issuer_name=declared_name[:255] if declared_name else None,
        number=number, notation=notation,
        number_notation=notation_text(number, notation), document_date=package.promulgation.date,
        doc_type=doc_type_code(package.document_type), subject=package.subject,
        signer=signer[:255], page_count=package.other.page_amount or 0,
        urgency=Urgency(URGENCY_OF_PRIORITY[package.other.priority]),
        confidentiality=Confidentiality.NORMAL, due_date=package.due_date,
        notes=package.content or "", arrived_at=utcnow(),
        receipt_flags=" ".join(flags or ()),
        files=[])  # an empty collection now: adding files needs no SELECT
    text = stage_files(rt.blobs, doc, checked, [v for i, v in enumerate(verdicts) if i not in zipped])
    for i in zipped:  # stored as received, after the PDFs
        attachment = package.attachments[i]
        stage_received_file(rt.blobs, doc, attachment.name, attachment.data, kinds[i] or ZIP,
                            verdicts[i] if i < len(verdicts) else None)
    doc.page_count = doc.page_count or sum(p for _, p in checked)
    session.add(doc)
    enqueue_status_for(session, agency, to=package.sender.organ_id,
                       document_identifier=package.document_id, code=StatusCode.ARRIVED,
                       number_notation=doc.number_notation, promulgation_date=doc.document_date)
    staged.documents.append(_StagedDocument(doc, text, inbox, {
        "hub": hub, "message_id": message_id, "from": package.sender.organ_id,
        "document_identifier": package.document_id,
        "invalid_pdf_signatures": sum(v != "valid" for v, _ in verdicts),
        "receipt_flags": [str(flag) for flag in flags or ()]}))
    if declared_name:
        staged.mismatches.append((staged.documents[-1], {
            "from": package.sender.organ_id, "directory_name": sender_name[:255],
            "declared_name": declared_name[:255], "document_identifier": package.document_id}))


@dataclass
class _StagedDocument:
    document: IncomingDocument
    text: str
    inbox: ExchangeInbox
    audit: dict[str, Any]


@dataclass
class _Staged:
    """What a transaction receiving documents completes after one flush (which gives every new
    document its id) instead of one flush per document: the documents' texts, search entries,
    inbox rows and audit events, several rows per statement. ``keys``: the dedupe keys of
    the inbox rows stored before (read for the whole batch in one query) or in this
    transaction."""

    keys: set[str] = field(default_factory=set)
    documents: list[_StagedDocument] = field(default_factory=list)
    mismatches: list[tuple[_StagedDocument, dict[str, Any]]] = field(default_factory=list)
    """Documents whose package declared another issuer name than the directory's."""
    names: dict[str, str | None] = field(default_factory=dict)
    """Directory names looked up in this batch, by code."""

    def finish(self, session: Session) -> None:
        if not self.documents:
            return
        session.flush()
        for item in self.documents:
            item.inbox.incoming_document_id = item.document.id
        session.add_all([item.inbox for item in self.documents])
        finish_files(session, [(item.document, item.text) for item in self.documents])
        notifications.received(session, [item.document for item in self.documents])
        # last: the agency's audit chain is locked from its first event to the commit
        record_many(session, [Entry(AuditContext(None, item.document.agency_id, "axis"),
                                    "incoming:document:receive", subject_type="incoming",
                                    subject_id=item.document.id, details=item.audit)
                              for item in self.documents] + [
            Entry(AuditContext(None, item.document.agency_id, "axis"),
                  "incoming:document:issuer-name-mismatch", subject_type="incoming",
                  subject_id=item.document.id, details=details)
            for item, details in self.mismatches])
        self.documents.clear()
        self.mismatches.clear()


def _receive_document(session: Session, rt: Exchange, hub: str, message_id: str,
                      agency: Agency, package: DocumentPackage,
                      verdicts: list[tuple[str, str]], staged: _Staged,
                      envelope: EnvelopeCheck | None = None) -> ExchangeInbox:
    business = BUSINESS_NAMES[package.business.doc_type]
    sender = package.sender.organ_id
    sender_name, declared_name = _sender_name(session, package, staged.names)
    inbox = ExchangeInbox(hub=hub, message_id=message_id, recipient_organ_id=agency.code,
                          agency_id=agency.id, messagetype="edoc", sender_organ_id=sender,
                          sender_name=sender_name[:255],
                          document_identifier=package.document_id[:255], business_type=business,
                          subject=package.subject, reason=package.business.reason,
                          received_at=utcnow())
    key = _dedupe_key(agency.code, package)
    if key in staged.keys:  # stored before (read for the batch) or earlier in this batch
        inbox.state = InboxState.DUPLICATE
        inbox.error = "Đã nhận văn bản này trước đó (cùng mã định danh); không tạo lại."
        session.add(inbox)
        return inbox
    inbox.dedupe_key = key
    if package.business.doc_type is not BusinessDocType.NEW:
        target_id = target_document_id(package, agency.code)
        inbox.response_for = target_id[:255] or None
        inbox.target_document_id = session.scalar(
            select(IncomingDocument.id).where(IncomingDocument.agency_id == agency.id,
                                              IncomingDocument.document_identifier == target_id,
                                              IncomingDocument.issuer_code == sender)
            .order_by(IncomingDocument.id.desc()).limit(1))
        inbox.state = InboxState.AWAITING_DECISION
        notifications.exchange_request(session, agency.id, sender_name, business,
                                       package.document_id, inbox.target_document_id)
    else:
        inbox.state = InboxState.DELIVERED
    if package.business.doc_type is not BusinessDocType.REVOKE:
        # the inbox row is added with its document, once that has its id
        _new_document(session, rt, agency, package, verdicts, hub, message_id, sender_name,
                      declared_name, staged, inbox, receipt_flags(envelope, verdicts))
    else:
        session.add(inbox)
    staged.keys.add(key)  # not before: a refused attachment stores nothing under this key
    return inbox


def _dedupe_key(organ_id: str, package: DocumentPackage) -> str:
    business = BUSINESS_NAMES[package.business.doc_type]
    return f"{organ_id}|{package.sender.organ_id}|{package.document_id}|{business}"[:400]


def _known_keys(session: Session, checked: list[_Checked]) -> set[str]:
    """The dedupe keys of these packages' documents already in the inbox: one query."""
    keys = {_dedupe_key(organ, c.package) for c in checked
            if isinstance(c.package, DocumentPackage) for organ in c.to}
    if not keys:
        return set()
    return set(session.scalars(select(ExchangeInbox.dedupe_key).where(
        ExchangeInbox.dedupe_key.in_(sorted(keys)))))


def _status_key(agency_id: int, document_id: str, organ_id: str, code: str,
                occurred: dt.datetime) -> tuple:
    return agency_id, document_id, organ_id, code, occurred


def _receive_status(session: Session, hub: str, message_id: str, agency: Agency,
                    package: StatusPackage, *, sent: list[ExchangeOutbox] | None = None,
                    known: set[tuple] | None = None) -> ExchangeInbox:
    """Record a status for a document ``agency`` sent. ``sent`` (the agency's outbox rows for
    that document) and ``known`` (status keys already stored, see :func:`_status_key`) may be
    looked up beforehand for a batch; without them they are queried here."""
    rf = package.response_for
    inbox = ExchangeInbox(hub=hub, message_id=message_id, recipient_organ_id=agency.code,
                          agency_id=agency.id, messagetype="status",
                          sender_organ_id=package.sender.organ_id,
                          sender_name=package.sender.organ_name[:255],
                          document_identifier=rf.document_id[:255], business_type="status",
                          status_code=package.status.value, reason=package.description,
                          received_at=utcnow())
    if sent is None:
        sent = list(session.scalars(select(ExchangeOutbox).where(
            ExchangeOutbox.agency_id == agency.id, ExchangeOutbox.kind == "edoc",
            ExchangeOutbox.document_identifier == rf.document_id)))
    if not sent or rf.organ_id != agency.code:
        inbox.state = InboxState.IGNORED
        inbox.error = (f"Trạng thái {package.status.value} cho văn bản {rf.document_id} mà "
                       f"{agency.code} chưa từng gửi; bỏ qua.")
        log.warning("status ignored: %s (from %s, message %s)", inbox.error,
                    package.sender.organ_id, message_id)
    elif not any(package.sender.organ_id in row.recipients for row in sent):
        inbox.state = InboxState.IGNORED
        inbox.error = (f"{package.sender.organ_id} không phải nơi nhận văn bản {rf.document_id}; "
                       "bỏ qua trạng thái.")
        log.warning("status ignored: %s (message %s)", inbox.error, message_id)
    else:
        inbox.state = InboxState.STATUS
        occurred = package.timestamp.astimezone(dt.UTC).replace(microsecond=0)
        key = _status_key(agency.id, rf.document_id[:255], package.sender.organ_id,
                          package.status.value, occurred)
        if known is None:
            exists = session.scalar(select(ExchangeStatus.id).where(
                ExchangeStatus.agency_id == agency.id,
                ExchangeStatus.document_identifier == rf.document_id,
                ExchangeStatus.organ_id == package.sender.organ_id,
                ExchangeStatus.code == package.status.value,
                ExchangeStatus.occurred_at == occurred)) is not None
        else:
            exists = key in known
        if not exists:
            session.add(ExchangeStatus(
                agency_id=agency.id, document_identifier=rf.document_id[:255],
                organ_id=package.sender.organ_id, code=package.status.value,
                description=package.description, staff=package.staff.staff[:255],
                department=package.staff.department[:255], occurred_at=occurred,
                received_at=utcnow(), message_id=message_id))
            notifications.status_back(session, agency.id, rf.document_id[:255],
                                      package.sender.organ_name or package.sender.organ_id,
                                      STATUS_LABELS.get(package.status.value,
                                                        package.status.value))
            if known is not None:
                known.add(key)  # the same status twice in one batch is stored once
    session.add(inbox)
    return inbox


def _record_failure(session: Session, hub: str, message_id: str, item_to: list[str],
                    messagetype: str, sender: str, document_id: str, error: str,
                    agencies: dict[str, Agency]) -> None:
    for organ in item_to:
        agency = agencies.get(organ)
        session.add(ExchangeInbox(
            hub=hub, message_id=message_id, recipient_organ_id=organ,
            agency_id=agency.id if agency else None, messagetype=messagetype,
            sender_organ_id=sender[:35], document_identifier=document_id[:255],
            state=InboxState.FAILED, error=error, received_at=utcnow()))


def _refuse_unknown(session: Session, outcome: Outcome, hub: str, message_id: str, organ: str,
                    messagetype: str, sender: str, document_id: str) -> None:
    """A recipient of the message that is not an agency of this system."""
    error = f"Cơ quan {organ} không có trong hệ thống này."
    _record_failure(session, hub, message_id, [organ], messagetype, sender, document_id, error, {})
    outcome.failed[organ] = error


def receive_package(rt: Exchange, hub: str, message_id: str, to: list[str], messagetype: str,
                    data: bytes, *, sender: str = "", document_id: str = "",
                    session: Session | None = None) -> Outcome:
    """Store one package for its local recipients ``to``, in one transaction.

    ``session``: one that already holds the message's lock (the batched receipt); it is
    committed here. Without it, a session is opened and the lock taken first."""
    if session is None:
        with rt.session_factory() as session:
            if not _lock_message(session, hub, message_id):
                return Outcome(skipped=True)
            return _receive_locked(rt, session, hub, message_id, to, messagetype, data,
                                   sender=sender, document_id=document_id)
    return _receive_locked(rt, session, hub, message_id, to, messagetype, data, sender=sender,
                           document_id=document_id)


def _receive_locked(rt: Exchange, session: Session, hub: str, message_id: str, to: list[str],
                    messagetype: str, data: bytes, *, sender: str, document_id: str) -> Outcome:
    checked = _check(rt, message_id, to, messagetype, data, sender=sender, document_id=document_id)
    done = _done(session, hub, [message_id]).get(message_id, {})
    agencies = _agencies(session, [o for o in to if o not in done])
    staged = _Staged(keys=_known_keys(session, [checked]))
    outcome = _store(session, rt, hub, checked, done, agencies, staged)
    staged.finish(session)
    session.commit()
    return outcome


def _store(session: Session, rt: Exchange, hub: str, checked: _Checked, done: dict[str, Any],
           agencies: dict[str, Agency], staged: _Staged) -> Outcome:
    """Store a checked package for its recipients not stored before (``done``); a recipient
    whose copy is refused (an attachment) costs only that one, since the refusal comes before
    anything of it is added. Nothing is flushed or committed here: the caller finishes
    ``staged``, then commits."""
    outcome = Outcome()
    pending = [o for o in checked.to if o not in done]
    if checked.error is not None:
        _record_failure(session, hub, checked.message_id, pending, checked.messagetype,
                        checked.sender, checked.document_id, checked.error, agencies)
        outcome.failed = dict.fromkeys(checked.to, checked.error)
        log.warning("package %s from %s refused: %s", checked.message_id, checked.sender,
                    checked.error)
        return outcome
    package = checked.package
    for organ in pending:
        agency = agencies.get(organ)
        if agency is None:
            _refuse_unknown(session, outcome, hub, checked.message_id, organ, checked.messagetype,
                            checked.sender, checked.document_id)
            continue
        try:
            if isinstance(package, DocumentPackage):
                inbox = _receive_document(session, rt, hub, checked.message_id, agency,
                                          package, checked.verdicts, staged, checked.envelope)
            else:
                assert isinstance(package, StatusPackage)
                inbox = _receive_status(session, hub, checked.message_id, agency, package)
        except Refused as exc:
            _record_failure(session, hub, checked.message_id, [organ], checked.messagetype,
                            checked.sender, checked.document_id, exc.message, agencies)
            outcome.failed[organ] = exc.message
            continue
        if inbox.state == InboxState.IGNORED:
            outcome.failed[organ] = inbox.error
        else:
            outcome.delivered.append(organ)
    _stored_before(outcome, checked.to, done)
    return outcome


def receive_documents(rt: Exchange, hub: str,
                      items: list[tuple[ReceivedEdoc, bytes]]) -> list[tuple[str, Outcome]]:
    """Store several document packages (already locked, see :func:`receive_batch`) in one
    transaction: what :func:`receive_package` does for each, with the lookups made once for the
    batch and one commit. Each package is verified and its PDF signatures validated before the
    transaction; a refused attachment costs only its recipient's copy (refused before anything
    of it is added); one flush gives every document its id, then their texts, search entries,
    inbox rows and (last) audit events follow several rows per statement."""
    checked = [_check(rt, item.message_id, list(item.to), "edoc", data, sender=item.sender,
                      document_id=item.document_id) for item, data in items]
    with rt.session_factory() as session:
        done = _done(session, hub, [c.message_id for c in checked])
        agencies = _agencies(session, sorted({o for c in checked for o in c.to}))
        staged = _Staged(keys=_known_keys(session, checked))
        outcomes = [(c.message_id, _store(session, rt, hub, c, done.get(c.message_id, {}),
                                          agencies, staged)) for c in checked]
        staged.finish(session)
        session.commit()
    return outcomes


def _stored_before(outcome: Outcome, to: list[str] | tuple[str, ...], done: dict[str, Any]) -> None:
    """Add to ``outcome`` the recipients among ``to`` for which the message was already stored
    (``done``: their inbox rows), as they were: a refused or ignored one stays failed."""
    for organ in to:
        row = done.get(organ)
        if row is None or organ in outcome.failed or organ in outcome.delivered:
            continue
        if row.state in (InboxState.FAILED, InboxState.IGNORED):
            outcome.failed[organ] = row.error or ""
        else:
            outcome.delivered.append(organ)


def receive_statuses(rt: Exchange, hub: str,
                     items: list[tuple[ReceivedEdoc, bytes]]) -> list[tuple[str, Outcome]]:
    """Store several status packages (already locked, see :func:`receive_batch`) in one
    transaction: what :func:`receive_package` does for each, with the lookups made once for
    the batch. Each signature is verified on its own, before the transaction."""
    parsed: list[tuple[ReceivedEdoc, StatusPackage | None, str | None]] = []
    for item, data in items:
        try:
            package, _ = verify_and_parse(rt, data, "status")  # unsigned statuses are taken too
            assert isinstance(package, StatusPackage)
            parsed.append((item, package, None))
        except Refused as exc:
            parsed.append((item, None, exc.message))
    outcomes: list[tuple[str, Outcome]] = []
    with rt.session_factory() as session:
        done = _done(session, hub, [item.message_id for item, _, _ in parsed])
        agencies = _agencies(session, sorted({o for item, _, _ in parsed for o in item.to}))
        doc_ids = sorted({p.response_for.document_id for _, p, _ in parsed if p is not None})
        agency_ids = sorted(a.id for a in agencies.values())
        sent: dict[tuple[int, str], list[ExchangeOutbox]] = {}
        known: set[tuple] = set()
        if doc_ids and agency_ids:
            for row in session.scalars(select(ExchangeOutbox).where(
                    ExchangeOutbox.agency_id.in_(agency_ids), ExchangeOutbox.kind == "edoc",
                    ExchangeOutbox.document_identifier.in_(doc_ids))):
                sent.setdefault((row.agency_id, row.document_identifier), []).append(row)
            known = {_status_key(*row) for row in session.execute(select(
                ExchangeStatus.agency_id, ExchangeStatus.document_identifier,
                ExchangeStatus.organ_id, ExchangeStatus.code, ExchangeStatus.occurred_at).where(
                ExchangeStatus.agency_id.in_(agency_ids),
                ExchangeStatus.document_identifier.in_([d[:255] for d in doc_ids])))}
        for item, package, error in parsed:
            outcome = Outcome()
            stored = done.get(item.message_id, {})
            pending = [o for o in item.to if o not in stored]
            if package is None:
                _record_failure(session, hub, item.message_id, pending, "status", item.sender,
                                item.document_id, error or "", agencies)
                outcome.failed = dict.fromkeys(item.to, error or "")
                log.warning("package %s from %s refused: %s", item.message_id, item.sender, error)
                outcomes.append((item.message_id, outcome))
                continue
            for organ in pending:
                agency = agencies.get(organ)
                if agency is None:
                    _refuse_unknown(session, outcome, hub, item.message_id, organ, "status",
                                    item.sender, item.document_id)
                    continue
                inbox = _receive_status(
                    session, hub, item.message_id, agency, package,
                    sent=sent.get((agency.id, package.response_for.document_id), []), known=known)
                if inbox.state == InboxState.IGNORED:
                    outcome.failed[organ] = inbox.error
                else:
                    outcome.delivered.append(organ)
            _stored_before(outcome, item.to, stored)
            outcomes.append((item.message_id, outcome))
        session.commit()
    return outcomes


FETCH_BATCH = 10
"""Packages fetched per ``getEdocs`` request (and acknowledged per ``updateStatuses``)."""
FETCH_BATCH_BYTES = 16 * 1024 * 1024


def _chunks(items: list[ReceivedEdoc]) -> list[list[ReceivedEdoc]]:
    chunks: list[list[ReceivedEdoc]] = []
    size = 0
    for item in items:
        if not chunks or len(chunks[-1]) >= FETCH_BATCH or size + item.content_length > FETCH_BATCH_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += item.content_length
    return chunks


def _ack_all(client, acks: list[tuple[str, Outcome]]) -> None:
    """Acknowledge several stored messages in one ``updateStatuses`` request."""
    updates: list[StatusUpdate] = []
    for message_id, outcome in acks:
        if outcome.delivered:
            updates.append(StatusUpdate(message_id, "delivered", organ_ids=tuple(outcome.delivered)))
        by_reason: dict[str, list[str]] = {}
        for organ, reason in outcome.failed.items():
            by_reason.setdefault(reason, []).append(organ)
        updates += [StatusUpdate(message_id, "failed", reason[:1000], tuple(organs))
                    for reason, organs in by_reason.items()]
    for start in range(0, len(updates), 100):
        batch = updates[start:start + 100]
        for update, result in zip(batch, client.update_statuses(batch), strict=True):
            if isinstance(result, AxisError):
                log.warning("acknowledging %s failed: %s", update.message_id, result)


@contextlib.contextmanager
def _lock_connection(rt: Exchange) -> Iterator[Connection | None]:
    """PostgreSQL: a connection of its own whose transaction holds the messages' advisory
    locks until it closes (crash: the server drops them with the connection). None elsewhere."""
    with rt.session_factory() as probe:
        bind = probe.get_bind()
    if bind.dialect.name != "postgresql":
        yield None
    elif isinstance(bind, Connection):  # sessions bound to one connection (tests): use it
        yield bind
    else:
        with bind.connect() as conn:
            yield conn


#: One advisory-lock key per (schema, hub, message): PostgreSQL's advisory locks are shared by the
#: whole database, so two installations in two schemas of one database (or two test workers)
#: must not take each other's locks for a message id they both see.
_KEY = "hashtextextended(current_schema() || '|' || :hub || '|' || {id}, 0)"


def _try_lock(conn: Connection | None, hub: str, message_id: str) -> bool:
    if conn is None:
        return True
    return bool(conn.scalar(text(f"SELECT pg_try_advisory_xact_lock({_KEY.format(id=':id')})"),
                            {"hub": hub, "id": message_id}))


_TRY_LOCKS = text(f"SELECT k.id, pg_try_advisory_xact_lock({_KEY.format(id='k.id')}) "
                  "FROM unnest(CAST(:ids AS text[])) WITH ORDINALITY AS k(id, n) ORDER BY k.n")


def _try_locks(conn: Connection | None, hub: str, message_ids: list[str]) -> set[str]:
    """The messages among ``message_ids`` whose lock this connection took (or already held),
    in one statement, the locks taken in the order given."""
    if conn is None or not message_ids:
        return set(message_ids)
    rows = conn.execute(_TRY_LOCKS, {"hub": hub, "ids": list(dict.fromkeys(message_ids))})
    return {message_id for message_id, taken in rows if taken}


def _refuse_item(rt: Exchange, hub_name: str, item: ReceivedEdoc, report: WorkReport,
                 error: str) -> tuple[str, Outcome]:
    """A listed item refused before its package is read (too large, not a package): recorded
    as failed for each of its recipients with ``error``, to be acknowledged once as such."""
    with rt.session_factory() as session:
        _record_failure(session, hub_name, item.message_id, list(item.to), item.messagetype,
                        item.sender, item.document_id, error, _agencies(session, list(item.to)))
        session.commit()
    report.refused += len(item.to)
    return item.message_id, Outcome(failed=dict.fromkeys(item.to, error))


def receive_batch(rt: Exchange, hub_name: str, items: list[ReceivedEdoc], report: WorkReport) -> None:
    """Receive several listed messages with one ``getEdocs`` and one ``updateStatuses``.

    Each message is still stored in its own transaction, and acknowledged only after it
    committed. PostgreSQL: the messages' locks are taken first and held until the
    acknowledgement, so another worker polling the same list skips them."""
    client = rt.client(rt.hub_named(hub_name))
    with _lock_connection(rt) as locks:
        locked = _try_locks(locks, hub_name, [i.message_id for i in items])
        items = [i for i in items if i.message_id in locked]
        if not items:
            return
        with rt.session_factory() as session:
            seen = _done(session, hub_name, [i.message_id for i in items])
        acks: list[tuple[str, Outcome]] = []
        fetch: list[ReceivedEdoc] = []
        limit = int(rt.setting("MAX_PACKAGE_MB") * 1024 * 1024)
        try:
            for item in items:
                stored = seen.get(item.message_id, {})
                if all(o in stored for o in item.to):  # stored before a crash, not acknowledged yet
                    outcome = Outcome()
                    for organ in item.to:
                        row = stored[organ]
                        if row.state in (InboxState.FAILED, InboxState.IGNORED):
                            outcome.failed[organ] = row.error
                        else:
                            outcome.delivered.append(organ)
                    acks.append((item.message_id, outcome))
                elif item.content_length > limit:
                    acks.append(_refuse_item(rt, hub_name, item, report, f"Gói tin "
                                             f"{item.content_length} byte vượt giới hạn {limit} byte."))
                else:
                    fetch.append(item)
            edocs = client.get_edocs([i.message_id for i in fetch]) if fetch else []
            documents: list[tuple[ReceivedEdoc, bytes]] = []
            statuses: list[tuple[ReceivedEdoc, bytes]] = []
            for item, edoc in zip(fetch, edocs, strict=True):
                if isinstance(edoc, AxisError) and edoc.code == BAD_PACKAGE:
                    # what the hub handed over is no package at all (VXP: not base64): refused
                    # once, with the reason, never fetched again
                    acks.append(_refuse_item(rt, hub_name, item, report, f"Gói tin không hợp lệ: "
                                             f"{edoc.message} [{BAD_PACKAGE}]"))
                    continue
                if isinstance(edoc, AxisError):
                    log.warning("receiving %s from %s failed: %s", item.message_id, hub_name, edoc)
                    continue
                # each kind stored together below
                (statuses if item.messagetype == "status" else documents).append((item, edoc.package))
            listed = {item.message_id: item for item, _ in documents + statuses}
            for message_id, outcome in _together_or_each(rt, hub_name, documents, receive_documents):
                report.received += len(outcome.delivered)
                report.refused += len(outcome.failed)
                acks.append((message_id, outcome))
                _log_received(hub_name, listed[message_id], outcome)
            for message_id, outcome in _together_or_each(rt, hub_name, statuses, receive_statuses):
                report.statuses += len(outcome.delivered)
                report.refused += len(outcome.failed)
                acks.append((message_id, outcome))
                _log_received(hub_name, listed[message_id], outcome)
        finally:
            if acks:  # what committed is acknowledged even if a later message failed
                _ack_all(client, acks)


def _log_received(hub: str, item: ReceivedEdoc, outcome: Outcome) -> None:
    """One line per committed message (``exchange.receive``) and, for a document delivered,
    the time from the hub's acceptance of the sender's package to its waiting for
    registration here (``ioffice_exchange_delivery_seconds``)."""
    from ioffice.metrics import EXCHANGE_SECONDS

    if item.messagetype != "status" and outcome.delivered and item.created_at:
        EXCHANGE_SECONDS.observe(max(0.0, (utcnow() - item.created_at).total_seconds()))
    log.info("received %s %s from %s via %s: %d delivered, %d refused", item.messagetype,
             item.message_id, item.sender, hub, len(outcome.delivered), len(outcome.failed),
             extra={"event": "exchange.receive", "hub": hub, "message_id": item.message_id,
                    "messagetype": item.messagetype, "sender": item.sender,
                    "document_id": item.document_id, "delivered": outcome.delivered,
                    "refused": sorted(outcome.failed),
                    "outcome": "refused" if outcome.failed and not outcome.delivered
                    else "delivered"})


def _together_or_each(rt: Exchange, hub: str, items: list[tuple[ReceivedEdoc, bytes]],
                      together: Callable[[Exchange, str, list[tuple[ReceivedEdoc, bytes]]],
                                         list[tuple[str, Outcome]]]) -> list[tuple[str, Outcome]]:
    """``together`` (:func:`receive_documents`, :func:`receive_statuses`); if its transaction
    fails, each package on its own, so that one bad row costs only its own message."""
    if not items:
        return []
    try:
        return together(rt, hub, items)
    except SQLAlchemyError as exc:
        log.warning("storing %d packages together failed (%s); one at a time", len(items), exc)
    outcomes = []
    for item, data in items:
        try:
            with rt.session_factory() as session:  # the caller holds the lock
                outcomes.append((item.message_id, receive_package(
                    rt, hub, item.message_id, list(item.to), item.messagetype, data,
                    sender=item.sender, document_id=item.document_id, session=session)))
        except IntegrityError:  # another worker stored it first; it acknowledges
            log.info("message %s stored concurrently by another worker", item.message_id)
    return outcomes


def poll_hub(rt: Exchange, hub_name: str, report: WorkReport, *, limit: int = 50) -> int:
    client = rt.client(rt.hub_named(hub_name))
    items = client.get_received_edoc_list(limit=limit)
    for chunk in _chunks(items):
        try:
            receive_batch(rt, hub_name, chunk, report)
        except (AxisUnavailable, AxisError) as exc:
            log.warning("receiving from %s failed (%d messages): %s", hub_name, len(chunk), exc)
    return len(items)
