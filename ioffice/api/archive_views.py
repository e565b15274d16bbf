"""/api/v1/records: the archive's side of the records. Hand-overs (nộp lưu) of closed dossiers,
retention and destruction, legal holds, imported dossier packages and the dossiers they
restore.

Each handler calls the service function its web page (``ioffice.web.records``) calls, after the
same role rule (``operation=``): ``ioffice.records.handover`` (start, sign_as_keeper, cancel,
accept, return_handover), ``ioffice.records.retention`` (expired_dossiers, expired_restored,
propose, approve then purge, reject, hold, lift_hold) and ``ioffice.records.package``
(import_package, imported, get_imported, imported_file). The object rules (only the keeper
signs or cancels, only the archive accepts, a dossier of another agency looks missing) are in
those functions.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from flask import Response
from sqlalchemy import select

from ioffice.agencies.models import User
from ioffice.agencies.permissions import Op
from ioffice.api import archive_schemas as a
from ioffice.api.outgoing_schemas import PinIn
from ioffice.api.routing import MULTIPART, Call
from ioffice.api.schemas import next_after
from ioffice.api.tokens import Scope
from ioffice.api.views import api
from ioffice.incoming.errors import InvalidInput
from ioffice.incoming.registration import today_vn
from ioffice.records import handover as handovers
from ioffice.records import package, retention
from ioffice.records.models import Dossier, ImportedPackage
from ioffice.services import services
from ioffice.storage.errors import StorageError

HANDOVER, RETENTION, PACKAGES = "records: hand-over", "records: retention", "records: packages"
PDF, ZIP = "application/pdf", "application/zip"
HANDOVER_LINKS = ("get_handover", "sign_handover", "cancel_handover", "accept_handover",
                  "return_handover", "download_handover_record")


def _download(data: bytes, name: str, media: str) -> Response:
    resp = Response(data, mimetype=media)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return resp


# ----------------------------------------------------------------------------- hand-overs


def _handover(call: Call, handover_id: int) -> a.HandoverOut:
    h = handovers.get_handover(call.session, call.actor, handover_id)
    call.session.flush()
    call.session.refresh(h)
    ids = {h.keeper_id}
    names = dict(call.session.execute(select(User.id, User.full_name).where(User.id.in_(ids))
                                      ).all())
    return a.handover_out(h, names)


@api.get("/records/handovers", summary="Hand-overs to the archive: the caller's own, or all "
         "the agency's for the archive, clerks and leaders", tag=HANDOVER, query=a.HandoverQuery,
         response=a.HandoverPage, errors=(403,), operation=Op.VIEW_RECORDS)
def list_handovers(call: Call) -> a.HandoverPage:
    """Newest first, paginated by key (`next_after`)."""
    q = call.query
    rows = handovers.handovers(call.session, call.actor, after=q.after, limit=q.limit)
    names = dict(call.session.execute(select(User.id, User.full_name).where(
        User.id.in_({h.keeper_id for h in rows}))).all()) if rows else {}
    return a.HandoverPage(items=[a.handover_out(h, names) for h in rows],
                          next_after=next_after(rows, q.limit))


@api.post("/records/handovers", summary="Start a hand-over of the caller's closed dossiers "
          "(the record written, unsigned)", tag=HANDOVER, body=a.HandoverIn,
          response=a.HandoverOut, status=201, errors=(400, 403), operation=Op.HAND_OVER,
          links=HANDOVER_LINKS)
def start_handover(call: Call) -> a.HandoverOut:
    """Only the caller's own dossiers, each closed and in no other hand-over (400 naming the
    first that is not). The record (Appendix V form V with the list, form III) is made now;
    the keeper then signs it (`sign`)."""
    h = handovers.start(call.session, services().blobs, call.actor, call.body.dossier_ids,
                        today_vn())
    return _handover(call, h.id)


@api.get("/records/handovers/<int:handover_id>", summary="A hand-over: its state, dossiers and "
         "signatures", tag=HANDOVER, response=a.HandoverOut, errors=(403, 404),
         operation=Op.VIEW_RECORDS, links=("download_handover_record",))
def get_handover(call: Call, handover_id: int) -> a.HandoverOut:
    """Its keeper, the archive, the clerks and the leaders read it; others get 404."""
    return _handover(call, handover_id)


@api.get("/records/handovers/<int:handover_id>/record", summary="The hand-over record as PDF, "
         "with the signatures made so far", tag=HANDOVER, response_media=PDF,
         errors=(403, 404), operation=Op.VIEW_RECORDS)
def download_handover_record(call: Call, handover_id: int) -> Response:
    h = handovers.get_handover(call.session, call.actor, handover_id)
    return _download(services().blobs.read_bytes(h.record_sha256),
                     f"bien-ban-giao-nhan-{h.id}.pdf", PDF)


@api.post("/records/handovers/<int:handover_id>/sign", summary="The keeper signs the record "
          "with their PIN key: handed over to the archive", tag=HANDOVER, body=PinIn,
          response=a.HandoverOut, errors=(400, 403, 404), operation=Op.HAND_OVER,
          scope=Scope.SIGN)
def sign_handover(call: Call, handover_id: int) -> a.HandoverOut:
    """The keeper only (403 for another), once (400 after). PAdES B-T with the agency's
    timestamp. A wrong PIN answers 400 and is counted (five lock the key). The web offers no
    browser-key (two-phase) signing of a record, so neither does the API."""
    s = services()
    handovers.sign_as_keeper(call.session, s.blobs, s.trust, call.actor, handover_id,
                             call.body.pin.strip(), tsa=s.timestamps)
    return _handover(call, handover_id)


@api.post("/records/handovers/<int:handover_id>/cancel", summary="The keeper drops an unsigned "
          "hand-over: the dossiers are free again", tag=HANDOVER, response=a.HandoverOut,
          errors=(400, 403, 404), operation=Op.HAND_OVER)
def cancel_handover(call: Call, handover_id: int) -> a.HandoverOut:
    handovers.cancel(call.session, call.actor, handover_id)
    return _handover(call, handover_id)


@api.post("/records/handovers/<int:handover_id>/accept", summary="The archive accepts: signs "
          "the record with its PIN key, the dossiers are archived", tag=HANDOVER, body=PinIn,
          response=a.HandoverOut, errors=(400, 403, 404), operation=Op.RECEIVE_RECORDS,
          scope=Scope.SIGN)
def accept_handover(call: Call, handover_id: int) -> a.HandoverOut:
    """A hand-over the keeper signed (400 otherwise). PAdES B-LTA. A wrong PIN answers 400 and
    is counted."""
    s = services()
    handovers.accept(call.session, s.blobs, s.trust, call.actor, handover_id,
                     call.body.pin.strip(), tsa=s.timestamps)
    return _handover(call, handover_id)


@api.post("/records/handovers/<int:handover_id>/return", summary="The archive returns it with "
          "a reason: the dossiers are the keeper's again", tag=HANDOVER, body=a.ReturnHandoverIn,
          response=a.HandoverOut, errors=(400, 403, 404), operation=Op.RECEIVE_RECORDS)
def return_handover(call: Call, handover_id: int) -> a.HandoverOut:
    handovers.return_handover(call.session, call.actor, handover_id, call.body.reason)
    return _handover(call, handover_id)


# ----------------------------------------------------------------------------- retention


def _expired_key(d: Dossier | ImportedPackage) -> tuple[str, str, int]:
    return (d.retention_end.isoformat(), d.kind, d.id)


def _expired_after(raw: str | None) -> tuple[str, str, int] | None:
    if raw is None:
        return None
    end, _, rest = raw.partition(":")
    kind, _, ident = rest.partition(":")
    try:
        dt.date.fromisoformat(end)
        if kind not in retention.KINDS or not ident.isdigit():
            raise ValueError(raw)
    except ValueError:
        raise InvalidInput({"after": "Con trỏ trang không hợp lệ: dùng `next_after` của trang "
                                     "trước."}) from None
    return (end, kind, int(ident))


@api.get("/records/retention/expired", summary="Dossiers whose retention has ended (the "
         "archive, leaders, clerks)", tag=RETENTION, query=a.ExpiredQuery,
         response=a.ExpiredPage, errors=(403,), operation=Op.VIEW_RETENTION)
def list_expired(call: Call) -> a.ExpiredPage:
    """The agency's closed or archived dossiers and its restored ones whose retention has
    ended (the end of the work plus N years; permanent ones never) and that are not destroyed,
    with their active legal hold. By the end of retention, then kind and id; paginated by
    key."""
    q, today = call.query, today_vn()
    after = _expired_after(q.after)
    rows = sorted([*retention.expired_dossiers(call.session, call.actor, today),
                   *retention.expired_restored(call.session, call.actor, today)],
                  key=_expired_key)
    if after is not None:
        rows = [d for d in rows if _expired_key(d) > after]
    rows = rows[:q.limit]
    items = [a.expired_out(d, retention.active_hold(call.session, d.id, d.kind)) for d in rows]
    last = ":".join(map(str, _expired_key(rows[-1]))) if len(rows) == q.limit else None
    return a.ExpiredPage(items=items, next_after=last)


@api.post("/records/destructions", summary="Propose destroying expired dossiers (the archive)",
          tag=RETENTION, body=a.DestructionIn, response=a.DestructionOut, status=201,
          errors=(400, 403), operation=Op.PROPOSE_DESTRUCTION,
          links=("get_destruction", "approve_destruction", "reject_destruction"))
def propose_destruction(call: Call) -> a.DestructionOut:
    """Each dossier of the agency, expired, not held, not destroyed nor in another pending
    proposal (400 naming the first that is not). The leaders are told."""
    b = call.body
    row = retention.propose(call.session, call.actor, b.dossier_ids, b.reason, today_vn(),
                            package_ids=b.package_ids)
    call.session.flush()
    call.session.refresh(row)
    return a.destruction_out(row)


@api.get("/records/destructions", summary="Proposals and decisions to destroy, newest first",
         tag=RETENTION, query=a.DestructionQuery, response=a.DestructionPage, errors=(403,),
         operation=Op.VIEW_RETENTION)
def list_destructions(call: Call) -> a.DestructionPage:
    q = call.query
    rows = retention.destructions(call.session, call.actor, after=q.after, limit=q.limit)
    return a.DestructionPage(items=[a.destruction_out(r) for r in rows],
                             next_after=next_after(rows, q.limit))


@api.get("/records/destructions/<int:destruction_id>", summary="A proposal, its decision and "
         "the record of what was destroyed", tag=RETENTION, response=a.DestructionOut,
         errors=(403, 404), operation=Op.VIEW_RETENTION)
def get_destruction(call: Call, destruction_id: int) -> a.DestructionOut:
    return a.destruction_out(retention.destruction(call.session, call.actor, destruction_id))


@api.post("/records/destructions/<int:destruction_id>/approve", summary="The leader's decision "
          "to destroy: the dossiers' files are deleted, the record kept", tag=RETENTION,
          body=a.DestructionDecisionIn, response=a.DestructionOut, errors=(400, 403, 404),
          operation=Op.APPROVE_DESTRUCTION)
def approve_destruction(call: Call, destruction_id: int) -> a.DestructionOut:
    """Every dossier is checked again (a hold set since the proposal refuses it, 400). As on
    the page, the decision is committed first, then the files no row needs any more are
    deleted (`files_deleted`); if the storage cannot be reached the decision stands and the
    periodic cleanup deletes them (`files_deleted` null)."""
    session = call.session
    retention.approve(session, call.actor, destruction_id, call.body.decision, today_vn())
    session.commit()
    try:
        gone: list[str] | None = retention.purge(session, services().blobs, destruction_id)
        session.commit()
    except (StorageError, OSError):
        session.rollback()
        gone = None
    row = retention.destruction(session, call.actor, destruction_id)
    return a.destruction_out(row, len(gone) if gone is not None else None)


@api.post("/records/destructions/<int:destruction_id>/reject", summary="The leader refuses: "
          "the dossiers stay", tag=RETENTION, body=a.RejectDestructionIn,
          response=a.DestructionOut, errors=(400, 403, 404), operation=Op.APPROVE_DESTRUCTION)
def reject_destruction(call: Call, destruction_id: int) -> a.DestructionOut:
    row = retention.reject(call.session, call.actor, destruction_id, call.body.reason)
    return a.destruction_out(row)


@api.post("/records/dossiers/<int:dossier_id>/hold", summary="Set a legal hold on a dossier "
          "(archive, leader): it is not destroyed until lifted", tag=RETENTION, body=a.HoldIn,
          response=a.HoldOut, status=201, errors=(400, 403, 404), operation=Op.LEGAL_HOLD)
def hold_dossier(call: Call, dossier_id: int) -> a.HoldOut:
    """A dossier the caller may read (404 otherwise); not destroyed, not already held (400)."""
    return a.hold_out(retention.hold(call.session, call.actor, dossier_id, call.body.reason))


@api.post("/records/dossiers/<int:dossier_id>/lift-hold", summary="Lift a dossier's legal hold "
          "(archive, leader)", tag=RETENTION, body=a.HoldIn, response=a.HoldOut,
          errors=(400, 403, 404), operation=Op.LEGAL_HOLD)
def lift_dossier_hold(call: Call, dossier_id: int) -> a.HoldOut:
    return a.hold_out(retention.lift_hold(call.session, call.actor, dossier_id,
                                          call.body.reason))


@api.post("/records/restored/<int:package_id>/hold", summary="Set a legal hold on a restored "
          "dossier (archive, leader)", tag=RETENTION, body=a.HoldIn, response=a.HoldOut,
          status=201, errors=(400, 403, 404), operation=Op.LEGAL_HOLD)
def hold_restored(call: Call, package_id: int) -> a.HoldOut:
    return a.hold_out(retention.hold(call.session, call.actor, package_id, call.body.reason,
                                     kind="restored"))


@api.post("/records/restored/<int:package_id>/lift-hold", summary="Lift a restored dossier's "
          "legal hold (archive, leader)", tag=RETENTION, body=a.HoldIn, response=a.HoldOut,
          errors=(400, 403, 404), operation=Op.LEGAL_HOLD)
def lift_restored_hold(call: Call, package_id: int) -> a.HoldOut:
    return a.hold_out(retention.lift_hold(call.session, call.actor, package_id,
                                          call.body.reason, kind="restored"))


# ----------------------------------------------------------------------------- packages


def _restored(call: Call, package_id: int) -> a.RestoredOut:
    row = package.get_imported(call.session, call.actor, package_id)
    return a.restored_out(row, retention.active_hold(call.session, row.id, "restored"),
                          retention.restored_destroyed_message(call.session, row))


@api.post("/records/packages", summary="Import an electronic dossier package (ZIP) from another "
          "installation (the archive)", tag=PACKAGES, body=a.PackageForm, body_media=MULTIPART,
          files="file", single_file=True, file_media=ZIP,
          file_text="The package (ZIP) as `GET /records/dossiers/{id}/package` makes it.",
          response=a.RestoredOut, status=201, errors=(400, 403, 413), operation=Op.RECEIVE_RECORDS,
          links=("get_restored", "hold_restored"))
def import_package(call: Call) -> a.RestoredOut:
    """multipart/form-data with one `file` part. Every SHA-256 of the manifest and every
    signature is checked: a package changed after export, or one that is not a package,
    answers 400 with the page's message («Gói hồ sơ không hợp lệ, chưa được nhập: …»); the same
    dossier (agency code, year, symbol) imported a second time answers 400 too. The dossier is
    restored read-only."""
    files = call.extra["files"]
    if len(files) > 1:
        raise InvalidInput({"file": "Gửi đúng một tệp gói hồ sơ (.zip) trong phần «file»."})
    upload = files[0] if files else None
    s = services()
    row = package.import_package(call.session, s.blobs, s.trust, call.actor,
                                 (upload.filename or "") if upload else "",
                                 upload.read() if upload else b"")
    return _restored(call, row.id)


@api.get("/records/restored", summary="Dossiers restored from imported packages (the archive "
         "and the leaders)", tag=PACKAGES, query=a.RestoredQuery, response=a.RestoredPage,
         operation=Op.VIEW_RECORDS)
def list_restored(call: Call) -> a.RestoredPage:
    """Newest first, paginated by key; empty for who may not read them."""
    q = call.query
    rows = package.imported(call.session, call.actor, after=q.after, limit=q.limit)
    return a.RestoredPage(items=[a.restored_summary(p) for p in rows],
                          next_after=next_after(rows, q.limit))


@api.get("/records/restored/<int:package_id>", summary="A restored dossier: its metadata, "
         "documents and files (read-only)", tag=PACKAGES, response=a.RestoredOut,
         errors=(403, 404), operation=Op.VIEW_RECORDS)
def get_restored(call: Call, package_id: int) -> a.RestoredOut:
    """The archive and the leaders read it; others get 404, as for another agency's."""
    return _restored(call, package_id)


@api.get("/records/restored/<int:package_id>/documents/<int:ordinal>/files/<int:index>",
         summary="One file of a restored dossier, byte for byte as in the package",
         tag=PACKAGES, response_media="application/octet-stream", errors=(403, 404, 410),
         operation=Op.VIEW_RECORDS)
def download_restored_file(call: Call, package_id: int, ordinal: int, index: int) -> Response:
    """Signatures intact; audited as a read. A destroyed dossier's files answer 410."""
    name, data = package.imported_file(call.session, services().blobs, call.actor, package_id,
                                       ordinal, index)
    return _download(data, name, "application/octet-stream")
