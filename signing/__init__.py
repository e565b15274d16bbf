"""signing: the simulated government PKI, PAdES signatures with Vietnamese stamps,
two-phase (browser) signing, PIN-protected remote keys, and validation.

A standalone library: it never imports the application.
"""

from . import _pyhanko_speedups
from .appearance import AgencyStamp, AttachmentStamp, Box, PersonalStamp, Stamp
from .errors import (
    CertificateRejected,
    ChangesNotPermitted,
    InvalidSignatureValue,
    PendingSignatureError,
    PinLocked,
    PkiError,
    SigningError,
    WrongPin,
)
from .marks import TextMark
from .pki import (
    CertificateKind,
    Credential,
    KeyType,
    Pki,
    TrustStore,
    generate_key,
    make_csr,
)
from .remote import AttemptStore, FilesystemAttemptStore, PinProtectedKey
from .sign import PadesLevel, async_sign_pdf, sign_pdf
from .twophase import (
    FilesystemPendingStore,
    PendingStore,
    PreparedSignature,
    async_finish,
    async_prepare,
    finish,
    prepare,
)
from .validate import (
    SignatureReport,
    ValidationReport,
    Verdict,
    async_validate_pdf,
    validate_pdf,
)

_pyhanko_speedups.install()  # faster, equivalent pyHanko hot spots; see that module

__all__ = [
    "AgencyStamp",
    "AttachmentStamp",
    "AttemptStore",
    "Box",
    "CertificateKind",
    "CertificateRejected",
    "ChangesNotPermitted",
    "Credential",
    "FilesystemAttemptStore",
    "FilesystemPendingStore",
    "InvalidSignatureValue",
    "KeyType",
    "PadesLevel",
    "PendingSignatureError",
    "PendingStore",
    "PersonalStamp",
    "PinLocked",
    "PinProtectedKey",
    "Pki",
    "PkiError",
    "PreparedSignature",
    "SignatureReport",
    "SigningError",
    "Stamp",
    "TextMark",
    "TrustStore",
    "ValidationReport",
    "Verdict",
    "WrongPin",
    "async_finish",
    "async_prepare",
    "async_sign_pdf",
    "async_validate_pdf",
    "finish",
    "generate_key",
    "make_csr",
    "prepare",
    "sign_pdf",
    "validate_pdf",
]
