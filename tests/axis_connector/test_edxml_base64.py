"""An attachment's base64 is accepted and refused exactly as ``b64decode(validate=True)`` would,
line-wrapped (MIME) text included; refusals name the element."""

from __future__ import annotations

import base64
import binascii
import re

import pytest
from lxml import etree

from axis_connector.edxml import EdxmlError
from axis_connector.edxml.parse import _decode_base64, _Node

PDF = bytes(range(256)) * 3 + b"%PDF-1.7 \xc4\x91\xe1\xbb\x99"
ENCODED = base64.b64encode(PDF).decode()


def _reference(text: str) -> bytes | None:
    """What the parser accepted before: validate=True, then again without whitespace."""
    for candidate in (text, re.sub(r"\s+", "", text)):
        try:
            return base64.b64decode(candidate, validate=True)
        except (binascii.Error, ValueError):
            continue
    return None


CASES = {
    "plain": ENCODED,
    "line-wrapped": base64.encodebytes(PDF).decode(),
    "spaces around": f"\n   {ENCODED}\n  ",
    "empty": "",
    "one byte, padded": "QQ==",
    "one byte, unpadded": "QQ",
    "too much padding": "QQ===",
    "padding only": "==",
    "data after padding": "QQ==QQ==",
    "padding in the middle": ENCODED[:8] + "=" + ENCODED[8:],
    "url-safe alphabet": base64.urlsafe_b64encode(b"\xfb\xff\xfe" * 9).decode(),
    "a bang": "!!" + ENCODED,
    "non-ascii": "QUJD" + "đ",
    "truncated": ENCODED[:-1],
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_attachment_base64_is_judged_as_validate_true_judged_it(text: str) -> None:
    element = etree.fromstring(b"<ContentTransferEncoded/>")
    element.text = text
    node = _Node(element, "/edXML/AttachmentEncoded/Attachment[1]/ContentTransferEncoded")
    expected = _reference(text)
    if expected is None:
        with pytest.raises(EdxmlError) as caught:
            _decode_base64(node)
        assert caught.value.code == "invalid_base64"
        assert caught.value.path == node.path
    else:
        assert _decode_base64(node) == expected
