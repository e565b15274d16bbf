"""Hand-over to the agency's archive (nộp lưu, Decree 30/2020 art. 30, Appendix V forms III, V).

The keeper picks closed dossiers; the app writes the hand-over record (Biên bản giao nhận,
form V) with the submission list (Mục lục hồ sơ, tài liệu nộp lưu, form III) as one PDF; the
keeper signs it with their PIN key, the archive (``Role.ARCHIVIST``) checks it and either signs
it too (accepted: the dossiers are archived) or returns it with a reason (the dossiers are the
keeper's again, closed). The signatures are the app's own PIN signing (``signing.sign_pdf``
with the person's ``PinProtectedKey``, as outgoing documents are signed), each checked as one
more signature over the unchanged earlier revision. Each signature carries a timestamp from the
agency's TSA (``outgoing/timestamps.py``, the policy the seal uses: a TSA that cannot answer
refuses the signature, or, with ``IOFFICE_TSA_FALLBACK_BB``, signs without one, noted in the
audit event): the keeper's is PAdES B-T; the archive's, the last, is B-LTA (the validation
data and a document timestamp after it), so a record kept for as long as the dossiers it
lists stays verifiable. docs/records.md, "Signatures".

Within a year of the work's end (art. 30.2.b) the dossier must be handed over: its keeper is
told 30 days before (:func:`remind_keepers`, a periodic job of the worker).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.agencies import service as agencies
from ioffice.agencies.actor import Actor
from ioffice.agencies.models import Agency, Membership, MembershipRole, Role, User
from ioffice.agencies.permissions import Op
from ioffice.agencies.places import place_of
from ioffice.audit import record
from ioffice.db import utcnow
from ioffice.errors import Forbidden, NotFound
from ioffice.keys import service as keys
from ioffice.keys.models import KeyHolder
from ioffice.notifications import Kind, notify
from ioffice.outgoing.errors import OutgoingError, PinRefused
from ioffice.outgoing.signatures import AGENCY_LEVEL, ResetLater, check_next_signature
from ioffice.outgoing.timestamps import TimestampPolicy
from ioffice.records import record_pdf as record_layout
from ioffice.records.models import Dossier, DossierStatus, Handover, HandoverStatus
from ioffice.records.service import RecordsError
from ioffice.storage import BlobStore
from signing import (
    Box,
    PadesLevel,
    PersonalStamp,
    PinLocked,
    PinProtectedKey,
    SigningError,
    TrustStore,
    WrongPin,
)
from signing import sign_pdf as _sign_pdf
from signing.archival import last_timestamp
from signing.tsa import TimestampUnavailable

__all__ = [
    "ARCHIVE_BOX",
    "KEEPER_BOX",
    "accept",
    "cancel",
    "get_handover",
    "record_pdf",
    "remind_keepers",
    "return_handover",
    "sign_as_keeper",
    "start",
]

REMIND_DAYS = 30
KEEPER_BOX = Box(0, 60, 70, 280, 170)
ARCHIVE_BOX = Box(0, 315, 70, 535, 170)
KEEPER_LEVEL = PadesLevel.B_T
"""The keeper's signature: with its timestamp (the archive's signature follows it)."""
ARCHIVE_LEVEL = AGENCY_LEVEL
"""The archive's, the last: B-LTA, as an agency seal (validation data, document timestamp)."""
NO_TIMESTAMP = ("Chưa ký được biên bản: {reason} Biên bản chưa thay đổi gì; hãy thử lại sau "
                "ít phút, nếu vẫn lỗi hãy báo quản trị hệ thống.")


def _audit(session: Session, actor: Actor, tag: str, handover: Handover, **details: object
           ) -> None:
    record(session, actor.ctx, tag, subject_type="handover", subject_id=handover.id,
           details=details)


def get_handover(session: Session, actor: Actor, handover_id: int, *, for_update: bool = False
                 ) -> Handover:
    """Seen by its keeper, the archive, the clerks and the leaders of the agency."""
    actor.check(Op.VIEW_RECORDS)
    row = session.get(Handover, handover_id, with_for_update=for_update)
    if row is None or row.agency_id != actor.agency_id or not (
            row.keeper_id == actor.user_id or actor.has(Role.ARCHIVIST, Role.CLERK, Role.LEADER)):
        raise NotFound("Không tìm thấy biên bản giao nhận này.")
    return row


def handovers(session: Session, actor: Actor, *, after: int | None = None, limit: int = 200
              ) -> list[Handover]:
    """The actor's own hand-overs; all of the agency's for the archive, the clerks and the
    leaders. Newest first, ``limit`` of them below the id ``after`` (paging by key)."""
    actor.check(Op.VIEW_RECORDS)
    stmt = select(Handover).where(Handover.agency_id == actor.agency_id)
    if not actor.has(Role.ARCHIVIST, Role.CLERK, Role.LEADER):
        stmt = stmt.where(Handover.keeper_id == actor.user_id)
    if after is not None:
        stmt = stmt.where(Handover.id < after)
    return list(session.scalars(stmt.order_by(Handover.id.desc()).limit(limit)))


def _title(session: Session, user: User, agency_id: int) -> str:
    return agencies.post_title(session, user, agency_id) or "Chuyên viên"


def record_pdf(session: Session, handover: Handover, dossiers: list[Dossier], today: dt.date
               ) -> bytes:
    """The record (form V) on page 1, the submission list (form III) on the next pages
    (:mod:`ioffice.records.record_pdf`)."""
    agency = session.get(Agency, handover.agency_id)
    keeper = session.get(User, handover.keeper_id)
    parent = session.get(Agency, agency.parent_id) if agency.parent_id else None
    lines = tuple(record_layout.DossierLine(
        d.symbol, d.title, f"{(d.start_date or d.end_date):%d/%m/%Y} – {d.end_date:%d/%m/%Y}",
        d.retention_label, str(d.page_count or "")) for d in dossiers)
    return record_layout.render(record_layout.RecordText(
        number=handover.id, parent_name=parent.name if parent else "", agency_name=agency.name,
        place=place_of(agency), date=today,
        years=", ".join(str(y) for y in sorted({d.file_list.year for d in dossiers})),
        keeper_name=keeper.full_name, keeper_title=_title(session, keeper, agency.id),
        first=min(d.start_date or d.end_date for d in dossiers),
        last=max(d.end_date for d in dossiers),
        files=sum(len([i for i in d.items if i.kind.value != "note"]) for d in dossiers),
        dossiers=lines), KEEPER_BOX, ARCHIVE_BOX)


def start(session: Session, blobs: BlobStore, actor: Actor, dossier_ids: list[int],
          today: dt.date) -> Handover:
    """The keeper's closed dossiers into a new hand-over, its record written (unsigned)."""
    actor.check(Op.HAND_OVER)
    if not dossier_ids:
        raise RecordsError("Hãy chọn ít nhất một hồ sơ đã kết thúc để nộp lưu.")
    dossiers = []
    for dossier_id in sorted(set(dossier_ids)):
        d = session.get(Dossier, dossier_id, with_for_update=True)
        if d is None or d.agency_id != actor.agency_id or d.keeper_id != actor.user_id:
            raise RecordsError(f"Không có hồ sơ mã {dossier_id} do bạn lập trong cơ quan; chỉ "
                               "nộp lưu được hồ sơ của mình.")
        if d.status is not DossierStatus.CLOSED:
            raise RecordsError(f"Hồ sơ {d.symbol} đang ở trạng thái «{d.status.label}»; chỉ nộp "
                               "lưu được hồ sơ đã kết thúc.")
        if d.handover_id is not None:
            raise RecordsError(f"Hồ sơ {d.symbol} đã nằm trong biên bản giao nhận số "
                               f"{d.handover_id}; hãy ký hoặc hủy biên bản đó.")
        dossiers.append(d)
    handover = Handover(agency_id=actor.agency_id, keeper_id=actor.user_id)
    session.add(handover)
    session.flush()
    for d in dossiers:
        d.handover_id = handover.id
    handover.record_sha256 = blobs.put_bytes(record_pdf(session, handover, dossiers, today)).sha256
    session.flush()
    _audit(session, actor, "records:handover:start", handover,
           dossiers=[d.symbol for d in dossiers], sha256=handover.record_sha256)
    return handover


def _pin_credential(session: Session, actor: Actor, handover: Handover, pin: str, tag: str):
    row = keys.personal_certificate(session, actor.user_id, actor.agency_id, KeyHolder.PIN)
    if row is None or row.protected_key is None:
        raise RecordsError("Bạn chưa có khóa ký số dùng mã PIN; hãy tạo khóa ở trang «Chữ ký số "
                           "của tôi» rồi ký biên bản.")
    attempts = ResetLater(session)
    try:
        credential = PinProtectedKey.from_bytes(row.protected_key).unlock(pin, attempts)
    except (WrongPin, PinLocked) as exc:
        locked = isinstance(exc, PinLocked)
        _audit(session, actor, f"{tag}-pin-locked" if locked else f"{tag}-wrong-pin", handover,
               certificate=row.serial)
        raise PinRefused(str(exc), locked=locked) from exc
    return credential, attempts


def _sign(session: Session, blobs: BlobStore, trust: TrustStore, actor: Actor,
          handover: Handover, pin: str, box: Box, expected: int, tag: str,
          tsa: TimestampPolicy | None, level: PadesLevel) -> dict[str, str]:
    """One more PIN signature over the record, at ``level`` with a timestamp from ``tsa``
    (None: no policy given, PAdES B-B). Returns the audit details: the certificate's serial,
    the level reached and, if the TSA could not answer and the fallback is on, why there is
    no timestamp."""
    credential, attempts = _pin_credential(session, actor, handover, pin, tag)
    user = session.get(User, actor.user_id)
    previous = blobs.read_bytes(handover.record_sha256)
    stamp = PersonalStamp(box, _title(session, user, actor.agency_id).upper(), user.full_name)
    field = f"BienBan{expected}"
    done: dict[str, str] = {"level": PadesLevel.B_B.value}
    try:
        if tsa is None:
            signed = _sign_pdf(previous, credential, trust=trust, stamp=stamp, field_name=field)
        else:
            try:
                signed = _sign_pdf(previous, credential, trust=trust, stamp=stamp,
                                   field_name=field, level=level,
                                   timestamper=tsa.timestamper(trust))
                done["level"] = level.value
            except TimestampUnavailable as exc:
                if not tsa.fallback_bb:
                    attempts.reset_now()  # the PIN was right
                    raise RecordsError(NO_TIMESTAMP.format(reason=str(exc).rstrip(".") + ".")
                                       ) from exc
                done["without_timestamp"] = str(exc)
                signed = _sign_pdf(previous, credential, trust=trust, stamp=stamp,
                                   field_name=field)
    except SigningError as exc:
        raise RecordsError(f"Chưa ký được biên bản: {exc}") from exc
    serial = str(credential.serial)
    try:
        check_next_signature(previous, signed, expected, serial)
    except OutgoingError as exc:
        raise RecordsError(exc.message) from exc
    handover.record_sha256 = blobs.put_bytes(signed).sha256
    attempts.reset_now()
    done["certificate"] = serial
    return done


def _own_draft(session: Session, actor: Actor, handover_id: int) -> Handover:
    actor.check(Op.HAND_OVER)
    handover = get_handover(session, actor, handover_id, for_update=True)
    if handover.keeper_id != actor.user_id:
        raise Forbidden("Chỉ người nộp lưu (bên giao) mới ký hoặc hủy biên bản này.")
    if handover.status is not HandoverStatus.DRAFT:
        raise RecordsError(f"Biên bản đang ở trạng thái «{handover.status.label}»; bên giao đã "
                           "ký rồi.")
    return handover


def sign_as_keeper(session: Session, blobs: BlobStore, trust: TrustStore, actor: Actor,
                   handover_id: int, pin: str, *, tsa: TimestampPolicy | None = None
                   ) -> Handover:
    """The giving side signs (PAdES B-T with ``tsa``): the hand-over goes to the archive, its
    dossiers wait there."""
    handover = _own_draft(session, actor, handover_id)
    signed = _sign(session, blobs, trust, actor, handover, pin, KEEPER_BOX, 1,
                   "records:handover:keeper", tsa, KEEPER_LEVEL)
    handover.keeper_serial = signed.pop("certificate")
    handover.status, handover.submitted_at = HandoverStatus.SUBMITTED, utcnow()
    for d in handover.dossiers:
        d.status = DossierStatus.SUBMITTED
    session.flush()
    _audit(session, actor, "records:handover:submit", handover, certificate=handover.keeper_serial,
           sha256=handover.record_sha256, **signed)
    notify(session, archivists(session, actor.agency_id), Kind.RECORDS, agency_id=actor.agency_id,
           text=f"{actor.full_name} nộp lưu {len(handover.dossiers)} hồ sơ (biên bản số "
                f"{handover.id}): chờ Lưu trữ nhận.", exclude=actor.user_id)
    return handover


def cancel(session: Session, actor: Actor, handover_id: int) -> Handover:
    """The keeper drops an unsigned hand-over: the dossiers are free again."""
    handover = _own_draft(session, actor, handover_id)
    symbols = [d.symbol for d in handover.dossiers]
    for d in handover.dossiers:
        d.handover_id = None
    handover.status, handover.decided_at = HandoverStatus.RETURNED, utcnow()
    handover.return_reason = "Bên giao hủy trước khi ký."
    _audit(session, actor, "records:handover:cancel", handover, dossiers=symbols)
    return handover


def _submitted(session: Session, actor: Actor, handover_id: int) -> Handover:
    actor.check(Op.RECEIVE_RECORDS)
    handover = get_handover(session, actor, handover_id, for_update=True)
    if handover.status is not HandoverStatus.SUBMITTED:
        raise RecordsError(f"Biên bản đang ở trạng thái «{handover.status.label}»; chỉ nhận hoặc "
                           "trả lại được biên bản bên giao đã ký.")
    return handover


def accept(session: Session, blobs: BlobStore, trust: TrustStore, actor: Actor,
           handover_id: int, pin: str, *, tsa: TimestampPolicy | None = None) -> Handover:
    """The archive signs as the receiving side (PAdES B-LTA with ``tsa``): the dossiers are
    archived."""
    handover = _submitted(session, actor, handover_id)
    signed = _sign(session, blobs, trust, actor, handover, pin, ARCHIVE_BOX, 2,
                   "records:handover:archive", tsa, ARCHIVE_LEVEL)
    handover.archivist_serial = signed.pop("certificate")
    handover.level = signed["level"]
    last = last_timestamp(blobs.read_bytes(handover.record_sha256))  # when to renew it
    if last is not None:
        handover.timestamp_at, handover.timestamp_expires = last.time, last.expires
    handover.status, handover.decided_at = HandoverStatus.ACCEPTED, utcnow()
    handover.archivist_id = actor.user_id
    for d in handover.dossiers:
        d.status = DossierStatus.ARCHIVED
    session.flush()
    _audit(session, actor, "records:handover:accept", handover,
           certificate=handover.archivist_serial, sha256=handover.record_sha256,
           dossiers=[d.symbol for d in handover.dossiers], **signed)
    notify(session, [handover.keeper_id], Kind.RECORDS, agency_id=actor.agency_id,
           text=f"Lưu trữ cơ quan đã nhận {len(handover.dossiers)} hồ sơ bạn nộp lưu (biên bản "
                f"số {handover.id}).", exclude=actor.user_id)
    return handover


def return_handover(session: Session, actor: Actor, handover_id: int, reason: str) -> Handover:
    """The archive sends it back (incomplete, wrong retention...): the dossiers are closed
    dossiers of their keeper again."""
    handover = _submitted(session, actor, handover_id)
    reason = " ".join(reason.split())
    if not reason or len(reason) > 2000:
        raise RecordsError("Hãy ghi lý do trả lại (tối đa 2000 ký tự) để người nộp lưu bổ sung.")
    symbols = [d.symbol for d in handover.dossiers]
    for d in handover.dossiers:
        d.status, d.handover_id = DossierStatus.CLOSED, None
    handover.status, handover.decided_at = HandoverStatus.RETURNED, utcnow()
    handover.archivist_id, handover.return_reason = actor.user_id, reason
    _audit(session, actor, "records:handover:return", handover, reason=reason, dossiers=symbols)
    notify(session, [handover.keeper_id], Kind.RECORDS, agency_id=actor.agency_id,
           text=f"Lưu trữ cơ quan trả lại biên bản nộp lưu số {handover.id}: {reason[:200]}",
           exclude=actor.user_id)
    return handover


def archivists(session: Session, agency_id: int) -> list[int]:
    return list(session.scalars(
        select(Membership.user_id).join(MembershipRole)
        .where(Membership.agency_id == agency_id, MembershipRole.role == Role.ARCHIVIST)))


def remind_keepers(session: Session, today: dt.date) -> int:
    """Tell each keeper of a closed dossier, once, 30 days before its hand-over deadline (one
    year after the work ended). Returns the number of dossiers reminded."""
    horizon = today + dt.timedelta(days=REMIND_DAYS)
    candidates = session.scalars(select(Dossier).where(
        Dossier.status == DossierStatus.CLOSED, Dossier.reminded_on.is_(None),
        Dossier.end_date <= horizon - dt.timedelta(days=364))).all()
    due = [d for d in candidates if d.handover_deadline and d.handover_deadline <= horizon]
    for d in due:
        d.reminded_on = today
        notify(session, [d.keeper_id], Kind.RECORDS, agency_id=d.agency_id,
               text=f"Hồ sơ {d.symbol} «{d.title[:120]}» phải nộp lưu trước ngày "
                    f"{d.handover_deadline:%d/%m/%Y} (01 năm sau khi kết thúc).")
        record(session, _system_ctx(d.agency_id), "records:dossier:remind",
               subject_type="dossier", subject_id=d.id,
               details={"deadline": d.handover_deadline.isoformat()})
    session.flush()
    return len(due)


def _system_ctx(agency_id: int):
    from ioffice.audit import AuditContext

    return AuditContext(None, agency_id, "worker")


def run(rt) -> None:
    """The worker's periodic job (``PERIODIC_JOBS``)."""
    from ioffice.incoming.registration import today_vn

    with rt.session_factory() as session:
        remind_keepers(session, today_vn())
        session.commit()
