"""A received package read once: its object, its signature and the axis's trace header from one parse.

:func:`parse_package`, :func:`verify_package` and :func:`add_trace_header` each
parse the bytes again; an axis that calls all three, or a recipient that calls
the first two, parses the same package (attachments included) several times.
These functions parse it once and give the same results and the same errors.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from lxml import etree

from .model import DocumentPackage, Package, StatusPackage, TraceHeader
from .parse import check_message_type, parse_tree
from .safe_xml import DEFAULT_LIMITS, ParseLimits, document_bytes, parse_xml
from .signature import (
    EnvelopeSignature,
    TrustCallback,
    VerificationResult,
    _insert_trace_header,
    unverifiable_signature,
    verify_tree,
)
from .splice import Splice
from .stream import _in_memory, read_spooled
from .values import TRACE_LIST, check_organ_id

__all__ = ["EnvelopeCheck", "ReceivedPackage", "open_package", "open_received_package", "read_package"]


@dataclass(frozen=True, slots=True, eq=False)
class ReceivedPackage:
    """A package parsed once (see :func:`read_package`).

    :meth:`verify` and :meth:`with_trace_header` work on the parsed tree and
    leave it as it was; one object is not meant to be used by two threads at once.
    """

    package: Package
    """What :func:`parse_package` returns for the same bytes."""
    _root: etree._Element = field(repr=False)
    _splice: Splice | None = field(default=None, repr=False)
    """For a package read through files: its attachments' text (see :mod:`.stream`)."""
    _spool: object = field(default=None, repr=False)
    """The temporary files, removed when this object goes."""

    def verify(
        self,
        trusted_ca_certs: Sequence[x509.Certificate] | None = None,
        *,
        trust_callback: TrustCallback | None = None,
        require_sender_match: bool = True,
        at: dt.datetime | None = None,
    ) -> VerificationResult:
        """:func:`verify_package` of the bytes this was read from, without parsing them again."""
        return verify_tree(
            self._root,
            trusted_ca_certs,
            trust_callback=trust_callback,
            require_sender_match=require_sender_match,
            at=at,
            splice=self._splice,
        )

    def with_trace_header(self, trace: TraceHeader) -> bytes:
        """:func:`add_trace_header` of the bytes this was read from, without parsing them again."""
        check_organ_id(trace.organ_id, TRACE_LIST + "/TraceHeader/OrganId")
        undo = _insert_trace_header(self._root, trace)
        try:
            if self._splice is None:
                return document_bytes(self._root)
            out = io.BytesIO()
            self._splice.write(document_bytes(self._root), out)
            return out.getvalue()
        finally:
            undo()


def read_package(data: bytes, *, limits: ParseLimits = DEFAULT_LIMITS) -> ReceivedPackage:
    """Parse a package once, for an axis: the object now, the signature and trace header later.

    Raises what :func:`parse_package` raises; ``.verify(...)`` raises what
    :func:`verify_package` raises, ``.with_trace_header(...)`` returns what
    :func:`add_trace_header` returns.
    """
    if isinstance(data, (bytes, bytearray)) and len(data) > limits.stream_above:
        root, splice, contents, spool = read_spooled(data, limits)
        try:
            package = _in_memory(parse_tree(root, contents=contents))
        except BaseException:
            spool.cleanup()
            raise
        return ReceivedPackage(package, root, splice, spool)
    root = parse_xml(data, limits)
    return ReceivedPackage(parse_tree(root), root)


def open_package(
    data: bytes,
    trusted_ca_certs: Sequence[x509.Certificate] | None = None,
    *,
    trust_callback: TrustCallback | None = None,
    require_sender_match: bool = True,
    at: dt.datetime | None = None,
    expect: type[DocumentPackage] | type[StatusPackage] | None = None,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> tuple[VerificationResult, Package]:
    """Verify then parse a package from one parse, for a recipient.

    The same checks, in the same order, as :func:`verify_package` followed by
    :func:`parse_package` (or :func:`parse_document_package` /
    :func:`parse_status_package` when ``expect`` is ``DocumentPackage`` /
    ``StatusPackage``): :class:`SignatureError` for the signature,
    :class:`EdxmlError` for the rest.
    """
    if (trusted_ca_certs is None) == (trust_callback is None):
        raise TypeError("give exactly one of trusted_ca_certs or trust_callback")
    splice = spool = contents = None
    if isinstance(data, (bytes, bytearray)) and len(data) > limits.stream_above:
        root, splice, contents, spool = read_spooled(data, limits)
    else:
        root = parse_xml(data, limits)
    try:
        result = verify_tree(
            root,
            trusted_ca_certs,
            trust_callback=trust_callback,
            require_sender_match=require_sender_match,
            at=at,
            splice=splice,
        )
        package = parse_tree(root) if spool is None else _in_memory(parse_tree(root, contents=contents))
    finally:
        if spool is not None:
            spool.cleanup()
    return result, package if expect is None else check_message_type(package, expect)


@dataclass(frozen=True, slots=True)
class EnvelopeCheck:
    """What :func:`open_received_package` found of a package's envelope signature."""

    signature: EnvelopeSignature
    detail: str = ""
    """For the clerk, in Vietnamese: why the envelope is not verified, or the verified
    signature's warning (SHA-1); empty for a verified signature with nothing to say."""
    verification: VerificationResult | None = None
    """The verification, when the signature was a real XML-DSig (and therefore held)."""

    @property
    def verified(self) -> bool:
        return self.signature is EnvelopeSignature.VERIFIED


def open_received_package(
    data: bytes,
    trusted_ca_certs: Sequence[x509.Certificate] | None = None,
    *,
    trust_callback: TrustCallback | None = None,
    require_sender_match: bool = True,
    at: dt.datetime | None = None,
    expect: type[DocumentPackage] | type[StatusPackage] | None = None,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> tuple[EnvelopeCheck, Package]:
    """:func:`open_package` as a recipient of the real axis needs it: liberal on the envelope.

    A real XML-DSig is verified exactly as :func:`open_package` does, and a failure is raised
    (:class:`SignatureError`: tampering, an untrusted or foreign signer). A package whose
    signature is absent, empty, not XML-DSig or a placeholder
    (:func:`~.signature.unverifiable_signature`) is parsed all the same, and the returned
    :class:`EnvelopeCheck` says which it was, for the caller to flag: its documents are then
    judged by their own (PAdES) signatures.
    """
    if (trusted_ca_certs is None) == (trust_callback is None):
        raise TypeError("give exactly one of trusted_ca_certs or trust_callback")
    splice = spool = contents = None
    if isinstance(data, (bytes, bytearray)) and len(data) > limits.stream_above:
        root, splice, contents, spool = read_spooled(data, limits)  # as open_package does
    else:
        root = parse_xml(data, limits)
    try:
        unverifiable = unverifiable_signature(root)
        if unverifiable is None:
            result = verify_tree(
                root,
                trusted_ca_certs,
                trust_callback=trust_callback,
                require_sender_match=require_sender_match,
                at=at,
                splice=splice,
            )
            check = EnvelopeCheck(EnvelopeSignature.VERIFIED, "; ".join(result.warnings), result)
        else:
            check = EnvelopeCheck(*unverifiable)
        package = parse_tree(root) if spool is None else _in_memory(parse_tree(root, contents=contents))
    finally:
        if spool is not None:
            spool.cleanup()
    return check, package if expect is None else check_message_type(package, expect)
