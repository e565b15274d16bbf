"""Packages too big to hold in memory: read, verify, build and sign them through files.

:func:`read_package_file` parses a package incrementally with a target parser (the same
safe-XML rules as :func:`~.safe_xml.parse_xml`: no DTD, no entities, no network, bounded size,
depth, element count and text size) that builds the envelope as a small tree but sends the text
of each ``AttachmentEncoded/Attachment/ContentTransferEncoded`` to a temporary file instead:
its base64 is decoded (and SHA-256 hashed) chunk by chunk into a second file, and a random
placeholder (:class:`~.splice.Splice`) stands for the text in the tree. The package's
attachments are then :class:`SpooledFile` objects, not bytes.

The signature (enveloped, ``URI=""``) covers the attachments' text: verifying and signing
canonicalize the small tree (signxml, unchanged) and hash the canonical bytes with each
placeholder replaced by the file holding that text. The canonical form of a text node is the
text with ``&``, ``<``, ``>`` and CR escaped, which is what the text file holds; so the digest
is that of the whole package, and signxml still decides whether digest and signature hold.

Memory is bounded by the envelope and a few chunks, whatever the attachments' size; the
package's bytes, if the caller has them in memory, are read from there without a copy.
"""

from __future__ import annotations

import binascii
import contextlib
import dataclasses
import datetime as dt
import hashlib
import io
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

import pybase64
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree

from .build import _document, build_status_package
from .errors import EdxmlError
from .model import DocumentPackage, Package, StatusPackage, TraceHeader
from .parse import check_message_type, parse_tree
from .safe_xml import DEFAULT_LIMITS, ParseLimits, document_bytes, strip_preamble
from .signature import TrustCallback, VerificationResult, _insert_trace_header, sign_tree, verify_tree
from .splice import Splice
from .values import TRACE_LIST, check_organ_id

__all__ = [
    "AttachmentSource",
    "Source",
    "SpooledFile",
    "StreamedPackage",
    "build_package_file",
    "open_package_file",
    "read_package_file",
    "sign_package_file",
]

_CHUNK = 1 << 20
_PROLOG_SCAN = 1 << 16
_TEXT_CAP = 10_000_000  # libxml2's cap on one text node without huge_tree
_ENCODE_CHUNK = 3 << 18  # a multiple of 3: each chunk's base64 has no padding
_DECODE_AT = 1 << 18
_WHITESPACE = re.compile(r"\s+")
_ASCII_WHITESPACE = b" \t\n\r\x0b\x0c"
_ESCAPE = re.compile(r"[&<>\r]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;"}
_ATTACHMENT_PATH = ("edXML", "AttachmentEncoded", "Attachment", "ContentTransferEncoded")

Source = bytes | bytearray | memoryview | str | os.PathLike | BinaryIO
"""A package: its bytes, a path, or a binary file open for reading."""


@runtime_checkable
class AttachmentSource(Protocol):
    """Content to attach without holding it in memory: anything with ``open()`` for binary
    reading (a :class:`SpooledFile`, or a blob store's file). :func:`build_package_file` takes it
    as :attr:`Attachment.data`."""

    def open(self) -> BinaryIO: ...


class SpooledFile:
    """An attachment's decoded content in a temporary file of a :class:`StreamedPackage`
    (gone when the package is closed)."""

    __slots__ = ("path", "sha256", "size")

    def __init__(self, path: Path, size: int, sha256: str) -> None:
        self.path = path
        """The file."""
        self.size = size
        """Its length in bytes."""
        self.sha256 = sha256
        """Lower-case hex SHA-256 of the content, computed while decoding."""

    def open(self) -> BinaryIO:
        return open(self.path, "rb")

    def read_bytes(self) -> bytes:
        """The whole content, for files small enough for memory."""
        return self.path.read_bytes()

    def __repr__(self) -> str:
        return f"SpooledFile({str(self.path)!r}, size={self.size})"


class _Spooler:
    """The text of one attachment: written as canonical text to one file, decoded to another.

    Bad base64 is not refused here but where parse_package refuses it, after the signature
    (``finish`` returns the error, and :func:`~.parse.parse_tree` raises it)."""

    def __init__(self, directory: Path, index: int, path: str, decode: bool, limits: ParseLimits) -> None:
        self.path = path
        self.limits = limits
        self.text_path = directory / f"{index}.b64"
        self.data_path = directory / f"{index}.bin"
        self.text = open(self.text_path, "wb")  # noqa: SIM115 - closed in finish/abort
        self.data = open(self.data_path, "wb") if decode else None  # noqa: SIM115
        self.error: EdxmlError | None = None
        self.pending = bytearray()
        self.hasher = hashlib.sha256()
        self.size = 0
        self.length = 0

    def write(self, text: str) -> None:
        self.length += len(text)
        if self.length > _TEXT_CAP and not self.limits.allow_huge_text:
            raise _value_too_large()
        try:
            raw = text.encode("ascii")
        except UnicodeEncodeError:
            raw = None
        # (four memchr-fast tests of the bytes: a regular expression search took half the time)
        if raw is None or b"\r" in raw or b"&" in raw or b"<" in raw or b">" in raw:
            self.text.write(_ESCAPE.sub(lambda m: _ESCAPES[m.group()], text).encode("utf-8"))
        else:
            self.text.write(raw)
        if self.data is None or self.error is not None:
            return
        if raw is None:  # non-ASCII whitespace is tolerated, as parse_package does
            raw = _WHITESPACE.sub("", text).encode("utf-8")
        self.pending += raw.translate(None, _ASCII_WHITESPACE)
        if len(self.pending) >= _DECODE_AT:
            # keep the last group back: only the end of the text may hold padding
            cut = (len(self.pending) // 4 - 1) * 4
            self._out(bytes(self.pending[:cut]), strict_only=True)
            del self.pending[:cut]

    def _out(self, text: bytes, *, strict_only: bool = False) -> None:
        # as parse._decode_base64: pybase64's strict decoder, then binascii's strict mode for
        # what it refuses (at the end of the text only: padding cannot come earlier)
        try:
            data = pybase64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            data = None
        if data is None and not strict_only:
            with contextlib.suppress(binascii.Error, ValueError):
                data = binascii.a2b_base64(text, strict_mode=True)
        if data is None:
            self.error = EdxmlError("invalid_base64", self.path,
                                    "nội dung tệp đính kèm không phải base64 hợp lệ")
            return
        assert self.data is not None
        self.data.write(data)
        self.hasher.update(data)
        self.size += len(data)

    def finish(self) -> SpooledFile | EdxmlError | None:
        self.text.close()
        if self.data is None:
            return None
        if self.pending and self.error is None:
            self._out(bytes(self.pending))
        self.data.close()
        return self.error or SpooledFile(self.data_path, self.size, self.hasher.hexdigest())

    def abort(self) -> None:
        self.text.close()
        if self.data is not None:
            self.data.close()


def _value_too_large() -> EdxmlError:
    # as safe_xml.parse_xml words libxml2's refusal
    return EdxmlError(
        "value_too_large",
        "",
        "một giá trị (thường là tệp đính kèm) vượt 10 MB sau mã hóa base64; "
        "cần ParseLimits(allow_huge_text=True)",
    )


class _Target:
    """lxml parser target: the tree through a TreeBuilder, attachment text to a :class:`_Spooler`."""

    def __init__(self, limits: ParseLimits, directory: Path, splice: Splice, decode: bool) -> None:
        self.builder = etree.TreeBuilder()
        self.limits = limits
        self.directory = directory
        self.splice = splice
        self.decode = decode
        self.names: list[str] = []
        self.count = 0
        self.text_size = 0
        self.attachments = 0
        self.spooler: _Spooler | None = None
        self.contents: dict[str, SpooledFile | EdxmlError] = {}
        self.declared: dict[str | None, str] = {}
        self.error: EdxmlError | None = None
        """A refusal raised in a callback (lxml reports it as a syntax error): what to raise."""

    def start_ns(self, prefix: str, uri: str) -> None:
        # lxml hands a Python target the namespace declarations before their element's start
        self.declared[prefix or None] = uri

    def start(self, tag: str, attrib: dict[str, str], nsmap: object = None) -> None:
        try:
            self._start(tag, attrib)
        except EdxmlError as exc:
            self.error = exc
            raise

    def data(self, text: str) -> None:
        try:
            self._data(text)
        except EdxmlError as exc:
            self.error = exc
            raise

    def end(self, tag: str) -> None:
        try:
            self._end(tag)
        except EdxmlError as exc:
            self.error = exc
            raise

    def doctype(self, *args: object) -> None:
        self.error = EdxmlError("doctype_forbidden", "", "gói tin không được chứa khai báo DOCTYPE")
        raise self.error

    def _start(self, tag: str, attrib: dict[str, str]) -> None:
        local = tag.rpartition("}")[2]
        self.names.append(local)
        self.count += 1
        self.text_size = 0
        path = "/" + "/".join(self.names)
        if len(self.names) > self.limits.max_depth:
            raise EdxmlError("too_deep", path, f"lồng sâu quá {self.limits.max_depth} cấp")
        if self.count > self.limits.max_elements:
            raise EdxmlError("too_many_elements", "", f"quá {self.limits.max_elements} phần tử XML")
        if self.spooler is not None:
            raise EdxmlError("unexpected_children", self.spooler.path,
                             "phần tử giá trị không được chứa phần tử con")
        if len(self.names) == 3 and local == "Attachment" and self.names[1] == "AttachmentEncoded":
            self.attachments += 1
        if tuple(self.names) == _ATTACHMENT_PATH:
            where = f"/edXML/AttachmentEncoded/Attachment[{self.attachments}]/ContentTransferEncoded"
            self.spooler = _Spooler(self.directory, len(self.splice.files), where, self.decode, self.limits)
        declared, self.declared = self.declared, {}
        self.builder.start(tag, attrib, declared)

    def _data(self, text: str) -> None:
        if self.spooler is not None:
            self.spooler.write(text)
            return
        self.text_size += len(text)
        if self.text_size > _TEXT_CAP and not self.limits.allow_huge_text:
            raise _value_too_large()
        self.builder.data(text)

    def _end(self, tag: str) -> None:
        if self.spooler is not None:
            spooler, self.spooler = self.spooler, None
            content = spooler.finish()
            placeholder = self.splice.add(spooler.text_path)
            if content is not None:
                self.contents[placeholder] = content
            self.builder.data(placeholder)
        self.names.pop()
        self.text_size = 0
        self.builder.end(tag)

    def close(self) -> etree._Element:
        return self.builder.close()


def _chunks(source: Source) -> Iterator[bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source)
        for offset in range(0, len(view), _CHUNK):
            yield view[offset : offset + _CHUNK].tobytes()
        return
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            yield from _chunks(f)
        return
    while chunk := source.read(_CHUNK):
        yield chunk


def _parse(
    source: Source, limits: ParseLimits, directory: Path, decode: bool
) -> tuple[etree._Element, Splice, dict[str, SpooledFile | EdxmlError]]:
    splice = Splice()
    target = _Target(limits, directory, splice, decode)
    parser = etree.XMLParser(
        target=target,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        strip_cdata=True,
    )
    total = 0
    first = True
    try:
        for chunk in _chunks(source):
            total += len(chunk)
            if total > limits.max_bytes:
                raise EdxmlError("too_large", "", f"gói tin vượt giới hạn {limits.max_bytes} byte")
            if first:
                first = False
                chunk = strip_preamble(chunk, limits).tobytes()
                # A DTD is how entity bombs and external entities get in (the target refuses one
                # too, but only once libxml2 has read it)
                if b"<!DOCTYPE" in chunk[:_PROLOG_SCAN]:
                    raise EdxmlError("doctype_forbidden", "", "gói tin không được chứa khai báo DOCTYPE")
            parser.feed(chunk)
        if first:
            raise EdxmlError("malformed_xml", "", "không tìm thấy nội dung XML ở đầu gói tin")
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        if target.error is not None:
            raise target.error from None
        if "depth" in str(exc).lower():
            raise EdxmlError("too_deep", "", f"lồng sâu quá {limits.max_depth} cấp") from None
        raise EdxmlError("malformed_xml", "", f"XML không hợp lệ: {exc}") from None
    finally:
        if target.spooler is not None:
            target.spooler.abort()
    return root, splice, target.contents


class StreamedPackage:
    """A package read by :func:`read_package_file`: the object, its signature and its bytes
    (with a trace header) from one pass over the input. Each attachment's ``data`` is a
    :class:`SpooledFile`; they are deleted by :meth:`close` (or at the end of a ``with``)."""

    def __init__(self, package: Package, root: etree._Element, splice: Splice,
                 directory: tempfile.TemporaryDirectory[str]) -> None:
        self.package = package
        """What :func:`parse_package` returns for the same bytes, attachments as :class:`SpooledFile`."""
        self._root = root
        self._splice = splice
        self._directory = directory

    def verify(
        self,
        trusted_ca_certs: Sequence[x509.Certificate] | None = None,
        *,
        trust_callback: TrustCallback | None = None,
        require_sender_match: bool = True,
        at: dt.datetime | None = None,
    ) -> VerificationResult:
        """:func:`verify_package` of the package, in bounded memory."""
        return verify_tree(self._root, trusted_ca_certs, trust_callback=trust_callback,
                           require_sender_match=require_sender_match, at=at, splice=self._splice)

    def write(self, out: BinaryIO, *, trace: TraceHeader | None = None) -> None:
        """Write the package (the bytes :func:`add_trace_header` gives when ``trace`` is given;
        else the bytes read, up to how the XML is written: attributes' quotes, CR as ``&#13;``)."""
        undo = None
        if trace is not None:
            check_organ_id(trace.organ_id, TRACE_LIST + "/TraceHeader/OrganId")
            undo = _insert_trace_header(self._root, trace)
        try:
            self._splice.write(document_bytes(self._root), out)
        finally:
            if undo is not None:
                undo()

    def close(self) -> None:
        self._directory.cleanup()

    def __enter__(self) -> StreamedPackage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_package_file(
    source: Source, *, limits: ParseLimits = DEFAULT_LIMITS, directory: str | os.PathLike | None = None
) -> StreamedPackage:
    """Parse a package from bytes, a path or a binary file in bounded memory (see the module
    docstring); attachments are spooled to a temporary directory (under ``directory`` if given).

    Raises what :func:`parse_package` raises; ``.verify(...)`` raises what
    :func:`verify_package` raises.
    """
    spool = tempfile.TemporaryDirectory(prefix="edxml-", dir=directory)
    try:
        root, splice, contents = _parse(source, limits, Path(spool.name), decode=True)
        return StreamedPackage(parse_tree(root, contents=contents), root, splice, spool)
    except BaseException:
        spool.cleanup()
        raise


def open_package_file(
    source: Source,
    trusted_ca_certs: Sequence[x509.Certificate] | None = None,
    *,
    trust_callback: TrustCallback | None = None,
    require_sender_match: bool = True,
    at: dt.datetime | None = None,
    expect: type[DocumentPackage] | type[StatusPackage] | None = None,
    limits: ParseLimits = DEFAULT_LIMITS,
    directory: str | os.PathLike | None = None,
) -> tuple[VerificationResult, StreamedPackage]:
    """:func:`open_package` in bounded memory, with the same checks in the same order (the
    signature first). The caller closes the :class:`StreamedPackage` (it holds the attachments'
    files); on an error nothing is left."""
    if (trusted_ca_certs is None) == (trust_callback is None):
        raise TypeError("give exactly one of trusted_ca_certs or trust_callback")
    spool = tempfile.TemporaryDirectory(prefix="edxml-", dir=directory)
    try:
        root, splice, contents = _parse(source, limits, Path(spool.name), decode=True)
        result = verify_tree(root, trusted_ca_certs, trust_callback=trust_callback,
                             require_sender_match=require_sender_match, at=at, splice=splice)
        package = parse_tree(root, contents=contents)
        if expect is not None:
            check_message_type(package, expect)
    except BaseException:
        spool.cleanup()
        raise
    return result, StreamedPackage(package, root, splice, spool)


# --- the in-memory functions, for packages over ParseLimits.stream_above -------------------------

class _Spool:
    """A temporary directory removed when the last reference to it goes (a ReceivedPackage's)."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="edxml-"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.path, True)

    def cleanup(self) -> None:
        self._finalizer()


def _in_memory(package: Package) -> Package:
    """``package`` with its spooled attachments read into bytes, as parse_package returns them."""
    if isinstance(package, StatusPackage):
        return package
    return dataclasses.replace(package, attachments=tuple(
        dataclasses.replace(a, data=a.data.read_bytes()) if isinstance(a.data, SpooledFile) else a
        for a in package.attachments))


def read_spooled(data: bytes, limits: ParseLimits, *, decode: bool = True,
                 ) -> tuple[etree._Element, Splice, dict[str, SpooledFile | EdxmlError], _Spool]:
    """Parse bytes through files: the tree, its splice, the spooled attachments and the spool
    (the caller keeps it as long as it needs the tree)."""
    spool = _Spool()
    try:
        root, splice, contents = _parse(data, limits, spool.path, decode=decode)
    except BaseException:
        spool.cleanup()
        raise
    return root, splice, contents, spool


def parse_in_files(data: bytes, limits: ParseLimits) -> Package:
    """:func:`parse_package` of a large package: the same object, attachments in bytes."""
    root, _, contents, spool = read_spooled(data, limits)
    try:
        return _in_memory(parse_tree(root, contents=contents))
    finally:
        spool.cleanup()


def verify_in_files(data: bytes, limits: ParseLimits, **kwargs: object) -> VerificationResult:
    """:func:`verify_package` of a large package."""
    root, splice, _, spool = read_spooled(data, limits, decode=False)
    try:
        return verify_tree(root, splice=splice, **kwargs)  # type: ignore[arg-type]
    finally:
        spool.cleanup()


def add_trace_header_in_files(data: bytes, trace: TraceHeader, limits: ParseLimits) -> bytes:
    """:func:`add_trace_header` of a large package."""
    root, splice, _, spool = read_spooled(data, limits, decode=False)
    try:
        _insert_trace_header(root, trace)
        out = io.BytesIO()
        splice.write(document_bytes(root), out)
        return out.getvalue()
    finally:
        spool.cleanup()


def sign_in_files(data: bytes, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
                  cert_chain: Sequence[x509.Certificate], limits: ParseLimits) -> bytes:
    """:func:`sign_package` of a large package."""
    out = io.BytesIO()
    sign_package_file(data, out, key, cert_chain, limits=limits)
    return out.getvalue()


def _read_full(f: BinaryIO, size: int) -> bytes:
    chunk = f.read(size)
    while chunk and len(chunk) < size:
        more = f.read(size - len(chunk))
        if not more:
            break
        chunk += more
    return chunk


def _write_base64(data: bytes | AttachmentSource, out: BinaryIO) -> None:
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = memoryview(data)
        for offset in range(0, len(view), _ENCODE_CHUNK):
            out.write(pybase64.b64encode(view[offset : offset + _ENCODE_CHUNK]))
        return
    with data.open() as f:
        while chunk := _read_full(f, _ENCODE_CHUNK):
            out.write(pybase64.b64encode(chunk))


def build_package_file(package: Package, out: BinaryIO) -> None:
    """Write the bytes :func:`build_package` gives into ``out``, each attachment's base64
    encoded in chunks from its ``data``: bytes or an :class:`AttachmentSource`."""
    if isinstance(package, StatusPackage):
        out.write(build_status_package(package))
        return
    token = Splice().token  # a random placeholder the package's text cannot contain
    data = _document(package, lambda index, _attachment: f"{token}x{index}".encode())
    parts = re.split(re.escape(token).encode() + rb"x(\d+)", data)
    attachments = package.attachments
    out.write(parts[0])
    for index in range(1, len(parts), 2):
        _write_base64(attachments[int(parts[index])].data, out)
        out.write(parts[index + 1])


def sign_package_file(
    source: Source,
    out: BinaryIO,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    cert_chain: Sequence[x509.Certificate],
    *,
    limits: ParseLimits = DEFAULT_LIMITS,
    directory: str | os.PathLike | None = None,
) -> None:
    """:func:`sign_package` in bounded memory: the signed package is written into ``out``
    (the same bytes ``sign_package`` gives for the same input, with an RSA key)."""
    with tempfile.TemporaryDirectory(prefix="edxml-", dir=directory) as spool:
        root, splice, _ = _parse(source, limits, Path(spool), decode=False)
        splice.write(document_bytes(sign_tree(root, key, cert_chain, splice=splice)), out)

