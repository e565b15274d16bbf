"""Faster, equivalent replacements for pure-Python hot spots of pyHanko's validation.

Receiving a document over the exchange validates its signatures; py-spy on ``validate_pdf``
(pyHanko 0.38.0, asn1crypto 1.5.1, a 220 KB PDF sealed at PAdES B-T) showed most of the time
in work whose result is already known or can be had in one C call (docs/signing.md):

* ``pyhanko.pdf_utils.generic.read_hex_string_from_stream`` tokenizes a hex string one byte
  at a time; a signature's ``/Contents`` holds 24,000 to 40,000 hex digits (~45 % of the
  time). The replacement reads ahead to the closing ``>`` and, when the body holds only hex
  digits and PDF whitespace, decodes it with :func:`binascii.unhexlify` (an odd count padded
  with ``0``, as pyHanko does) and leaves the stream just after ``>``. Anything else (a
  ``%`` comment, an invalid character, no ``>`` before the end) rewinds the stream and calls
  the original, so errors and odd cases are pyHanko's own.
* asn1crypto's name comparison (RFC 5280 section 7.1) runs the RFC 4518 string preparation on
  every attribute of every freshly parsed certificate, for each issuer lookup and comparison.
  Two memos keyed by value: ``NameTypeAndValue._ldap_string_prep`` by its string,
  ``Name.__eq__`` by the two names' DER encodings. Each is a pure function of that key; a
  call that raises (a value the preparation refuses) is never remembered and raises again.
  Subclasses and non-string values go to the original. (A third, ``Name.hashable`` by the
  name's DER, and a memo of PDF names, ``generic._decode_name``, were removed in the
  thirteenth session: measured alone they gained < 3 %, docs/signing.md.)
* ``pyhanko.sign.validation.generic_cms.validate_cert_usage`` (path building and validation
  with CRL/OCSP checks, then key usage: ~31 % of the time, twice per B-T document: the signer
  and the TSA) is wrapped: with one of the trust store's reusable contexts (validation now,
  revocation required: ``_Context.path_memo`` is set), no PKIX parameters and the paths
  pyHanko's path builder offers (no caller-supplied path), a success remembered by the trust
  store under the same certificate, key usage settings and certificate registry is returned
  (the unused path iterator is cancelled); otherwise the original runs and a success is
  handed to the memo. When a success may be reused is the memo's business
  (``signing.trust._PathMemo``).
* ``generic_cms.extract_certs_for_validation`` (parse the CMS certificates, pick the signer's,
  check the signing-certificate attribute: ~5 % of a validation) ran twice per signature: for
  ``EmbeddedPdfSignature.signer_cert`` (our report's signer names) and again inside
  ``cms_basic_validation`` on the same ``SignedData`` object. Its result is remembered for as
  long as that object lives (keyed by identity, dropped by a weak reference's callback), and
  by what it reads: the DER of the embedded certificates, of the signer's identifier and of
  its signing-certificate attribute (every document an agency seals carries the same ones, and
  parsing them, picking the signer's and checking the attribute cost ~5 % of a recipient's
  CPU per document); a call that raises is never remembered.
* ``generic_cms.check_ess_certid`` (hash the signer's certificate, compare issuer and serial
  with the signing-certificate attribute), remembered by the DER of the certificate and of
  the attribute's ``ESSCertID``: the same pair for every document an agency seals.

:func:`install` swaps them in (``signing.install_speedups()``: the application's factory, the
worker, the benchmarks; never at import). Each is installed only if the original is exactly
the code it was checked against (a sha256 of its source) and, for the hex reader and
``validate_cert_usage``, pyHanko still calls it through the module global (from
``read_object``, ``cms_basic_validation``); otherwise the original stays, silently, and
:func:`active` says which are in place. tests/signing/test_speedups.py fails if one is not
active with the pinned versions, so an upgrade that changes them is noticed.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import inspect
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic, misc
from pyhanko.sign.validation import generic_cms
from pyhanko_certvalidator import registry

__all__ = ["active", "install", "original", "uninstall"]

_PDF_WHITESPACE = b"\x00\t\n\x0c\r "
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_HEX_OR_WHITESPACE = _HEX_DIGITS + _PDF_WHITESPACE
_CHUNK = 16 * 1024
_PREP_CACHE_SIZE = 4096
_NAME_CACHE_SIZE = 4096


@dataclass
class _Patch:
    owner: object
    """The module or class whose attribute is replaced."""
    name: str
    fingerprint: str
    """sha256 of the original's source, as checked (pyHanko 0.38.0, asn1crypto 1.5.1)."""
    make: Callable[[Callable], Callable]
    """Builds the replacement from the original."""
    caller: Callable | None = None
    """A function that must look ``name`` up as a global at call time, if any."""
    original: Callable | None = None
    replacement: object = None
    """Built once, so that its memo survives uninstall() and install()."""
    installed: bool = False

    @property
    def label(self) -> str:
        return f"{self.owner.__name__.rsplit('.', 1)[-1]}.{self.name}"


def _fast_hex_string(original: Callable) -> Callable:
    def read_hex_string_from_stream(stream):
        # Same contract as pyHanko's: the stream is at "<"; consume through ">".
        consumed = len(stream.read(1))
        parts = []
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break  # no ">" before the end: let the original raise its error
            consumed += len(chunk)
            end = chunk.find(b">")
            body = chunk if end < 0 else chunk[:end]
            if body.translate(None, _HEX_OR_WHITESPACE):
                break  # a comment or an invalid character: the original decides
            parts.append(body)
            if end >= 0:
                stream.seek(end + 1 - len(chunk), os.SEEK_CUR)
                digits = b"".join(parts).translate(None, _PDF_WHITESPACE)
                if len(digits) % 2:
                    digits += b"0"
                return generic.pdf_string(binascii.unhexlify(digits))
        stream.seek(-consumed, os.SEEK_CUR)
        return original(stream)

    return _replacing(original, read_hex_string_from_stream)


def _memo_string_prep(original: Callable) -> Callable:
    @functools.lru_cache(maxsize=_PREP_CACHE_SIZE)
    def prepared(value: str) -> str:
        return original(None, value)  # the original never reads self

    def _ldap_string_prep(self, string):
        if type(string) is not str:
            return original(self, string)
        return prepared(string)

    return _replacing(original, _ldap_string_prep, cache_info=prepared.cache_info)


def _memo_name_equality(original: Callable) -> Callable:
    results: dict[tuple[bytes, bytes], bool] = {}

    def __eq__(self, other):
        if type(self) is not asn1_x509.Name or type(other) is not asn1_x509.Name:
            return original(self, other)
        key = (self.dump(), other.dump())
        result = results.get(key)
        if result is None:
            result = _remember(results, key, original(self, other))
        return result

    return _replacing(original, __eq__)


def _memo_cert_usage(original: Callable) -> Callable:
    async def validate_cert_usage(
        cert, validation_context, key_usage_settings, paths, pkix_validation_params=None
    ):
        memo = getattr(validation_context, "path_memo", None)
        key = None
        if (
            memo is not None
            and pkix_validation_params is None
            and type(paths) is registry.LazyPathIterator
        ):
            key = memo.key(cert, key_usage_settings)
        if key is not None:
            path = memo.get(key)
            if path is not None:
                await paths.cancel()  # what find_valid_path does when it is done with them
                return generic_cms.CertvalidatorOperationResult(success_result=path)
        result = await original(
            cert, validation_context, key_usage_settings, paths, pkix_validation_params
        )
        if key is not None and result.success_result is not None:
            memo.put(key, result.success_result)
        return result

    return _replacing(original, validate_cert_usage)


def _extraction_inputs(signed_data) -> tuple[bytes, bytes, bytes] | None:
    """What ``extract_certs_for_validation`` reads of ``signed_data``, as DER: the embedded
    certificates, the signer's identifier and its signing-certificate attribute; None when
    they cannot be read (the original then runs and says what is wrong)."""
    try:
        certificates = signed_data["certificates"]
        (signer_info,) = signed_data["signer_infos"]
        if not certificates:
            return None
        attr = generic_cms.get_signing_cert_attr(signer_info["signed_attrs"])
        return (certificates.dump(), signer_info["sid"].dump(), b"" if attr is None else attr.dump())
    except Exception:  # anything unreadable is the original's to report
        return None


def _memo_cert_extraction(original: Callable) -> Callable:
    results: dict[int, tuple[weakref.ref, object]] = {}
    by_inputs: dict[tuple[bytes, bytes, bytes], object] = {}

    def extract_certs_for_validation(signed_data):
        key = id(signed_data)
        entry = results.get(key)
        if entry is not None and entry[0]() is signed_data:
            return entry[1]
        inputs = _extraction_inputs(signed_data)
        value = by_inputs.get(inputs) if inputs is not None else None
        if value is None:
            value = original(signed_data)
            if inputs is not None:
                _remember(by_inputs, inputs, value)
        try:
            # the callback runs when signed_data dies, before its id can be reused
            ref = weakref.ref(signed_data, lambda _ref, key=key: results.pop(key, None))
        except TypeError:  # not weakly referenceable: nothing to key on safely
            return value
        results[key] = (ref, value)
        return value

    return _replacing(original, extract_certs_for_validation, remembered=results,
                      remembered_by_inputs=by_inputs)


def _memo_ess_certid(original: Callable) -> Callable:
    matches: dict[tuple[bytes, bytes], bool] = {}

    def check_ess_certid(cert, certid):
        try:
            key = (cert.dump(), certid.dump(), type(certid).__name__)
        except Exception:  # not encodable: the original says what is wrong
            return original(cert, certid)
        result = matches.get(key)
        if result is None:
            result = _remember(matches, key, original(cert, certid))
        return result

    return _replacing(original, check_ess_certid, remembered=matches)


def _replacing(original: Callable, replacement: Callable, **attributes: object) -> Callable:
    """``replacement`` with the original's docstring, the original as ``__wrapped__`` and
    ``attributes`` (its memos, which the tests read)."""
    replacement.__doc__ = original.__doc__
    replacement.__wrapped__ = original
    for name, value in attributes.items():
        setattr(replacement, name, value)
    return replacement


def _remember(results: dict, key, value):
    # Bounded by starting over: the names a server meets are few (its PKI's CAs and signers).
    if len(results) >= _NAME_CACHE_SIZE:
        results.clear()
    results[key] = value
    return value


_PATCHES = (
    _Patch(
        owner=generic,
        name="read_hex_string_from_stream",
        fingerprint="2004d63b8e1ce3d9a894ab0912667f0f056ffb290b95c7615e59b36b883233e2",
        make=_fast_hex_string,
        caller=generic.read_object,
    ),
    _Patch(
        owner=asn1_x509.NameTypeAndValue,
        name="_ldap_string_prep",
        fingerprint="1e534b7794dcfc3f0a42ca932a38ccf2bd16d9cae39b2446809932099a02ad8e",
        make=_memo_string_prep,
    ),
    _Patch(
        owner=asn1_x509.Name,
        name="__eq__",
        fingerprint="7b7709c4f15eba0bad0403a1e09ed99d7e6c76543fe0741be728a1a86cfb8c41",
        make=_memo_name_equality,
    ),
    _Patch(
        owner=generic_cms,
        name="validate_cert_usage",
        fingerprint="9f30029477edd97770f85e1efc06fe3a4d34843915a678c4fb2feeb055c2a1dc",
        make=_memo_cert_usage,
        caller=getattr(generic_cms, "cms_basic_validation", None),
    ),
    _Patch(
        owner=generic_cms,
        name="check_ess_certid",
        fingerprint="2aaefa7c8528b33b8196e33cfe3e86b159e7befefe152fc8820fdb65227741eb",
        make=_memo_ess_certid,
        caller=getattr(generic_cms, "_check_signing_certificate", None),
    ),
    _Patch(
        owner=generic_cms,
        name="extract_certs_for_validation",
        fingerprint="5d3207f7a0b9b3d28064900b730d4b20777e37fd6243c25bff7593ec02f5161b",
        make=_memo_cert_extraction,
        caller=getattr(generic_cms, "cms_basic_validation", None),
    ),
)


def _fingerprint(fn: Callable) -> str | None:
    try:
        return hashlib.sha256(inspect.getsource(fn).encode()).hexdigest()
    except (OSError, TypeError):
        return None


def _function(attribute) -> Callable | None:
    if isinstance(attribute, property):
        attribute = attribute.fget
    return attribute if inspect.isfunction(attribute) else None


def _compatible(patch: _Patch, current: Callable) -> bool:
    if _fingerprint(current) != patch.fingerprint:
        return False
    if patch.caller is not None and patch.name not in patch.caller.__code__.co_names:
        return False
    if patch.owner is generic:
        return (
            generic.HEX_DIGITS == _HEX_DIGITS
            and sorted(misc.PDF_WHITESPACE) == sorted(_PDF_WHITESPACE)
            and callable(getattr(generic, "pdf_string", None))
        )
    if patch.owner is generic_cms:
        return (
            patch.caller is not None
            and isinstance(getattr(registry, "LazyPathIterator", None), type)
            and isinstance(getattr(generic_cms, "CertvalidatorOperationResult", None), type)
        )
    return True


def install() -> None:
    """Put each replacement in place whose original is the checked one; idempotent."""
    for patch in _PATCHES:
        if patch.installed:
            continue
        current = patch.owner.__dict__.get(patch.name)
        function = _function(current)
        if function is None or not _compatible(patch, function):
            continue
        if patch.replacement is None or patch.original is not current:
            replacement = patch.make(function)
            if isinstance(current, property):
                replacement = property(replacement, doc=current.__doc__)
            patch.original, patch.replacement = current, replacement
        setattr(patch.owner, patch.name, patch.replacement)
        patch.installed = True


def uninstall(*labels: str) -> None:
    """Restore the originals, or only those named (labels as in :func:`active`), for
    benchmarks and tests."""
    unknown = set(labels) - {patch.label for patch in _PATCHES}
    if unknown:
        raise KeyError(", ".join(sorted(unknown)))
    for patch in _PATCHES:
        if patch.installed and (not labels or patch.label in labels):
            setattr(patch.owner, patch.name, patch.original)
            patch.installed = False


def active() -> dict[str, bool]:
    """Which replacements are in place, e.g. ``{"generic.read_hex_string_from_stream": True}``."""
    return {patch.label: patch.installed for patch in _PATCHES}


def original(label: str) -> Callable:
    """The original of a replaced function, by its label in :func:`active` (for tests)."""
    for patch in _PATCHES:
        if patch.label == label:
            return patch.original or patch.owner.__dict__[patch.name]
    raise KeyError(label)
