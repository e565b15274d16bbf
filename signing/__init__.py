"""signing: the simulated government PKI, PAdES signatures with Vietnamese stamps,
two-phase (browser) signing, PIN-protected remote keys, and validation.

A standalone library: it never imports the application.
"""

from .appearance import AgencyStamp, AttachmentStamp, Box, PersonalStamp, Stamp
from .errors import (
    CertificateRejected,
    InvalidSignatureValue,
    PendingSignatureError,
    PinLocked,
    PkiError,
    SigningError,
    WrongPin,
)
from .pki import (
    CertificateKind,
    Credential,
    KeyType,
    Pki,
    TrustStore,
    generate_key,
    make_csr,
)
from .sign import PadesLevel, async_sign_pdf, sign_pdf
from .validate import (
    SignatureReport,
    ValidationReport,
    Verdict,
    async_validate_pdf,
    validate_pdf,
)

__all__ = [
    "AgencyStamp",
    "AttachmentStamp",
    "Box",
    "CertificateKind",
    "CertificateRejected",
    "Credential",
    "InvalidSignatureValue",
    "KeyType",
    "PadesLevel",
    "PendingSignatureError",
    "PersonalStamp",
    "PinLocked",
    "Pki",
    "PkiError",
    "SignatureReport",
    "SigningError",
    "Stamp",
    "TrustStore",
    "ValidationReport",
    "Verdict",
    "WrongPin",
    "async_sign_pdf",
    "async_validate_pdf",
    "generate_key",
    "make_csr",
    "sign_pdf",
    "validate_pdf",
]
