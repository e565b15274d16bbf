"""The two signatures: the designated signer's (PIN or browser key), then the agency's (clerk).

Nothing changes a signed PDF except the next signature: each is an incremental update stored
as a new blob, and the result is validated (every earlier signature still intact and trusted)
before it replaces the previous revision.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pypdfium2 as pdfium
from pyhanko.pdf_utils.misc import PdfError
from sqlalchemy.orm import Session

from ioffice.agencies.actor import Actor
from ioffice.agencies.models import User
from ioffice.agencies.permissions import Op
from ioffice.audit import record
from ioffice.db import utcnow
from ioffice.documents.pdf import open_for_render, render_page
from ioffice.errors import Forbidden
from ioffice.keys import service as keys
from ioffice.keys.models import KeyHolder
from ioffice.keys.stores import DbAttemptStore, DbPendingStore
from ioffice.outgoing import blanks, numbering
from ioffice.outgoing.access import get_document
from ioffice.outgoing.errors import (
    InvalidInput,
    OutgoingError,
    PinRefused,
    SignatureRefused,
    WrongState,
)
from ioffice.outgoing.locks import end_reads
from ioffice.outgoing.models import OutgoingDocument, OutgoingStatus, SignedRevision
from ioffice.outgoing.timestamps import TimestampPolicy
from ioffice.storage import BlobStore
from signing import (
    AgencyStamp,
    Box,
    Credential,
    PadesLevel,
    PendingSignatureError,
    PersonalStamp,
    PinLocked,
    PinProtectedKey,
    Pki,
    PreparedSignature,
    SigningError,
    TrustStore,
    WrongPin,
    finish,
    prepare,
    sign_pdf,
)
from signing.archival import last_timestamp
from signing.tsa import TimestampUnavailable

if TYPE_CHECKING:
    from ioffice.keys.tokens import SealTokens

# the personal signature block: bottom right of the last page, clear of the page margin
BOX_WIDTH, BOX_HEIGHT, RIGHT_MARGIN, BOTTOM_MARGIN = 220.0, 120.0, 50.0, 60.0
AGENCY_LEVEL = PadesLevel.B_LTA
"""The seal: PAdES B-LTA (signature timestamp, DSS, document timestamp; docs/signing.md,
"Long-term validation")."""


def _page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """Width and height, in points, of each page of ``pdf``."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc.get_page_size(i) for i in range(len(doc))]
    finally:
        doc.close()


def _page_size(pdf: bytes, index: int) -> tuple[int, float, float]:
    """The page ``index`` (the last page if there is no such page) and its size."""
    sizes = _page_sizes(pdf)
    index = len(sizes) - 1 if index < 0 or index >= len(sizes) else index
    return index, *sizes[index]


def stamp_box(doc: OutgoingDocument, pdf: bytes) -> Box:
    """Where the personal signature goes: the document's chosen spot, or the bottom right of
    the last page."""
    page, width, _height = _page_size(pdf, doc.stamp_page)
    x1 = doc.stamp_x1 if doc.stamp_x1 is not None else width - RIGHT_MARGIN - BOX_WIDTH
    y1 = doc.stamp_y1 if doc.stamp_y1 is not None else BOTTOM_MARGIN
    return Box(page, x1, y1, x1 + BOX_WIDTH, y1 + BOX_HEIGHT)


PAGE_MARGIN = 10.0
"""The least distance, in points, between the page edge and the signature or the seal."""
LEFT_MARGIN = 85.0
"""30 mm, the left margin of Decree 30's page layout (the right one is 15–20 mm)."""
PLACES: dict[str, Callable[[float, float], tuple[float, float]]] = {
    "duoi-phai": lambda w, h: (w - RIGHT_MARGIN - BOX_WIDTH, BOTTOM_MARGIN),  # the default
    "duoi-giua": lambda w, h: ((w - BOX_WIDTH) / 2, BOTTOM_MARGIN),
    "duoi-trai": lambda w, h: (LEFT_MARGIN, BOTTOM_MARGIN),
    "tren-phai": lambda w, h: (w - RIGHT_MARGIN - BOX_WIDTH, h - BOTTOM_MARGIN - BOX_HEIGHT),
}
"""Preset places (the page form, without a click): the box's lower left corner on a page of
width ``w`` and height ``h``, inside the usual margins."""


def _fraction(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput({name: f"Vị trí {value!r} không phải là số."}) from None
    if not 0.0 <= number <= 1.0:  # NaN fails both
        raise InvalidInput({name: "Vị trí phải nằm trong trang (từ 0 đến 1)."})
    return number


def place_stamp(session: Session, blobs: BlobStore, actor: Actor, document_id: int, page: str,
                x: str = "", y: str = "", place: str = "") -> Box:
    """The designated signer chooses where the signature goes, before signing: ``page`` (from 1)
    and either the point clicked on the page preview (``x``, ``y``: fractions of the page's
    width and height from its top left, the centre of the box) or one of :data:`PLACES`. The
    box, and the agency seal that later overlaps its left part, are kept :data:`PAGE_MARGIN`
    inside the page."""
    doc = _require_signer(session, actor, document_id)
    try:
        number = int(page)
    except ValueError:
        raise InvalidInput({"page": f"Số trang {page!r} không hợp lệ."}) from None
    sizes = _page_sizes(blobs.read_bytes(doc.current_sha256))
    if not 1 <= number <= len(sizes):
        raise InvalidInput({"page": f"Văn bản có {len(sizes)} trang; không có trang {number}."})
    width, height = sizes[number - 1]
    if x or y:  # the centre of the box where the preview was clicked
        x1 = _fraction(x, "x") * width - BOX_WIDTH / 2
        y1 = (1 - _fraction(y, "y")) * height - BOX_HEIGHT / 2
    elif place in PLACES:
        x1, y1 = PLACES[place](width, height)
    else:
        raise InvalidInput({"place": "Chọn vị trí chữ ký hoặc bấm vào trang."})
    index = number - 1
    probe = Box(index, 0.0, 0.0, BOX_WIDTH, BOX_HEIGHT)
    seal = AgencyStamp(probe, "").box
    low_x, low_y = PAGE_MARGIN - min(0.0, seal.x1), PAGE_MARGIN - min(0.0, seal.y1)
    high_x, high_y = width - PAGE_MARGIN - BOX_WIDTH, height - PAGE_MARGIN - BOX_HEIGHT
    if high_x < low_x or high_y < low_y:
        raise InvalidInput({"page": f"Trang {number} quá nhỏ để đặt chữ ký."})
    x1, y1 = min(max(x1, low_x), high_x), min(max(y1, low_y), high_y)
    doc.stamp_page, doc.stamp_x1, doc.stamp_y1 = index, round(x1, 1), round(y1, 1)
    record(session, actor.ctx, "outgoing:signature:position", subject_type="outgoing",
           subject_id=doc.id, details={"page": number, "x1": doc.stamp_x1, "y1": doc.stamp_y1})
    return Box(index, doc.stamp_x1, doc.stamp_y1, doc.stamp_x1 + BOX_WIDTH,
               doc.stamp_y1 + BOX_HEIGHT)


def seal_box(doc: OutgoingDocument, pdf: bytes) -> Box:
    return AgencyStamp(stamp_box(doc, pdf), doc.number_notation or "00/XX").box


def personal_stamp(doc: OutgoingDocument, signer: User, box: Box) -> PersonalStamp:
    return PersonalStamp(box, doc.signer_position.upper(), signer.full_name)


def _require_signer(session: Session, actor: Actor, document_id: int, *, lock: bool = True
                    ) -> OutgoingDocument:
    doc = get_document(session, actor, document_id, for_update=lock)
    if actor.user_id != doc.signer_id:
        raise Forbidden(f"Chỉ người được giao ký ({doc.signer.full_name}) mới ký được văn bản này.")
    actor.check(Op.SIGN)  # a signer who has since lost the leader role
    if doc.status is not OutgoingStatus.APPROVED:
        raise WrongState(f"Văn bản đang ở trạng thái «{doc.status.label}»: chưa ký được "
                         "(phải được duyệt xong và chưa ký).")
    return doc


def check_next_signature(previous: bytes, signed: bytes, expected: int, serial: str) -> None:
    """The hot-path guarantee that ``signed`` is ``previous`` plus exactly one new signature.

    A full ``validate_pdf`` here re-validated every signature (certificate paths, revocation,
    timestamp tokens) each time: about half the cost of the agency step. It is not needed:
    the signer's certificate was checked against the trust store by ``sign_pdf`` / ``finish``
    just before, and each earlier signature was checked when its revision was stored. What
    must hold is that nothing but the next signature changed the document:

    - ``signed`` begins with every byte of ``previous`` (an incremental update): the earlier
      signatures cover exactly what they covered, so they still validate as they did;
    - it has ``expected`` signatures and the newest, by the certificate ``serial``, covers the
      whole file, with a digest and a signature value that verify (integrity, no path check);
    - the revision appended after each earlier signature is only a signature (pyHanko's
      difference analysis: form filling at most).

    Incoming documents from other agencies are still fully validated on receipt.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.generic_cms import validate_sig_integrity
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    refused = "Bản đã ký không hợp lệ, không được lưu: "
    if not signed.startswith(previous) or len(signed) == len(previous):
        raise OutgoingError(refused + "bản ký không giữ nguyên nội dung đã có trước khi ký.")
    try:
        embedded = list(PdfFileReader(io.BytesIO(signed), strict=False).embedded_signatures)
        # PAdES B-LTA: the new signature may be followed by its document timestamp (and the
        # validation data of both), which pyHanko appends in the same signing
        trailing = 0
        while trailing < len(embedded) and _is_timestamp(embedded[-1 - trailing]):
            trailing += 1
        signatures_ = [e for e in embedded if not _is_timestamp(e)]
        if len(signatures_) != expected or trailing == len(embedded):
            raise OutgoingError(refused + f"có {len(signatures_)} chữ ký, cần {expected}.")
        newest = embedded[-1 - trailing]
        newest.compute_integrity_info(skip_diff=not trailing)
        intact, valid = validate_sig_integrity(
            newest.signer_info, newest.signer_cert, expected_content_type="data",
            actual_digest=newest.compute_digest())
        if serial and f"{int(newest.signer_cert.serial_number):x}" != f"{int(serial):x}":
            raise OutgoingError(refused + "chữ ký mới không phải của chứng thư đã dùng để ký.")
        whole = newest.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
            trailing and newest.coverage == SignatureCoverageLevel.ENTIRE_REVISION
            and newest.diff_result.modification_level == ModificationLevel.LTA_UPDATES)
        if not (intact and valid) or not whole:
            raise OutgoingError(refused + "chữ ký mới không khớp với nội dung tệp.")
        for stamp in embedded[len(embedded) - trailing:]:
            _check_document_timestamp(stamp, refused)
        for earlier in embedded[:-1 - trailing]:
            earlier.compute_integrity_info()
            level = getattr(earlier.diff_result, "modification_level", None)
            if earlier.coverage != SignatureCoverageLevel.ENTIRE_REVISION or level not in (
                    ModificationLevel.NONE, ModificationLevel.LTA_UPDATES,
                    ModificationLevel.FORM_FILLING):
                raise OutgoingError(refused + "phần thêm vào sau chữ ký trước không chỉ là chữ ký.")
    except (SignatureValidationError, ValueError, KeyError, TypeError) as exc:
        raise OutgoingError(refused + f"không đọc được chữ ký ({exc}).") from exc


def _is_timestamp(embedded) -> bool:
    return str(embedded.sig_object_type) == "/DocTimeStamp"


def _check_document_timestamp(stamp, refused: str) -> None:
    """A document timestamp appended with a B-LTA signature covers the file up to itself
    (its token's imprint is the digest of those bytes) and is followed only by validation
    data. Its token was checked against the trust store when it was received
    (:class:`signing.tsa.HttpTimestamper`)."""
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    stamp.compute_integrity_info()
    tst_info = stamp.signed_data["encap_content_info"]["content"].parsed
    if tst_info["message_imprint"]["hashed_message"].native != stamp.compute_digest():
        raise OutgoingError(refused + "dấu thời gian văn bản không khớp với nội dung tệp.")
    level = getattr(stamp.diff_result, "modification_level", None)
    if not (stamp.coverage == SignatureCoverageLevel.ENTIRE_FILE
            or (stamp.coverage == SignatureCoverageLevel.ENTIRE_REVISION
            and level in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES))):
        raise OutgoingError(refused + "có dữ liệu khác ngoài dữ liệu kiểm tra chữ ký được thêm "
                            "vào sau dấu thời gian văn bản.")


def _store_signed(session: Session, blobs: BlobStore, actor: Actor, doc: OutgoingDocument,
                  previous: bytes, signed: bytes, *, kind: str, method: str, serial: str,
                  expected: int) -> SignedRevision:
    """Keep a signed revision only if it is the previous one plus exactly the new signature."""
    check_next_signature(previous, signed, expected, serial)
    previous_sha = doc.current_sha256
    info = blobs.put_bytes(signed)
    revision = SignedRevision(kind=kind, method=method, sha256=info.sha256,
                              previous_sha256=previous_sha, size=info.size,
                              certificate_serial=serial, signer_id=actor.user_id)
    doc.signatures.append(revision)
    doc.current_sha256 = info.sha256
    return revision


def _personal_done(session: Session, blobs: BlobStore, actor: Actor, doc: OutgoingDocument,
                   previous: bytes, signed: bytes, box: Box, method: str, serial: str
                   ) -> SignedRevision:
    revision = _store_signed(session, blobs, actor, doc, previous, signed, kind="personal",
                             method=method, serial=serial, expected=1)
    _personal_signed(session, actor, doc, revision, box, method)
    return revision


def _personal_signed(session: Session, actor: Actor, doc: OutgoingDocument,
                     revision: SignedRevision, box: Box, method: str) -> None:
    doc.status, doc.signed_at, doc.pending_handle = OutgoingStatus.SIGNED, utcnow(), ""
    doc.stamp_page, doc.stamp_x1, doc.stamp_y1 = box.page, box.x1, box.y1
    session.flush()
    record(session, actor.ctx, "outgoing:signature:personal", subject_type="outgoing",
           subject_id=doc.id, details={"method": method, "certificate": revision.certificate_serial,
                                       "sha256": revision.sha256})


class ResetLater(DbAttemptStore):
    """The PIN attempt store, but a right PIN's reset of the failure count (a ``DELETE``) is
    kept for :meth:`reset_now`, after the slow signing: nothing is written before it. A wrong
    PIN's count is written at once (no signing follows it)."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.pending: list[str] = []

    def reset(self, key_id: str) -> None:
        self.pending.append(key_id)

    def reset_now(self) -> None:
        for key_id in self.pending:
            super().reset(key_id)
        self.pending.clear()


def sign_with_pin(session: Session, blobs: BlobStore, trust: TrustStore, actor: Actor,
                  document_id: int, pin: str) -> SignedRevision:
    """Remote signing with the designated signer's server-held key, unlocked by the PIN.

    A wrong PIN raises :class:`PinRefused` (a :class:`PersistedFailure`: commit, so the count
    that locks the key after five stays counted).
    """
    doc = _require_signer(session, actor, document_id, lock=False)
    row = keys.personal_certificate(session, actor.user_id, actor.agency_id, KeyHolder.PIN)
    if row is None or row.protected_key is None:
        raise OutgoingError("Bạn chưa có khóa ký số dùng mã PIN; hãy ký bằng khóa trên trình "
                            "duyệt hoặc đề nghị quản trị cấp khóa.")
    protected = PinProtectedKey.from_bytes(row.protected_key)
    attempts = ResetLater(session)
    try:
        credential = protected.unlock(pin, attempts)
    except (WrongPin, PinLocked) as exc:
        locked = isinstance(exc, PinLocked)
        record(session, actor.ctx, "outgoing:signature:pin-locked" if locked
               else "outgoing:signature:wrong-pin", subject_type="outgoing", subject_id=doc.id,
               details={"certificate": row.serial})
        raise PinRefused(str(exc), locked=locked) from exc
    revision = _sign_with_credential(session, blobs, trust, actor, doc.id, credential, "pin")
    attempts.reset_now()
    return revision


def sign_with_server_key(session: Session, blobs: BlobStore, trust: TrustStore, actor: Actor,
                         document_id: int, credential: Credential, *, method: str = "server"
                         ) -> SignedRevision:
    """Signing with a credential the caller already holds (batch tools, the benchmark; a PIN
    key unlocked once for several documents: ``method="pin"``)."""
    return _sign_with_credential(session, blobs, trust, actor, document_id, credential, method)


@dataclass(frozen=True)
class PersonalSignature:
    """The signer's signature made, checked and stored as a blob before any lock is taken."""

    previous_sha256: str
    sha256: str
    size: int
    serial: str
    box: Box
    placed: tuple[int, float | None, float | None]
    """The document's chosen place when the signature was made (it must not have moved)."""


def make_personal_signature(session: Session, blobs: BlobStore, trust: TrustStore,
                            doc: OutgoingDocument, credential: Credential) -> PersonalSignature:
    """The slow part of the personal signature, after the caller's read transaction ended
    (:func:`end_reads`): no lock is held while it runs."""
    signer = doc.signer  # loaded now, with the reads
    end_reads(session)  # the last read: nothing below touches the database
    pdf = blobs.read_bytes(doc.current_sha256)
    box = stamp_box(doc, pdf)
    try:
        signed = sign_pdf(pdf, credential, trust=trust, stamp=personal_stamp(doc, signer, box))
    except SigningError as exc:  # certificate refused, certification forbids, ...
        raise OutgoingError(str(exc)) from exc
    serial = str(credential.serial)
    check_next_signature(pdf, signed, 1, serial)
    info = blobs.put_bytes(signed)
    return PersonalSignature(doc.current_sha256, info.sha256, info.size, serial, box,
                             (doc.stamp_page, doc.stamp_x1, doc.stamp_y1))


def keep_personal_signature(session: Session, actor: Actor, document_id: int,
                            signature: PersonalSignature, method: str) -> SignedRevision:
    """The short locked part: the document, locked, still waits for this signer's signature
    over the same revision at the same place; the signature becomes its current revision."""
    doc = _require_signer(session, actor, document_id)
    if (doc.current_sha256 != signature.previous_sha256
            or (doc.stamp_page, doc.stamp_x1, doc.stamp_y1) != signature.placed):
        raise WrongState("Văn bản đã thay đổi trong lúc ký; hãy tải lại trang và ký lại.")
    revision = SignedRevision(kind="personal", method=method, sha256=signature.sha256,
                              previous_sha256=signature.previous_sha256, size=signature.size,
                              certificate_serial=signature.serial, signer_id=actor.user_id)
    doc.signatures.append(revision)
    doc.current_sha256 = signature.sha256
    _personal_signed(session, actor, doc, revision, signature.box, method)
    return revision


def _sign_with_credential(session: Session, blobs: BlobStore, trust: TrustStore, actor: Actor,
                          document_id: int, credential: Credential, method: str
                          ) -> SignedRevision:
    """Sign with nothing locked (reads only), then keep the signature in a short locked write."""
    doc = _require_signer(session, actor, document_id, lock=False)
    signature = make_personal_signature(session, blobs, trust, doc, credential)
    return keep_personal_signature(session, actor, document_id, signature, method)


def _signer_ref(actor: Actor, doc: OutgoingDocument) -> str:
    """A prepared signature is bound to its signer AND its document."""
    return f"user:{actor.user_id}/outgoing:{doc.id}"


def prepare_browser_signature(session: Session, blobs: BlobStore, pki: Pki, trust: TrustStore,
                              actor: Actor, document_id: int) -> PreparedSignature:
    """Phase one for a key in the signer's browser: the bytes its key must sign."""
    doc = _require_signer(session, actor, document_id)
    row = keys.browser_certificate(session, actor.user_id, actor.agency_id)
    if row is None:
        raise OutgoingError("Trình duyệt này chưa có khóa ký số được cấp chứng thư; hãy tạo khóa "
                            "trước.")
    certificate = pki.certificate(int(row.serial))
    pdf = blobs.read_bytes(doc.current_sha256)
    box = stamp_box(doc, pdf)
    store = DbPendingStore(session)
    store.purge_expired()  # abandoned signing sessions (each holds a copy of its PDF)
    try:
        prepared = prepare(pdf, certificate, chain=keys.certificate_chain(trust, certificate),
                           signer_id=_signer_ref(actor, doc), trust=trust,
                           store=store, stamp=personal_stamp(doc, doc.signer, box),
                           ttl=dt.timedelta(minutes=10))
    except SigningError as exc:  # certificate refused, certification forbids, ...
        raise OutgoingError(str(exc)) from exc
    doc.pending_handle = prepared.handle
    record(session, actor.ctx, "outgoing:signature:prepare", subject_type="outgoing",
           subject_id=doc.id, details={"certificate": row.serial})
    return prepared


def finish_browser_signature(session: Session, blobs: BlobStore, trust: TrustStore, actor: Actor,
                             document_id: int, handle: str, value: bytes) -> SignedRevision:
    """Phase two: the value is verified against the certificate and the prepared bytes before
    it is embedded. A refused value uses the session up (:class:`SignatureRefused`: commit)."""
    doc = _require_signer(session, actor, document_id)
    store = DbPendingStore(session)
    try:
        signed = finish(handle, value, signer_id=_signer_ref(actor, doc), store=store, trust=trust)
    except (PendingSignatureError, SigningError) as exc:
        record(session, actor.ctx, "outgoing:signature:refused", subject_type="outgoing",
               subject_id=doc.id, details={"reason": str(exc)})
        doc.pending_handle = ""
        raise SignatureRefused(str(exc)) from exc
    previous = blobs.read_bytes(doc.current_sha256)
    box = stamp_box(doc, previous)
    row = keys.browser_certificate(session, actor.user_id, actor.agency_id)
    return _personal_done(session, blobs, actor, doc, previous, signed, box, "browser",
                          row.serial if row else "")


NOT_NUMBERED = ("Chỉ ký số cơ quan được văn bản đã có chữ ký của người có thẩm quyền và "
                "đã được cấp số (hiện: «{label}»).")


@dataclass(frozen=True)
class AgencySeal:
    """The agency signature made, checked and stored as a blob before any lock is taken:
    what :func:`store_agency_seal` needs, under the lock, to keep it."""

    previous_sha256: str
    sha256: str
    size: int
    serial: str
    number_notation: str
    written: tuple[str, ...]
    without_timestamp: str = ""
    """Why the seal has no timestamp (PAdES B-B, only if the admin allowed it); "" if it has."""
    timestamp_at: dt.datetime | None = None
    """The archival (document) timestamp's time; None without a timestamp."""
    timestamp_expires: dt.datetime | None = None
    """When that timestamp's TSA certificate expires (the re-timestamp job renews it before)."""

    @property
    def level(self) -> str:
        return PadesLevel.B_B.value if self.without_timestamp else AGENCY_LEVEL.value


NO_TIMESTAMP = ("Chưa đóng dấu (ký số cơ quan) được: {reason} Văn bản chưa thay đổi gì; hãy thử "
                "lại sau ít phút, nếu vẫn lỗi hãy báo quản trị hệ thống.")


def make_agency_seal(session: Session, blobs: BlobStore, pki: Pki, trust: TrustStore,
                     actor: Actor, doc: OutgoingDocument,
                     plan: numbering.NumberPlan | None = None, *,
                     tsa: TimestampPolicy, tokens: SealTokens | None = None) -> AgencySeal:
    """The slow part of the agency signature (sign, timestamp, check, store the blob), done
    with reads only: the caller holds no lock and has written nothing yet. ``plan``: the number
    and date to write, when the document is not numbered yet (the one action). Ends the
    caller's read transaction (:func:`end_reads`) before signing.

    The timestamp comes from ``tsa`` over HTTP (bounded by its timeout). If it cannot be had,
    :class:`OutgoingError` (nothing was written), or, if ``tsa.fallback_bb``, a seal without
    one whose ``without_timestamp`` says why. ``tokens``: agency seals held in PKCS#11
    tokens (the agency's is used when configured)."""
    number_notation = plan.number_notation if plan is not None else doc.number_notation
    number_text = plan.number_text if plan is not None else doc.number_text
    issued = plan.date if plan is not None else doc.promulgation_date
    assert issued is not None and number_text is not None  # set with the number
    pdf = blobs.read_bytes(doc.current_sha256)
    credential = keys.seal_credential(session, pki, actor.agency_id, tokens)
    end_reads(session)  # the last read: nothing below touches the database
    stamp = AgencyStamp(stamp_box(doc, pdf), number_notation)
    # the number and date go into the blanks the signed draft left, in the seal's revision
    marks = blanks.marks_for(blanks.find_blanks(pdf), number_text, issued)
    without_timestamp = ""
    try:
        try:
            signed = sign_pdf(pdf, credential, trust=trust, stamp=stamp, level=AGENCY_LEVEL,
                              timestamper=tsa.timestamper(trust), marks=marks)
        except TimestampUnavailable as exc:
            if not tsa.fallback_bb:
                raise OutgoingError(NO_TIMESTAMP.format(reason=str(exc).rstrip(".") + ".")
                                    ) from exc
            without_timestamp = str(exc)
            signed = sign_pdf(pdf, credential, trust=trust, stamp=stamp, level=PadesLevel.B_B,
                              marks=marks)
    except SigningError as exc:  # certificate refused, certification forbids, ...
        raise OutgoingError(str(exc)) from exc
    except (PdfError, ValueError, KeyError, TypeError) as exc:  # pyHanko cannot update this PDF
        raise OutgoingError(f"Không ký số được tệp PDF của văn bản ({exc}); chưa có gì thay "
                            "đổi. Hãy báo quản trị hệ thống.") from exc
    serial = str(credential.serial)
    check_next_signature(pdf, signed, 2, serial)
    last = last_timestamp(signed)
    info = blobs.put_bytes(signed)
    return AgencySeal(doc.current_sha256, info.sha256, info.size, serial, number_notation,
                      tuple(m.name for m in marks), without_timestamp,
                      last.time if last else None, last.expires if last else None)


def store_agency_seal(session: Session, actor: Actor, doc: OutgoingDocument, seal: AgencySeal
                      ) -> SignedRevision:
    """Keep a seal made by :func:`make_agency_seal` on the document, locked by the caller and
    still numbered as the seal says, over the revision it was made on."""
    if doc.status is not OutgoingStatus.NUMBERED:
        raise WrongState(NOT_NUMBERED.format(label=doc.status.label))
    if doc.current_sha256 != seal.previous_sha256 or doc.number_notation != seal.number_notation:
        raise WrongState("Văn bản đã thay đổi trong lúc ký số cơ quan; hãy tải lại trang và "
                         "thử lại.")
    revision = SignedRevision(kind="agency", method="seal", sha256=seal.sha256,
                              previous_sha256=seal.previous_sha256, size=seal.size,
                              certificate_serial=seal.serial, signer_id=actor.user_id)
    revision.without_timestamp = seal.without_timestamp
    revision.level = seal.level
    revision.timestamp_at, revision.timestamp_expires = seal.timestamp_at, seal.timestamp_expires
    doc.signatures.append(revision)
    doc.current_sha256 = seal.sha256
    doc.status, doc.sealed_at = OutgoingStatus.SEALED, utcnow()
    session.flush()
    details = {"certificate": revision.certificate_serial, "sha256": revision.sha256,
               "number_notation": doc.number_notation, "written": list(seal.written),
               "level": seal.level}
    if seal.without_timestamp:
        details["without_timestamp"] = seal.without_timestamp
    record(session, actor.ctx, "outgoing:signature:agency", subject_type="outgoing",
           subject_id=doc.id, details=details)
    return revision


def apply_agency_signature(session: Session, blobs: BlobStore, pki: Pki, trust: TrustStore,
                           actor: Actor, document_id: int, *,
                           tsa: TimestampPolicy,
                           tokens: SealTokens | None = None) -> SignedRevision:
    """The clerk's agency signature: seal over the left third of the personal signature, with
    number, notation and time (+07:00), timestamped and archival-timestamped (PAdES B-LTA).

    The seal is made before the document is locked (reads only), then kept in a short write
    under the lock if the document is still as it was sealed (else :class:`WrongState`)."""
    actor.check(Op.SEAL)
    doc = get_document(session, actor, document_id)
    if doc.status is not OutgoingStatus.NUMBERED:
        raise WrongState(NOT_NUMBERED.format(label=doc.status.label))
    seal = make_agency_seal(session, blobs, pki, trust, actor, doc, tsa=tsa, tokens=tokens)
    doc = get_document(session, actor, document_id, for_update=True)
    return store_agency_seal(session, actor, doc, seal)


def stamp_preview_png(doc: OutgoingDocument, pdf: bytes, width_px: int = 700) -> bytes:
    """The page the signature goes on, with the personal box (blue) and, once numbered, the
    seal's place (red) outlined: what the signer sees before signing."""
    import io

    from PIL import ImageDraw

    box = stamp_box(doc, pdf)
    pdf_doc = open_for_render(pdf)
    try:
        page = pdf_doc[box.page]
        width_pt, height_pt = page.get_size()
        scale = width_px / width_pt
        image = render_page(page, scale).convert("RGB")
    finally:
        pdf_doc.close()
    draw = ImageDraw.Draw(image, "RGBA")

    def rect(b: Box, color: tuple[int, int, int]) -> None:
        xy = (b.x1 * scale, (height_pt - b.y2) * scale, b.x2 * scale, (height_pt - b.y1) * scale)
        draw.rectangle(xy, outline=(*color, 255), fill=(*color, 40), width=3)

    rect(box, (30, 80, 200))
    if doc.status in (OutgoingStatus.SIGNED, OutgoingStatus.NUMBERED):
        rect(seal_box(doc, pdf), (200, 30, 30))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
