"""Validating every signature and document timestamp of a PDF, with a verdict for a clerk.

Rules on top of pyHanko's checks: any exception is "invalid" (never a crash); the newest
signature or timestamp must cover the entire file; an earlier signature may only be followed
by signature fields being filled (a second approval signature) or by long-term validation data.
A certification (DocMDP P=1/2/3) or a field lock applies to every later revision
(:mod:`signing.mdp`); in a document certified P=2 (P=3), unsigned form filling (and
annotations) after the newest signature is allowed and reported in the notes.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass
from enum import StrEnum

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import (
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel

from . import mdp
from ._loop import run_sync
from .trust import TrustStore

__all__ = ["LEVEL_NAMES", "SignatureReport", "ValidationReport", "Verdict", "async_validate_pdf",
           "validate_pdf"]

_log = logging.getLogger(__name__)
_ACCEPTABLE_LATER_CHANGES = (
    ModificationLevel.NONE,
    ModificationLevel.LTA_UPDATES,
    ModificationLevel.FORM_FILLING,
)


class Verdict(StrEnum):
    """The one answer a clerk needs."""

    VALID = "valid"
    """Hợp lệ."""
    INVALID = "invalid"
    """Không hợp lệ."""


@dataclass(frozen=True)
class SignatureReport:
    """What was found about one signature or document timestamp."""

    field_name: str
    """Name of the signature field."""
    kind: str
    """``signature`` or ``timestamp``."""
    signer_name: str | None
    """Common name of the signer (full name, or agency name for a seal)."""
    agency: str | None
    """Organisation in the certificate."""
    agency_id: str | None
    """Agency identifier in the certificate, e.g. ``000.00.00.H12``."""
    position: str | None
    """Position title in a personal certificate."""
    certificate_serial: str | None
    """Serial number of the signer's certificate, hexadecimal."""
    signing_time: dt.datetime | None
    """The time the signer claims, or the timestamp's time."""
    timestamp_time: dt.datetime | None
    """Time from a trusted signature timestamp (B-T and above), if any."""
    intact: bool
    """The signed bytes are unchanged and the signature value verifies."""
    trusted: bool
    """The certificate chains to a configured root and was valid (not revoked) at signing."""
    revoked: bool
    """The certificate (or a CA above it) is revoked."""
    coverage: str
    """``entire_file``, ``entire_revision``, ``contiguous_block_from_start`` or ``unknown``."""
    modification_level: str
    """What changed after this signature: ``none``, ``lta_updates``, ``form_filling``,
    ``annotations``, ``other`` or ``unknown``."""
    verdict: Verdict
    """Valid or invalid."""
    explanation: str
    """Why, in Vietnamese."""
    reason: str = ""
    """Code of the rule broken, empty if valid: ``unreadable``, ``not_intact``, ``revoked``,
    ``untrusted``, ``timestamp_invalid``, ``not_covering_file``, ``partial_coverage``,
    ``modified_after_signing``, ``docmdp_no_changes``, ``docmdp_form_fill_only``,
    ``docmdp_annotations`` or ``field_locked``."""
    certification_level: int | None = None
    """DocMDP /P of a certification signature (1, 2 or 3); None for an approval signature."""
    unsigned_changes: str = ""
    """For a valid newest signature: ``form_filling`` or ``annotations`` made after it and
    allowed by the document's certification level; empty otherwise."""


@dataclass(frozen=True)
class ValidationReport:
    """All signatures of a document, oldest first, and the verdict on the whole document."""

    signatures: tuple[SignatureReport, ...]
    """One report per signature or document timestamp."""
    verdict: Verdict
    """Valid only if every signature is valid."""
    explanation: str
    """Why, in Vietnamese."""
    reason: str = ""
    """The first invalid signature's :attr:`SignatureReport.reason` (or ``not_pdf``,
    ``no_signature``); empty if valid."""
    certification_level: int | None = None
    """DocMDP /P of the document's certification (1, 2 or 3), None if not certified."""
    notes: tuple[str, ...] = ()
    """What a valid document still shows the clerk (unsigned changes allowed by its
    certification), in Vietnamese."""
    level: str = ""
    """The PAdES baseline level the newest signature reached: ``B-B`` (no timestamp),
    ``B-T`` (a signature timestamp), ``B-LT`` (and validation data in the DSS), ``B-LTA``
    (and a document timestamp after it); "" without a signature."""
    archival_time: dt.datetime | None = None
    """The time of the newest document timestamp (the archival timestamp), if any."""

    @property
    def valid(self) -> bool:
        return self.verdict is Verdict.VALID


def _name_attr(cert: asn1_x509.Certificate | None, attr: str) -> str | None:
    if cert is None:
        return None
    try:
        return cert.subject.native.get(attr)
    except Exception:
        return None


def _invalid(field_name: str, kind: str, explanation: str, cert=None,
             reason: str = "unreadable") -> SignatureReport:
    return SignatureReport(
        field_name=field_name, kind=kind, signer_name=_name_attr(cert, "common_name"),
        agency=_name_attr(cert, "organization_name"),
        agency_id=_name_attr(cert, "organization_identifier"),
        position=_name_attr(cert, "title"),
        certificate_serial=f"{int(cert.serial_number):x}" if cert is not None else None,
        signing_time=None, timestamp_time=None, intact=False, trusted=False, revoked=False,
        coverage="unknown", modification_level="unknown", verdict=Verdict.INVALID,
        explanation=explanation, reason=reason,
    )


_UNSIGNED_CHANGE_NAMES = {
    ModificationLevel.FORM_FILLING: "phần điền biểu mẫu",
    ModificationLevel.ANNOTATIONS: "chú thích hoặc phần điền biểu mẫu",
}


async def _report(embedded, vc, newest: bool, certification: mdp.Certification | None = None,
                  policy=None) -> SignatureReport:
    field_name = embedded.field_name or "?"
    is_ts = str(embedded.sig_object_type) == "/DocTimeStamp"
    kind = "timestamp" if is_ts else "signature"
    cert = None
    try:
        cert = embedded.signer_cert
        if is_ts:
            status = await async_validate_pdf_timestamp(embedded, validation_context=vc)
            signing_time = status.timestamp
            ts_time = status.timestamp
        else:
            status = await async_validate_pdf_signature(
                embedded, signer_validation_context=vc, diff_policy=policy)
            signing_time = status.signer_reported_dt
            tv = status.timestamp_validity
            ts_time = tv.timestamp if tv is not None else None
    except (SignatureValidationError, ValueError, KeyError, TypeError) as exc:
        _log.info("signature %s unreadable: %s", field_name, exc)
        return _invalid(field_name, kind, "Chữ ký bị hỏng hoặc không đọc được.", cert)
    except Exception as exc:
        _log.info("signature %s failed validation: %r", field_name, exc)
        return _invalid(field_name, kind, "Chữ ký bị hỏng hoặc không đọc được.", cert)

    coverage = status.coverage
    level = status.modification_level
    revoked = bool(status.revoked)
    trusted = bool(status.trusted)
    intact = bool(status.intact and status.valid)
    signer = _name_attr(cert, "common_name")
    breach = None if is_ts else mdp.judge(embedded, status, signer=signer, policy=policy)
    acceptable = _ACCEPTABLE_LATER_CHANGES
    if certification is not None and certification.permission is MDPPerm.ANNOTATE:
        acceptable = (*acceptable, ModificationLevel.ANNOTATIONS)
    unsigned = (
        newest and coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and mdp.unsigned_changes_allowed(certification, level)
    )
    ts_ok = True
    if not is_ts and status.timestamp_validity is not None:
        tv = status.timestamp_validity
        ts_ok = bool(tv.intact and tv.valid and tv.trusted)
    if not intact:
        why, reason = "Nội dung đã bị thay đổi sau khi ký: chữ ký không còn khớp với văn bản.", \
            "not_intact"
    elif revoked:
        why, reason = "Chứng thư số của người ký đã bị thu hồi.", "revoked"
    elif not trusted:
        why, reason = _untrusted_explanation(cert, status), "untrusted"
    elif not ts_ok:
        why, reason = "Dấu thời gian của chữ ký không hợp lệ hoặc không được tin cậy.", \
            "timestamp_invalid"
    elif breach is not None:
        why, reason = breach.message, breach.reason
    elif newest and coverage != SignatureCoverageLevel.ENTIRE_FILE and not (
        coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and (level == ModificationLevel.LTA_UPDATES or unsigned)
    ):
        # Only validation data (DSS, document timestamps) may follow the newest signature.
        why, reason = (
            "Chữ ký mới nhất không bao trùm toàn bộ tệp: có dữ liệu bị thêm vào sau khi ký."
        ), "not_covering_file"
    elif coverage not in (SignatureCoverageLevel.ENTIRE_FILE,
                          SignatureCoverageLevel.ENTIRE_REVISION):
        why, reason = "Chữ ký không bao trùm toàn bộ phiên bản văn bản đã ký.", "partial_coverage"
    elif level not in acceptable:
        why, reason = (
            "Văn bản đã bị sửa đổi sau khi ký (nội dung, chú thích hoặc mã lệnh được thêm "
            "vào): không còn là văn bản đã được ký."
        ), "modified_after_signing"
    else:
        why, reason = "", ""
    verdict = Verdict.INVALID if why else Verdict.VALID
    unsigned = unsigned and not why
    if not why:
        who = signer or "người ký"
        why = (
            "Dấu thời gian hợp lệ, do tổ chức được tin cậy cấp." if is_ts else
            f"Chữ ký của {who} hợp lệ: văn bản không bị thay đổi, chứng thư số được tin cậy "
            "và chưa bị thu hồi."
        )
        if unsigned:
            what = "Dấu thời gian hợp lệ, do tổ chức được tin cậy cấp" if is_ts else (
                f"Chữ ký của {who} hợp lệ: chứng thư số được tin cậy và chưa bị thu hồi")
            why = (
                f"{what}; sau đó có {_UNSIGNED_CHANGE_NAMES[level]} chưa được ký, được phép "
                "theo mức chứng thực của văn bản."
            )
    cert_level = _certification_level(embedded)
    return SignatureReport(
        field_name=field_name, kind=kind, signer_name=_name_attr(cert, "common_name"),
        agency=_name_attr(cert, "organization_name"),
        agency_id=_name_attr(cert, "organization_identifier"),
        position=_name_attr(cert, "title"),
        certificate_serial=f"{int(cert.serial_number):x}" if cert is not None else None,
        signing_time=signing_time, timestamp_time=ts_time, intact=intact, trusted=trusted,
        revoked=revoked, coverage=coverage.name.lower() if coverage else "unknown",
        modification_level=level.name.lower() if level else "unknown",
        verdict=verdict, explanation=why, reason=reason, certification_level=cert_level,
        unsigned_changes=level.name.lower() if unsigned else "",
    )


def _issuer_name(cert: asn1_x509.Certificate | None) -> str | None:
    if cert is None:
        return None
    try:
        names = cert.issuer.native
        return names.get("common_name") or names.get("organization_name") or \
            cert.issuer.human_friendly
    except Exception:
        return None


def _untrusted_explanation(cert: asn1_x509.Certificate | None, status) -> str:
    """Why a signature is not trusted, naming who issued the certificate: a clerk (or the
    system administrator, who imports trust anchors) must know which CA it is."""
    issuer = _issuer_name(cert)
    indic = getattr(status, "trust_problem_indic", None)
    if issuer and indic is not None and indic.name == "NO_CERTIFICATE_CHAIN_FOUND":
        return (f"Chứng thư số do «{issuer}» cấp, nhưng tổ chức chứng thực này không nằm trong "
                "danh sách được tin cậy của hệ thống (chưa nhập chứng thư gốc của tổ chức đó).")
    by = f" (tổ chức cấp: «{issuer}»)" if issuer else ""
    return (f"Chứng thư số{by} không do tổ chức chứng thực được tin cậy cấp, đã hết hạn, "
            "hoặc không kiểm tra được tình trạng thu hồi.")


def _document_revinfo(reader: PdfFileReader, trust: TrustStore) -> TrustStore:
    """``trust`` plus the CRLs and OCSP responses the document carries in its DSS (PAdES
    B-LT), for issuers the trust store holds no revocation data of: a certificate of an
    imported CA (trust anchors) is then checked against what its signer embedded, as
    revocation is required for every certificate and nothing is fetched. The store's own data
    always wins (an older CRL carried by a document cannot hide a revocation the store
    knows). A new store, so what it learns is never reused for other documents."""
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except Exception:  # no DSS, or one we cannot read: the store alone
        return trust
    known = trust.revocation_issuers()
    crls, ocsps = [], []
    for ref in dss.crls:
        try:
            data = ref.get_object().data
            if asn1_crl.CertificateList.load(data).issuer.dump() not in known.names:
                crls.append(data)
        except Exception:
            continue
    for ref in dss.ocsps:
        try:
            data = ref.get_object().data
            basic = asn1_ocsp.OCSPResponse.load(data).basic_ocsp_response
            hashes = {r["cert_id"]["issuer_name_hash"].native
                      for r in basic["tbs_response_data"]["responses"]}
            if not hashes & known.name_sha1s:
                ocsps.append(data)
        except Exception:
            continue
    if not crls and not ocsps:
        return trust
    return trust.with_anchors(crls=tuple(crls), ocsps=tuple(ocsps))


def _level(reports: list[SignatureReport], has_dss: bool) -> tuple[str, dt.datetime | None]:
    """The PAdES level of the newest signature and the newest document timestamp's time."""
    signed = [i for i, r in enumerate(reports) if r.kind == "signature"]
    stamps = [r.timestamp_time for r in reports if r.kind == "timestamp" and r.timestamp_time]
    archival = stamps[-1] if stamps else None
    if not signed:
        return "", archival
    newest = reports[signed[-1]]
    after = [r for r in reports[signed[-1] + 1:] if r.kind == "timestamp"]
    if newest.timestamp_time is None:
        level = "B-B"
    elif not has_dss:
        level = "B-T"
    elif after:
        level = "B-LTA"
    else:
        level = "B-LT"
    return level, archival


LEVEL_NAMES = {
    "B-B": "PAdES B-B (chữ ký cơ bản, không có dấu thời gian)",
    "B-T": "PAdES B-T (có dấu thời gian của chữ ký)",
    "B-LT": "PAdES B-LT (có dấu thời gian và dữ liệu kiểm tra chứng thư trong văn bản)",
    "B-LTA": "PAdES B-LTA (lưu trữ dài hạn: có dữ liệu kiểm tra chứng thư và dấu thời gian "
             "lưu trữ)",
}
"""What each level means, for the document page."""


def _has_dss(reader: PdfFileReader) -> bool:
    try:
        return "/DSS" in reader.root
    except Exception:
        return False


def _certification_level(embedded) -> int | None:
    if not mdp.is_certification(embedded):
        return None
    perm = mdp.signature_permission(embedded)
    return int(perm.value) if perm is not None else None


def _field_names(reader: PdfFileReader) -> list[str]:
    try:
        return [name for name, _, _ in fields.enumerate_sig_fields(reader, filled_status=True)]
    except Exception:
        return []


async def async_validate_pdf(
    pdf: bytes, trust: TrustStore, *, moment: dt.datetime | None = None
) -> ValidationReport:
    """Async variant of :func:`validate_pdf`."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    except Exception as exc:
        _log.info("unreadable PDF: %r", exc)
        return ValidationReport((), Verdict.INVALID, "Tệp không phải PDF hợp lệ hoặc bị hỏng.",
                                reason="not_pdf")
    try:
        embedded = list(reader.embedded_signatures)
    except Exception as exc:
        _log.info("signatures unreadable: %r", exc)
        broken = "Chữ ký bị hỏng hoặc không đọc được."
        reports = tuple(_invalid(name, "signature", broken) for name in _field_names(reader))
        return ValidationReport(
            reports or (_invalid("#1", "signature", broken),), Verdict.INVALID,
            f"Văn bản không hợp lệ. {broken}", reason="unreadable",
        )
    if not embedded:
        return ValidationReport((), Verdict.INVALID, "Văn bản không có chữ ký số.",
                                reason="no_signature")
    trust = _document_revinfo(reader, trust)
    vc = trust.validation_context(moment=moment)
    certification = mdp.document_certification(embedded)
    policy = mdp.diff_policy_for(mdp.signature_permission(sig) for sig in embedded)
    cert_level = certification.level if certification else None
    reports = []
    for i, sig in enumerate(embedded):
        try:
            reports.append(await _report(sig, vc, newest=i == len(embedded) - 1,
                                         certification=certification, policy=policy))
        except Exception as exc:
            _log.info("signature %d crashed the report: %r", i, exc)
            reports.append(_invalid(f"#{i + 1}", "signature",
                                    "Chữ ký bị hỏng hoặc không đọc được."))
    level, archival = _level(reports, _has_dss(reader))
    bad = [r for r in reports if r.verdict is Verdict.INVALID]
    if not bad:  # learn only from a validation where every path and CRL checked out
        trust.remember_crl_issuers(vc)
    if bad:
        first = bad[0]
        return ValidationReport(
            tuple(reports), Verdict.INVALID,
            f"Văn bản không hợp lệ. Chữ ký {first.field_name}: {first.explanation}",
            reason=first.reason, certification_level=cert_level, level=level,
            archival_time=archival,
        )
    notes = tuple(
        f"Sau chữ ký {r.field_name} có "
        f"{_UNSIGNED_CHANGE_NAMES[ModificationLevel[r.unsigned_changes.upper()]]} chưa được "
        f"ký, được phép vì văn bản được chứng thực ở mức P={cert_level}."
        for r in reports if r.unsigned_changes
    )
    if notes:
        return ValidationReport(
            tuple(reports), Verdict.VALID,
            f"Văn bản hợp lệ: {len(reports)} chữ ký đều hợp lệ. Lưu ý: {' '.join(notes)}",
            certification_level=cert_level, notes=notes, level=level, archival_time=archival,
        )
    return ValidationReport(
        tuple(reports), Verdict.VALID,
        f"Văn bản hợp lệ: {len(reports)} chữ ký đều hợp lệ và văn bản không bị thay đổi sau khi ký.",
        certification_level=cert_level, level=level, archival_time=archival,
    )


def validate_pdf(
    pdf: bytes, trust: TrustStore, *, moment: dt.datetime | None = None
) -> ValidationReport:
    """Validate every signature and timestamp in ``pdf`` against ``trust``; never raises
    on a bad file (the verdict is then invalid). Revocation data is required for every
    certificate (no network fetching)."""
    return run_sync(async_validate_pdf(pdf, trust, moment=moment))
