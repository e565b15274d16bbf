"""signing: the simulated government PKI, PAdES signatures with Vietnamese stamps,
two-phase (browser) signing, PIN-protected remote keys, and validation.

A standalone library: it never imports the application. Importing it changes nothing in
pyHanko, asn1crypto or signxml: the faster equivalents of pyHanko's hot spots
(``signing/_pyhanko_speedups.py``) are put in place by an explicit :func:`install_speedups`,
which the application's factory, its worker and the benchmarks call.
"""

from .appearance import AgencyStamp, AttachmentStamp, Box, PersonalStamp, Stamp
from .credentials import (
    Credential,
    CredentialSource,
    DirectoryCredentials,
    KeyType,
    SigningCredential,
    generate_key,
    make_csr,
)
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
from .pki import CertificateKind, Pki
from .remote import AttemptStore, FilesystemAttemptStore, PinProtectedKey
from .sign import PadesLevel, async_sign_pdf, sign_pdf
from .trust import TrustStore
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


def install_speedups() -> dict[str, bool]:
    """Put the faster, equivalent replacements of pyHanko's and asn1crypto's hot spots in place
    (``signing/_pyhanko_speedups.py``: each only over the exact code it was checked against);
    idempotent. Returns which are active. Called by ``ioffice.create_app`` (web, worker, CLI),
    ``python -m signing`` and the benchmarks; never at import."""
    from . import _pyhanko_speedups

    _pyhanko_speedups.install()
    return _pyhanko_speedups.active()


__all__ = [
    "AgencyStamp",
    "AttachmentStamp",
    "AttemptStore",
    "Box",
    "CertificateKind",
    "CertificateRejected",
    "ChangesNotPermitted",
    "Credential",
    "CredentialSource",
    "DirectoryCredentials",
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
    "SigningCredential",
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
    "install_speedups",
    "make_csr",
    "prepare",
    "sign_pdf",
    "validate_pdf",
]
