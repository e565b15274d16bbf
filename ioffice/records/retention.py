"""Retention and destruction (Decree 30/2020 and the Law on archives: a destruction council
proposes, the head of the agency decides).

The archive (``Role.ARCHIVIST``) sees the closed dossiers whose retention has ended (the end
of the work plus N years; permanent ones never), proposes destroying some of them with a
reason; a leader approves with the decision's number, or refuses with a reason. Approval
destroys in its transaction: each dossier's items are removed (its own files, its notes, its
links to documents) and the dossier is marked destroyed; what was destroyed is kept in the
proposal's ``record`` (symbols, titles, documents' numbers, files' names and hashes) with who
decided, when and by which decision. The files' blobs are deleted after commit
(:func:`purge`), only those no row references any more: the same rule as
``maintenance.cleanup``, which would remove them a day later if the purge were lost. A
document filed in the destroyed dossiers that nothing else needs (no other live dossier, no
copy made of it, its handling finished: :func:`_keep_reason`) is destroyed too: its blobs are
deleted the same way and its text emptied, its register entry stays, marked with the
destruction (``destruction_id``); the others are kept whole, the reason in the record. See
docs/records.md.

A legal hold (tạm giữ), set or lifted by the archive or a leader with a reason, stops it: a
held dossier cannot be proposed, and a hold set after the proposal blocks the approval.

A dossier restored from an imported package (``ImportedPackage``, an archive holding) follows
the same rules: the functions take a ``kind`` (``dossier`` or ``restored``, the models'
``kind``). Destroying it deletes its documents' files, the package's ZIP and its table of
contents (blobs no other row references); its row and its documents' metadata stay, marked
with the destruction (``destruction_id``), and its downloads answer 410.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Membership, MembershipRole, Role
from ioffice.agencies.permissions import Op
from ioffice.audit import AuditContext, record
from ioffice.db import utcnow
from ioffice.errors import Gone, NotFound
from ioffice.notifications import Kind, notify
from ioffice.records.models import (
    Destruction,
    DestructionDossier,
    DestructionPackage,
    DestructionStatus,
    Dossier,
    DossierItem,
    DossierStatus,
    ImportedPackage,
    ItemKind,
    LegalHold,
)
from ioffice.records.service import RecordsError, get_dossier, item_documents
from ioffice.storage import BlobStore

__all__ = [
    "active_hold",
    "approve",
    "check_not_destroyed",
    "destroyed_by",
    "destroyed_message",
    "destruction",
    "destructions",
    "expired_dossiers",
    "expired_restored",
    "hold",
    "is_expired",
    "lift_hold",
    "propose",
    "purge",
    "reject",
    "restored_destroyed_message",
]

ELIGIBLE = (DossierStatus.CLOSED, DossierStatus.ARCHIVED)
"""A closed dossier not in a hand-over, or one the archive keeps."""

KINDS = ("dossier", "restored")
"""A dossier of the list (``Dossier``), one restored from a package (``ImportedPackage``)."""

Holding = Dossier | ImportedPackage


def _audit(session: Session, actor: Actor, tag: str, subject_type: str, subject_id: int,
           **details: object) -> None:
    record(session, actor.ctx, tag, subject_type=subject_type, subject_id=subject_id,
           details=details)


def active_hold(session: Session, dossier_id: int, kind: str = "dossier") -> LegalHold | None:
    column = LegalHold.dossier_id if kind == "dossier" else LegalHold.package_id
    return session.scalars(select(LegalHold).where(
        column == dossier_id, LegalHold.lifted_at.is_(None))).first()


def is_expired(dossier: Holding, today: dt.date) -> bool:
    end = dossier.retention_end
    return end is not None and end <= today


def _is_destroyed(dossier: Holding) -> bool:
    if isinstance(dossier, ImportedPackage):
        return dossier.destroyed
    return dossier.status is DossierStatus.DESTROYED


def _link(kind: str):
    """The proposal's link table and its column for the kind of dossier."""
    if kind == "dossier":
        return DestructionDossier, DestructionDossier.dossier_id
    return DestructionPackage, DestructionPackage.package_id


def destroyed_by(session: Session, dossier_id: int, kind: str = "dossier") -> Destruction | None:
    """The decision that destroyed the dossier, if any (for its page)."""
    table, column = _link(kind)
    return session.scalars(select(Destruction).join(table).where(
        column == dossier_id, Destruction.status == DestructionStatus.DESTROYED)).first()


def _pending(session: Session, dossier_id: int, kind: str = "dossier") -> Destruction | None:
    table, column = _link(kind)
    return session.scalars(select(Destruction).join(table).where(
        column == dossier_id, Destruction.status == DestructionStatus.PROPOSED)).first()


def expired_dossiers(session: Session, actor: Actor, today: dt.date) -> list[Dossier]:
    """The agency's closed or archived dossiers whose retention has ended, oldest end first."""
    actor.check(Op.VIEW_RETENTION)
    rows = session.scalars(select(Dossier).where(
        Dossier.agency_id == actor.agency_id, Dossier.status.in_(ELIGIBLE),
        Dossier.retention_years.is_not(None), Dossier.end_date.is_not(None))).all()
    return sorted((d for d in rows if is_expired(d, today)), key=lambda d: (d.retention_end,
                                                                           d.symbol))


def expired_restored(session: Session, actor: Actor, today: dt.date) -> list[ImportedPackage]:
    """The agency's restored dossiers (imported packages) whose retention has ended, by the
    same rule (end date plus N years; permanent ones never), not yet destroyed."""
    actor.check(Op.VIEW_RETENTION)
    rows = session.scalars(select(ImportedPackage).where(
        ImportedPackage.agency_id == actor.agency_id, ImportedPackage.destruction_id.is_(None),
        ImportedPackage.retention_years.is_not(None),
        ImportedPackage.end_date.is_not(None))).all()
    return sorted((p for p in rows if is_expired(p, today)), key=lambda p: (p.retention_end,
                                                                           p.symbol))


def _agency_dossier(session: Session, actor: Actor, dossier_id: int,
                    kind: str = "dossier") -> Holding:
    model = Dossier if kind == "dossier" else ImportedPackage
    dossier = session.get(model, dossier_id, with_for_update=True)
    if dossier is None or dossier.agency_id != actor.agency_id:
        what = "hồ sơ" if kind == "dossier" else "hồ sơ đã nhập"
        raise RecordsError(f"Không có {what} mã {dossier_id} trong cơ quan của bạn; chỉ tiêu hủy "
                           "được hồ sơ của cơ quan mình.")
    return dossier


def _check_destroyable(session: Session, dossier: Holding, today: dt.date,
                       proposal_id: int | None = None) -> None:
    """Refuse a dossier (of the list or restored) that may not be destroyed, with the reason."""
    if _is_destroyed(dossier):
        raise RecordsError(f"Hồ sơ {dossier.symbol} đã bị tiêu hủy.")
    if dossier.retention_years is None:
        raise RecordsError(f"Hồ sơ {dossier.symbol} có thời hạn bảo quản vĩnh viễn; không bao "
                           "giờ được tiêu hủy.")
    if isinstance(dossier, ImportedPackage):
        if dossier.end_date is None:
            raise RecordsError(f"Hồ sơ {dossier.symbol} (nhập từ hệ thống khác) không ghi ngày "
                               "kết thúc; không tính được thời hạn bảo quản.")
    elif dossier.status not in ELIGIBLE or (dossier.status is DossierStatus.CLOSED
                                            and dossier.handover_id is not None):
        raise RecordsError(f"Hồ sơ {dossier.symbol} đang ở trạng thái «{dossier.status.label}»; "
                           "chỉ tiêu hủy được hồ sơ đã kết thúc hoặc đã nộp lưu.")
    if not is_expired(dossier, today):
        raise RecordsError(f"Hồ sơ {dossier.symbol} chưa hết thời hạn bảo quản "
                           f"({dossier.retention_label}, đến ngày "
                           f"{dossier.retention_end:%d/%m/%Y}); chưa được tiêu hủy.")
    held = active_hold(session, dossier.id, dossier.kind)
    if held is not None:
        raise RecordsError(f"Hồ sơ {dossier.symbol} đang bị tạm giữ theo yêu cầu pháp lý "
                           f"(«{held.reason[:200]}»); phải bỏ tạm giữ trước khi tiêu hủy.")
    pending = _pending(session, dossier.id, dossier.kind)
    if pending is not None and pending.id != proposal_id:
        raise RecordsError(f"Hồ sơ {dossier.symbol} đã nằm trong đề nghị tiêu hủy số "
                           f"{pending.id} đang chờ quyết định.")


# ---------------------------------------------------------------------------- legal hold

_SUBJECT = {"dossier": "dossier", "restored": "imported_package"}
"""The audit subject type of each kind."""


def _readable(session: Session, actor: Actor, dossier_id: int, kind: str) -> Holding:
    """A dossier the actor may read, locked (404 for another agency's, as a missing one)."""
    if kind == "dossier":
        return get_dossier(session, actor, dossier_id, for_update=True)
    if kind != "restored":
        raise NotFound("Không tìm thấy hồ sơ này.")
    from ioffice.records.package import get_imported

    row = get_imported(session, actor, dossier_id)
    session.refresh(row, with_for_update=True)
    return row


def hold(session: Session, actor: Actor, dossier_id: int, reason: str,
         kind: str = "dossier") -> LegalHold:
    """Set a legal hold on a dossier of the list (``kind`` ``dossier``) or a restored one
    (``restored``)."""
    actor.check(Op.LEGAL_HOLD)
    dossier = _readable(session, actor, dossier_id, kind)
    reason = " ".join(reason.split())
    if not reason or len(reason) > 2000:
        raise RecordsError("Hãy ghi lý do tạm giữ (căn cứ pháp lý, vụ việc; tối đa 2000 ký tự).")
    if _is_destroyed(dossier):
        raise RecordsError(f"Hồ sơ {dossier.symbol} đã bị tiêu hủy; không tạm giữ được nữa.")
    if active_hold(session, dossier.id, kind) is not None:
        raise RecordsError(f"Hồ sơ {dossier.symbol} đang bị tạm giữ rồi.")
    row = LegalHold(agency_id=actor.agency_id, reason=reason, set_by_id=actor.user_id,
                    **{"dossier_id" if kind == "dossier" else "package_id": dossier.id})
    session.add(row)
    session.flush()
    _audit(session, actor, "records:hold:set", _SUBJECT[kind], dossier.id, symbol=dossier.symbol,
           reason=reason, hold_id=row.id)
    return row


def lift_hold(session: Session, actor: Actor, dossier_id: int, reason: str,
              kind: str = "dossier") -> LegalHold:
    actor.check(Op.LEGAL_HOLD)
    dossier = _readable(session, actor, dossier_id, kind)
    row = active_hold(session, dossier.id, kind)
    if row is None:
        raise RecordsError(f"Hồ sơ {dossier.symbol} không bị tạm giữ.")
    reason = " ".join(reason.split())
    if not reason or len(reason) > 2000:
        raise RecordsError("Hãy ghi lý do bỏ tạm giữ (tối đa 2000 ký tự).")
    row.lifted_by_id, row.lifted_at, row.lift_reason = actor.user_id, utcnow(), reason
    _audit(session, actor, "records:hold:lift", _SUBJECT[kind], dossier.id, symbol=dossier.symbol,
           reason=reason, hold_id=row.id)
    return row


# ---------------------------------------------------------------------------- destruction

def destructions(session: Session, actor: Actor, *, after: int | None = None, limit: int = 200
                 ) -> list[Destruction]:
    """The agency's proposals and decisions, newest first: ``limit`` of them below the id
    ``after`` (paging by key)."""
    actor.check(Op.VIEW_RETENTION)
    stmt = select(Destruction).where(Destruction.agency_id == actor.agency_id)
    if after is not None:
        stmt = stmt.where(Destruction.id < after)
    return list(session.scalars(stmt.order_by(Destruction.id.desc()).limit(limit)))


def destruction(session: Session, actor: Actor, destruction_id: int, *,
                for_update: bool = False) -> Destruction:
    actor.check(Op.VIEW_RETENTION)
    row = session.get(Destruction, destruction_id, with_for_update=for_update)
    if row is None or row.agency_id != actor.agency_id:
        raise NotFound("Không tìm thấy đề nghị tiêu hủy này.")
    return row


def propose(session: Session, actor: Actor, dossier_ids: list[int], reason: str,
            today: dt.date, package_ids: list[int] = ()) -> Destruction:
    """The archive's proposal (for the destruction council) to destroy expired dossiers: of
    the list (``dossier_ids``) and restored from packages (``package_ids``)."""
    actor.check(Op.PROPOSE_DESTRUCTION)
    if not dossier_ids and not package_ids:
        raise RecordsError("Hãy chọn ít nhất một hồ sơ hết thời hạn bảo quản để đề nghị tiêu hủy.")
    reason = " ".join(reason.split())
    if not reason or len(reason) > 4000:
        raise RecordsError("Hãy ghi lý do, ý kiến của Hội đồng xác định giá trị tài liệu (tối đa "
                           "4000 ký tự).")
    dossiers: list[Holding] = []
    for kind, ids in (("dossier", dossier_ids), ("restored", package_ids)):
        for dossier_id in sorted(set(ids)):
            dossier = _agency_dossier(session, actor, dossier_id, kind)
            _check_destroyable(session, dossier, today)
            dossiers.append(dossier)
    row = Destruction(agency_id=actor.agency_id, reason=reason, proposed_by_id=actor.user_id,
                      record={})
    session.add(row)
    session.flush()
    session.add_all(DestructionDossier(destruction_id=row.id, dossier_id=d.id)
                    if d.kind == "dossier" else
                    DestructionPackage(destruction_id=row.id, package_id=d.id) for d in dossiers)
    session.flush()
    session.expire(row, ["dossiers", "packages"])
    _audit(session, actor, "records:destruction:propose", "destruction", row.id,
           dossiers=[d.symbol for d in dossiers if d.kind == "dossier"],
           restored=[[d.id, d.symbol] for d in dossiers if d.kind == "restored"], reason=reason)
    notify(session, _leaders(session, actor.agency_id), Kind.RECORDS, agency_id=actor.agency_id,
           text=f"Lưu trữ đề nghị tiêu hủy {len(dossiers)} hồ sơ hết thời hạn bảo quản (đề nghị "
                f"số {row.id}): chờ lãnh đạo quyết định.", exclude=actor.user_id)
    return row


def _decidable(session: Session, actor: Actor, destruction_id: int) -> Destruction:
    actor.check(Op.APPROVE_DESTRUCTION)
    row = destruction(session, actor, destruction_id, for_update=True)
    if row.status is not DestructionStatus.PROPOSED:
        when = f" ngày {row.decided_at:%d/%m/%Y}" if row.decided_at else ""
        raise RecordsError(f"Đề nghị tiêu hủy số {row.id} đã được quyết định{when} "
                           f"(«{row.status.label}»); không quyết định lại được.")
    return row


def _dossier_record(session: Session, dossier: Dossier) -> dict:
    docs = item_documents(session, dossier)
    items = []
    for item in dossier.items:
        entry: dict = {"kind": str(item.kind)}
        if item.kind in (ItemKind.INCOMING, ItemKind.OUTGOING):
            doc = docs[(str(item.kind), item.incoming_id or item.outgoing_id)]
            entry.update(document_id=doc.id, number_notation=doc.number_notation,
                         subject=doc.subject[:500])
            if item.kind is ItemKind.INCOMING:
                entry["sha256"] = [f.sha256 for f in doc.files]
            else:
                entry["sha256"] = [doc.current_sha256] if doc.current_sha256 else []
        elif item.kind is ItemKind.FILE:
            entry.update(title=item.title[:500], filename=item.filename, sha256=[item.sha256],
                         size=item.size)
        else:
            entry.update(note_chars=len(item.title))
        items.append(entry)
    return {"id": dossier.id, "symbol": dossier.symbol, "year": dossier.file_list.year,
            "title": dossier.title, "retention": dossier.retention_label,
            "start": dossier.start_date.isoformat() if dossier.start_date else None,
            "end": dossier.end_date.isoformat() if dossier.end_date else None,
            "pages": dossier.page_count, "items": items}


def _restored_record(row: ImportedPackage) -> tuple[dict, set[str]]:
    """What a restored dossier held (its documents' metadata and files, the package's ZIP and
    table of contents) and the hashes to delete."""
    items, hashes = [], set()
    for doc in row.items:
        sha = [f["sha256"] for f in doc.files or () if f.get("sha256")]
        hashes.update(sha)
        notation = f"{doc.number}/{doc.notation}" if doc.number and doc.notation else (
            doc.number or doc.notation)
        items.append({"kind": "restored", "ordinal": doc.ordinal,
                      "number_notation": notation, "subject": doc.subject[:500],
                      "files": [{"name": f.get("name", ""), "sha256": f.get("sha256", ""),
                                 "size": f.get("size", 0)} for f in doc.files or ()],
                      "sha256": sha})
    package_files = [h for h in (row.sha256, row.toc_sha256) if h]
    hashes.update(package_files)
    entry = {"kind": "restored", "package_id": row.id, "symbol": row.symbol, "year": row.year,
             "organ_id": row.organ_id, "title": row.title, "retention": row.retention_label,
             "start": row.start_date.isoformat() if row.start_date else None,
             "end": row.end_date.isoformat() if row.end_date else None,
             "pages": row.page_count, "items": items, "package_sha256": package_files}
    return entry, hashes


def approve(session: Session, actor: Actor, destruction_id: int, decision: str,
            today: dt.date) -> Destruction:
    """The leader's decision: every dossier is checked again (a hold set since the proposal
    blocks it), its items removed and the record of what was destroyed kept. The files' blobs
    go after commit (:func:`purge`)."""
    row = _decidable(session, actor, destruction_id)
    decision = " ".join(decision.split())
    if not decision or len(decision) > 255:
        raise RecordsError("Hãy ghi số, ngày của quyết định tiêu hủy (ví dụ «Quyết định số "
                           "15/QĐ-UBND ngày 04/12/2026»).")
    for dossier in row.holdings:
        session.refresh(dossier, with_for_update=True)
        _check_destroyable(session, dossier, today, proposal_id=row.id)
    entries, hashes = [], set()
    candidates: dict[tuple[str, int], object] = {}
    for dossier in row.dossiers:
        entries.append(_dossier_record(session, dossier))
        candidates.update(item_documents(session, dossier))
        hashes.update(i.sha256 for i in dossier.items if i.kind is ItemKind.FILE and i.sha256)
        dossier.items.clear()
        dossier.status = DossierStatus.DESTROYED
    for restored in row.packages:
        entry, files = _restored_record(restored)
        entries.append(entry)
        hashes.update(files)
        restored.destruction_id = row.id
        record(session, actor.ctx, "records:package:destroy", subject_type="imported_package",
               subject_id=restored.id, details={"destruction_id": row.id, "decision": decision,
                                                "symbol": restored.symbol,
                                                "files": sorted(files)})
    session.flush()
    row.status, row.decided_by_id, row.decided_at = (DestructionStatus.DESTROYED, actor.user_id,
                                                     utcnow())
    row.decision = decision
    documents = []
    for (kind, _doc_id), doc in sorted(candidates.items()):
        reason = _keep_reason(session, kind, doc)
        files = _document_blobs(session, kind, doc)
        entry = {"kind": kind, "document_id": doc.id, "number_notation": doc.number_notation,
                 "subject": doc.subject[:500], "files": files}
        if reason:
            entry.update(destroyed=False, kept_reason=reason)
        else:
            doc.destruction_id = row.id
            hashes.update(f["sha256"] for f in files)
            _forget_text(session, kind, doc)
            entry["destroyed"] = True
            record(session, actor.ctx, f"{kind}:document:destroy", subject_type=kind,
                   subject_id=doc.id, details={"destruction_id": row.id, "decision": decision,
                                               "files": [f["sha256"] for f in files]})
        documents.append(entry)
    session.flush()
    row.record = {"dossiers": entries, "documents": documents, "files_to_delete": sorted(hashes),
                  "deleted": [],
                  "kept_documents": sum(1 for d in documents if not d["destroyed"]),
                  "destroyed_documents": sum(1 for d in documents if d["destroyed"])}
    _audit(session, actor, "records:destruction:approve", "destruction", row.id,
           decision=decision, dossiers=[e["symbol"] for e in entries],
           files=sorted(hashes),
           documents=[[d["kind"], d["document_id"]] for d in documents if d["destroyed"]])
    return row


def _keep_reason(session: Session, kind: str, doc) -> str:
    """Why a document filed in a destroyed dossier keeps its files ('' if nothing needs them).
    Conservative: another dossier not destroyed (held or not), a copy made of it, an outgoing
    document not finished with (not dispatched, revoked or replaced, or a recipient not yet
    sent to), an incoming one with an open assignment."""
    from ioffice.copies.models import DocumentCopy
    from ioffice.incoming.models import OPEN_STATUSES, Assignment
    from ioffice.outgoing.models import OutgoingRecipient, OutgoingStatus, RecipientStatus

    column = DossierItem.incoming_id if kind == "incoming" else DossierItem.outgoing_id
    others = session.scalars(select(Dossier).join(DossierItem).where(
        column == doc.id, Dossier.status != DossierStatus.DESTROYED)
        .order_by(Dossier.id)).unique().all()
    for other in others:
        held = active_hold(session, other.id)
        if held is not None:
            return (f"còn trong hồ sơ {other.symbol} đang bị tạm giữ theo yêu cầu pháp lý "
                    f"(«{held.reason[:200]}»)")
    if others:
        return "còn trong hồ sơ " + ", ".join(o.symbol for o in others) + " chưa tiêu hủy"
    copy_column = DocumentCopy.incoming_id if kind == "incoming" else DocumentCopy.outgoing_id
    copies = session.scalars(select(DocumentCopy.id).where(copy_column == doc.id)).all()
    if copies:
        return f"là bản gốc của {len(copies)} bản sao còn lưu"
    if kind == "incoming":
        if session.scalars(select(Assignment.id).where(
                Assignment.document_id == doc.id, Assignment.status.in_(OPEN_STATUSES))).first():
            return "còn phân công xử lý chưa hoàn thành"
        return ""
    if doc.status not in (OutgoingStatus.DISPATCHED, OutgoingStatus.REVOKED,
                          OutgoingStatus.REPLACED):
        return f"văn bản đi đang ở trạng thái «{doc.status.label}», chưa phát hành xong"
    if session.scalars(select(OutgoingRecipient.id).where(
            OutgoingRecipient.document_id == doc.id,
            OutgoingRecipient.status == RecipientStatus.PENDING)).first():
        return "còn nơi nhận chưa được gửi"
    return ""


def _document_blobs(session: Session, kind: str, doc) -> list[dict]:
    """Every blob a document references (the same columns as ``maintenance.referenced_blobs``):
    an incoming document's files and their OCR searchable copies; an outgoing one's versions
    (PDF and source), current PDF and signed revisions."""
    from ioffice.ocr.models import OcrJob

    out: dict[str, str] = {}
    if kind == "incoming":
        for f in doc.files:
            out.setdefault(f.sha256, f.filename)
        for source, output in session.execute(select(OcrJob.source_sha256, OcrJob.output_sha256)
                                              .where(OcrJob.document_id == doc.id)):
            if source:
                out.setdefault(source, "bản quét")
            if output:
                out.setdefault(output, "bản tìm kiếm được (OCR)")
    else:
        for v in doc.versions:
            out.setdefault(v.sha256, f"dự thảo lần {v.version_no} (PDF)")
            if v.source_sha256:
                out.setdefault(v.source_sha256, f"dự thảo lần {v.version_no} (tệp gốc)")
        for s in doc.signatures:
            out.setdefault(s.sha256, "bản đã ký số")
            if s.previous_sha256:
                out.setdefault(s.previous_sha256, "bản trước khi ký")
        if doc.current_sha256:
            out.setdefault(doc.current_sha256, "bản hiện hành")
    return [{"sha256": h, "name": n} for h, n in out.items()]


def _forget_text(session: Session, kind: str, doc) -> None:
    """The destroyed document's content goes with its files: its extracted and OCR text are
    emptied and its search entry rewritten from the register's fields alone."""
    from ioffice.incoming.models import DocumentText
    from ioffice.ocr.models import OcrJob
    from ioffice.search import service as search

    if kind == "incoming":
        stored = session.get(DocumentText, doc.id)
        if stored is not None:
            stored.content = ""
        for job in session.scalars(select(OcrJob).where(OcrJob.document_id == doc.id)):
            job.text = ""
        search.index_incoming(session, doc, text="")
    else:
        search.index_outgoing(session, doc, text="")


def destroyed_message(session: Session, doc) -> str | None:
    """«Đã tiêu hủy theo …» for a destroyed document's page and downloads (None if not)."""
    if doc.destruction_id is None:
        return None
    row = session.get(Destruction, doc.destruction_id)
    when = f" (quyết định ngày {row.decided_at:%d/%m/%Y})" if row and row.decided_at else ""
    return (f"Văn bản đã tiêu hủy theo {row.decision if row else 'quyết định tiêu hủy'}{when}, "
            f"cùng hồ sơ hết thời hạn bảo quản (đề nghị tiêu hủy số {doc.destruction_id}); các "
            "tệp của văn bản không còn, chỉ còn thông tin trong sổ đăng ký.")


def restored_destroyed_message(session: Session, row: ImportedPackage) -> str | None:
    """«Hồ sơ đã tiêu hủy theo …» for a destroyed restored dossier (None if not)."""
    if row.destruction_id is None:
        return None
    decision = session.get(Destruction, row.destruction_id)
    when = (f" (quyết định ngày {decision.decided_at:%d/%m/%Y})"
            if decision and decision.decided_at else "")
    return (f"Hồ sơ {row.symbol} đã tiêu hủy theo "
            f"{decision.decision if decision else 'quyết định tiêu hủy'}{when}, hết thời hạn "
            f"bảo quản (đề nghị tiêu hủy số {row.destruction_id}); các tệp của hồ sơ không còn tải "
            "được, chỉ còn mục lục và biên bản tiêu hủy.")


def check_not_destroyed(session: Session, doc) -> None:
    """Downloads of a destroyed document: 410 with the reason."""
    message = destroyed_message(session, doc)
    if message is not None:
        raise Gone(message)


def reject(session: Session, actor: Actor, destruction_id: int, reason: str) -> Destruction:
    row = _decidable(session, actor, destruction_id)
    reason = " ".join(reason.split())
    if not reason or len(reason) > 255:
        raise RecordsError("Hãy ghi lý do không đồng ý tiêu hủy (tối đa 255 ký tự).")
    row.status, row.decided_by_id, row.decided_at = (DestructionStatus.REJECTED, actor.user_id,
                                                     utcnow())
    row.decision = reason
    _audit(session, actor, "records:destruction:reject", "destruction", row.id, reason=reason,
           dossiers=[d.symbol for d in row.holdings])
    return row


def purge(session: Session, blobs: BlobStore, destruction_id: int) -> list[str]:
    """After the approval committed: delete the destroyed dossiers' own files, those no row
    references any more (``maintenance.referenced_blobs``, the rule of the cleanup). Idempotent;
    returns the hashes deleted and notes them in the record; the caller commits."""
    from ioffice.maintenance import PREVIEWS, referenced_blobs

    row = session.get(Destruction, destruction_id)
    if row is None or row.status is not DestructionStatus.DESTROYED:
        return []
    referenced = referenced_blobs(session)
    gone = [h for h in row.record.get("files_to_delete", []) if h not in referenced]
    for sha256 in gone:
        blobs.delete(sha256)
    for sha256 in gone:
        for item in blobs.list_named(f"{PREVIEWS}{sha256}/"):
            blobs.delete_named(item.key)
    row.record = {**row.record, "deleted": sorted(set(row.record.get("deleted", [])) | set(gone)),
                  "kept_shared": sorted(set(row.record.get("files_to_delete", [])) - set(gone))}
    record(session, AuditContext(None, row.agency_id, "system"), "records:destruction:purge",
           subject_type="destruction", subject_id=row.id, details={"deleted": gone})
    session.flush()
    return gone


def _leaders(session: Session, agency_id: int) -> list[int]:
    return list(session.scalars(
        select(Membership.user_id).join(MembershipRole)
        .where(Membership.agency_id == agency_id, MembershipRole.role == Role.LEADER)))
