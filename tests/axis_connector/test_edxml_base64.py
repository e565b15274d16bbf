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
    "space inside": "QU JD",
    "tab and CRLF": "QUJD\t\r\nREVG",
    "no-break space": "QUJD\u00a0REVG",
    "padding split by a space": "QQ= =",
    "three characters, padded": "QUI=",
    "three characters, unpadded": "QUI",
    "one character": "Q",
    "one character, padded": "Q===",
    "a second padded group": "QUI=QUI=",
    "padding after a complete group": "QUJD=",
    "two paddings after a complete group": "QUJD==",
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


def test_random_texts_are_judged_as_validate_true_judged_them() -> None:
    import random

    rng = random.Random(20261127)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    specials = ["=", "==", " ", "\n", "\r\n", "\t", "-", "_", "!", "\u00a0", "đ", "\x00", "."]
    for _ in range(20000):
        parts = []
        for _ in range(rng.randint(0, 12)):
            if rng.random() < 0.8:
                parts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9))))
            else:
                parts.append(rng.choice(specials))
        if rng.random() < 0.3:  # often a valid encoding, sometimes wrapped or padded oddly
            raw = rng.randbytes(rng.randint(0, 40))
            encode = base64.encodebytes if rng.random() < 0.5 else base64.b64encode
            parts = [encode(raw).decode(), *parts[: rng.randint(0, 1)]]
        text = "".join(parts)
        element = etree.fromstring(b"<ContentTransferEncoded/>")
        try:
            element.text = text
        except ValueError:  # not XML-compatible (a NUL): cannot occur in a parsed package
            continue
        node = _Node(element, "/edXML/AttachmentEncoded/Attachment[1]/ContentTransferEncoded")
        expected = _reference(text)
        if expected is None:
            with pytest.raises(EdxmlError):
                _decode_base64(node)
        else:
            assert _decode_base64(node) == expected, repr(text)
