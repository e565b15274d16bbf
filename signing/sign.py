"""Signing a PDF with a server-held key: PAdES B-B, B-T and B-LT.

Signs with any :class:`~signing.credentials.SigningCredential` (its ``signer()``). Fast path
(see docs/signing.md): a file key stays parsed in the :class:`Credential` (pyHanko's
``SimpleSigner`` re-parses it on every signature), the signature placeholder has a
fixed size (no dry run to measure it), and the stamp font is a pre-made Vietnamese subset.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import time
from enum import StrEnum
from typing import BinaryIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko.sign.signers.pdf_signer import DSSContentSettings, TimestampDSSContentSettings
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator import CertificateValidator
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)

from . import appearance, mdp
from . import marks as _marks
from ._loop import run_sync
from .credentials import KeySigner, SigningCredential  # noqa: F401 (KeySigner: old home)
from .errors import CertificateRejected, SigningError
from .trust import TrustStore

__all__ = [
    "PadesLevel",
    "async_check_certificate",
    "async_sign_pdf",
    "check_certificate",
    "sign_pdf",
]

_CHECK_TTL = 60.0
RESERVED = {"B-B": 12_000, "B-T": 20_000, "B-LT": 20_000, "B-LTA": 20_000}


_LTA_DSS = DSSContentSettings(
    include_vri=False,
    next_ts_settings=TimestampDSSContentSettings(include_vri=False, update_before_ts=True),
)
"""B-LTA in two revisions: the signature, then the DSS with the document timestamp, which
is the last thing in the file (it covers all of it). Without the VRI dictionaries (PAdES
baseline does not use them) nothing needs writing after the timestamp: its TSA is the
signature timestamp's, whose validation data is already in the DSS."""


class PadesLevel(StrEnum):
    """PAdES baseline levels produced by this library."""

    B_B = "B-B"
    """Basic signature."""
    B_T = "B-T"
    """With a signature timestamp from the TSA."""
    B_LT = "B-LT"
    """B-T plus certificates, CRLs and OCSP responses in the document security store."""
    B_LTA = "B-LTA"
    """B-LT plus a document timestamp over everything (signature, its timestamp, the DSS):
    the archival timestamp, renewed before its TSA certificate expires (docs/signing.md,
    "Long-term validation")."""


def check_certificate(
    certificate, chain, trust: TrustStore, moment: dt.datetime | None = None
) -> None:
    """Synchronous :func:`async_check_certificate`."""
    _run(async_check_certificate(certificate, chain, trust, moment))


async def async_check_certificate(
    certificate, chain, trust: TrustStore, moment: dt.datetime | None = None
) -> None:
    """Refuse a certificate that may not sign now: expired, revoked, or not from our roots.

    The path validation (with revocation) is cached for a minute per :class:`TrustStore`
    instance, which is immutable: a revocation produces a new one.
    """
    now = moment or dt.datetime.now(dt.UTC)
    if now < certificate.not_valid_before or now > certificate.not_valid_after:
        raise CertificateRejected(
            "Chứng thư số đã hết hạn hoặc chưa có hiệu lực; không thể ký."
        )
    if int(certificate.serial_number) in trust.revoked_serials():
        raise CertificateRejected("Chứng thư số đã bị thu hồi; không thể ký.")
    key = ("check", hashlib.sha256(certificate.dump()).digest())
    checked = trust._cache.get(key)
    if checked is not None and time.monotonic() - checked < _CHECK_TTL:
        return
    validator = CertificateValidator(
        certificate, intermediate_certs=list(chain),
        validation_context=trust.validation_context(),
    )
    try:
        await validator.async_validate_usage({"non_repudiation"})
    except RevokedError as exc:
        raise CertificateRejected("Chứng thư số đã bị thu hồi; không thể ký.") from exc
    except (ExpiredError, NotYetValidError) as exc:
        raise CertificateRejected("Chứng thư số không còn hiệu lực; không thể ký.") from exc
    except (PathBuildingError, PathValidationError, InvalidCertificateError) as exc:
        raise CertificateRejected(
            "Chứng thư số không do tổ chức chứng thực được tin cậy cấp, hoặc không dùng để ký."
        ) from exc
    trust._cache[key] = time.monotonic()


def _run(coro):
    return run_sync(coro, SigningError)


def _field_name(writer: IncrementalPdfFileWriter, stamp) -> str:
    kind = {
        appearance.PersonalStamp: "ChuKyCaNhan",
        appearance.AgencyStamp: "ChuKyCoQuan",
        appearance.AttachmentStamp: "ChuKyCoQuanPhuLuc",
    }.get(type(stamp), "ChuKy")
    existing = {name for name, _, _ in fields.enumerate_sig_fields(writer.prev)}
    n = 1
    while f"{kind}{n}" in existing:
        n += 1
    return f"{kind}{n}"


def _timestamp_field_name(writer: IncrementalPdfFileWriter) -> str:
    """A free name for the document timestamp's field (``DauThoiGian1``, ``2``, ...)."""
    existing = {name for name, _, _ in fields.enumerate_sig_fields(writer.prev)}
    n = 1
    while f"DauThoiGian{n}" in existing:
        n += 1
    return f"DauThoiGian{n}"


def _page_size(writer: IncrementalPdfFileWriter, index: int) -> tuple[float, float]:
    page_ref, _ = writer.find_page_for_modification(index)
    box = page_ref.get_object()["/MediaBox"]
    return float(box[2]) - float(box[0]), float(box[3]) - float(box[1])


def build_pdf_signer(
    writer: IncrementalPdfFileWriter,
    signer: Signer,
    *,
    trust: TrustStore,
    stamp: appearance.Stamp | None,
    level: PadesLevel,
    timestamper: TimeStamper | None,
    field_name: str | None,
    reason: str | None,
    location: str | None,
    moment: dt.datetime,
    locks: tuple[str, ...] = (),
) -> tuple[signers.PdfSigner, dict[str, str]]:
    """The configured pyHanko PdfSigner and the stamp's text parameters; the new signature
    locks the fields named in ``locks`` (FieldMDP Include)."""
    level = PadesLevel(level)
    if level is not PadesLevel.B_B and timestamper is None:
        raise SigningError(f"PAdES {level.value} needs a timestamper (TSA).")
    name = field_name or _field_name(writer, stamp)
    page = 0 if stamp is None or isinstance(stamp, appearance.AttachmentStamp) else stamp.box.page
    spec = appearance.field_spec(name, stamp, _page_size(writer, page))
    if locks:
        spec = dataclasses.replace(spec, field_mdp_spec=fields.FieldMDPSpec(
            fields.FieldMDPAction.INCLUDE, fields=list(locks)))
    style, params = appearance.style_and_params(stamp, moment)
    lt = level in (PadesLevel.B_LT, PadesLevel.B_LTA)
    meta = signers.PdfSignatureMetadata(
        field_name=name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        embed_validation_info=lt,
        validation_context=trust.validation_context() if lt else None,
        use_pades_lta=level is PadesLevel.B_LTA,
        timestamp_field_name=_timestamp_field_name(writer) if level is PadesLevel.B_LTA else None,
        dss_settings=_LTA_DSS if level is PadesLevel.B_LTA else DSSContentSettings(),
    )
    pdf_signer = signers.PdfSigner(
        meta, signer=signer, timestamper=timestamper if level is not PadesLevel.B_B else None,
        stamp_style=style, new_field_spec=spec,
    )
    return pdf_signer, params


async def async_sign_pdf(
    pdf: bytes | BinaryIO,
    credential: SigningCredential,
    *,
    trust: TrustStore,
    stamp: appearance.Stamp | None = None,
    level: PadesLevel | str = PadesLevel.B_B,
    timestamper: TimeStamper | None = None,
    field_name: str | None = None,
    reason: str | None = None,
    location: str | None = None,
    in_place: bool = False,
    marks: tuple[_marks.TextMark, ...] = (),
) -> bytes | None:
    """Async variant of :func:`sign_pdf` (use it inside a running event loop)."""
    stream = io.BytesIO(pdf) if isinstance(pdf, bytes | bytearray) else pdf
    writer = IncrementalPdfFileWriter(stream, strict=False)
    mdp.refuse_signing(writer.prev, field_name=field_name, visible=stamp is not None)
    if marks:
        _marks.add_marks(writer, tuple(marks))
    await async_check_certificate(credential.certificate, credential.chain, trust)
    moment = dt.datetime.now(dt.UTC)
    pdf_signer, params = build_pdf_signer(
        writer, credential.signer(), trust=trust, stamp=stamp, level=PadesLevel(level),
        timestamper=timestamper, field_name=field_name, reason=reason, location=location,
        moment=moment, locks=tuple(m.name for m in marks),
    )
    out = await pdf_signer.async_sign_pdf(
        writer, bytes_reserved=RESERVED[PadesLevel(level).value],
        appearance_text_params=params, in_place=in_place and not isinstance(pdf, bytes),
    )
    if in_place and not isinstance(pdf, bytes):
        return None
    return out.getvalue()


def sign_pdf(
    pdf: bytes | BinaryIO,
    credential: SigningCredential,
    *,
    trust: TrustStore,
    stamp: appearance.Stamp | None = None,
    level: PadesLevel | str = PadesLevel.B_B,
    timestamper: TimeStamper | None = None,
    field_name: str | None = None,
    reason: str | None = None,
    location: str | None = None,
    in_place: bool = False,
    marks: tuple[_marks.TextMark, ...] = (),
) -> bytes | None:
    """Sign a PDF by incremental update and return the signed bytes.

    :param pdf: the document, as bytes or a binary file (open ``r+b`` with ``in_place=True``
        to sign a large file without copying it into memory; then None is returned).
    :param credential: the server-held key and its certificate chain.
    :param trust: roots and revocation data; the certificate is refused
        (:class:`CertificateRejected`) if expired, revoked or not chaining to a root.
    :param stamp: a :class:`PersonalStamp`, :class:`AgencyStamp`, :class:`AttachmentStamp`,
        or None for an invisible signature.
    :param level: ``B-B``, ``B-T``, ``B-LT`` or ``B-LTA``; all but B-B need ``timestamper``
        (B-LTA asks it twice: the signature's timestamp, then the document timestamp).
    :param marks: text written into the document in this signature's own revision (the
        number and date of issue), see :mod:`signing.marks`.

    A document whose certification or field locks forbid the signature is refused first
    (:class:`ChangesNotPermitted`): certified "no changes" (P=1), a new visible field in a
    certified document, a locked empty field.
    """
    return _run(
        async_sign_pdf(
            pdf, credential, trust=trust, stamp=stamp, level=level, timestamper=timestamper,
            field_name=field_name, reason=reason, location=location, in_place=in_place,
            marks=marks,
        )
    )
