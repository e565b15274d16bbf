"""Hostile input: malformed XML, entity bombs, external entities, oversize, deep or wide trees."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from axis_connector.edxml import (
    EdxmlError,
    ParseLimits,
    build_document_package,
    parse_package,
    verify_package,
)
from axis_connector.edxml.safe_xml import parse_xml

from .conftest import make_document

ENVELOPE_START = b'<?xml version="1.0"?>\n'


def _refused(data: bytes, limits: ParseLimits | None = None) -> EdxmlError:
    with pytest.raises(EdxmlError) as info:
        parse_package(data, limits=limits or ParseLimits())
    return info.value


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not xml at all",
        b"<edXML><edXMLEnvelope></edXML>",
        b'<?xml version="1.0"?><edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><a>&undefined;</a></edXML>',
        b"<edXML>\xff\xfe</edXML>",
    ],
)
def test_malformed_xml_is_refused(data: bytes) -> None:
    assert _refused(data).code == "malformed_xml"


def test_truncated_package_is_refused() -> None:
    data = build_document_package(make_document())
    assert _refused(data[: len(data) // 2]).code == "malformed_xml"


BILLION_LAUGHS = (
    ENVELOPE_START
    + b"""<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLEnvelope><edXMLHeader><MessageHeader>
<Subject>&lol9;</Subject></MessageHeader></edXMLHeader></edXMLEnvelope></edXML>"""
)


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.perf_counter()
    assert _refused(BILLION_LAUGHS).code == "doctype_forbidden"
    assert time.perf_counter() - started < 0.5


def _xxe(target: str) -> bytes:
    document = build_document_package(make_document(attachments=())).decode()
    document = document.replace('<?xml version="1.0" encoding="UTF-8"?>\n', "")
    document = document.replace("<edXML:Content>", "<edXML:Content>&xxe;", 1)
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "{target}">]>\n' + document
    ).encode()


@pytest.mark.parametrize("target", ["file:///etc/passwd", "/etc/passwd", "http://127.0.0.1:9/evil.dtd"])
def test_external_entity_is_never_resolved(target: str) -> None:
    error = _refused(_xxe(target))
    assert error.code == "doctype_forbidden"
    assert "root:" not in str(error)


def test_doctype_is_refused_even_behind_junk_and_comments() -> None:
    padding = b"<!-- " + b"x" * 100_000 + b" -->\n"
    data = _xxe("file:///etc/passwd").replace(b"<!DOCTYPE", padding + b"<!DOCTYPE", 1)
    error = _refused(data)
    assert error.code == "doctype_forbidden"


def test_the_lower_level_parser_never_expands_entities_either() -> None:
    # Even if the pre-check were bypassed, libxml2 runs with resolve_entities=False and no network.
    from lxml import etree

    from axis_connector.edxml.safe_xml import _new_parser

    parser = _new_parser()
    parser.feed(_xxe("file:///etc/passwd"))
    root = parser.close()
    assert b"root:" not in etree.tostring(root)
    assert Path("/etc/passwd").exists()


def test_verify_refuses_xxe_before_looking_at_signatures() -> None:
    with pytest.raises(EdxmlError) as info:
        verify_package(_xxe("file:///etc/passwd"), trusted_ca_certs=[])
    assert info.value.code == "doctype_forbidden"


def test_oversize_package_is_refused_before_parsing() -> None:
    data = build_document_package(make_document())
    error = _refused(data, ParseLimits(max_bytes=len(data) - 1))
    assert error.code == "too_large"
    assert parse_package(data, limits=ParseLimits(max_bytes=len(data)))


def _nested(depth: int) -> bytes:
    return b"<edXML>" + b"<a>" * depth + b"</a>" * depth + b"</edXML>"


def test_deep_nesting_is_refused_with_its_path() -> None:
    error = _refused(_nested(100))
    assert error.code == "too_deep"
    assert error.path == "/edXML" + "/a" * 32  # the 33rd level is the one refused


def test_very_deep_nesting_is_refused() -> None:
    assert _refused(_nested(100_000)).code == "too_deep"


def test_too_many_elements_are_refused() -> None:
    data = b"<edXML>" + b"<x/>" * 60_000 + b"</edXML>"
    assert _refused(data).code == "too_many_elements"
    assert (
        _refused(data[:-8][: 7 + 4 * 200] + b"</edXML>", ParseLimits(max_elements=100)).code
        == "too_many_elements"
    )


def test_big_attachment_needs_allow_huge_text() -> None:
    # libxml2 caps a text node at 10 MB unless huge_tree is on: about 7.5 MB of file.
    big = dataclasses.replace(make_document().attachments[0], data=bytes(8 * 1024 * 1024))
    data = build_document_package(make_document(attachments=(big,)))
    error = _refused(data)
    assert (error.code, error.path) == ("value_too_large", "")
    parsed = parse_package(data, limits=ParseLimits(allow_huge_text=True))
    assert parsed.attachments[0].data == big.data


def test_limits_are_configurable() -> None:
    data = build_document_package(make_document())
    assert _refused(data, ParseLimits(max_depth=4)).code == "too_deep"
    assert _refused(data, ParseLimits(max_elements=20)).code == "too_many_elements"


def test_comments_cannot_split_a_value() -> None:
    # Signatures are computed on comment-free canonical XML: a reader must see the same text.
    data = build_document_package(make_document(subject="Chi 1000 triệu"))
    tricked = data.replace(b"Chi 1000", b"Chi 1<!-- -->000")
    assert parse_package(tricked).subject == "Chi 1000 triệu"


def test_processing_instructions_and_cdata_are_plain_text() -> None:
    data = build_document_package(make_document(subject="abc"))
    tricked = data.replace(b">abc<", b"><![CDATA[a]]><?pi x?>bc<")
    assert parse_package(tricked).subject == "abc"
    assert parse_xml(tricked).getroottree().docinfo.doctype == ""


def test_doctype_in_utf16_is_refused_by_the_tree_check() -> None:
    text = (
        _xxe("file:///etc/passwd")
        .decode()
        .replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    )
    error = _refused(text.encode("utf-16"))
    assert error.code == "doctype_forbidden"
