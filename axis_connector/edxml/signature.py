"""XML-DSig over whole edXML packages: sign as the sending agency, verify at the axis and the recipient.

The signature is enveloped (``Reference URI=""`` with the enveloped-signature
transform and inclusive C14N 1.0), placed as the last child of
``edXMLHeader``, and carries the signer's certificate chain in
``KeyInfo/X509Data``.  RSA-SHA256 and ECDSA-SHA256 are produced; SHA-1
signatures from older systems verify with ``weak_algorithm=True``.

Trace headers: each system a package passes appends a ``TraceHeader``
(:func:`add_trace_header`) after the sender signed.  :func:`verify_package`
finds how many trailing trace headers were added after signing by verifying the
candidates (the package without the trace headers other systems wrote, a guess
tried first; then as it is, without the last trace header, and so on), and
reports that number.  The sender's signature
therefore stays a standard XML-DSig over the package exactly as the sender sent
it.  Only the choice of candidate is ours: whether the signature holds is always
decided by signxml, on that candidate.

Agency certificate convention: the agency identifier (``OrganId``, e.g.
``000.00.00.H12``) is the subject's ``UID`` attribute (OID
0.9.2342.19200300.100.1.1); see :func:`organ_id_from_certificate`.
"""

from __future__ import annotations

import base64
import collections
import copy
import datetime as dt
import functools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

import signxml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import verification
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)
from signxml.exceptions import (
    InvalidCertificate,
    InvalidDigest,
    InvalidInput,
    InvalidSignature,
)

from .errors import SignatureError
from .model import LEGACY_NAMESPACES, NAMESPACE, TraceHeader
from .parse import DSIG_NAMESPACE
from .safe_xml import DEFAULT_LIMITS, ParseLimits, document_bytes, parse_xml
from .splice import Splice
from .values import HEADER, TRACE_LIST, check_organ_id, format_timestamp

__all__ = [
    "EnvelopeSignature",
    "TrustCallback",
    "VerificationResult",
    "add_trace_header",
    "organ_id_from_certificate",
    "sign_package",
    "unverifiable_signature",
    "verify_package",
]

TrustCallback = Callable[[x509.Certificate, Sequence[x509.Certificate]], None]
"""Called with the signer certificate and the other certificates of ``X509Data``;
raises (any exception) if the signer is not trusted."""

_DS = f"{{{DSIG_NAMESPACE}}}"
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_ALLOWED_TRANSFORMS = frozenset({_ENVELOPED, *(method.value for method in CanonicalizationMethod)})
_SIGNATURE_METHODS = frozenset(m for m in SignatureMethod if m.name.startswith(("RSA_", "ECDSA_")))
_DIGESTS = frozenset(DigestAlgorithm)
_ENVELOPE_NAMESPACES = (NAMESPACE, *LEGACY_NAMESPACES, None)


def _is_document_root(data: object) -> bool:
    return isinstance(data, etree._Element) and data.getparent() is None


def _tostring_utf8(self: object, xml_node: etree._Element, **kwargs: object) -> bytes:
    # signxml serialises only to parse the result again; UTF-8 is cheaper than lxml's default
    # ASCII, which writes every Vietnamese letter as a character reference.
    return etree.tostring(xml_node, **{"encoding": "utf-8", **kwargs})


def _spliced_digest(self, data: bytes, algorithm: DigestAlgorithm) -> bytes:
    # A package read or built by .stream holds its attachments' text in files, a placeholder in
    # the tree: the digest is of the canonical form with each placeholder replaced by that text
    # (the canonical form of a text node of base64 is the text itself), fed in chunks.
    # Without a splice this is signxml's own _get_digest.
    hasher = hashes.Hash(signxml.algorithms.digest_algorithm_implementations[algorithm]())
    if self._splice is None:
        hasher.update(data)
    else:
        self._splice.feed(data, hasher.update)
    return hasher.finalize()


class _Signer(XMLSigner):
    """signxml's signer, without its serialise-and-parse copies of the whole document.

    signxml copies an element it is given through ``tostring``/``fromstring`` so that a subtree
    does not pick up namespaces from its ancestors; the root of a whole document has none, and a
    deep copy of it is the same tree for a fraction of the cost.
    """

    _tostring = _tostring_utf8
    _splice: Splice | None = None

    def get_root(self, data):
        return copy.deepcopy(data) if _is_document_root(data) else super().get_root(data)

    _get_digest = _spliced_digest


class _DocumentCopy:
    """What :meth:`_Verifier._tostring` hands to :meth:`_Verifier._fromstring` for a whole
    document: the tree itself, to be deep-copied there instead of serialised and parsed."""

    __slots__ = ("root",)

    def __init__(self, root: etree._Element) -> None:
        self.root = root


def _standalone(element: etree._Element) -> etree._Element:
    """A copy of ``element`` as the root of its own document, declaring every namespace in
    scope where ``element`` is (what inclusive C14N of the element renders on it)."""
    copy_ = etree.Element(element.tag, dict(element.attrib), nsmap=element.nsmap)
    copy_.text = element.text
    for child in element:
        copy_.append(copy.deepcopy(child))
    return copy_


class _Verifier(XMLVerifier):
    """signxml's verifier, reading our (safely parsed) tree without first copying it, and
    copying whole documents without serialising and parsing them.

    signxml only reads the tree it is given and copies it before applying transforms
    (``test_verification_leaves_the_parsed_tree_as_it_was`` holds it to that). It copies a node
    as ``self._fromstring(self._tostring(node))`` (twice per reference for a whole document,
    ~0.3 ms each for a 300 KB package): for the root of a document, which has no ancestors whose
    namespaces could leak into it, a deep copy is the same tree. Its last step parses the
    canonical payload again (``VerifyResult.signed_xml``, which we do not read): skipped, as if
    that parse had failed, which signxml allows for. Whether the signature and the digest hold
    is decided by signxml exactly as before; ``test_verifier_judges_as_plain_signxml`` compares
    the two on valid, tampered and foreign packages, and
    ``test_signxml_copies_nodes_as_the_verifier_expects`` fails if a signxml release changes
    how it uses these two methods.
    """

    _digested: object = None
    _splice: Splice | None = None

    def _tostring(self, xml_node, **kwargs):
        if not kwargs and _is_document_root(xml_node):
            return _DocumentCopy(xml_node)
        return _tostring_utf8(self, xml_node, **kwargs)

    def _fromstring(self, xml_string, **kwargs):
        if isinstance(xml_string, _DocumentCopy):
            return copy.deepcopy(xml_string.root)
        if xml_string is self._digested:  # the canonical payload, parsed again only for signed_xml
            return None
        return super()._fromstring(xml_string, **kwargs)

    def _get_digest(self, data, algorithm):
        self._digested = data
        return _spliced_digest(self, data, algorithm)

    def get_root(self, data):
        return data if _is_document_root(data) else super().get_root(data)

    def _c14n(self, nodes, algorithm, inclusive_ns_prefixes=None):
        # libxml2 (2.14 at least) writes a wrong xmlns="" on the grandchildren of an element
        # canonicalized (inclusive C14N) inside a document when an ancestor redeclares the
        # default namespace: exactly SignedInfo under <Signature xmlns="...xmldsig#"> in a
        # package whose root has xmlns="QCVN" (how other producers write it), whose signature
        # then never verifies. The same element as the root of a document of its own, with
        # every namespace in scope declared on it, canonicalizes as C14N 1.0 says.
        if (isinstance(nodes, etree._Element) and not _is_document_root(nodes)
                and not algorithm.value.startswith("http://www.w3.org/2001/10/xml-exc-c14n#")):
            nodes = _standalone(nodes)
        return super()._c14n(nodes, algorithm, inclusive_ns_prefixes=inclusive_ns_prefixes)

    def _get_cert_validity_error(self, cert, cert_source):
        # signxml writes the certificate's description (its subject as an RFC 4514 string)
        # before comparing the dates, for a message needed only when they fail
        at = self._get_cert_verification_time()
        if cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
            return None
        return super()._get_cert_validity_error(cert, cert_source)


def organ_id_from_certificate(certificate: x509.Certificate) -> str | None:
    """The agency identifier a seal certificate is issued to: its subject ``UID`` attribute,
    else its ``organizationIdentifier`` (what the ``signing`` PKI writes).

    This is the one place the convention lives.
    """
    for oid in (NameOID.USER_ID, NameOID.ORGANIZATION_IDENTIFIER):
        values = certificate.subject.get_attributes_for_oid(oid)
        if values:
            value = values[0].value
            return (value.decode() if isinstance(value, bytes) else value).strip() or None
    return None


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """What :func:`verify_package` established about a package's signature."""

    signer_certificate: x509.Certificate
    """The certificate whose key made the signature (validated against the trust anchors)."""
    chain: tuple[x509.Certificate, ...]
    """Signer first, trust anchor last (only the signer when a trust callback was used)."""
    signer_organ_id: str | None
    """:func:`organ_id_from_certificate` of the signer."""
    sender_organ_id: str
    """``From/OrganId`` of the package."""
    signature_method: str
    """The ``SignatureMethod`` algorithm URI."""
    digest_method: str
    """The ``DigestMethod`` algorithm URI."""
    weak_algorithm: bool
    """True if SHA-1 was used (older systems); the signature is valid but should be flagged."""
    trace_headers_after_signing: int
    """How many trailing ``TraceHeader`` elements were added after signing (by the axes passed)."""
    warnings: tuple[str, ...] = ()


def _header(root: etree._Element) -> etree._Element:
    for envelope in root:
        if etree.QName(envelope).localname == "edXMLEnvelope":
            for child in envelope:
                if etree.QName(child).localname == "edXMLHeader":
                    return child
    raise SignatureError("missing_element", HEADER, "gói tin không có edXMLHeader để đặt chữ ký")


def _child(parent: etree._Element, name: str) -> etree._Element | None:
    for child in parent:
        qname = etree.QName(child)
        if qname.localname == name and qname.namespace in _ENVELOPE_NAMESPACES:
            return child
    return None


def sign_package(
    xml_bytes: bytes,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    cert_chain: Sequence[x509.Certificate],
    *,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> bytes:
    """Sign a package as its sender: enveloped XML-DSig over the whole package.

    ``cert_chain`` starts with the signer's certificate, followed by any
    intermediates; all go into ``KeyInfo/X509Data``.  RSA keys sign with
    RSA-SHA256, EC keys with ECDSA-SHA256.
    """
    if _large(xml_bytes, limits):
        from .stream import sign_in_files  # stream builds on this module

        return sign_in_files(xml_bytes, key, cert_chain, limits)
    return document_bytes(sign_tree(parse_xml(xml_bytes, limits), key, cert_chain))


def _large(data: object, limits: ParseLimits) -> bool:
    """Parse through files (``ParseLimits.stream_above``)?"""
    return isinstance(data, (bytes, bytearray)) and len(data) > limits.stream_above


def sign_tree(
    root: etree._Element,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    cert_chain: Sequence[x509.Certificate],
    *,
    splice: Splice | None = None,
) -> etree._Element:
    """:func:`sign_package` on a tree :func:`~.safe_xml.parse_xml` (or :mod:`.stream`, with its
    ``splice``) made; returns the signed tree (a copy)."""
    if isinstance(key, rsa.RSAPrivateKey):
        method = SignatureMethod.RSA_SHA256
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        method = SignatureMethod.ECDSA_SHA256
    else:
        raise TypeError("only RSA and EC keys can sign edXML packages")
    if not cert_chain:
        raise ValueError("cert_chain must contain at least the signer's certificate")
    if root.find(f".//{_DS}Signature") is not None:
        raise SignatureError("already_signed", HEADER + "/Signature", "gói tin đã có chữ ký")
    etree.SubElement(_header(root), f"{_DS}Signature", {"Id": "placeholder"}, nsmap={"ds": DSIG_NAMESPACE})
    signer = _Signer(
        method=signxml.methods.enveloped,
        signature_algorithm=method,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    signer._splice = splice
    try:
        return signer.sign(root, key=key, cert=list(cert_chain))
    finally:
        _header(root).remove(root.find(f".//{_DS}Signature"))  # the caller's tree as it was


def add_trace_header(xml_bytes: bytes, trace: TraceHeader, *, limits: ParseLimits = DEFAULT_LIMITS) -> bytes:
    """Append a ``TraceHeader`` (a system the package passed) without touching the rest.

    The sender's signature stays verifiable: see the module docstring.
    """
    check_organ_id(trace.organ_id, TRACE_LIST + "/TraceHeader/OrganId")
    if _large(xml_bytes, limits):
        from .stream import add_trace_header_in_files

        return add_trace_header_in_files(xml_bytes, trace, limits)
    root = parse_xml(xml_bytes, limits)
    _insert_trace_header(root, trace)
    return document_bytes(root)


def _insert_trace_header(root: etree._Element, trace: TraceHeader) -> Callable[[], None]:
    """Add ``trace`` after the last ``TraceHeader`` of ``root``; return what undoes it."""
    header = _header(root)
    namespace = etree.QName(header).namespace
    prefix = next((p for p, uri in header.nsmap.items() if uri == namespace and p), None)

    def tag(name: str) -> str:
        return f"{{{namespace}}}{name}" if namespace else name

    nsmap = {prefix: namespace} if namespace else None
    trace_list = _child(header, "TraceHeaderList")
    created = trace_list is None
    if trace_list is None:
        trace_list = etree.Element(tag("TraceHeaderList"), nsmap=nsmap)
        message = _child(header, "MessageHeader")
        header.insert(0 if message is None else header.index(message) + 1, trace_list)
    existing = [c for c in trace_list if etree.QName(c).localname == "TraceHeader"]
    element = etree.Element(tag("TraceHeader"), nsmap=nsmap)
    etree.SubElement(element, tag("OrganId"), nsmap=nsmap).text = trace.organ_id
    etree.SubElement(element, tag("Timestamp"), nsmap=nsmap).text = format_timestamp(trace.timestamp)
    trace_list.insert(trace_list.index(existing[-1]) + 1 if existing else 0, element)
    etree.cleanup_namespaces(element, top_nsmap=root.nsmap)

    def undo() -> None:
        if created:
            header.remove(trace_list)
        else:
            trace_list.remove(element)

    return undo


def _check_signed_info(signature: etree._Element) -> tuple[str, str]:
    path = HEADER + "/Signature/SignedInfo"
    signed_info = signature.find(f"{_DS}SignedInfo")
    if signed_info is None:
        raise SignatureError("signature_invalid", path, "chữ ký thiếu SignedInfo")
    references = signed_info.findall(f"{_DS}Reference")
    if len(references) != 1 or references[0].get("URI") != "":
        raise SignatureError(
            "signature_scope",
            f"{path}/Reference",
            'chữ ký phải có đúng một Reference URI="" phủ toàn bộ gói tin',
        )
    for transform in references[0].iterfind(f"{_DS}Transforms/{_DS}Transform"):
        if transform.get("Algorithm") not in _ALLOWED_TRANSFORMS:
            raise SignatureError(
                "unsupported_algorithm",
                f"{path}/Reference/Transforms",
                f"phép biến đổi {transform.get('Algorithm')!r} không được chấp nhận",
            )
    method = signed_info.find(f"{_DS}SignatureMethod")
    digest = references[0].find(f"{_DS}DigestMethod")
    method_uri = "" if method is None else method.get("Algorithm", "")
    digest_uri = "" if digest is None else digest.get("Algorithm", "")
    if method_uri not in {m.value for m in _SIGNATURE_METHODS}:
        raise SignatureError(
            "unsupported_algorithm",
            f"{path}/SignatureMethod",
            f"thuật toán ký {method_uri!r} không được chấp nhận",
        )
    return method_uri, digest_uri


def _certificates(signature: etree._Element) -> tuple[x509.Certificate, list[x509.Certificate]]:
    path = HEADER + "/Signature/KeyInfo/X509Data"
    texts = [e.text or "" for e in signature.iterfind(f"{_DS}KeyInfo/{_DS}X509Data/{_DS}X509Certificate")]
    if not texts:
        raise SignatureError("certificate_missing", path, "chữ ký không kèm chứng thư số (X509Certificate)")
    try:
        signer, others = _signer_and_others(tuple(texts))
    except ValueError as exc:
        raise SignatureError("certificate_invalid", path, f"chứng thư số không đọc được: {exc}") from None
    return signer, list(others)


@functools.lru_cache(maxsize=256)
def _signer_and_others(texts: tuple[str, ...]) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    """The certificates of ``X509Data``, parsed once per process for the same text: every
    package of an agency carries the same seal certificate (certificates are immutable)."""
    certs = [x509.load_der_x509_certificate(_b64(text)) for text in texts]
    # The signer is the certificate that issued none of the others (X509Data is unordered).
    leaves = [c for c in certs if not any(o is not c and o.issuer == c.subject for o in certs)]
    signer = leaves[0] if len(leaves) == 1 else certs[0]
    return signer, tuple(c for c in certs if c is not signer)


def _b64(text: str) -> bytes:
    return base64.b64decode("".join(text.split()), validate=True)


_CHAIN_CACHE_SECONDS = 60.0
_CHAIN_CACHE_SIZE = 256
_chain_cache: collections.OrderedDict[tuple[object, ...], tuple[float, tuple[x509.Certificate, ...]]] = (
    collections.OrderedDict())
_chain_cache_lock = threading.Lock()


def _trusted_chain(
    signer: x509.Certificate,
    others: list[x509.Certificate],
    trusted_ca_certs: Sequence[x509.Certificate],
    at: dt.datetime | None,
) -> tuple[x509.Certificate, ...]:
    """The signer's validated chain to one of ``trusted_ca_certs``.

    A chain validated "now" is remembered for up to 60 s (never past the expiry of any of its
    certificates), keyed by every certificate involved: an agency sends many packages with the
    same seal. Refusals are never remembered. (Revocation is not checked here: the directory
    pins each agency's current certificate.)"""
    if at is not None:
        return _validate_chain(signer, others, trusted_ca_certs, at)
    # Certificates hash and compare by their DER encoding: the tuple is the key (a SHA-256
    # fingerprint of each, as before, cost more than the rest of a cache hit).
    key = (len(others), signer, *others, *trusted_ca_certs)
    now = time.time()
    with _chain_cache_lock:
        cached = _chain_cache.get(key)
        if cached is not None and cached[0] > now:
            _chain_cache.move_to_end(key)
            return cached[1]
    chain = _validate_chain(signer, others, trusted_ca_certs, None)
    until = min([now + _CHAIN_CACHE_SECONDS] + [c.not_valid_after_utc.timestamp() for c in chain])
    with _chain_cache_lock:
        _chain_cache[key] = (until, chain)
        while len(_chain_cache) > _CHAIN_CACHE_SIZE:
            _chain_cache.popitem(last=False)
    return chain


def _validate_chain(
    signer: x509.Certificate,
    others: list[x509.Certificate],
    trusted_ca_certs: Sequence[x509.Certificate],
    at: dt.datetime | None,
) -> tuple[x509.Certificate, ...]:
    ca_policy = verification.ExtensionPolicy.permit_all().require_present(
        x509.BasicConstraints, verification.Criticality.AGNOSTIC, None
    )
    builder = (
        verification.PolicyBuilder()
        .store(verification.Store(list(trusted_ca_certs)))
        .extension_policies(ee_policy=verification.ExtensionPolicy.permit_all(), ca_policy=ca_policy)
    )
    if at is not None:
        builder = builder.time(at)
    try:
        verified = builder.build_client_verifier().verify(signer, others)
    except verification.VerificationError as exc:
        raise SignatureError(
            "untrusted_certificate",
            HEADER + "/Signature/KeyInfo/X509Data",
            f"chứng thư số của bên ký ({signer.subject.rfc4514_string()}) không được tin cậy: {exc}",
        ) from None
    return tuple(verified.chain)


def _sender_organ_id(root: etree._Element) -> str:
    found = root.xpath(
        "./*[local-name()='edXMLEnvelope']/*[local-name()='edXMLHeader']/*[local-name()='MessageHeader']"
        "/*[local-name()='From']/*[local-name()='OrganId']"
    )
    return (found[0].text or "").strip() if found else ""


def _removable_trace(header: etree._Element) -> list[etree._Element]:
    """What axes may have added after signing, the last added first: each ``TraceHeader`` from the
    last, then the ``TraceHeaderList`` if nothing else is in it (add_trace_header creates one for
    a sender that sent none)."""
    trace_list = _child(header, "TraceHeaderList")
    if trace_list is None:
        return []
    trace = [c for c in trace_list if etree.QName(c).localname == "TraceHeader"]
    removable = trace[::-1]
    if len(trace_list) == len(trace) and not (trace_list.text or "").strip():
        removable.append(trace_list)
    return removable


def _strip_last_trace_header(header: etree._Element) -> tuple[etree._Element, int, etree._Element] | None:
    """Remove the first of :func:`_removable_trace`; return ``(parent, index, element)`` of what was
    removed, or None when there is nothing to remove."""
    removable = _removable_trace(header)
    if not removable:
        return None
    element = removable[0]
    parent = element.getparent()
    index = parent.index(element)
    parent.remove(element)  # with its tail, as lxml does
    return parent, index, element


@contextmanager
def _without_last_trace_headers(header: etree._Element, count: int) -> Iterator[bool]:
    """The tree without its last ``count`` trace headers for the duration (False if it has fewer)."""
    removed = []
    try:
        for _ in range(count):
            step = _strip_last_trace_header(header)
            if step is None:
                break
            removed.append(step)
        yield len(removed) == count
    finally:
        for parent, index, element in reversed(removed):
            parent.insert(index, element)


def _guessed_trace_count(removable: list[etree._Element], sender: str) -> int:
    """How many trailing trace headers the axes added after signing, guessed from who wrote them:
    the trace headers at the end of the list whose ``OrganId`` is not the sender's, and the
    ``TraceHeaderList`` too when it holds nothing else (an axis creates one for a sender that sent
    none, as status packages do).

    Only a guess, read off a few elements: :func:`_verify_signature` has signxml verify this
    candidate first and every other one after it if it fails, so a wrong guess (a foreign sender
    that sent an empty list, or trace headers of its own under another code) costs one more
    verification and never decides anything.
    """
    trace = [e for e in removable if etree.QName(e).localname == "TraceHeader"]  # last first
    count = 0
    for element in trace:
        organ = _child(element, "OrganId")
        if organ is not None and (organ.text or "").strip() == sender:
            return count
        count += 1
    return count + 1 if len(removable) > len(trace) else count


def _verify_signature(
    root: etree._Element,
    header: etree._Element,
    sender: str,
    signer: x509.Certificate,
    config: SignatureConfiguration,
    splice: Splice | None = None,
) -> int:
    """signxml's verification of the signature value and digest; return how many trailing trace
    headers were added after signing.

    signxml verifies the candidate :func:`_guessed_trace_count` picks first, so a package that
    passed axes costs one verification, not one per trace header.  If that guess is wrong, every
    other candidate (0 to as many as could be removed) is tried, the nearest to the guess first.
    The tree is left as it was.
    """
    removable = _removable_trace(header)
    guess = _guessed_trace_count(removable, sender)
    others = sorted((n for n in range(len(removable) + 1) if n != guess),
                    key=lambda n: (abs(n - guess), n))
    for count in (guess, *others):
        with _without_last_trace_headers(header, count) as possible:
            if not possible:  # a guess beyond what the package holds
                continue
            verifier = _Verifier()
            verifier._splice = splice
            try:
                verifier.verify(root, x509_cert=signer, expect_config=config)
                return count
            except InvalidDigest:
                continue
            except InvalidCertificate as exc:
                raise SignatureError("certificate_invalid", HEADER + "/Signature/KeyInfo", str(exc)) from None
            except (InvalidSignature, InvalidInput, etree.DocumentInvalid) as exc:
                raise SignatureError(
                    "signature_invalid", HEADER + "/Signature", f"chữ ký không hợp lệ: {exc}"
                ) from None
            except etree.C14NError:  # e.g. a relative namespace URI: no canonical form exists
                raise SignatureError(
                    "signature_invalid", HEADER + "/Signature",
                    "chữ ký không kiểm tra được: gói tin không chuẩn hóa được theo C14N "
                    "(ví dụ: khai báo không gian tên bằng URI tương đối)",
                ) from None
    raise SignatureError(
        "digest_mismatch",
        HEADER + "/Signature/SignedInfo/Reference",
        "nội dung gói tin đã bị thay đổi sau khi ký (sai giá trị băm)",
    )


def verify_package(
    xml_bytes: bytes,
    trusted_ca_certs: Sequence[x509.Certificate] | None = None,
    *,
    trust_callback: TrustCallback | None = None,
    require_sender_match: bool = True,
    at: dt.datetime | None = None,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> VerificationResult:
    """Verify the package signature and who made it; raise :class:`SignatureError` otherwise.

    Trust comes from ``trusted_ca_certs`` (the signer's certificate must chain
    to one of them, through the certificates in ``X509Data``) or from
    ``trust_callback`` (e.g. compare with the certificate the directory holds
    for the sender).  With ``require_sender_match`` (the default) the signer's
    :func:`organ_id_from_certificate` must equal ``From/OrganId``.  ``at`` is
    the validation time (default: now).
    """
    if (trusted_ca_certs is None) == (trust_callback is None):
        raise TypeError("give exactly one of trusted_ca_certs or trust_callback")
    if _large(xml_bytes, limits):
        from .stream import verify_in_files

        return verify_in_files(xml_bytes, limits, trusted_ca_certs=trusted_ca_certs,
                               trust_callback=trust_callback,
                               require_sender_match=require_sender_match, at=at)
    return verify_tree(
        parse_xml(xml_bytes, limits),
        trusted_ca_certs,
        trust_callback=trust_callback,
        require_sender_match=require_sender_match,
        at=at,
    )


def verify_tree(
    root: etree._Element,
    trusted_ca_certs: Sequence[x509.Certificate] | None = None,
    *,
    trust_callback: TrustCallback | None = None,
    require_sender_match: bool = True,
    at: dt.datetime | None = None,
    splice: Splice | None = None,
) -> VerificationResult:
    """:func:`verify_package` on a tree :func:`~.safe_xml.parse_xml` made (or :mod:`.stream`, with
    its ``splice``); the tree is left as it was."""
    if (trusted_ca_certs is None) == (trust_callback is None):
        raise TypeError("give exactly one of trusted_ca_certs or trust_callback")
    signatures = root.findall(f".//{_DS}Signature")
    if not signatures:
        raise SignatureError("signature_missing", HEADER + "/Signature", "gói tin không có chữ ký số")
    if len(signatures) > 1:
        raise SignatureError(
            "signature_multiple", HEADER + "/Signature", f"gói tin có {len(signatures)} chữ ký"
        )
    header = _header(root)
    signature = signatures[0]
    if signature.getparent() is not header:
        raise SignatureError(
            "signature_misplaced", HEADER + "/Signature", "chữ ký phải là phần tử con của edXMLHeader"
        )
    method_uri, digest_uri = _check_signed_info(signature)
    signer, others = _certificates(signature)
    if trust_callback is not None:
        try:
            trust_callback(signer, others)
        except Exception as exc:  # the callback's refusal, whatever its type
            raise SignatureError(
                "untrusted_certificate",
                HEADER + "/Signature/KeyInfo/X509Data",
                f"chứng thư số của bên ký không được tin cậy: {exc}",
            ) from exc
        chain: tuple[x509.Certificate, ...] = (signer,)
    else:
        chain = _trusted_chain(signer, others, trusted_ca_certs or (), at)
    sender = _sender_organ_id(root)
    signer_organ_id = organ_id_from_certificate(signer)
    if require_sender_match and signer_organ_id != sender:
        raise SignatureError(
            "sender_mismatch",
            "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/From/OrganId",
            f"gói tin ghi bên gửi {sender!r} nhưng được ký bằng chứng thư của {signer_organ_id!r}",
        )
    config = SignatureConfiguration(
        location=".//",
        signature_methods=_SIGNATURE_METHODS,
        digest_algorithms=_DIGESTS,
        verification_time=at,
    )
    stripped = _verify_signature(root, header, sender, signer, config, splice)
    weak = "sha1" in method_uri.lower() or "sha1" in digest_uri.lower()
    return VerificationResult(
        signer_certificate=signer,
        chain=chain,
        signer_organ_id=signer_organ_id,
        sender_organ_id=sender,
        signature_method=method_uri,
        digest_method=digest_uri,
        weak_algorithm=weak,
        trace_headers_after_signing=stripped,
        warnings=("chữ ký dùng SHA-1, thuật toán yếu",) if weak else (),
    )


class EnvelopeSignature(StrEnum):
    """What a received package's envelope signature was (see :func:`unverifiable_signature`)."""

    VERIFIED = "verified"
    """A real XML-DSig, verified: the signer's chain, the sender and the digest all hold."""
    ABSENT = "absent"
    """No ``Signature`` element at all (the axis delivers unsigned packages)."""
    EMPTY = "empty"
    """An empty ``<Signature/>``, in either namespace."""
    NOT_XMLDSIG = "not_xmldsig"
    """A ``<Signature>`` outside the XML-DSig namespace (a bare one falls in the QCVN namespace)."""
    PLACEHOLDER = "placeholder"
    """XML-DSig in shape, but without the values any signer would have computed: a
    ``SignatureValue``, a ``DigestValue`` or an ``X509Certificate`` missing, empty, not base64,
    of impossible length, or a certificate that does not parse."""


_ENVELOPE_DETAIL = {
    EnvelopeSignature.ABSENT: "phong bì không ký số (gói tin không có phần tử Signature)",
    EnvelopeSignature.EMPTY: "phong bì không ký số (phần tử Signature rỗng)",
    EnvelopeSignature.NOT_XMLDSIG: "phong bì không ký số (Signature không theo chuẩn XML-DSig)",
    EnvelopeSignature.PLACEHOLDER: "chữ ký phong bì không kiểm tra được (giá trị chữ ký, giá trị băm "
                                   "hoặc chứng thư số chỉ là giá trị giữ chỗ)",
}
_DIGEST_SIZES = {"sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}
_MIN_SIGNATURE_BYTES = 64
"""No RSA (1024 bits and up) or ECDSA (P-256 and up) signature is shorter."""


def _strict_b64(text: str | None) -> bytes | None:
    try:
        data = base64.b64decode("".join((text or "").split()), validate=True)
    except ValueError:
        return None
    return data or None


def _placeholder(signature: etree._Element) -> bool:
    value = _strict_b64(signature.findtext(f"{_DS}SignatureValue"))
    if value is None or len(value) < _MIN_SIGNATURE_BYTES:
        return True
    references = signature.findall(f"{_DS}SignedInfo/{_DS}Reference")
    if not references:
        return True
    for reference in references:
        digest = _strict_b64(reference.findtext(f"{_DS}DigestValue"))
        algorithm = reference.find(f"{_DS}DigestMethod")
        uri = "" if algorithm is None else algorithm.get("Algorithm", "")
        size = next((n for name, n in _DIGEST_SIZES.items() if uri.lower().endswith(name)), None)
        if digest is None or (size is not None and len(digest) != size):
            return True
    certificates = signature.findall(f"{_DS}KeyInfo/{_DS}X509Data/{_DS}X509Certificate")
    if not certificates:
        return True
    for element in certificates:
        der = _strict_b64(element.text)
        if der is None:
            return True
        try:
            x509.load_der_x509_certificate(der)
        except ValueError:
            return True
    return False


def unverifiable_signature(root: etree._Element) -> tuple[EnvelopeSignature, str] | None:
    """Why a received package's envelope signature cannot be verified at all, with the clerk's
    wording; None when it is a real XML-DSig, which :func:`verify_tree` then judges (and
    refuses if it fails: a real signature that does not hold is tampering, not a producer's
    habit).

    Real producers send packages without a signature, with an empty ``<Signature/>``, with a
    bare ``<Signature>`` in the QCVN namespace, or with an XML-DSig whose values are
    placeholders (:class:`EnvelopeSignature`). Several ``ds:Signature`` elements, or one in the
    wrong place, are left to :func:`verify_tree` (refused).
    """
    signatures = root.findall(f".//{_DS}Signature")
    if not signatures:
        try:
            header = _header(root)
        except SignatureError:
            return None  # no header: the parser refuses the package
        other = next((c for c in header if isinstance(c.tag, str)
                      and etree.QName(c).localname == "Signature"), None)
        if other is None:
            kind = EnvelopeSignature.ABSENT
        elif len(other) == 0 and not (other.text or "").strip():
            kind = EnvelopeSignature.EMPTY
        else:
            kind = EnvelopeSignature.NOT_XMLDSIG
        return kind, _ENVELOPE_DETAIL[kind]
    if len(signatures) > 1:
        return None
    signature = signatures[0]
    if len(signature) == 0 and not (signature.text or "").strip():
        return EnvelopeSignature.EMPTY, _ENVELOPE_DETAIL[EnvelopeSignature.EMPTY]
    if _placeholder(signature):
        return EnvelopeSignature.PLACEHOLDER, _ENVELOPE_DETAIL[EnvelopeSignature.PLACEHOLDER]
    return None
