"""Two-phase signing, for keys that never reach the server (a browser's WebCrypto key, a
remote signing service).

1. :func:`prepare` writes the signature field, the appearance and a placeholder, digests the
   document, and returns the DER signed attributes to sign plus an opaque single-use handle.
   The prepared document and its bookkeeping go to a :class:`PendingStore` (not memory), so a
   restart of the process does not lose them; they expire.
2. The key holder signs the bytes: RSASSA-PKCS1-v1_5/SHA-256, or ECDSA P-256/SHA-256 with
   the raw ``r||s`` WebCrypto returns (DER is accepted too).
3. :func:`finish` takes the handle back (single use), VERIFIES the signature value against the
   certificate (pyHanko's ExternalSigner would embed anything), and embeds it; for B-T it adds
   the TSA's timestamp, for B-LT the validation data.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from asn1crypto import algos, cms
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_cms import ExternalSigner
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.dss import async_add_validation_info
from pyhanko_certvalidator.registry import SimpleCertificateStore

from . import appearance, mdp
from .errors import InvalidSignatureValue, PendingSignatureError, SigningError
from .sign import RESERVED, PadesLevel, _run, async_check_certificate, build_pdf_signer
from .trust import TrustStore

__all__ = [
    "FilesystemPendingStore",
    "PendingStore",
    "PreparedSignature",
    "async_finish",
    "async_prepare",
    "finish",
    "prepare",
]


class PendingStore(Protocol):
    """Where prepared-but-unsigned documents wait for their signature value.

    ``take`` must be atomic: two concurrent calls for one handle return the record once.
    """

    def put(self, handle: str, record: bytes, document: bytes, expires_at: float) -> None:
        """Store a pending signature until ``expires_at`` (Unix time)."""

    def take(self, handle: str) -> tuple[bytes, bytes, float] | None:
        """Remove and return ``(record, document, expires_at)``, or None if unknown/used."""


class FilesystemPendingStore:
    """A :class:`PendingStore` in a directory: ``<handle>.json`` and ``<handle>.pdf``.

    Taking renames the record first (atomic on POSIX), so a handle is used at most once even
    across processes.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, handle: str, suffix: str) -> Path:
        if not handle or not all(c.isalnum() or c in "-_" for c in handle):
            raise PendingSignatureError("Mã phiên ký không hợp lệ.")
        return self.directory / f"{handle}{suffix}"

    def put(self, handle: str, record: bytes, document: bytes, expires_at: float) -> None:
        self._path(handle, ".pdf").write_bytes(document)
        tmp = self._path(handle, ".json.tmp")
        tmp.write_text(json.dumps({"record": record.decode(), "expires_at": expires_at}))
        os.replace(tmp, self._path(handle, ".json"))

    def take(self, handle: str) -> tuple[bytes, bytes, float] | None:
        src = self._path(handle, ".json")
        claimed = self._path(handle, f".taken-{secrets.token_hex(6)}")
        try:
            os.rename(src, claimed)
        except FileNotFoundError:
            return None
        try:
            data = json.loads(claimed.read_text())
            doc_path = self._path(handle, ".pdf")
            document = doc_path.read_bytes()
            doc_path.unlink(missing_ok=True)
        finally:
            claimed.unlink(missing_ok=True)
        return data["record"].encode(), document, float(data["expires_at"])

    def purge_expired(self, now: float | None = None) -> int:
        """Delete expired pending signatures; returns how many."""
        now = time.time() if now is None else now
        n = 0
        for path in self.directory.glob("*.json"):
            try:
                if json.loads(path.read_text())["expires_at"] < now:
                    handle = path.name.removesuffix(".json")
                    if self.take(handle) is not None:
                        n += 1
            except (OSError, ValueError, KeyError):
                continue
        return n


@dataclass(frozen=True)
class PreparedSignature:
    """What the key holder needs to sign."""

    handle: str
    """Opaque, single-use reference to pass back to :func:`finish`."""
    to_sign: bytes
    """The DER signed attributes: sign these bytes (WebCrypto hashes them itself)."""
    algorithm: str
    """``RSASSA-PKCS1-v1_5`` or ``ECDSA-P256``, both with SHA-256."""
    expires_at: dt.datetime
    """After this, :func:`finish` refuses the handle."""


def _mechanism(cert: asn1_x509.Certificate) -> tuple[str, str, int]:
    algo = cert.public_key.algorithm
    if algo == "rsa":
        return "sha256_rsa", "RSASSA-PKCS1-v1_5", 256
    if algo == "ec":
        return "sha256_ecdsa", "ECDSA-P256", 72
    raise SigningError(f"Unsupported key algorithm {algo}.")


async def async_prepare(
    pdf: bytes,
    certificate: asn1_x509.Certificate,
    *,
    chain: tuple[asn1_x509.Certificate, ...],
    signer_id: str,
    trust: TrustStore,
    store: PendingStore,
    stamp: appearance.Stamp | None = None,
    level: PadesLevel | str = PadesLevel.B_B,
    field_name: str | None = None,
    ttl: dt.timedelta = dt.timedelta(minutes=10),
) -> PreparedSignature:
    """Async variant of :func:`prepare`."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    mdp.refuse_signing(writer.prev, field_name=field_name, visible=stamp is not None)
    await async_check_certificate(certificate, chain, trust)
    level = PadesLevel(level)
    mech, algorithm, placeholder = _mechanism(certificate)
    signer = ExternalSigner(
        signing_cert=certificate,
        cert_registry=SimpleCertificateStore.from_certs([certificate, *chain]),
        signature_value=placeholder,
        signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": mech}),
    )
    moment = dt.datetime.now(dt.UTC)
    pdf_signer, params = build_pdf_signer(
        writer, signer, trust=trust, stamp=stamp, level=PadesLevel.B_B, timestamper=None,
        field_name=field_name, reason=None, location=None, moment=moment,
    )
    prep_digest, _tbs, output = await pdf_signer.async_digest_doc_for_signing(
        writer, bytes_reserved=RESERVED[level.value], appearance_text_params=params,
    )
    signed_attrs = await signer.signed_attrs(
        prep_digest.document_digest, "sha256", use_pades=True
    )
    to_sign = signed_attrs.dump()
    handle = secrets.token_urlsafe(24)
    expires_at = time.time() + ttl.total_seconds()
    record = {
        "signer_id": signer_id,
        "certificate": base64.b64encode(certificate.dump()).decode(),
        "chain": [base64.b64encode(c.dump()).decode() for c in chain],
        "signed_attrs": base64.b64encode(to_sign).decode(),
        "document_digest": prep_digest.document_digest.hex(),
        "region": [prep_digest.reserved_region_start, prep_digest.reserved_region_end],
        "source_sha256": hashlib.sha256(pdf).hexdigest(),
        "level": level.value,
    }
    store.put(handle, json.dumps(record).encode(), output.getvalue(), expires_at)
    return PreparedSignature(
        handle=handle, to_sign=to_sign, algorithm=algorithm,
        expires_at=dt.datetime.fromtimestamp(expires_at, dt.UTC),
    )


def _verify(cert: asn1_x509.Certificate, data: bytes, value: bytes) -> bytes:
    """Check the signature value over ``data``; return it in CMS (DER) form."""
    public_key = serialization.load_der_public_key(cert.public_key.dump())
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(value, data, padding.PKCS1v15(), hashes.SHA256())
            return value
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        if len(value) == 64:  # WebCrypto's raw r||s
            value = encode_dss_signature(
                int.from_bytes(value[:32], "big"), int.from_bytes(value[32:], "big")
            )
        public_key.verify(value, data, ec.ECDSA(hashes.SHA256()))
        return value
    except (InvalidSignature, ValueError) as exc:
        raise InvalidSignatureValue(
            "Giá trị chữ ký không khớp với chứng thư số hoặc với văn bản cần ký."
        ) from exc


async def async_finish(
    handle: str,
    signature_value: bytes,
    *,
    signer_id: str,
    store: PendingStore,
    trust: TrustStore,
    timestamper: TimeStamper | None = None,
) -> bytes:
    """Async variant of :func:`finish`."""
    taken = store.take(handle)
    if taken is None:
        raise PendingSignatureError(
            "Phiên ký không tồn tại hoặc đã được sử dụng; hãy ký lại từ đầu."
        )
    raw, document, expires_at = taken
    if time.time() > expires_at:
        raise PendingSignatureError("Phiên ký đã hết hạn; hãy ký lại từ đầu.")
    record = json.loads(raw)
    if not secrets.compare_digest(record["signer_id"], signer_id):
        raise PendingSignatureError("Phiên ký này thuộc về người ký khác.")
    level = PadesLevel(record["level"])
    if level is not PadesLevel.B_B and timestamper is None:
        raise SigningError(f"PAdES {level.value} needs a timestamper (TSA).")
    cert = asn1_x509.Certificate.load(base64.b64decode(record["certificate"]))
    chain = [asn1_x509.Certificate.load(base64.b64decode(c)) for c in record["chain"]]
    signed_attrs_der = base64.b64decode(record["signed_attrs"])
    cms_value = _verify(cert, signed_attrs_der, signature_value)
    mech, _, _ = _mechanism(cert)
    signer = ExternalSigner(
        signing_cert=cert,
        cert_registry=SimpleCertificateStore.from_certs([cert, *chain]),
        signature_value=cms_value,
        signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": mech}),
    )
    sig_cms = await signer.async_sign_prescribed_attributes(
        "sha256", signed_attrs=cms.CMSAttributes.load(signed_attrs_der),
        timestamper=timestamper if level is not PadesLevel.B_B else None,
    )
    output = io.BytesIO(document)
    start, end = record["region"]
    PreparedByteRangeDigest(
        document_digest=bytes.fromhex(record["document_digest"]),
        reserved_region_start=start, reserved_region_end=end,
    ).fill_with_cms(output, sig_cms)
    if level is PadesLevel.B_LT:
        reader = PdfFileReader(output, strict=False)
        output = await async_add_validation_info(
            reader.embedded_signatures[-1], trust.validation_context(), output=io.BytesIO()
        )
    return output.getvalue()


def prepare(
    pdf: bytes,
    certificate: asn1_x509.Certificate,
    *,
    chain: tuple[asn1_x509.Certificate, ...],
    signer_id: str,
    trust: TrustStore,
    store: PendingStore,
    stamp: appearance.Stamp | None = None,
    level: PadesLevel | str = PadesLevel.B_B,
    field_name: str | None = None,
    ttl: dt.timedelta = dt.timedelta(minutes=10),
) -> PreparedSignature:
    """Phase one: prepare ``pdf`` for a signature by the key of ``certificate``.

    ``signer_id`` is the application's id of the user; :func:`finish` must be called with the
    same one. A document whose certification or field locks forbid the signature is refused
    first (:class:`ChangesNotPermitted`, as by :func:`sign_pdf`); the certificate is refused
    now if it is expired, revoked or untrusted.
    """
    return _run(async_prepare(
        pdf, certificate, chain=chain, signer_id=signer_id, trust=trust, store=store,
        stamp=stamp, level=level, field_name=field_name, ttl=ttl,
    ))


def finish(
    handle: str,
    signature_value: bytes,
    *,
    signer_id: str,
    store: PendingStore,
    trust: TrustStore,
    timestamper: TimeStamper | None = None,
) -> bytes:
    """Phase two: verify ``signature_value`` over the prepared bytes and embed it.

    Raises :class:`PendingSignatureError` for an unknown, used, expired or foreign handle,
    :class:`InvalidSignatureValue` if the value does not verify (the handle is then used up:
    prepare again). Returns the signed PDF.
    """
    return _run(async_finish(
        handle, signature_value, signer_id=signer_id, store=store, trust=trust,
        timestamper=timestamper,
    ))
